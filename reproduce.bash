#!/usr/bin/env bash
# The laptop recipe: the whole World Model trained on one 2-core machine without GPU,
# from random episodes to a scored, recorded driver, everything under one run folder.
#
#   make laptop   (or: bash reproduce.bash)     # into runs/laptop/
#   RUN=runs/other SEED=3 bash reproduce.bash   # another run folder and seed
#   PRESET=tiny RUN=runs/check bash reproduce.bash   # the same stages in a minute
#   GENERATIONS=60 bash reproduce.bash          # carry CMA-ES on past the preset's count
#
# Every stage skips finished work and CMA-ES continues with --resume, so after a crash,
# a Ctrl-C or a reboot the same command carries on where it stopped. Each stage's
# wall-clock is appended to $RUN/stage_times.tsv (one line per stage per invocation,
# so the sum over lines is the recipe's total): an interrupted stage is marked so, and
# a stage killed outright (SIGKILL, a crash, a reboot) is written when the script next
# starts, marked "(killed)", with its time up to the last file it wrote.
set -euo pipefail
cd "$(dirname "$0")"

PRESET=${PRESET:-laptop}
RUN=${RUN:-runs/$PRESET}
SEED=${SEED:-1}
WORKERS=${WORKERS:-2}
GENERATIONS=${GENERATIONS:-}
source common.bash
require_int SEED 0
require_int WORKERS 1
generations=()
if [[ -n "$GENERATIONS" ]]; then
  require_int GENERATIONS 1
  generations=(--generations "$GENERATIONS")
fi
export PYTHON TF_CPP_MIN_LOG_LEVEL=2 PYTHONUNBUFFERED=1
require_writable_dir "$RUN" "the run's files"
TIMES=$RUN/stage_times.tsv
OPEN=$RUN/.stage_open  # "name<TAB>start": the stage running now, for a kill to leave behind
[[ -f "$TIMES" ]] || printf 'stage\tseconds\tfinished\n' >"$TIMES"
if [[ -f "$OPEN" ]]; then  # the last invocation was killed in that stage: its time, at least
  IFS=$'\t' read -r killed since <"$OPEN"
  last=$(find "$RUN" -newer "$OPEN" -printf '%T@\n' | sort -n | tail -n 1)
  last=${last%.*}
  printf '%s (killed)\t%d\t%s\n' "$killed" "$((${last:-$since} > since ? ${last:-$since} - since : 0))" \
    "$(date -u -d "@${last:-$since}" +%Y-%m-%dT%H:%M:%SZ)" >>"$TIMES"
  rm -f "$OPEN"
fi
start=$(date +%s)
stage_start=$start
stage_name=""
close_stage() {  # append the running stage's wall-clock (also when interrupted)
  [[ -n "$stage_name" ]] && printf '%s\t%d\t%s\n' "$stage_name$1" \
    "$(($(date +%s) - stage_start))" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$TIMES"
  [[ -n "$stage_name" ]] && rm -f "$OPEN"
  stage_name=""
}
trap 'close_stage " (interrupted)"' EXIT
trap 'exit 130' INT TERM HUP
stage() {  # close the previous stage's timing, open the next one
  close_stage ""
  stage_name=$1
  stage_start=$(date +%s)
  printf '%s\t%d\n' "$stage_name" "$stage_start" >"$OPEN"
  echo
  echo "=== [$((stage_start - start)) s] $1: $2"
}
WEIGHTS=(--vae "$RUN/vae/vae.json" --rnn "$RUN/rnn/rnn.json")

stage extract "random-policy episodes -> $RUN/record"
WORKERS=$WORKERS bash extract.bash --preset "$PRESET" --seed "$SEED" --out "$RUN/record"
"$PYTHON" check_record.py "$RUN/record"

stage world_model "V, series, M, then install the weights -> $RUN/{tf_vae,series,tf_rnn,vae,rnn,initial_z}"
DATA=$RUN/record VAE_DIR=$RUN/tf_vae SERIES=$RUN/series RNN_DIR=$RUN/tf_rnn \
  INITIAL_Z=$RUN/tf_initial_z/initial_z.json INSTALL=$RUN \
  VAE_ARGS="--seed $SEED" RNN_ARGS="--seed $SEED" bash gpu_jobs.bash --preset "$PRESET"

LOG_BASE=$("$PYTHON" train.py --preset "$PRESET" --log-dir "$RUN/log" --print-log-base)
stage cma_es "CMA-ES over MPI on $WORKERS processes -> $RUN/log/"
resume=()
[[ -f "$LOG_BASE.checkpoint.pkl" ]] && resume=(--resume)
NP=$WORKERS bash gce_train.bash --preset "$PRESET" -s "$SEED" "${WEIGHTS[@]}" --log-dir "$RUN/log" \
  "${resume[@]}" "${generations[@]}"

stage evaluate "the best controller on tracks it never trained on (seeds 0, 1, 2, ...)"
if [[ ! -s "$RUN/score.txt" || "$LOG_BASE.best.json" -nt "$RUN/score.txt" ]]; then
  "$MPIRUN" -np "$WORKERS" "$PYTHON" model.py norender "$LOG_BASE.best.json" \
    --preset "$PRESET" "${WEIGHTS[@]}" >"$RUN/.score.txt.tmp"
  mv -f "$RUN/.score.txt.tmp" "$RUN/score.txt"
fi
tail -n 1 "$RUN/score.txt"

stage plot_and_video "progress plot and a video of the best controller"
"$PYTHON" plot_training_progress.py "$LOG_BASE" --out "$RUN/progress.png"
[[ -s "$RUN/agent.gif" && "$RUN/agent.gif" -nt "$LOG_BASE.best.json" ]] ||
  "$PYTHON" model.py record "$LOG_BASE.best.json" --preset "$PRESET" "${WEIGHTS[@]}" \
    --out "$RUN/agent.gif"

close_stage ""
echo
echo "=== done in $(($(date +%s) - start)) s this time; wall-clock of every stage, all runs:"
awk -F'\t' 'NR > 1 { sub(/ \((interrupted|killed)\)$/, "", $1); t[$1] += $2; all += $2
             if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
     END { for (i = 1; i <= n; i++) printf "  %-15s %7.1f min\n", order[i], t[order[i]] / 60
           printf "  %-15s %7.1f min\n", "total", all / 60 }' "$TIMES"
cat <<SUMMARY
Run folder: $RUN/
  record/                 episodes ($(ls "$RUN/record" | grep -c '\.npz$') files)
  vae/ rnn/ initial_z/    the trained weights (training logs in tf_vae/, tf_rnn/)
  log/                    CMA-ES logs: $(basename "$LOG_BASE").{json,hist.json,best.json,hist_best.json,log.json}
  progress.png            training progress     agent.gif   the best controller driving
  stage_times.tsv         wall-clock of every stage, every time this script ran
Best controller on the test tracks: $(tail -n 1 "$RUN/score.txt")
SUMMARY
