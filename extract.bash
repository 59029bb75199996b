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

out=record
args=("$@")
for ((k = 0; k < ${#args[@]}; k++)); do
  case "${args[k]}" in
    --out) out=${args[k + 1]-} ;;
    --out=*) out=${args[k]#--out=} ;;
  esac
done
require_writable_dir "$out" "episode files"

# The base seed is resolved once, before any worker starts, so all of them share it.
seed_args=()
if ! printf '%s\n' "$@" | grep -q -- '^--seed'; then
  seed=$("$PYTHON" -c 'import sys, pathlib, extract; print(extract.resolve_base_seed(pathlib.Path(sys.argv[1]), None))' "$out")
  seed_args=(--seed "$seed")
fi

if [[ -n "${HOSTFILE:-}" ]]; then  # MPI ranks over several hosts, one round
  check_hosts "$HOSTFILE"  # a host that does not answer: one line now, not a hang later
  ((ROUNDS == 1)) || { echo "extract.bash: error: ROUNDS=$ROUNDS with HOSTFILE: expected 1 (give more WORKERS)" >&2; exit 2; }
  # A host lost once every worker has ended leaves MPI's end waiting on it for ever:
  # rank 0 touches $end when the last worker has ended, and END_TIMEOUT seconds later
  # (60) mpirun is stopped, every episode being saved; check_hosts names the host. mpirun
  # dying in its own end after that (SIGPIPE, as in gce_train.bash) is not a failure.
  end=$out/.mpi_end.$$
  rm -f "$end"
  WORLDMODELS_END_FILE=$end "$MPIRUN" -f "$HOSTFILE" -np "$WORKERS" "$PYTHON" extract.py \
    "${seed_args[@]}" "$@" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [[ -f $end ]] && (($(date +%s) - $(stat -c %Y "$end") > ${END_TIMEOUT:-60})); then
      kill -TERM "$pid" 2>/dev/null; sleep 1; kill -KILL "$pid" 2>/dev/null || true
      rm -f "$end"
      check_hosts "$HOSTFILE"
      echo "extract.bash: error: every episode is saved, but MPI had not ended ${END_TIMEOUT:-60} s after the last worker: stopped it" >&2
      exit 3
    fi
    sleep 0.5
  done
  status=0
  wait "$pid" || status=$?
  if ((status != 0)) && [[ -f $end ]]; then
    echo "extract.bash: note: mpirun ended with status $status after every worker had ended; nothing is lost" >&2
    status=0
  fi
  rm -f "$end"
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
