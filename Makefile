# paysandbox - every target sets up what it needs on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help setup run test lint typecheck unit integration browser browser-deps template bench build deploy clean

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

# Debian's Chromium for the browser tests (Playwright cannot download its own browsers here).
# A failed install only warns: tests/browser/conftest.py then skips, or fails under CI=true.
CHROMIUM := /usr/bin/chromium
browser-deps:
	@test -x $(CHROMIUM) || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	} || echo "warning: could not install $(CHROMIUM) (apt-get install chromium)"

browser: setup browser-deps
	$(PY) -m pytest -q tests/browser

test: lint typecheck browser-deps
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
