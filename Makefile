# paysandbox - every target sets up what it needs on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help setup run-setup run test lint typecheck unit integration browser browser-deps template bench build deploy clean sam-setup validate require-stack

help:
	@echo "make run     - local sandbox (no Docker): API, console, webhooks, expirer"
	@echo "make test    - set-up, then lint, type checks, template checks and every test"
	@echo "make bench   - benchmarks table (bench/results.json)"
	@echo "make build   - sam build (python3.13, arm64);  make deploy STACK=paysandbox-<team> - sam deploy (SAM_ENV=prod for prod)"
	@echo "make validate - sam validate --lint"

# ---------------------------------------------------------------- set-up
# `make run` installs only what running needs (requirements-run.txt, ~160 MB); every other
# target adds the test and lint toolchain (requirements-dev.txt).
RUN_STAMP := $(VENV)/.installed-run

$(RUN_STAMP): requirements-run.txt layers/common/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-run.txt
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# The `paysandbox` command (cli/paysandbox_cli, standard library only): a launcher in the venv's
# bin/ that puts only cli/ on the path. No build step, so `make run`'s set-up stays light.
CLI := $(VENV)/bin/paysandbox
$(CLI): $(RUN_STAMP)
	printf '#!/bin/sh\nPYTHONPATH="%s$${PYTHONPATH:+:$$PYTHONPATH}" exec "%s" -m paysandbox_cli "$$@"\n' \
	  "$(abspath cli)" "$(abspath $(PY))" > $(CLI)
	chmod +x $(CLI)

run-setup: $(RUN_STAMP) $(CLI)

setup: $(STAMP) $(CLI)

# SAM CLI lives in its own virtualenv: it pins its own boto3/botocore, which must not fight
# the project's .venv (requirements-sam.txt is a full pin of a clean install).
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed
SAM_BUILD_DIR ?= .aws-sam/build
SAM_ENV ?= default
export SAM_CLI_TELEMETRY := 0

$(SAM_STAMP): requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet -r requirements-sam.txt
	touch $(SAM_STAMP)

sam-setup: $(SAM_STAMP)

# ---------------------------------------------------------------- run
run: run-setup
	$(PY) -m sandbox

# ---------------------------------------------------------------- checks
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy layers/common/paysandbox sandbox harness cli/paysandbox_cli
	@# One run per function, its directory as the root (as Lambda's task root): every handler is app.py
	for dir in functions/*/; do MYPYPATH=$$dir $(VENV)/bin/mypy $$dir || exit 1; done

template: setup validate
	$(VENV)/bin/cfn-lint --include-checks I -- template.yaml
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

test: lint typecheck validate browser-deps
	$(VENV)/bin/cfn-lint --include-checks I -- template.yaml
	$(PY) -m pytest tests

bench: setup
	$(PY) -m bench

# ---------------------------------------------------------------- AWS (issue 6)
validate: sam-setup
	$(SAM) validate --lint --template-file template.yaml

# sam build resolves the layer's arm64 wheels with the runtime's own Python, so python3.13
# must run. On machines with pyenv that have 3.13 installed but not selected, select it next
# to the current version through PYENV_VERSION; otherwise say how to get one.
define WITH_PYTHON313
if ! python3.13 --version >/dev/null 2>&1; then \
  v=$$(command -v pyenv >/dev/null 2>&1 && pyenv versions --bare 2>/dev/null | grep -E '^3\.13(\.[0-9]+)?$$' | sort -V | tail -1); \
  if [ -n "$$v" ]; then \
    export PYENV_VERSION="$$(pyenv version-name 2>/dev/null || echo system):$$v"; \
    echo "make build: using pyenv's Python $$v (PYENV_VERSION=$$PYENV_VERSION)"; \
  fi; \
fi; \
if ! python3.13 --version >/dev/null 2>&1; then \
  echo "make build: sam build needs python3.13 on PATH (the Lambda runtime's version)." >&2; \
  echo "  Install one, e.g. 'pyenv install 3.13' (then re-run make build; it is picked up), or" >&2; \
  echo "  your OS package 'python3.13', or https://www.python.org/downloads/." >&2; \
  exit 1; \
fi;
endef

# Then ship bytecode: Lambda's code directories are read-only, so without .pyc files every
# cold start compiles the layer (Powertools, pydantic, the domain) and the handler again.
# Compiled by python3.13 (the runtime's version; other versions ignore the files), as
# unchecked-hash .pyc: used without comparing the source's mtime, which a deployment zip keeps
# to 2 seconds only. Paths are recorded as Lambda sees them (/opt for the layer, /var/task for
# a function), so tracebacks show the right files.
build: sam-setup
	@$(WITH_PYTHON313) \
	set -x; $(SAM) build --template-file template.yaml --build-dir $(SAM_BUILD_DIR) && \
	for dir in $(SAM_BUILD_DIR)/*/; do \
	  dir=$${dir%/}; root=/var/task; [ -d "$$dir/python" ] && root=/opt; \
	  python3.13 -m compileall -q -j 0 --invalidation-mode unchecked-hash -s "$$dir" -p "$$root" "$$dir" \
	    || exit 1; \
	done

# Uses samconfig.toml: SAM_ENV=default (Stage dev) or SAM_ENV=prod. Teams share accounts, so
# samconfig.toml names no stack: every deploy says whose it is (STACK=paysandbox-<team>), and
# SAM shows the change set and asks before executing it.
deploy: require-stack build
	$(SAM) deploy --config-env $(SAM_ENV) --stack-name $(STACK) --s3-prefix $(STACK) \
	  --template-file $(SAM_BUILD_DIR)/template.yaml

require-stack:
	@test -n "$(STACK)" || { \
	  echo "make deploy: name your stack, e.g. make deploy STACK=paysandbox-<team> [SAM_ENV=prod]" >&2; \
	  echo "  (one stack per team in a shared account; see docs/deploying.md)" >&2; exit 2; }

clean:
	rm -rf $(VENV) .venv-sam .aws-sam .pytest_cache .mypy_cache .ruff_cache
