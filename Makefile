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
DEMO_ENV := DEBUG=1 DATABASE_URL=sqlite:///$(CURDIR)/var/demo.sqlite3
export UV_PYTHON_DOWNLOADS := never

.PHONY: help setup demo test test-pg test-sqlite lint format bench clean

help:
	@echo "make demo   run the app with seeded demo data on http://127.0.0.1:8000"
	@echo "make test   run the whole suite on a throwaway PostgreSQL, then the sqlite-marked tests"
	@echo "make lint   ruff check, ruff format --check, django-upgrade --check, mypy --strict on fund/"
	@echo "make bench  run the benchmarks in bench/ (prints figures)"

$(UV):
	@test -n "$(PYTHON)" || { echo "Python 3.13 not found: install it (pyenv install 3.13 or apt-get install python3)"; exit 1; }
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --python $(PYTHON)
	@touch $@

setup: $(VENV)/.synced

demo: setup
	@mkdir -p var
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py seed_demo
	@$(DEMO_ENV) $(PY) manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEMO_ENV) $(PY) manage.py runserver --noreload 127.0.0.1:8000

test: setup test-pg test-sqlite

test-pg: setup
	$(PY) tests/pg.py -- $(PY) -m pytest $(PYTEST_ARGS)

test-sqlite: setup
	@mkdir -p var
	DATABASE_URL=sqlite:///$(CURDIR)/var/test.sqlite3 $(PY) -m pytest -m sqlite -p no:playwright $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	git ls-files -z '*.py' | xargs -0 $(VENV)/bin/django-upgrade --target-version 6.1 --check
	$(VENV)/bin/mypy fund

format: setup
	git ls-files -z '*.py' | xargs -0 $(VENV)/bin/django-upgrade --target-version 6.1
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup
	$(PY) tests/pg.py --durable -- $(PY) bench/run_all.py

clean:
	rm -rf var .venv .tools
