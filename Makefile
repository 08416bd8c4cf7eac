# LAP Market: developer entry points.
#
#   make run     migrate, load the demo data and serve on http://$(HOST):$(PORT)
#   make test    lint (ruff + mypy), then the whole suite on SQLite and PostgreSQL 15 (NO_LINT=1 skips lint)
#   make lint    ruff + mypy
#   make bench   every bench/*.py
#
# Everything installs itself on first use: a virtualenv in .venv from requirements.lock,
# and (as root, on Debian) the system packages from scripts/system-deps.sh.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# Prerequisites run in the order written (system packages before the virtualenv).
.NOTPARALLEL:

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# (not LINT: GNU make predefines that name)
NO_LINT ?=
PYTEST_ARGS ?=
PIP := $(BIN)/python -m pip --disable-pip-version-check
STAMP := $(VENV)/.lap-market-installed

.PHONY: help run test lint bench bootstrap system-deps-run system-deps-test clean

help:
	@echo "make run    [HOST=$(HOST)] [PORT=$(PORT)]  migrate, load demo data, serve"
	@echo "make test   [NO_LINT=1] [PYTEST_ARGS=...]  lint, then the test suite"
	@echo "make lint                                  ruff check + mypy"
	@echo "make bench                                 run bench/*.py"

# --- bootstrap ---------------------------------------------------------------------------

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create $(VENV) with '$(PYTHON) -m venv'."; \
	  echo "On Debian/Ubuntu install python3-venv (apt-get install python3-venv)."; \
	  exit 1; }

# Reinstalls only when the dependency files change.
$(STAMP): pyproject.toml requirements.lock | $(BIN)/python
	$(PIP) install -q -r requirements.lock
	$(PIP) install -q --no-deps -e .
	@touch $@

bootstrap: $(STAMP)

system-deps-run:
	@PYTHON=$(PYTHON) VENV=$(VENV) scripts/system-deps.sh run

system-deps-test:
	@PYTHON=$(PYTHON) VENV=$(VENV) scripts/system-deps.sh test

# --- targets -----------------------------------------------------------------------------

run: system-deps-run bootstrap
	$(BIN)/lap-market db upgrade
	$(BIN)/lap-market demo
	exec $(BIN)/lap-market serve --host $(HOST) --port $(PORT)

lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/mypy

test: system-deps-test bootstrap $(if $(NO_LINT),,lint)
	$(BIN)/pytest $(PYTEST_ARGS)

bench: bootstrap
	@shopt -s nullglob; ran=0; \
	for script in bench/*.py; do \
	  case "$$(basename "$$script")" in _*) continue;; esac; \
	  echo "== $$script"; \
	  $(BIN)/python "$$script"; \
	  ran=1; \
	done; \
	if [ "$$ran" = 0 ]; then echo "No benchmarks in bench/."; fi

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache $(STAMP)
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
