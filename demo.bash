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
source common.bash
require_int SEED 0
require_int WORKERS 1
export PYTHON TF_CPP_MIN_LOG_LEVEL=2
require_writable_dir "$RUN" "the run's files"
start=$(date +%s)
stage() { echo; echo "=== [$(($(date +%s) - start)) s] $*"; }

stage "1. extract: random-policy episodes -> $RUN/record"
WORKERS=$WORKERS bash extract.bash --preset tiny --seed "$SEED" --out "$RUN/record"
"$PYTHON" check_record.py "$RUN/record"

stage "2-5. V, series, M, then install the weights -> $RUN/{tf_vae,series,tf_rnn,vae,rnn,initial_z}"
DATA=$RUN/record VAE_DIR=$RUN/tf_vae SERIES=$RUN/series RNN_DIR=$RUN/tf_rnn \
  INITIAL_Z=$RUN/tf_initial_z/initial_z.json INSTALL=$RUN bash gpu_jobs.bash --preset tiny

LOG_BASE=$RUN/log/carracing.cma.1.8
stage "6. CMA-ES over MPI on $WORKERS processes -> $RUN/log/"
resume=()
[[ -f "$LOG_BASE.checkpoint.pkl" ]] && resume=(--resume)
NP=$WORKERS bash gce_train.bash --preset tiny --vae "$RUN/vae/vae.json" --rnn "$RUN/rnn/rnn.json" \
  --log-dir "$RUN/log" "${resume[@]}"

stage "7. score the best controller (again only when it has changed)"
if ! up_to_date "$RUN/score.txt" "$LOG_BASE.best.json"; then
  "$MPIRUN" -np "$WORKERS" "$PYTHON" model.py norender "$LOG_BASE.best.json" \
    --preset tiny --vae "$RUN/vae/vae.json" --rnn "$RUN/rnn/rnn.json" >"$RUN/.score.txt.tmp"
  mv -f "$RUN/.score.txt.tmp" "$RUN/score.txt"
fi
cat "$RUN/score.txt"

stage "8. progress plot, video of the agent, pictures of V and M"
"$PYTHON" plot_training_progress.py "$LOG_BASE" --out "$RUN/progress.png"
up_to_date "$RUN/agent.gif" "$LOG_BASE.best.json" ||
  "$PYTHON" model.py record "$LOG_BASE.best.json" --preset tiny --vae "$RUN/vae/vae.json" \
    --rnn "$RUN/rnn/rnn.json" --out "$RUN/agent.gif"
weights=("$RUN/vae/vae.json" "$RUN/rnn/rnn.json")
{ up_to_date "$RUN/figures/vae_reconstruction.png" "${weights[@]}" &&
  up_to_date "$RUN/figures/rnn_dream.png" "${weights[@]}"; } ||
  "$PYTHON" figures.py --record "$RUN/record" --vae "$RUN/vae/vae.json" --rnn "$RUN/rnn/rnn.json" \
    --out "$RUN/figures"

stage "done in $(($(date +%s) - start)) s"
cat <<SUMMARY
Run folder: $RUN/
  record/                 episodes ($(ls "$RUN/record" | grep -c '\.npz$') files)
  vae/ rnn/ initial_z/    installed weights (training logs in tf_vae/, tf_rnn/)
  log/                    CMA-ES logs: $(basename "$LOG_BASE").{json,hist.json,best.json,hist_best.json,log.json,timing.json}
  progress.png            training progress     agent.gif   the best controller driving
  figures/                V's reconstructions and M's dream
Evaluation of the best controller: $(tail -n 1 "$RUN/score.txt")
SUMMARY
