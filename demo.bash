#!/usr/bin/env bash
# The main job: the whole pipeline on the tiny preset, everything under one run folder.
#
#   make demo                      # or: bash demo.bash
#   RUN=runs/other SEED=3 bash demo.bash
#
# Each stage skips work already done, so running it again after a crash resumes.
set -euo pipefail
cd "$(dirname "$0")"

RUN=${RUN:-runs/tiny}
SEED=${SEED:-1}
WORKERS=${WORKERS:-2}
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
export PYTHON TF_CPP_MIN_LOG_LEVEL=2
mkdir -p "$RUN"
start=$(date +%s)
stage() { echo; echo "=== [$(($(date +%s) - start)) s] $*"; }

stage "1. extract: random-policy episodes -> $RUN/record"
WORKERS=$WORKERS bash extract.bash --preset tiny --seed "$SEED" --out "$RUN/record"
"$PYTHON" check_record.py "$RUN/record"

stage "2-5. V, series, M, then install the weights -> $RUN/{tf_vae,series,tf_rnn,vae,rnn,initial_z}"
DATA=$RUN/record VAE_DIR=$RUN/tf_vae SERIES=$RUN/series RNN_DIR=$RUN/tf_rnn \
  INITIAL_Z=$RUN/tf_initial_z/initial_z.json INSTALL=$RUN bash gpu_jobs.bash --preset tiny

stage "done in $(($(date +%s) - start)) s"
echo "episodes: $RUN/record/"
