# mwaa-gate — the two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQS := requirements.txt requirements-dev.txt constraints.txt authx/requirements.txt

.PHONY: test lint format demo venv clean constraints policies deploy plan destroy check-stage

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

# --- AWS: `make deploy STAGE=dev`, `make destroy STAGE=dev [DELETE_TABLES=yes] [FORCE=yes]` ---
# deploy = the stage's IAM policy files, `chalice deploy`, then platform setup (idempotent).
# AUTHX_DEPS=dir uses authX's dependencies installed already instead of pip (Linux wheels).
check-stage:
	@test -n "$(STAGE)" || { echo "give STAGE=<stage of .chalice/config.json>, e.g. make deploy STAGE=dev"; exit 2; }

policies: check-stage $(STAMP)
	$(BIN)/python -m chalicelib.platform.policies --stage $(STAGE)

deploy: policies
	$(BIN)/chalice deploy --stage $(STAGE)
	$(BIN)/python -m chalicelib.platform.setup --stage $(STAGE) $(if $(AUTHX_DEPS),--authx-deps $(AUTHX_DEPS))

# What `make deploy`'s platform setup would change, changing nothing (after `chalice deploy`).
plan: check-stage $(STAMP)
	$(BIN)/python -m chalicelib.platform.setup --stage $(STAGE) --plan $(if $(AUTHX_DEPS),--authx-deps $(AUTHX_DEPS))

destroy: check-stage $(STAMP)
	$(BIN)/python -m chalicelib.platform.destroy --stage $(STAGE) $(if $(filter yes,$(DELETE_TABLES)),--delete-tables) $(if $(filter yes,$(FORCE)),--force)
	$(BIN)/chalice delete --stage $(STAGE)

constraints: $(STAMP)
	{ echo "# Full pin set of the development environment (pip freeze). Regenerate with 'make constraints'."; \
	  $(BIN)/python -m pip freeze; } > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
