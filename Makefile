# `make demo`: the whole pipeline on the tiny preset.  `make test`: the test suite.
# `make laptop`: the laptop recipe (bash reproduce.bash, 2.2 to 3 hours on 2 cores).
# `make overnight`: the overnight recipe (OVERNIGHT=1 bash reproduce.bash, at most 8 hours).
# All three create .venv from the pinned requirements.txt when it is missing or stale.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

export PATH := $(abspath $(VENV))/bin:$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONUNBUFFERED := 1

.PHONY: demo laptop overnight test lint bench venv clean-venv

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

demo: $(STAMP)
	bash demo.bash

laptop: $(STAMP)
	bash reproduce.bash

overnight: $(STAMP)
	OVERNIGHT=1 bash reproduce.bash

# the tests in TEST_WORKERS processes (pytest-xdist), each taking the next test as it frees
# (the longest first: tests/conftest.py); one more than 2 cores keeps both busy while a
# test waits (on a shared fixture, a timeout)
TEST_WORKERS ?= 3

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS) --dist load --maxschedchunk 1 tests

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	bash bench/run_all.bash

clean-venv:
	rm -rf $(VENV)
