# mwaa-gate — the two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQS := requirements.txt requirements-dev.txt constraints.txt authx/requirements.txt

.PHONY: test lint format demo up chromium venv clean constraints policies deploy plan package destroy check-stage

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

test: lint chromium
	CHROMIUM="$(CHROMIUM)" $(BIN)/python -m pytest

# The browser tests drive Chromium through Playwright, which cannot download browsers here:
# Debian's chromium is used (CHROMIUM overrides the path). Installed with apt-get when it is
# missing and we are root (CI); otherwise say what to install.
CHROMIUM ?= $(shell command -v chromium || command -v chromium-browser || command -v google-chrome)
chromium:
	@if [ -n "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else \
		echo "The browser tests need Chromium: install it (Debian/Ubuntu: sudo apt-get install chromium;"; \
		echo "macOS: brew install --cask chromium) or set CHROMIUM=/path/to/chrome"; exit 2; \
	fi

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

# The whole local stack until Ctrl-C; sign in from your browser at the URL it prints.
PORT ?= 8080
IDP_PORT ?= 8081
up: $(STAMP)
	$(BIN)/python scripts/up.py --port $(PORT) --idp-port $(IDP_PORT)

# --- AWS: `make deploy STAGE=dev`, `make destroy STAGE=dev [DELETE_TABLES=yes] [FORCE=yes]` ---
# deploy = the stage's IAM policy files, the app's zip with bytecode (reused by chalice deploy),
# `chalice deploy`, then platform setup (idempotent).
# AUTHX_DEPS=dir uses authX's dependencies installed already instead of pip (Linux wheels).
check-stage:
	@test -n "$(STAGE)" || { echo "give STAGE=<stage of .chalice/config.json>, e.g. make deploy STAGE=dev"; exit 2; }

policies: check-stage $(STAMP)
	$(BIN)/python -m chalicelib.platform.policies --stage $(STAGE)

# The reconciler's schedule is written from app.py when Chalice loads it (deploy, package):
# give it the stage's rate.
STAGE_RECONCILE_RATE = $(shell test -n "$(STAGE)" && $(BIN)/python -c 'import json, sys; print(json.load(open(".chalice/config.json"))["stages"].get(sys.argv[1], {}).get("environment_variables", {}).get("RECONCILE_RATE_MINUTES", ""))' $(STAGE) 2>/dev/null)
export RECONCILE_RATE_MINUTES = $(STAGE_RECONCILE_RATE)

deploy: policies
	$(BIN)/python -m chalicelib.platform.app_package --stage $(STAGE)
	$(BIN)/chalice deploy --stage $(STAGE)
	$(BIN)/python -m chalicelib.platform.setup --stage $(STAGE) $(if $(AUTHX_DEPS),--authx-deps $(AUTHX_DEPS))

# One CloudFormation template for pipelines: build/package-STAGE/sam.json (the app merged with
# the platform), deployment.zip and authx.zip beside it (both with bytecode, reproducible).
package: check-stage $(STAMP)
	$(BIN)/python -m chalicelib.platform.package --stage $(STAGE) $(if $(AUTHX_DEPS),--authx-deps $(AUTHX_DEPS))

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
