# clocksync developer tasks. `make demo` and `make test` are the two commands of the README.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8765

.PHONY: install demo test lint typecheck check bench spec clean

$(BIN)/clocksync: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/clocksync

demo: install  ## start the emulator, plan examples/sample_users.csv against it, show the diff
	$(BIN)/python scripts/demo.py --port $(PORT)

test: install  ## the whole suite (no network beyond loopback)
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check clocksync tests scripts benchmarks

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

bench: install  ## performance figures (not a test): see benchmarks/README.md
	$(BIN)/python benchmarks/bench.py

spec:  ## re-derive the spec subset from ../shared/clockify/openapi.json
	$(PYTHON) scripts/derive_spec.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
