# reasonsift — two commands: `make demo` and `make test` (each sets up .venv first if needed).
PYTHON ?= python3
VENV   ?= .venv
# The CPU wheel of torch 2.13.0 lies on disk on the project's machines; on a GPU machine, `make setup`
# takes the same pin from PyPI (a CUDA build) or override: `make setup TORCH_SPEC="torch==2.13.0 --index-url ..."`.
TORCH_SPEC ?= torch==2.13.0
# Known-good versions of every dependency (see the file's header); empty to resolve afresh.
CONSTRAINTS ?= constraints.txt
PIP_C := $(if $(CONSTRAINTS),-c $(CONSTRAINTS),)
BIN := $(VENV)/bin

.PHONY: setup demo test test-fast lint bench clean
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH_SPEC)
	$(BIN)/python -m pip install -q $(PIP_C) -e '.[dev]'
	touch $@

demo: setup
	$(BIN)/reasonsift demo

# pytest exits 5 when no test ran: that is a failure here too, as is any other non-zero code.
test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench: setup
	$(BIN)/python bench/profile_bench.py

clean:
	rm -rf $(VENV) runs .pytest_cache
