# Two commands on a fresh machine: `make lab` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The browser test's driver (Python package only: it drives Debian's /usr/bin/chromium).
PLAYWRIGHT := playwright==1.65.3

.PHONY: lab test test-ray test-lessons-ray test-cluster test-launch bench release lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# On the Python that binder/runtime.txt names, binder/requirements.txt constrains the
# versions, so a developer's venv runs what Binder runs (packages it does not list, such
# as the test tools, resolve freely). On another Python the pins may not exist (numpy
# 2.4 needs 3.11), so pyproject.toml's ranges resolve alone.
PY_VERSION  := $(shell $(PYTHON) -c 'import sys; print("python-%d.%d" % sys.version_info[:2])')
CONSTRAINTS := $(if $(filter $(PY_VERSION),$(shell cat binder/runtime.txt)),-c binder/requirements.txt,)

# JupyterLab's settings as on Binder (binder/lab-overrides.json: widget messages reach the
# kernel's main thread, where the simulated cluster lives).
$(STAMP): $(BIN)/python pyproject.toml binder/requirements.txt binder/lab-overrides.json
	$(BIN)/pip install --quiet $(CONSTRAINTS) -e ".[test,lab]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp binder/lab-overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $(STAMP)

# JupyterLab refuses to run as root unless told; containers often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ $(ROOT_FLAG) $(LAB_ARGS)

# Every suite on the simulator, nbval on the master notebooks (stored outputs must
# come out byte for byte the same), and the student notebooks in lax mode.
# tests/launch's Binder and browser tests skip here (see test-launch).
test: $(STAMP)
	$(BIN)/python -m pytest -q --nbval tests instructor/source

# The conformance suite against real Ray 2.60 (installs the `ray` extra).
test-ray: $(STAMP)
	$(BIN)/pip install --quiet -e ".[ray]"
	DSAI_BACKEND=ray $(BIN)/python -m pytest -q tests/conformance

# Every student notebook (lax: exercise stubs may raise) on real Ray 2.60, each starting a
# one-node Ray of its own. CI runs the lessons in test-cluster instead (joining its cluster
# through RAY_ADDRESS spares each lesson a Ray start); this target is for a change to that path.
test-lessons-ray: $(STAMP)
	$(BIN)/pip install --quiet -e ".[ray]"
	DSAI_BACKEND=ray $(BIN)/python -m pytest -q tests/launch/test_lessons_lax.py

# A real multi-node Ray cluster on this machine (a head and more nodes, `ray start`), and on it
# the parameter server, the ring all-reduce, GPipe over a placement group, every student
# notebook with RAY_ADDRESS set (and one without, on a Ray of its own), and a worker node
# killed mid-run; every node is stopped afterwards.
test-cluster: $(STAMP)
	$(BIN)/pip install --quiet -e ".[ray]"
	DSAI_BACKEND=ray $(BIN)/python -m pytest -q tests/cluster

# The Binder environment rebuilt from binder/ alone, the lessons and JupyterLab in it,
# and the course in headless Chromium (apt-get install chromium; skipped without it).
test-launch: $(STAMP)
	$(BIN)/pip install --quiet $(PLAYWRIGHT)
	DSAI_LAUNCH_TESTS=1 $(BIN)/python -m pytest -q tests/launch/test_binder_env.py tests/launch/test_browser.py

# Regenerate binder/requirements.txt (every package pinned) with Python 3.11, as
# binder/runtime.txt asks; the command is also written at the top of the file.
LOCK_VENV := /tmp/dsai-lock
lock:
	rm -rf $(LOCK_VENV)
	python3.11 -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet ".[lab]" nbval pytest
	sed -n '/^#/p' binder/requirements.txt > $(LOCK_VENV)/requirements.txt
	$(LOCK_VENV)/bin/pip freeze --exclude dsai >> $(LOCK_VENV)/requirements.txt
	mv $(LOCK_VENV)/requirements.txt binder/requirements.txt
	rm -rf $(LOCK_VENV) build

bench: $(STAMP)
	$(BIN)/python benchmarks/microbenchmark.py

release: $(STAMP)
	$(BIN)/dsai release

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
