VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test demo install clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/wirecopy ingest

demo: $(STAMP)
	$(VENV)/bin/wirecopy demo

test: $(STAMP)
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) *.egg-info
