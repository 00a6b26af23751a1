# mwaa-gate — the two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQS := requirements.txt requirements-dev.txt constraints.txt authx/requirements.txt

.PHONY: test lint format demo venv clean constraints

# (Re)create the virtual environment when it is missing or a requirement file changed.
$(STAMP): $(REQS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

constraints: $(STAMP)
	{ echo "# Full pin set of the development environment (pip freeze). Regenerate with 'make constraints'."; \
	  $(BIN)/python -m pip freeze; } > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
