# Kouiki — `make` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv/bin
export KOUIKI_DATA_DIR ?= $(CURDIR)/data
PYTHON_DIRS := streams dags tests infra bench

.PHONY: help install demo up down test test-prereqs test-unit test-integration lint format typecheck sqlfluff dbt-build bench-ingest bench-dbt bench-incremental bench-dashboards bench-gateway bench-workbook bench-portal bench-commands bench-freshness

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

install: ## create .venv, .venv-dbt and .venv-superset from the committed lock files
	@infra/install.sh

demo: install ## run the whole platform on sample data; ends with the dashboard URL and login
	@$(VENV)/kouiki demo

up: install ## start broker, Airflow and Superset (no sample data)
	@$(VENV)/kouiki up

down: ## stop every local service
	@$(VENV)/kouiki down

test: test-prereqs install lint typecheck sqlfluff ## everything CI runs: lint, types, SQL lint, all tests incl. end to end
	@$(VENV)/python -m pytest -m "" -n 2 --dist loadgroup --junitxml=test-output/junit.xml

test-prereqs: ## PostgreSQL, Chromium and CJK fonts for `make test`; apt-installs them as root
	@infra/test-prerequisites.sh

test-unit: install ## the fast tests only, in two processes, under a minute (no broker, Airflow, dbt, Superset or Chromium)
	@$(VENV)/python -m pytest -m "not integration and not browser" -n 2

test-integration: install ## the slow tests only: broker, Airflow, dbt, Superset and Chromium
	@$(VENV)/python -m pytest -m "integration or browser"

lint: install ## ruff (check and format), package boundaries (import-linter), repeated code (pylint)
	@$(VENV)/ruff check $(PYTHON_DIRS)
	@$(VENV)/ruff format --check $(PYTHON_DIRS)
	@$(VENV)/lint-imports --no-cache
	@$(VENV)/pylint --score=n streams/kouiki dags/*.py bench/*.py

format: install ## ruff: fix what can be fixed, then format
	@$(VENV)/ruff check --fix $(PYTHON_DIRS)
	@$(VENV)/ruff format $(PYTHON_DIRS)

typecheck: install ## mypy --strict on the kouiki package, the DAGs and the benchmarks
	@$(VENV)/mypy

sqlfluff: install ## lint the dbt models (dbt templater)
	@cd dbt_project && KOUIKI_DATA_DIR=$$(mktemp -d) DBT_PROFILES_DIR=. \
		../.venv-dbt/bin/sqlfluff lint models tests --processes 2

dbt-build: install ## dbt build over the local lake into data/warehouse.duckdb, then publish
	@$(VENV)/kouiki build

bench-ingest: install ## submit and landing throughput against bare kafka-python (100,000 reports)
	@$(VENV)/python bench/bench_ingest.py

bench-commands: install ## whole-command costs: --help, no-op ingest, 1-report submit; 50,000 submitted and landed vs bare
	@$(VENV)/python bench/bench_commands.py

bench-gateway: install ## REST gateway latency: a 1-document and a 1,000-document JSONL POST (median)
	@$(VENV)/python bench/bench_gateway.py

bench-workbook: install ## reading and checking a 2,000-report Excel workbook, beside bare openpyxl (median of 3)
	@$(VENV)/python bench/bench_workbook.py

bench-portal: install ## portal page latency (median, p95) beside /healthz: login, every page, an .xlsx upload check
	@$(VENV)/python bench/bench_portal.py

bench-freshness: install ## national scale, hands off: 20 single reports, p50/p95 of each hop from submit to a chart's data
	@$(VENV)/python bench/bench_freshness.py

bench-dbt: install ## full dbt build time and slowest models on the national-scale dataset
	@$(VENV)/python bench/bench_dbt.py

bench-incremental: install ## national scale: full rebuild, then one new report landed: incremental transform + publish beside dbt's bare start-up
	@$(VENV)/python bench/bench_incremental.py --data-dir $(KOUIKI_DATA_DIR)/bench-national

bench-dashboards: install ## chart-data latency (median, p95) of every chart on the national-scale dataset
	@$(VENV)/python bench/bench_dashboards.py --data-dir $(KOUIKI_DATA_DIR)/bench-national
