VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test check demo install clean

# uv installs the same pinned packages as pip in a fraction of the time.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet uv==0.13.8
	$(VENV)/bin/uv pip install --quiet --python $(PY) -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/wirecopy ingest

demo: $(STAMP)
	$(VENV)/bin/wirecopy demo

# Tests run in parallel (pytest-xdist), in the order tests/conftest.py sets; tests sharing a module
# fixture stay on one worker. Three workers on two cores: much of a test is waiting on a server, a
# subprocess or a timeout. The suite starts Python a few hundred times: compiled modules are kept
# (first import) even in a shell that sets PYTHONDONTWRITEBYTECODE, or every process would compile
# Prefect again.
TEST_WORKERS ?= 3
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

test: $(STAMP)
	$(PYTEST)

# The fast subset for the edit loop: lint, types, then the tests that start no Prefect server per
# test (the import-linter contracts among them).
check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PYTEST) -m "not slow"

clean:
	rm -rf $(VENV) *.egg-info
