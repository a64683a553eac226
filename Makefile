# EcomVideo AI backend. Needs only Python 3.12 and make: every tool is installed on first use.
#   make dev    the whole backend on http://127.0.0.1:3000 (PostgreSQL, moto, handlers)
#   make test   lint + type check + template validation + build + tests (what CI runs)

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
VENV_SAM  := .venv-sam
VENV_CKV  := .venv-checkov
PY        := $(VENV)/bin/python
UV        := $(VENV)/bin/uv
SAM       := $(VENV_SAM)/bin/sam
LINT_DIRS := layers functions devserver tests migrations bench tools
PLATFORM  := x86_64-manylinux_2_28
LOCKS     := layer worker dev sam checkov  # order: worker/dev include layer.txt
export SAM_CLI_TELEMETRY := 0

# python3.12 if it runs (a pyenv shim may exist without the version), else python3 + warning.
PYTHON ?= $(shell if python3.12 -c '' >/dev/null 2>&1; then echo python3.12; else echo python3; fi)

.PHONY: help venv dev test lint typecheck format validate check checkov bandit pip-audit build pytest lock \
	layer-requirements advisories clean scrape-eval

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-20s\033[0m %s\n", $$1, $$2}'

# ---------------------------------------------------------------- environments
$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' || \
	  echo "WARNING: $(PYTHON) is not Python 3.12 (Lambda runs 3.12); continuing" >&2
	$(PYTHON) -m venv $(VENV)

$(UV): | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check uv

# Stamp files: re-sync only when the lock changed.
$(VENV)/.synced: requirements/dev.txt | $(UV)
	$(UV) pip sync --quiet --python $(PY) requirements/dev.txt
	@touch $@

$(VENV_SAM)/bin/python:
	$(PYTHON) -m venv $(VENV_SAM)

$(VENV_SAM)/.synced: requirements/sam.txt | $(UV) $(VENV_SAM)/bin/python
	$(UV) pip sync --quiet --python $(VENV_SAM)/bin/python requirements/sam.txt
	@touch $@

# checkov pins its own boto3 and friends: a third virtualenv.
$(VENV_CKV)/bin/python:
	$(PYTHON) -m venv $(VENV_CKV)

$(VENV_CKV)/.synced: requirements/checkov.txt | $(UV) $(VENV_CKV)/bin/python
	$(UV) pip sync --quiet --python $(VENV_CKV)/bin/python requirements/checkov.txt
	@touch $@

venv: $(VENV)/.synced $(VENV_SAM)/.synced layers/core/requirements.txt ## create/refresh .venv and .venv-sam from the locks

# SAM builds the layer from layers/core/ only, so it gets its own copy of the layer lock.
layers/core/requirements.txt: requirements/layer.txt
	cp $< $@

layer-requirements: layers/core/requirements.txt ## copy requirements/layer.txt into the layer

# ---------------------------------------------------------------- run
dev: venv ## run the local stack (API on :3000, moto on :5000); Ctrl-C stops it
	PYTHONPATH=layers/core/python:. $(PY) -m devserver $(DEV_ARGS)

# ---------------------------------------------------------------- checks
test: lint typecheck validate check build pytest ## everything CI checks

lint: $(VENV)/.synced ## ruff check + ruff format --check
	$(VENV)/bin/ruff check $(LINT_DIRS)
	$(VENV)/bin/ruff format --check $(LINT_DIRS)

# mypy over the layer and the handlers, configured in pyproject.toml ([tool.mypy]); incremental
# through .mypy_cache (a few seconds once warm).
typecheck: $(VENV)/.synced ## mypy (strict, a few flags off with reasons) over layers/ and functions/
	$(VENV)/bin/mypy

format: $(VENV)/.synced ## apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix $(LINT_DIRS)
	$(VENV)/bin/ruff format $(LINT_DIRS)

validate: $(VENV_SAM)/.synced ## sam validate --lint (cfn-lint rules included)
	$(SAM) validate --lint

# Security checks. checkov: every failing check is fixed or skipped with a written reason:
# in .checkov.yaml when it fails for every resource of a kind, else in the resource's Metadata
# (checkov: skip). checkov skips resources inside Fn::ForEach without a word, so it scans the
# expanded template (tools/expand_template.py); .checkov.yaml keeps it offline.
check: checkov bandit pip-audit ## checkov + bandit + pip-audit

CKV_TEMPLATE := .aws-sam/checkov/template.json
checkov: $(VENV_CKV)/.synced $(VENV)/.synced ## IaC scan of template.yaml (SAM resources, loops expanded)
	PYTHONPATH=. $(PY) -m tools.expand_template template.yaml -o $(CKV_TEMPLATE)
	$(VENV_CKV)/bin/checkov --config-file .checkov.yaml -f $(CKV_TEMPLATE)

bandit: $(VENV)/.synced ## no high-severity finding in the shipped code, the local stack and the tools
	$(VENV)/bin/bandit -q -r layers functions devserver tools -lll

# pip-audit on the Lambda locks. A vulnerable pin fails the build: upgrade it in the .in file and
# `make lock`, or add `--ignore-vuln ID` to PIP_AUDIT_IGNORE with the reason beside it (the same
# list serves both audits below). Online first: pip-audit asks the PyPI JSON API / OSV. When that
# service cannot be reached (CI that only reaches package registries), the locks are audited
# offline against the PyPA advisory snapshot in requirements/advisories.json (`make advisories`
# refreshes it); a finding there fails the same way. PIP_AUDIT_REQUIRED=1 insists on the online
# audit: unreachable service = failure.
AUDIT_LOCKS      := requirements/layer.txt requirements/worker.txt
PIP_AUDIT_IGNORE :=
pip-audit: $(VENV)/.synced ## known-vulnerability audit of the Lambda locks (online, else offline snapshot)
	@for lock in $(AUDIT_LOCKS); do \
	  out=$$(timeout 300 $(VENV)/bin/pip-audit --strict --no-deps --disable-pip \
	    --progress-spinner off -r $$lock $(PIP_AUDIT_IGNORE) 2>&1); rc=$$?; \
	  if [ $$rc -eq 0 ]; then echo "pip-audit $$lock: no known vulnerabilities"; continue; fi; \
	  if ! grep -q "known vulnerabilit" <<<"$$out" && { [ $$rc -eq 124 ] || \
	      grep -qE "could not be audited|Failed to resolve|Max retries|timed out" <<<"$$out"; }; then \
	    echo "WARNING: pip-audit could not reach the vulnerability service for $$lock" >&2; \
	    if [ -n "$$PIP_AUDIT_REQUIRED" ]; then exit 1; fi; \
	    echo "pip-audit offline: audited against the PyPA advisory snapshot of" \
	      "$$($(PY) -m tools.audit date) (requirements/advisories.json)"; \
	    $(PY) -m tools.audit check $$lock $(PIP_AUDIT_IGNORE) || exit 1; continue; \
	  fi; \
	  echo "$$out"; exit $$rc; \
	done

# Refresh the offline audit's snapshot: clone https://github.com/pypa/advisory-database (a bare or
# shallow clone will do), then `make advisories ADVISORY_DB=<path>` and commit the JSON.
ADVISORY_DB ?= ../advisory-database
advisories: $(VENV)/.synced ## rewrite requirements/advisories.json from ADVISORY_DB (pypa/advisory-database)
	$(PY) -m tools.audit refresh --db $(ADVISORY_DB)
	$(PY) -m tools.audit check $(addprefix requirements/,$(addsuffix .txt,$(LOCKS))) \
	  $(PIP_AUDIT_IGNORE)

# The venv's python3.12 and uv come first on PATH: SAM checks the runtime's interpreter and
# the layer's Makefile installs the Lambda wheels with uv.
build: $(VENV)/.synced $(VENV_SAM)/.synced layers/core/requirements.txt ## sam build (cached, parallel)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(SAM) build --parallel --cached
	$(VENV)/bin/python -m tools.package_size .aws-sam/build

PYTEST_ARGS ?= -n auto -q
# devserver.pg run: starts the project's PostgreSQL unless DATABASE_URL is set, and stops it
# again afterwards if it started it.
pytest: $(VENV)/.synced layers/core/requirements.txt ## run the tests (exit code 5, no tests, is a pass)
	PYTHONPATH=. $(PY) -m devserver.pg run -- $(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then exit 0; fi; exit $$rc

# Accuracy on the shared real-page corpus (../shared/corpus/product-pages; skipped when absent).
scrape-eval: $(VENV)/.synced ## scraper F1 (price/sku/availability) + ms per page on the shared corpus
	$(PY) bench/scrape_eval.py $(SCRAPE_EVAL_ARGS)

# ---------------------------------------------------------------- maintenance
lock: $(UV) ## recompile requirements/*.txt from *.in (Lambda platform, Python 3.12)
	cd requirements && for name in $(LOCKS); do \
	  ../$(UV) pip compile --quiet --python-version 3.12 --python-platform $(PLATFORM) \
	    $$name.in -o $$name.txt || exit 1; \
	done
	cp requirements/layer.txt layers/core/requirements.txt

clean: ## remove build output and caches (keeps the venvs and the local database)
	rm -rf .aws-sam .pytest_cache .ruff_cache .mypy_cache
	find . -path ./.venv -prune -o -path ./.venv-sam -prune -o -path ./.venv-checkov -prune \
	  -o -name __pycache__ -type d \
	  -prune -exec rm -rf {} +
