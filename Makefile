# `make demo`: the whole pipeline on the tiny preset.  `make test`: the test suite.
# `make laptop`: the laptop recipe (bash reproduce.bash, 2.2 to 3 hours on 2 cores).
# `make overnight`: the overnight recipe (OVERNIGHT=1 bash reproduce.bash, at most 8 hours).
# All three create .venv from the pinned requirements.txt when it is missing or stale.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
RASTER := .compiled/.built

export PATH := $(abspath $(VENV))/bin:$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONUNBUFFERED := 1

.PHONY: demo laptop overnight test lint bench venv clean-venv

venv: $(STAMP) $(RASTER)

$(STAMP): requirements.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# The renderer's compiled functions, built ahead of time (raster.py: build, about 15 s):
# every process that draws then starts 0.33 CPU s sooner (BENCHMARKS.md). Without a C compiler
# numba compiles them at first use instead, with the same pixels.
$(RASTER): raster.py $(STAMP)
	RASTER_JIT=1 $(VENV)/bin/python -c "import raster; print('built', raster.build())" || \
	  echo "raster.py: not built ahead of time (is there a C compiler?); numba compiles at first use"
	mkdir -p .compiled && touch $@

demo: $(STAMP) $(RASTER)
	bash demo.bash

laptop: $(STAMP) $(RASTER)
	bash reproduce.bash

overnight: $(STAMP) $(RASTER)
	OVERNIGHT=1 bash reproduce.bash

# the tests in TEST_WORKERS processes (pytest-xdist), each taking the next test as it frees
# (the longest first: tests/conftest.py); one more than 2 cores keeps both busy while a
# test waits (on a shared fixture, a timeout)
TEST_WORKERS ?= 3

test: $(STAMP) $(RASTER)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS) --dist load --maxschedchunk 1 tests

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP) $(RASTER)
	bash bench/run_all.bash

clean-venv:
	rm -rf $(VENV) .compiled
