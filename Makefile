# Two commands set everything up on a fresh Debian machine with Python 3.11:
#   make run   install, create + migrate the SQLite database, load demo data, serve
#   make test  install (with test tools) and run every test
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
ENV_FILE := instance/surveyapp.env
# Links printed by `make demo` and `make serve` point at the address really served, unless
# SURVEYAPP_BASE_URL is set in the environment or in $(ENV_FILE).
ifeq ($(SURVEYAPP_BASE_URL)$(shell grep -s '^SURVEYAPP_BASE_URL=.' $(ENV_FILE)),)
LOCAL_URL := SURVEYAPP_BASE_URL=http://$(HOST):$(PORT)
endif
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test install install-test translations db demo serve lint bench clean

$(UV):
	$(PYTHON) -c "import ensurepip" 2>/dev/null || ./scripts/system-packages.sh venv
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Settings for `surveyapp` run from this checkout; never overwritten (edit it freely).
$(ENV_FILE):
	@mkdir -p $(@D)
	@printf '%s\n' \
		'# Settings for surveyapp in this checkout: SURVEYAPP_NAME=value lines (see README).' \
		'# A variable set in the environment wins. On a server, use SURVEYAPP_ENV=production.' \
		'SURVEYAPP_ENV=development' > $@
	@echo "Wrote $@ (SURVEYAPP_ENV=development)."

install: $(UV) $(ENV_FILE)
	./scripts/system-packages.sh run
	$(UV) sync --quiet --locked --inexact --compile-bytecode --python $(PYTHON)
	$(MAKE) --no-print-directory translations

install-test: $(UV)
	./scripts/system-packages.sh test
	$(UV) sync --quiet --locked --extra test --compile-bytecode --python $(PYTHON)
	$(MAKE) --no-print-directory translations

translations:
	$(BIN)/pybabel -q compile -d surveyapp/translations

db:
	SURVEYAPP_ENV=development $(BIN)/surveyapp db upgrade

demo:
	@SURVEYAPP_ENV=development $(LOCAL_URL) $(BIN)/surveyapp demo

# The job worker (e-mail) runs beside the web server and stops with it.
serve:
	SURVEYAPP_ENV=development $(LOCAL_URL) $(BIN)/surveyapp worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	SURVEYAPP_ENV=development $(LOCAL_URL) $(BIN)/surveyapp run --host $(HOST) --port $(PORT)

run: install db
	@echo
	@$(MAKE) --no-print-directory demo
	@echo
	@$(MAKE) --no-print-directory serve

test: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# SQLite (browser tests included) and PostgreSQL side by side, one per core; the
	@# PostgreSQL run's output follows the SQLite run's, and either failing fails the target.
	@# The PostgreSQL run leaves out what reaches no database: the SQLite run has it all.
	@log=$$(mktemp); \
	SURVEYAPP_TEST_DATABASE=postgresql $(BIN)/pytest -q -p no:cacheprovider -m "not e2e" \
		--ignore=tests/scoring --database-tests-only > $$log 2>&1 & pg=$$!; \
	echo "--- SQLite ---"; $(BIN)/pytest -q -p no:cacheprovider; sqlite=$$?; \
	wait $$pg; postgres=$$?; \
	echo "--- PostgreSQL ---"; cat $$log; rm -f $$log; \
	test $$sqlite -eq 0 && test $$postgres -eq 0

lint:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every benchmark, then benchmarks/results.json and docs/benchmarks-table.md;
# `make bench QUICK=1` runs the small versions (under two minutes).
bench: install-test
	$(BIN)/python benchmarks/run.py $(if $(QUICK),--quick)

clean:
	rm -rf $(VENV) $(TOOLS)
