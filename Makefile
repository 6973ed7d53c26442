# Defense Fund: `make demo` and `make test` work on a fresh machine with nothing done by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.13 from pyenv, the system, or wherever `python3.13` is on PATH.
PYTHON ?= $(shell for c in python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3.13 /usr/bin/python3 python3; do \
	p=$$(command -v $$c 2>/dev/null) || continue; \
	$$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null && { echo $$p; break; }; done)
UV := .tools/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
# `make demo HOST=0.0.0.0` serves the demo to phones on the same network.
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_URL := http://$(if $(filter 0.0.0.0,$(HOST)),$(shell hostname -I 2>/dev/null | cut -d' ' -f1),$(HOST)):$(PORT)
DEMO_ENV := DEBUG=1 DEMO_URL=$(DEMO_URL) $(if $(filter 0.0.0.0,$(HOST)),ALLOWED_HOSTS='*')
# The demo's own PostgreSQL under var/pg/, unless DATABASE_URL names a database of your own.
DEMO_DB := $(if $(DATABASE_URL),true,$(PY) -m fund.demo.postgres)
export UV_PYTHON_DOWNLOADS := never

.PHONY: help setup demo test lint format bench mutate clean

help:
	@echo "make demo   run the app with seeded demo data on http://127.0.0.1:8000 (HOST=0.0.0.0 for phones)"
	@echo "make test   run the whole suite on a throwaway PostgreSQL"
	@echo "make lint   ruff check, ruff format --check, django-upgrade --check, mypy --strict on fund/, donations/ and cases/"
	@echo "make bench  run the benchmarks in bench/ (prints figures)"
	@echo "make mutate mutation testing of the ledger's verification and posting (slow)"

$(UV):
	@test -n "$(PYTHON)" || { echo "Python 3.13 not found: install it (pyenv install 3.13 or apt-get install python3)"; exit 1; }
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --python $(PYTHON)
	@touch $@

setup: $(VENV)/.synced

demo: setup
	@$(DEMO_DB) start
	@trap '$(DEMO_DB) stop' EXIT; \
	$(DEMO_ENV) $(PY) manage.py migrate --noinput && \
	$(DEMO_ENV) $(PY) manage.py seed_demo && { \
	$(DEMO_ENV) $(PY) manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null; $(DEMO_DB) stop' EXIT INT TERM; \
	$(DEMO_ENV) $(PY) manage.py runserver --noreload $(HOST):$(PORT); }

test: setup
	$(PY) tests/pg.py -- $(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	git ls-files -z '*.py' | xargs -0 $(VENV)/bin/django-upgrade --target-version 6.1 --check
	$(VENV)/bin/mypy fund donations cases

format: setup
	git ls-files -z '*.py' | xargs -0 $(VENV)/bin/django-upgrade --target-version 6.1
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup
	$(PY) tests/pg.py --durable -- $(PY) bench/run_all.py

mutate: setup
	rm -rf mutants
	$(PY) tests/pg.py -- $(VENV)/bin/mutmut run --max-children 1
	$(VENV)/bin/mutmut results

clean:
	-@test -d var/pg && $(PY) -m fund.demo.postgres stop
	rm -rf var .venv .tools mutants
