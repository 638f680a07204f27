# Reflect: `make run` starts the bot (or the terminal chat), `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench lint format typecheck schema clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Reflect and its dependencies into $(VENV) (first run only)..."
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	@$(BIN)/reflect start

test: $(STAMP)
	@$(BIN)/python -m pytest -q

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
