# The two commands a new user needs:  `make run`  and  `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install browser lint typecheck format check-migrations ci bench clean sdk-venv stylua lint-luau sdk-rbxm

## make run: install, migrate, seed demo data, start web + websockets + Celery worker + beat + the game
## simulator on :8000 (PORT=8080 make run for another port); ends with a banner of URLs, accounts and keys
run: install .env
	$(PY) manage.py runplatform --extra "simulate_game --duration 0 --servers 2 --players 8 --verbosity 0"

## make test: the whole test suite (embedded PostgreSQL/Redis unless DATABASE_URL/REDIS_URL are set)
test: install sdk-venv browser
	ADPLATFORM_SDK_PYTHON="$(abspath $(SDK_PY))" $(PY) -m pytest $(PYTEST_ARGS)

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

lint: install lint-luau typecheck
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# mypy with the django-stubs and DRF plugins (pyproject.toml [tool.mypy]). The plugin loads the test settings,
# which would start the embedded servers without these URLs; nothing connects to them.
typecheck: install
	ADPLATFORM_IGNORE_DOTENV=1 DATABASE_URL=postgres://typecheck@127.0.0.1:9/typecheck \
	  REDIS_URL=redis://127.0.0.1:9/0 $(PY) -m mypy

format: install stylua
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .
	$(STYLUA) $(LUAU_SOURCES) && $(STYLUA) $(LUAU_SOURCES)

check-migrations: install
	$(PY) manage.py makemigrations --check --dry-run

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) $(SDK_VENV) sdk/roblox/node_modules sdk/roblox/dist .pytest_cache .ruff_cache staticfiles

# ---- Roblox SDK (sdk/roblox): its Luau tests' venv, StyLua, the .rbxm ----------------------------------
# pluau (the Luau VM the SDK's tests run in) needs Python 3.12+: python3.12/3.13 from PATH, else through pyenv.
SDK_VENV ?= .venv-sdk
SDK_PY := $(SDK_VENV)/bin/python
SDK_STAMP := $(SDK_VENV)/.installed
SDK_BASE_PYTHON ?= $(shell for v in 3.12 3.13; do \
	  if python$$v -c 'import sys' >/dev/null 2>&1; then echo python$$v; exit; fi; \
	  pv=$$(pyenv versions --bare 2>/dev/null | grep -m1 "^$$v\."); \
	  if [ -n "$$pv" ]; then echo "env PYENV_VERSION=$$pv python$$v"; exit; fi; done)
STYLUA := sdk/roblox/node_modules/.bin/stylua --config-path sdk/roblox/stylua.toml
LUAU_SOURCES := sdk/roblox/src sdk/roblox/client sdk/tests/luau

sdk-venv: $(SDK_STAMP)

$(SDK_STAMP): requirements-sdk.txt
	@test -n "$(SDK_BASE_PYTHON)" || { echo "The SDK's Luau tests need Python 3.12 or newer (python3.12 or pyenv)."; exit 1; }
	@test -x $(SDK_PY) || $(SDK_BASE_PYTHON) -m venv $(SDK_VENV)
	$(SDK_PY) -m pip install --quiet --disable-pip-version-check -r requirements-sdk.txt
	@touch $(SDK_STAMP)

sdk/roblox/node_modules/.bin/stylua: sdk/roblox/package.json sdk/roblox/package-lock.json
	npm ci --prefix sdk/roblox --no-audit --no-fund --silent
	@touch $@

stylua: sdk/roblox/node_modules/.bin/stylua

lint-luau: stylua
	$(STYLUA) --check $(LUAU_SOURCES)

## make sdk-rbxm: the SDK as a model file to drag into Studio (sdk/roblox/dist/AdPlatform.rbxm)
sdk-rbxm: install
	$(PY) -m sdk.build_rbxm
