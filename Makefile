VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test check demo install clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/wirecopy ingest

demo: $(STAMP)
	$(VENV)/bin/wirecopy demo

# Tests run in parallel (pytest-xdist); tests sharing a module fixture stay on one worker.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

# The fast subset for the edit loop: lint, types, then the tests that start no Prefect server per
# test (the import-linter contracts among them).
check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup -m "not slow"

clean:
	rm -rf $(VENV) *.egg-info
