# The two commands a new user needs:  `make run`  and  `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install browser lint format check-migrations ci bench clean

## make run: install, migrate, seed demo data, start web + websockets + Celery worker + beat + the game
## simulator on :8000 (PORT=8080 make run for another port); ends with a banner of URLs, accounts and keys
run: install .env
	$(PY) manage.py runplatform --extra "simulate_game --duration 0 --servers 2 --players 8 --verbosity 0"

## make test: the whole test suite (embedded PostgreSQL/Redis unless DATABASE_URL/REDIS_URL are set)
test: install browser
	$(PY) -m pytest $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

.env:
	cp .env.example .env

# Browser tests drive the system's Chromium (no browser download). Installed from
# Debian's packages when missing and we may; otherwise those tests are skipped locally.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	      echo "Installing Chromium for the browser tests..."; \
	      (DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	       (apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null)); \
	    else echo "Chromium not found: browser tests will be skipped (install the 'chromium' package)."; fi; }

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

check-migrations: install
	$(PY) manage.py makemigrations --check --dry-run

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
