# Developer commands. Each target creates its own virtual environment, so a fresh clone needs
# nothing but Python 3.11+ and a C compiler (durable-rules builds from source on Python < 3.13).
#   make example            set up and run a pre-meeting check on a bundled example
#   make lint               ruff (lint and format check), mypy and the import contracts, with zero findings
#   make docs               build the documentation site into site/ (mkdocs build --strict)
#   make test               set up, lint, build the docs, and run the whole test suite
#   make test PYTHON=python3.13 VENV=.venv-3.13    the same on another Python
#   make bench              run the benchmarks and print the results table

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: example lint docs test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[service,durable,test]'
	touch $@

example: $(VENV)/.installed
	$(BIN)/bip check examples/stilstand.yaml --as-of 2026-11-22

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

test: lint docs
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/batch.py

clean:
	rm -rf .venv .venv-* build site *.egg-info
