# Two commands (README): `make demo` runs a full screening round on a generated demo city; `make test` runs the tests.
# Both create and reuse .venv; nothing but Python 3.11, git and make is needed on the machine.
PYTHON ?= python3
VENV   ?= .venv
HOME_DIR ?= var/demo
ROUND  ?= 2026Q4
BIN    := $(VENV)/bin

.PHONY: demo test install ui bench clean-home

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

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q

ui: $(BIN)/.installed
	FANGPIN_HOME=$(abspath $(HOME_DIR)) DAGSTER_HOME=$(abspath $(HOME_DIR))/dagster $(BIN)/dagster dev -w workspace.yaml

bench: $(BIN)/.installed
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	$(BIN)/python bench/run.py
