# Tipscale — two commands matter: `make serve` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8000
ARGS   ?=

.PHONY: serve test build check lint bench clean help

help:
	@echo "make serve   build the demo contacts and serve them on http://127.0.0.1:$(PORT)"
	@echo "make test    run the whole test suite (unit, CLI, browser, HTML and accessibility checks)"
	@echo "make build   render site/ once"
	@echo "make check   validate the contacts"
	@echo "make lint    ruff + mypy"
	@echo "make bench   timings on generated contacts (N=10000,30000 by default; BENCH_N to change) and imports"

# The venv is (re)made whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -e '.[test]'
	@touch $(STAMP)

serve: $(STAMP)
	$(BIN)/crm serve --port $(PORT) $(ARGS)

build: $(STAMP)
	$(BIN)/crm build $(ARGS)

check: $(STAMP)
	$(BIN)/crm check $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check generator tests bench
	$(BIN)/mypy

# npm's vnu-jar (the Nu HTML checker) for the HTML validity tests; kept in .cache/.
VNU := .cache/node_modules/vnu-jar/build/dist/vnu.jar
$(VNU):
	@mkdir -p .cache
	npm install --silent --no-audit --no-fund --prefix .cache vnu-jar@26 >/dev/null

test: $(STAMP) $(VNU)
	$(BIN)/python -m pytest -q $(ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py $(ARGS)
	$(BIN)/python bench/imports.py

clean:
	rm -rf site .pytest_cache .mypy_cache .ruff_cache
