# netralitas: every command a user needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
VAR := $(CURDIR)/var
DEMO_WEEK := 2024-W48
# User values reach the recipes only as environment variables, taken literally ($(value ...): make does not
# expand them) and quoted by the shell ("$$NETRALITAS_RUN_WEEK"), never pasted into a command line; the week
# is checked by the same parser as everywhere else (tools/chain.py --check-week) before it names a file.
export NETRALITAS_RUN_WEEK := $(value WEEK)
export NETRALITAS_RUN_FORCE_REASON := $(value FORCE_REASON)
export NETRALITAS_RUN_PREVIEW := $(value PREVIEW)
export NETRALITAS_BENCH_ROWS := $(value ROWS)
unexport WEEK FORCE_REASON PREVIEW ROWS  # make would expand a command-line value to export it

export PYTHONPATH := $(CURDIR)
export NETRALITAS_VAR_DIR ?= $(VAR)
export AIRFLOW_HOME ?= $(VAR)/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__UNIT_TEST_MODE := False
export GX_ANALYTICS_ENABLED := False
export NO_COLOR := 1
# the demo and `make run` sign their publication off at once (README.md, "Sign-off before going public")
export NETRALITAS_PUBLISH_APPROVAL ?= auto

.PHONY: help install demo run test test-fast reliability lint fmt lock check-lock bench bench-embedded airflow-db clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or pass PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip==25.3" 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock 2>&1 | grep -v "^WARNING: Location" || true
	@$(PY) -c "import airflow, great_expectations, duckdb" >/dev/null 2>&1 && touch $(STAMP) && echo "installed the pinned set into $(VENV)"

install: $(STAMP) ## create .venv and install the pinned set (requirements.lock)

AIRFLOW_DB = mkdir -p $(AIRFLOW_HOME) $(VAR)/logs && \
	{ $(VENV)/bin/airflow db migrate > $(VAR)/logs/airflow-db.log 2>&1 || { tail -30 $(VAR)/logs/airflow-db.log; exit 1; }; }

airflow-db: $(STAMP)
	@$(AIRFLOW_DB)

demo: airflow-db ## run the whole chain on the bundled sample data (embedded warehouse), print the outputs
	@echo "Running ingest_case_reports -> ingest_national_releases -> build_warehouse -> publish_weekly_ranking for $(DEMO_WEEK) (log: var/logs/demo.log)"
	@$(PY) tools/chain.py --demo --week $(DEMO_WEEK) --summary $(VAR)/logs/demo.summary > $(VAR)/logs/demo.log 2>&1 \
		|| { tail -40 $(VAR)/logs/demo.log; echo "make demo failed: see var/logs/demo.log"; exit 1; }
	@cat $(VAR)/logs/demo.summary

run: $(STAMP) ## run the chain on the drop folder for a week: make run WEEK=YYYY-Www [FORCE_REASON=text] [PREVIEW=1]
	@test -n "$$NETRALITAS_RUN_WEEK" || { echo "usage: make run WEEK=YYYY-Www (e.g. WEEK=2020-W45)"; exit 2; }
	@week=$$($(PY) tools/chain.py --check-week "$$NETRALITAS_RUN_WEEK") || exit 2; \
	set -- --week "$$week" --summary "$(VAR)/logs/run.summary"; \
	if [ -n "$$NETRALITAS_RUN_FORCE_REASON" ]; then set -- "$$@" --force-reason "$$NETRALITAS_RUN_FORCE_REASON"; fi; \
	if [ -n "$$NETRALITAS_RUN_PREVIEW" ]; then set -- "$$@" --preview; fi; \
	$(AIRFLOW_DB); \
	echo "Running the chain for $$week (log: var/logs/run-$$week.log)"; \
	$(PY) tools/chain.py "$$@" > "$(VAR)/logs/run-$$week.log" 2>&1 \
		|| { tail -40 "$(VAR)/logs/run-$$week.log"; echo "make run failed: see var/logs/run-$$week.log"; exit 1; }; \
	cat "$(VAR)/logs/run.summary"

test: $(STAMP) check-lock lint ## lock check, ruff, and every test lane: unit, integration, e2e (PostgreSQL at 127.0.0.1:5432)
	$(PY) -m pytest

test-fast: $(STAMP) ## the unit lane only (no database, no service, no Airflow run), for the edit loop
	$(PY) -m pytest -m unit -q

reliability: $(STAMP) ## run tests/reliability on both warehouses and regenerate docs/reliability.md (PostgreSQL must answer at 127.0.0.1:5432)
	@mkdir -p $(VAR)/logs
	@echo "Running the bad inputs and the injected faults on DuckDB and PostgreSQL (log: var/logs/reliability.log)"
	@CI=true $(PY) -m pytest tests/reliability -q --ignore=tests/reliability/test_report.py \
		> $(VAR)/logs/reliability.log 2>&1; status=$$?; tail -1 $(VAR)/logs/reliability.log; \
		$(PY) tools/reliability_report.py && $(PY) -m pytest tests/reliability/test_report.py -q && exit $$status

lint: $(STAMP) ## ruff check and ruff format --check (never rewrites)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP) ## rewrite the code with ruff format and ruff's safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-lock: $(STAMP) ## fail when requirements.lock drifts from requirements.in
	$(PY) tools/lock.py check

lock: $(STAMP) ## recompile requirements.lock from requirements.in, keeping every pin that still fits (UPGRADE=1: newest allowed)
	$(PY) tools/lock.py compile $(if $(value UPGRADE),--upgrade)

bench: $(STAMP) ## every stage at scale on DuckDB and PostgreSQL (ROWS=1000000); JSON in var/bench/
	@$(PY) tools/bench.py --rows "$${NETRALITAS_BENCH_ROWS:-1000000}" 2>$(VAR)/bench-stderr.log || { tail -30 $(VAR)/bench-stderr.log; exit 1; }

bench-embedded: $(STAMP) ## the DuckDB-vs-SQLite measurement of docs/decisions/0001 (1,000,000 case rows)
	$(PY) tools/bench_embedded.py --rows 1000000

clean: ## remove var/ (warehouse, landing zone, publications, Airflow home); keeps .venv
	rm -rf $(VAR)
