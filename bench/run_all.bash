#!/usr/bin/env bash
# Every benchmark, in the order BENCHMARKS.md shows them (make bench). Each compares against
# a baseline measured in the same run; run it with nothing else using the cores.
#
# Then it puts the tables they printed into BENCHMARKS.md (bench/tables.py), so that every
# table there comes from this one run. The whole output is kept in runs/bench.log.
#
#   bash bench/run_all.bash            # about 12 minutes on 2 cores
set -euo pipefail
cd "$(dirname "$0")/.."
source common.bash

LOG=${BENCH_LOG:-runs/bench.log}
mkdir -p "$(dirname "$LOG")"
: > "$LOG"
run() {
  echo
  echo "=== $*"
  "$PYTHON" "$@" | tee -a "$LOG"
}
run bench/bench_extract.py --episodes 2 --frames 1000
run bench/bench_world_model.py
run bench/bench_agent.py --episodes 2 --gen-steps 500
run bench/bench_multihost.py --procs 2 --gen-steps 500 --repeats 3
run bench/bench_dream.py
run bench/bench_render.py --episodes 4 --steps 1000
run bench/bench_numerics.py --episodes 2 --repeats 3
"$PYTHON" bench/tables.py "$LOG" --markdown BENCHMARKS.md
