# Two commands on a fresh machine: `make lab` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test test-ray bench release clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[test,lab]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# JupyterLab refuses to run as root unless told; containers often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ $(ROOT_FLAG) $(LAB_ARGS)

# Every suite on the simulator, plus nbval on the master notebooks (stored
# outputs must come out byte for byte the same).
test: $(STAMP)
	$(BIN)/python -m pytest -q --nbval tests instructor/source

# The conformance suite against real Ray 2.60 (installs the `ray` extra).
test-ray: $(STAMP)
	$(BIN)/pip install --quiet -e ".[ray]"
	DSAI_BACKEND=ray $(BIN)/python -m pytest -q tests/conformance

bench: $(STAMP)
	$(BIN)/python benchmarks/microbenchmark.py

release: $(STAMP)
	$(BIN)/dsai release

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
