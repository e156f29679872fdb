# paysandbox - every target sets up what it needs on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help setup run test lint typecheck unit integration browser template bench build deploy clean

help:
	@echo "make run     - local sandbox (no Docker): API, console, webhooks, expirer"
	@echo "make test    - set-up, then lint, type checks, template checks and every test"
	@echo "make bench   - benchmarks table (bench/results.json)"
	@echo "make build   - sam build (python3.13, arm64);  make deploy - sam deploy"

# ---------------------------------------------------------------- set-up
$(STAMP): requirements-dev.txt layers/common/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

# ---------------------------------------------------------------- run
run: setup
	$(PY) -m sandbox

# ---------------------------------------------------------------- checks
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy layers/common/paysandbox

template: setup
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) -m pytest -q tests/template

unit: setup
	$(PY) -m pytest -q tests/unit

integration: setup
	$(PY) -m pytest -q tests/integration

test: lint typecheck
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) -m pytest tests

bench: setup
	$(PY) -m bench

build:
	@echo "make build: see issue 6 (sam build in .venv-sam)"; exit 1

deploy: build
	@echo "make deploy: see issue 6"; exit 1

clean:
	rm -rf $(VENV) .venv-sam .aws-sam .pytest_cache .mypy_cache .ruff_cache
