# Two set-up commands work on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOME_DIR ?= clusterlab-data
PYTEST_ARGS ?=

.PHONY: venv run test lint format bench clean browser java

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The Spark engine (and its tests) need a Java 17+ runtime; installs it when missing.
java:
	bash scripts/ensure-java.sh

venv: $(STAMP) java

run: venv
	CLUSTERLAB_HOME=$(HOME_DIR) $(VENV)/bin/clusterlab demo

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# The e2e tests drive Debian's Chromium; installs it when missing.
browser:
	bash scripts/ensure-browser.sh

test: lint browser java
	$(VENV)/bin/pytest -q -n 2 $(PYTEST_ARGS)

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: venv
	$(PY) benchmarks/import_csv.py
	$(PY) benchmarks/flow.py
	$(PY) benchmarks/lab.py
	$(PY) benchmarks/score.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
