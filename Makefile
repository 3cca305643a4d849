# One command to run, one to test. See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Where `make run` serves: HOST=0.0.0.0:8000 to reach it from other machines.
HOST ?= 127.0.0.1:8000
# Optional folder with the seed articles' text files; when present the demo stores them as
# the two sources' full text.
SEED_TEXTS ?= $(wildcard ../shared/seeds)
PYTEST_WORKERS ?= auto

.PHONY: run serve worker test install install-dev browser test-tools lint lock migrate seed clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Exact versions come from the lock files (`make lock` writes them from pyproject.toml); the
# app itself is installed on top without resolving anything again.
# citeproc-js (npm `citeproc`), which formats citations in the app (embedded V8) and is the
# tests' oracle under Node, at the version package-lock.json pins. Debian's npm when missing.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
		else \
			echo "npm is missing: sudo apt-get install -y nodejs npm" >&2; exit 1; \
		fi; }
	npm ci --omit=dev --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

$(VENV)/.installed: pyproject.toml requirements.lock node_modules/.installed | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements-dev.lock node_modules/.installed | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.installed

## lock: pin every dependency's exact version (after editing pyproject.toml's lists)
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv==0.13.9
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --no-header -q -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --no-header -q --extra dev \
		-o requirements-dev.lock

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --no-input

# RESET=1 loads the demo again from scratch (everything done in it is lost); SEED_TEXTS given
# later adds the texts its sources lack.
seed: migrate
	DEBUG=1 $(BIN)/python manage.py seed_demo $(if $(SEED_TEXTS),--texts $(SEED_TEXTS)) $(if $(RESET),--reset)

## run: the app on SQLite with the seed review, at http://127.0.0.1:8000/
run: seed
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST)

## serve: production serving with gunicorn (settings from the environment; see README's
## deployment section). Migrates first; BIND, WEB_CONCURRENCY, THREADS choose the sockets and sizes.
serve: migrate
	$(BIN)/gunicorn -c config/gunicorn.py config.wsgi

## worker: a background job worker (JOBS_MODE=worker, the default on PostgreSQL)
worker: install
	$(BIN)/python manage.py db_worker --no-reload

## browser: Debian's Chromium for the browser tests (installed when missing and we are root)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "Chromium is missing: sudo apt-get install -y chromium" >&2; exit 1; \
		fi; }

## test-tools: package.json's devDependencies too (validators the tests check exports with)
node_modules/.installed-dev: node_modules/.installed
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@ $<

# The REFI-QDA standard's XML schemas (Project.xsd, Codebook.xsd), which the tests validate the
# .qdpx and .qdc exports against: shipped in the sdist of pyrefiqda on PyPI (not in its wheel),
# fetched at the pinned version and checked by its hash, kept beside the virtual environment.
REFI_QDA := pyrefiqda-0.3.1
REFI_QDA_SHA256 := e92aab320a3ca9320c17857208dce65c7846f248dfdfeea2b7318bf4198c6526
REFI_XSD := $(VENV)/share/refi-qda/Project.xsd
$(REFI_XSD): | $(BIN)/python
	rm -rf $(VENV)/share/refi-qda.tmp && mkdir -p $(VENV)/share/refi-qda.tmp
	$(BIN)/pip download --quiet --no-deps --no-binary :all: "pyrefiqda==0.3.1" \
		-d $(VENV)/share/refi-qda.tmp
	echo "$(REFI_QDA_SHA256)  $(VENV)/share/refi-qda.tmp/$(REFI_QDA).tar.gz" | sha256sum -c --quiet
	tar -xzf $(VENV)/share/refi-qda.tmp/$(REFI_QDA).tar.gz -C $(VENV)/share/refi-qda.tmp
	mkdir -p $(VENV)/share/refi-qda
	cp $(VENV)/share/refi-qda.tmp/$(REFI_QDA)/refi-qda-standard/*.xsd $(VENV)/share/refi-qda/
	rm -rf $(VENV)/share/refi-qda.tmp

test-tools: node_modules/.installed-dev $(REFI_XSD)

## test: the whole suite, browser tests included, on SQLite (or DATABASE_URL when set)
test: install-dev browser test-tools
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	@# The lock files must answer pyproject.toml as it is now (pinned versions are kept).
	$(BIN)/pip install --quiet uv==0.13.9
	@for lock in requirements.lock requirements-dev.lock; do \
		cp $$lock $(VENV)/check.lock; \
		extra=$$( [ $$lock = requirements-dev.lock ] && echo "--extra dev" ); \
		$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --no-header -q $$extra \
			-o $(VENV)/check.lock || exit 1; \
		diff -u $$lock $(VENV)/check.lock || { echo "$$lock is stale: run make lock" >&2; exit 1; }; \
	done

clean:
	rm -rf $(VENV) data test-results node_modules
