#!/usr/bin/env bash
# Train the controller with CMA-ES over MPI on CPUs (SPEC "CMA-ES training").
#
#   bash gce_train.bash                          # every core of this machine
#   NP=16 bash gce_train.bash --generations 100  # arguments go to train.py
#   bash gce_train.bash --resume                 # go on after a stop (the same command
#                                                # without --resume does too)
#   NP=256 HOSTFILE=hosts bash gce_train.bash    # several machines (MPICH host file)
#
# The population (64 by default) does not depend on NP: each of the NP processes,
# the master included, evaluates its share of the members.
set -euo pipefail
cd "$(dirname "$0")"

NP=${NP:-$(nproc)}
source common.bash
require_int NP 1

# Controller training never touches a GPU; one math thread per process.
export CUDA_VISIBLE_DEVICES=-1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

hosts=()
if [[ -n "${HOSTFILE:-}" ]]; then
  check_hosts "$HOSTFILE"  # a host that does not answer: one line now, not a hang later
  hosts=(-f "$HOSTFILE" -disable-auto-cleanup)
fi
# train.py's errors quote the command to type again: this one, not its own
printf -v WORLDMODELS_COMMAND '%q ' "$@"
WORLDMODELS_COMMAND="NP=$NP ${HOSTFILE:+HOSTFILE=$HOSTFILE }bash gce_train.bash ${WORLDMODELS_COMMAND% }"
export WORLDMODELS_COMMAND
# train.py's defaults are the authors' flags: -o cma -n 64 -t 1 -e 16 --eval_steps 25 -s 0
# --sigma_init 0.1
if [[ -n "${HOSTFILE:-}" ]]; then  # train.py marks a finished run (MPI's end: common.bash)
  status=0
  mpirun_on_hosts "$(flag_value --log-dir log "$@")/.train_end.$$" "the run had finished" \
    -np "$NP" "${hosts[@]}" "$PYTHON" train.py "$@" || status=$?
  exit "$status"
fi
exec "$MPIRUN" -np "$NP" "${hosts[@]}" "$PYTHON" train.py "$@"
