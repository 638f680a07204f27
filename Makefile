# Reflect: `make run` starts the bot (or the terminal chat), `make test` runs the suite.
# `make run` installs what Reflect needs to run and nothing else; the targets that develop
# (test, bench, lint...) add the dev extras (pytest, hypothesis, mypy, ruff...).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME := $(VENV)/.runtime
STAMP  := $(VENV)/.installed

.PHONY: run test bench lint format typecheck schema clean

$(RUNTIME): pyproject.toml setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Reflect and its dependencies into $(VENV) (first run only)..."
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e .
	@touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	@echo "Adding the development tools to $(VENV)..."
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(RUNTIME)
	@$(BIN)/reflect start

test: $(STAMP)
	@$(BIN)/python -m pytest -q -n auto --maxprocesses=4

bench: $(STAMP)
	@$(BIN)/python -m bench && $(BIN)/python -m pytest -q -o addopts="" -m bench

lint: $(STAMP)
	@$(BIN)/ruff check bot tests bench
	@$(BIN)/ruff format --check bot tests bench
	@$(BIN)/mypy

typecheck: $(STAMP)
	@$(BIN)/mypy

format: $(STAMP)
	@$(BIN)/ruff format bot tests bench
	@$(BIN)/ruff check --fix bot tests bench

schema: $(STAMP)
	@$(BIN)/reflect flows schema > flows/schema.json.new && mv flows/schema.json.new flows/schema.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
