# Two commands (README): `make demo` runs a full screening round on a generated demo city; `make test` runs the tests.
# Both create and reuse .venv; nothing but Python 3.11, git and make is needed on the machine.
PYTHON ?= python3
VENV   ?= .venv
HOME_DIR ?= var/demo
ROUND  ?= 2026Q4
BIN    := $(VENV)/bin

.PHONY: demo test lint install browser-deps spark-deps render-deps ui bench clean-home

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (found %s)" % sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/fangpin generate --size demo --home $(HOME_DIR) --force
	$(BIN)/fangpin screen --round $(ROUND) --home $(HOME_DIR)

test: $(BIN)/.installed browser-deps spark-deps render-deps lint
	$(BIN)/python -m pytest -q -n auto --dist loadgroup

# Lint and format check (ruff, pinned in the test extra): part of `make test`, so CI fails on either.
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# What tests/test_browser_ui.py needs (a real browser on the Dagster UI): Debian's Chromium and ChromeDriver, a CJK
# font so the Chinese labels in the screenshots are legible, and the Python playwright driver (extra `browser`; it
# drives /usr/bin/chromium and never downloads a browser of its own). Idempotent: apt runs only when /usr/bin/chromium
# is missing, pip only when playwright does not import. apt needs root (CI is root), else sudo.
browser-deps: $(BIN)/.installed
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	  else echo "browser-deps: /usr/bin/chromium is missing and installing it needs root: run 'make browser-deps' as root" >&2; exit 1; fi; \
	  echo "browser-deps: installing Debian's chromium, chromium-driver, fonts-wqy-zenhei"; \
	  $$SUDO apt-get update -q && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-wqy-zenhei; \
	fi
	@$(BIN)/python -c 'import playwright.sync_api' 2>/dev/null || $(BIN)/python -m pip install -q -e '.[test,browser]'
	@$(BIN)/python -c 'import playwright.sync_api' || { echo "browser-deps: playwright did not install (is the 'browser' extra in pyproject.toml?)" >&2; exit 1; }

# What the Spark engine's tests need (FANGPIN_ENGINE=spark, tests/test_engine_parity.py): Java 17 — Debian's
# openjdk-17-jre-headless, installed with apt only when `java` is missing — and the Python extra `spark` (pyspark,
# dagster-pyspark), installed only when they do not import. apt needs root (CI is root), else sudo.
spark-deps: $(BIN)/.installed
	@if ! command -v java >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	  else echo "spark-deps: java is missing and installing it needs root: run 'make spark-deps' as root" >&2; exit 1; fi; \
	  echo "spark-deps: installing Debian's openjdk-17-jre-headless"; \
	  $$SUDO apt-get update -q && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openjdk-17-jre-headless; \
	fi
	@$(BIN)/python -c 'import pyspark, dagster_pyspark, grpc, google.rpc' 2>/dev/null || $(BIN)/python -m pip install -q -e '.[test,spark]'
	@$(BIN)/python -c 'import pyspark, dagster_pyspark, grpc, google.rpc' || { echo "spark-deps: pyspark did not install (extra 'spark' in pyproject.toml)" >&2; exit 1; }

# What tests/test_rendering.py needs (workbooks printed to PDF as a township office would): Debian's LibreOffice Calc
# (headless soffice), poppler-utils (pdfinfo, pdftotext, pdftoppm), Carlito (metric-compatible with Calibri, the
# workbooks' font: LibreOffice then lays out pages and wrapped rows as Excel does) and a CJK font. Idempotent: apt
# runs only when one of them is missing. apt needs root (CI is root), else sudo.
render-deps:
	@if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 || ! fc-list | grep -q Carlito || ! fc-list :lang=zh | grep -q .; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	  else echo "render-deps: LibreOffice, poppler or fonts are missing and installing them needs root: run 'make render-deps' as root" >&2; exit 1; fi; \
	  echo "render-deps: installing Debian's libreoffice-calc, poppler-utils, fonts-crosextra-carlito, fonts-wqy-zenhei"; \
	  $$SUDO apt-get update -q && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libreoffice-calc poppler-utils fonts-crosextra-carlito fonts-wqy-zenhei; \
	fi

# umask: the webserver and daemon write the Dagster storage of the home (personal data in run logs): no world access,
# group access only when FANGPIN_GROUP names a group sharing the home (fangpin.home)
ui: $(BIN)/.installed
	umask $$([ -n "$$FANGPIN_GROUP" ] && echo 007 || echo 077) && FANGPIN_HOME=$(abspath $(HOME_DIR)) DAGSTER_HOME=$(abspath $(HOME_DIR))/dagster $(BIN)/dagster dev -w workspace.yaml

# Benchmark (BENCHMARKS.md): generate (or reuse) a city of SCALE × 350k households and time a full round stage by
# stage, end to end through Dagster, against the DuckDB floor and Splink. SCALE=10 is a province (out of core).
# e.g. `make bench`, `make bench SCALE=0.1`, `make bench SCALE=10 HOME_DIR=/data/bench-prov BENCH_ARGS=--memory-limit=8GB`
# ENGINE=spark: the round through `fangpin screen` on DuckDB and on Spark (FANGPIN_SPARK_MASTER, else local[2]) in one
# run, per step, with the JVM's memory and Spark's shuffle (bench/engines.py); BENCH_ARGS=--spark-only for Spark alone.
SCALE ?= 1
ENGINE ?= duckdb
BENCH_ARGS ?=
bench: $(BIN)/.installed $(if $(filter spark,$(ENGINE)),spark-deps)
	@$(BIN)/python -c 'import splink' 2>/dev/null || $(BIN)/python -m pip install -q -e '.[test,bench]'
	$(BIN)/python bench/run.py --scale $(SCALE) --engine $(ENGINE) --reuse $(if $(filter command line environment,$(origin HOME_DIR)),--home $(HOME_DIR)) $(BENCH_ARGS)
