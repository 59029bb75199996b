#!/usr/bin/env bash
# Record random-policy episodes into record/ with many CPU-only workers (SPEC "Extraction").
#
#   bash extract.bash                          # 64 workers x 200 episodes, as the authors did
#   WORKERS=16 ROUNDS=4 bash extract.bash      # 16 at a time, 4 rounds: the same 64 workers' work
#   WORKERS=2 bash extract.bash --preset tiny  # arguments go to extract.py
#   WORKERS=64 HOSTFILE=hosts bash extract.bash  # 64 MPI ranks over the hosts of an MPICH host file
#
# Every worker gets its own share of one list of distinct episode seeds drawn from the base
# seed (--seed, or the one saved in OUT/extract_seed.txt), so re-running the same command
# after a crash only makes the missing episodes.
set -euo pipefail
cd "$(dirname "$0")"

WORKERS=${WORKERS:-64}
ROUNDS=${ROUNDS:-1}
source common.bash
require_int WORKERS 1
require_int ROUNDS 1

# Workers never touch a GPU, and one math thread each keeps them from fighting over cores.
export CUDA_VISIBLE_DEVICES=-1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

out=$(flag_value --out record "$@")
require_writable_dir "$out" "episode files"

# The base seed is resolved once, before any worker starts, so all of them share it.
seed_args=()
if ! has_flag --seed "$@"; then
  seed=$("$PYTHON" -c 'import sys, pathlib, extract; print(extract.resolve_base_seed(pathlib.Path(sys.argv[1]), None))' "$out")
  seed_args=(--seed "$seed")
fi

if [[ -n "${HOSTFILE:-}" ]]; then  # MPI ranks over several hosts, one round
  check_hosts "$HOSTFILE"  # a host that does not answer: one line now, not a hang later
  ((ROUNDS == 1)) || { echo "extract.bash: error: ROUNDS=$ROUNDS with HOSTFILE: expected 1 (give more WORKERS)" >&2; exit 2; }
  # rank 0 marks the end of the last worker (MPI's end can then fail, or wait on a host
  # lost meanwhile: common.bash)
  status=0
  mpirun_on_hosts "$out/.mpi_end.$$" "every episode was saved" -f "$HOSTFILE" -np "$WORKERS" \
    "$PYTHON" extract.py "${seed_args[@]}" "$@" || status=$?
  exit "$status"
fi

total=$((WORKERS * ROUNDS))
failed=0
for ((round = 0; round < ROUNDS; round++)); do
  pids=()
  for ((w = 0; w < WORKERS; w++)); do
    index=$((round * WORKERS + w))
    "$PYTHON" extract.py --worker-index "$index" --num-workers "$total" "${seed_args[@]}" "$@" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || failed=$((failed + 1))
  done
done
if ((failed > 0)); then
  echo "extract.bash: $failed of $total workers failed" >&2
  exit 1
fi
echo "extract.bash: $total workers finished" >&2
