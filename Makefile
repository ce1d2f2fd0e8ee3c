# The two commands: `make run` (the app on embedded defaults) and `make test`
# (the whole suite). Both set themselves up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
export PORT

.DEFAULT_GOAL := help
.PHONY: help run test lint bench install assets clean

help:
	@echo "make run   - install, migrate, load demo data, serve on http://127.0.0.1:$(PORT) with a Celery worker and beat"
	@echo "make test  - install, then ruff, import contracts, Django checks, migrations check and pytest"
	@echo "make bench - benchmarks on PostgreSQL and Redis: a table on stdout, JSON under var/bench/ (QUICK=1: seconds each)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --quiet --upgrade pip

# Stamps: re-install only when a lock file changes. pip -qq: errors only (a machine's own
# pip configuration can print a warning per package, burying make run's first lines).
$(VENV)/.installed-base: requirements/base.lock | $(BIN)/python
	$(BIN)/pip install --quiet --quiet -r requirements/base.lock
	@touch $@

$(VENV)/.installed-dev: requirements/dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --quiet -r requirements/dev.lock
	@touch $@ $(VENV)/.installed-base

# Bootstrap (and axe-core for the tests) from the npm registry, served by the app.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the front-end assets (apt-get install npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.installed-base node_modules/.installed
assets: node_modules/.installed

# Ctrl-C reaches honcho, which stops every process and exits 130; the shell waits for it
# (trap) and ends cleanly, so make prints no error. The address and logins are printed
# again by the "ready" process once the site and the worker answer.
run: install
	@$(BIN)/python manage.py migrate --noinput --verbosity 0 && echo "Database ready."
	@$(BIN)/python manage.py seed_demo
	@echo "Starting the web server, the Celery worker and beat (Procfile.dev)..."
	@trap true INT; SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} PATH="$(CURDIR)/$(BIN):$$PATH" \
		$(BIN)/honcho --procfile Procfile.dev start --port $(PORT); status=$$?; \
		if [ $$status -eq 0 ] || [ $$status -eq 130 ]; then echo "make run: stopped."; else exit $$status; fi

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: $(VENV)/.installed-dev node_modules/.installed lint
	DJANGO_SETTINGS_MODULE=clinic.settings.test $(BIN)/python manage.py check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=clinic.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

# Benchmarks, not timed tests: they report figures against targets and never
# fail on a missed one, only when one cannot run (bench/run.py). Each module
# also runs alone: `$(BIN)/python -m bench.web`. QUICK=1: a few seconds each.
bench: $(VENV)/.installed-dev node_modules/.installed
	QUICK=$(QUICK) DJANGO_SETTINGS_MODULE=clinic.settings.test $(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) node_modules var
