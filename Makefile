# The two commands a newcomer needs: `make demo` and `make test`. See README.md.
# Settings from .env (see .env.example), if there is one, reach every command below.
-include .env
export $(filter HUB_%,$(.VARIABLES))

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
# Tests keep their files apart from the demo's data directory.
TEST_ENV := HUB_DATA_DIR=$(CURDIR)/.test-data

.PHONY: system-libs proxy loadgen demo serve test test-postgres browser install install-test demo-code check lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# WeasyPrint (the assessment report's PDF) draws text with Pango, a system library.
system-libs:
	@if ! ldconfig -p | grep -q 'libpango-1.0.so.0' || ! ldconfig -p | grep -q 'libpangoft2-1.0.so.0'; then \
	  echo "Installing Pango for PDF reports"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0; \
	fi

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,postgres]"
	touch $@ $(VENV)/.installed

install: system-libs $(VENV)/.installed
install-test: system-libs $(VENV)/.installed-test

## Install, migrate, load the demo content and start the hub (web server and task worker).
demo: install
	$(MANAGE) migrate --noinput
	$(MANAGE) createcachetable
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) demo_load
	$(MANAGE) serve

## Start the hub without loading demo content.
serve: install
	$(MANAGE) migrate --noinput
	$(MANAGE) createcachetable
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) serve

## Print the current two-step sign-in code of a demo account: make demo-code EMAIL=...
demo-code: install
	@$(MANAGE) demo_code $(EMAIL)

## Debian's Chromium for the browser tests (never a downloaded browser).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; \
	fi

## Debian's nginx for the reverse-proxy test (a system package, never downloaded otherwise).
proxy:
	@if [ ! -x /usr/sbin/nginx ]; then \
	  echo "Installing Debian's nginx for the reverse-proxy test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq nginx-light; \
	fi

## Debian's wrk for the load benchmark and its smoke test (bench/load.py).
loadgen:
	@if ! command -v wrk >/dev/null; then \
	  echo "Installing Debian's wrk for the load benchmark"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk; \
	fi

## Install what the tests need and run the whole suite, browser tests included.
test: install-test browser proxy loadgen
	$(TEST_ENV) $(BIN)/python -m pytest

## The same suite against PostgreSQL (HUB_DB_* say where; defaults suit a local server).
test-postgres: install-test browser proxy loadgen
	$(TEST_ENV) HUB_DB_ENGINE=postgresql $(BIN)/python -m pytest

## Static security checks: bandit (medium and high findings) and Django's deployment checklist.
check: install-test
	$(BIN)/bandit -c pyproject.toml -r hub -ll -q
	$(TEST_ENV) HUB_SECURE=true HUB_SECRET_KEY=$$($(BIN)/python -c 'import secrets;print(secrets.token_urlsafe(50))') \
	  HUB_ALLOWED_HOSTS=hub.example.org HUB_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend \
	  $(MANAGE) check --deploy --fail-level WARNING

lint: install-test
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .test-data .pytest_cache
