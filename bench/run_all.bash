#!/usr/bin/env bash
# Every benchmark, in the order BENCHMARKS.md shows them (make bench). Each compares against
# a baseline measured in the same run; run it with nothing else using the cores.
#
#   bash bench/run_all.bash            # about 10 minutes on 2 cores
set -euo pipefail
cd "$(dirname "$0")/.."
source common.bash

run() {
  echo
  echo "=== $*"
  "$PYTHON" "$@"
}
run bench/bench_extract.py --episodes 2 --frames 1000
run bench/bench_world_model.py
run bench/bench_agent.py --episodes 2 --gen-steps 500
run bench/bench_render.py --episodes 4 --steps 1000
run bench/bench_numerics.py --episodes 2 --repeats 3
