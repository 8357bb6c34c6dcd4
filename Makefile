# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export QT_QPA_PLATFORM ?= offscreen

.PHONY: run test test-slow lint bench demo clean screenshots system-deps

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	bash tools/system-deps.sh
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

system-deps:
	bash tools/system-deps.sh

# Opens the desktop app on the demo company (created on first run).
run: $(STAMP)
	QT_QPA_PLATFORM= $(BIN)/erp-desktop demo --if-missing
	QT_QPA_PLATFORM= $(BIN)/erp-desktop

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# The headless core and the Qt shell run in two processes: a Qt crash cannot take
# the core's results with it, and no core test leaves threads behind for Qt.
test: $(STAMP) lint
	$(BIN)/python -m pytest -q -m "not slow" -p no:cacheprovider --ignore=tests/ui
	$(BIN)/python -m pytest -q -m "not slow" -p no:cacheprovider tests/ui

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m bench

# PNGs of every area and tab, light and dark, 1366x768 and 1920x1080: build/screenshots.
screenshots: $(STAMP)
	$(BIN)/python tools/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
