# clocksync developer tasks. `make demo` and `make test` are the two commands of the README.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8765
BENCH_ARGS ?=
FUZZ_ARGS ?=

.PHONY: install demo test fuzz lint typecheck check bench spec hooks clean

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

fuzz: install  ## the hypothesis properties with thousands of random examples each (minutes; the suite runs a few dozen)
	CLOCKSYNC_HYPOTHESIS=fuzz $(BIN)/python -m pytest -m fuzz $(FUZZ_ARGS)

lint: install
	$(BIN)/ruff check clocksync tests scripts benchmarks

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

bench: install  ## performance figures (not a test); about 15 min; quicker: make bench BENCH_ARGS="--sizes 100,1000 --runs 1"
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

hooks:  ## run `make check` before every commit
	git config core.hooksPath .githooks

spec:  ## re-derive the spec subset from ../shared/clockify/openapi.json
	$(PYTHON) scripts/derive_spec.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
