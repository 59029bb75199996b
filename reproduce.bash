#!/usr/bin/env bash
# The laptop recipe: the whole World Model trained on one 2-core machine without GPU,
# from random episodes to a scored, recorded driver, everything under one run folder.
#
#   make laptop   (or: bash reproduce.bash)     # into runs/laptop/
#   RUN=runs/other SEED=3 bash reproduce.bash   # another run folder and seed
#   PRESET=tiny RUN=runs/check bash reproduce.bash   # the same stages in a minute
#   GENERATIONS=60 bash reproduce.bash          # carry CMA-ES on past the preset's count
#   ITERATE=1 bash reproduce.bash               # one round of iterative training, then a
#                                               # refinement with 8 episodes a member
#   OVERNIGHT=1 bash reproduce.bash             # the overnight recipe (make overnight): the
#                                               # same round, sized for 8 hours
#
# ITERATE=1 (laptop and tiny presets) adds the paper's iterative training after a shorter
# first CMA-ES (GENERATIONS, 30 on the laptop preset): the first controller drives new
# tracks (agent_drives), V and M are trained again from scratch on half the random episodes
# and those drives (world_model_2), CMA-ES starts again from zero on the new V and M
# (cma_es_2, ROUND2_GENERATIONS, 40), and its best controller is carried on with 8 episodes
# a member (REFINE_EPISODES) and a smaller step size (refine, REFINE_GENERATIONS, 20;
# REFINE_MAX_STEPS, 1000, cuts its training and evaluation episodes shorter).
# ROUND2_M_DATA=drives trains the second M on the drives alone (V still on both).
# Everything of the second round is under $RUN/round2/; the evaluation, plot and GIF are of
# the last stage.
#
# OVERNIGHT=1 (laptop and tiny presets; into runs/overnight by default) is ITERATE=1 sized
# for one night on 2 cores (at most 8 hours at 590 agent steps/s a core; a CPU at 382
# needs about 11): the shipped agent's chain as one command, with 30 refinement
# generations where it had 60 (REFINE_GENERATIONS=60). 40 first-round generations, V and
# M again (M at 2400 steps both times), 70 generations from zero, and the refinement with
# 8 episodes a member (docs/pipeline.md says why).
#
# Every stage skips finished work and CMA-ES continues with --resume, so after a crash,
# a Ctrl-C or a reboot the same command carries on where it stopped. Each stage's
# running time is appended to $RUN/stage_times.tsv (one line per stage per invocation,
# so the sum over lines is the recipe's total): an interrupted stage is marked so, and
# a stage killed outright (SIGKILL, a crash, a reboot) is written when the script next
# starts, marked "(killed)", with its time up to the last file it wrote. A pause made
# with tools/pause.py is taken out of its stage's time (the `paused` column).
set -euo pipefail
cd "$(dirname "$0")"

PRESET=${PRESET:-laptop}
SEED=${SEED:-1}
WORKERS=${WORKERS:-2}
GENERATIONS=${GENERATIONS:-}
ITERATE=${ITERATE:-0}
OVERNIGHT=${OVERNIGHT:-0}
m_steps=()   # M's steps in the first world model: the preset's, unless ITERATE=1 needs fewer
m2_steps=()  # and in the second round's
source common.bash
require_int SEED 0
require_int WORKERS 1
for flag in ITERATE OVERNIGHT; do
  if [[ "${!flag}" != 0 && "${!flag}" != 1 ]]; then
    echo "reproduce.bash: error: $flag=${!flag}: expected 0 or 1" >&2
    exit 2
  fi
done
if ((OVERNIGHT)); then
  ITERATE=1
  if [[ $PRESET == laptop ]]; then RUN=${RUN:-runs/overnight}; else RUN=${RUN:-runs/overnight_$PRESET}; fi
fi
RUN=${RUN:-runs/$PRESET}
if ((ITERATE)); then
  # The second round's sizes: the agent's drives (episodes in all, frames each; half the
  # frames V and M see, the other half are half the random episodes), first-round,
  # second-round and refinement generations, and the refinement's episodes and step size.
  case "$PRESET" in
    laptop) drives=(200 1000) refine_episodes=8 refine_sigma=0.07 m_steps=(--steps 2400)
            m2_steps=("${m_steps[@]}")  # M at 2400 steps in both rounds
            if ((OVERNIGHT)); then  # 8 hours: more generations in every CMA-ES stage
              round1=40 round2=70 refine=30
            else  # two world models in 3 hours
              round1=30 round2=40 refine=20
            fi ;;
    tiny) drives=(4 100) round1=4 round2=4 refine=2 refine_episodes=2 refine_sigma=0.07
          ((OVERNIGHT)) && refine=3 ;;
    *) echo "reproduce.bash: error: ITERATE=1 or OVERNIGHT=1 with PRESET=$PRESET: expected the laptop or tiny preset" >&2
       exit 2 ;;
  esac
  GENERATIONS=${GENERATIONS:-$round1}
  ROUND2_GENERATIONS=${ROUND2_GENERATIONS:-$round2}
  REFINE_GENERATIONS=${REFINE_GENERATIONS:-$refine}
  REFINE_EPISODES=${REFINE_EPISODES:-$refine_episodes}
  REFINE_MAX_STEPS=${REFINE_MAX_STEPS:-1000}
  ROUND2_M_DATA=${ROUND2_M_DATA:-mixed}
  if [[ $ROUND2_M_DATA != mixed && $ROUND2_M_DATA != drives ]]; then
    echo "reproduce.bash: error: ROUND2_M_DATA=$ROUND2_M_DATA: expected mixed or drives" >&2
    exit 2
  fi
  require_int ROUND2_GENERATIONS 1
  require_int REFINE_GENERATIONS 1
  require_int REFINE_EPISODES 1
  require_int REFINE_MAX_STEPS 1
fi
generations=()
if [[ -n "$GENERATIONS" ]]; then
  require_int GENERATIONS 1
  generations=(--generations "$GENERATIONS")
fi
export PYTHON TF_CPP_MIN_LOG_LEVEL=2 PYTHONUNBUFFERED=1
start=$(date +%s)
require_writable_dir "$RUN" "the run's files"
TIMES=$RUN/stage_times.tsv
OPEN=$RUN/.stage_open  # "name<TAB>start": the stage running now, for a kill to leave behind
PAUSED=$RUN/.stage_paused  # seconds the stage running now was paused (tools/pause.py)
paused_seconds() { cat "$PAUSED" 2>/dev/null || echo 0; }
[[ -f "$TIMES" ]] || printf 'stage\tseconds\tfinished\tpaused\n' >"$TIMES"
if [[ -f "$OPEN" ]]; then  # the last invocation was killed in that stage: its time, at least
  killed_stage_row "$OPEN" "$RUN" "$start" >>"$TIMES"
  rm -f "$OPEN"
fi
rm -f "$PAUSED" "$RUN/.paused_since"  # a pause the kill cut short
echo $$ >"$RUN/.recipe_pid"  # for tools/pause.py
stage_start=$start
stage_name=""
close_stage() {  # append the running stage's time, pauses taken out (also when interrupted)
  local paused
  if [[ -n "$stage_name" ]]; then
    paused=$(paused_seconds)
    printf '%s\t%d\t%s\t%d\n' "$stage_name$1" "$(($(date +%s) - stage_start - paused))" \
      "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$paused" >>"$TIMES"
    rm -f "$OPEN" "$PAUSED"
  fi
  stage_name=""
}
trap 'close_stage " (interrupted)"; rm -f "$RUN/.recipe_pid"' EXIT
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
DONE=$RUN/.done  # a file per finished data or world-model stage: after it, its inputs may go
done_with() {  # NAME: mark the stage finished (its outputs are all in place)
  mkdir -p "$DONE"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$DONE/.$1.tmp"
  mv -f "$DONE/.$1.tmp" "$DONE/$1"
}
finished() {  # NAME...: whether every one of these stages has finished
  local name
  for name; do [[ -f "$DONE/$name" ]] || return 1; done
}
skipped() {  # NAME: say that a stage finished in an earlier invocation is skipped
  echo
  echo "=== $1: finished before ($(cat "$DONE/$1")), skipped"
}

# The random episodes are needed until the last world model that reads them has trained:
# after that a run folder without record/ (moved to a new machine, or cleaned) goes on.
last_reader=world_model
((ITERATE)) && last_reader=world_model_2
if finished extract "$last_reader"; then
  skipped extract
else
  stage extract "random-policy episodes -> $RUN/record"
  WORKERS=$WORKERS bash extract.bash --preset "$PRESET" --seed "$SEED" --out "$RUN/record"
  "$PYTHON" check_record.py "$RUN/record"
  done_with extract
fi

train_world_model() {  # FOLDER DATA M_ARGS [M_DATA]: V, series and M on DATA (M on M_DATA
  # only, if given), all under FOLDER
  DATA=$2 M_DATA=${4:-} VAE_DIR=$1/tf_vae SERIES=$1/series RNN_DIR=$1/tf_rnn \
    INITIAL_Z=$1/tf_initial_z/initial_z.json INSTALL=$1 \
    VAE_ARGS="--seed $SEED" RNN_ARGS="--seed $SEED $3" bash gpu_jobs.bash --preset "$PRESET"
}
if finished world_model; then
  skipped world_model
else
  stage world_model "V, series, M, then install the weights -> $RUN/{tf_vae,series,tf_rnn,vae,rnn,initial_z}"
  train_world_model "$RUN" "$RUN/record" "${m_steps[*]}"
  done_with world_model
fi

cma_es_stage() {  # NAME WHAT LOG_DIR TRAIN_ARGS...: CMA-ES over MPI, resumed if begun
  local name=$1 what=$2 log_dir=$3 base
  shift 3
  base=$("$PYTHON" train.py --preset "$PRESET" --log-dir "$log_dir" --print-log-base "$@")
  stage "$name" "$what"
  local resume=()
  [[ -f "$base.checkpoint.pkl" ]] && resume=(--resume)  # then train.py ignores --init
  NP=$WORKERS bash gce_train.bash --preset "$PRESET" -s "$SEED" --log-dir "$log_dir" "${resume[@]}" "$@"
  FINAL_BASE=$base
}
cma_es_stage cma_es "CMA-ES over MPI on $WORKERS processes -> $RUN/log/" "$RUN/log" \
  "${WEIGHTS[@]}" "${generations[@]}"
LOG_BASE=$FINAL_BASE

if ((ITERATE)); then
  R2=$RUN/round2
  if finished agent_drives world_model_2; then
    skipped agent_drives
  else
    stage agent_drives "the first controller drives new tracks -> $R2/agent; half the random episodes -> $R2/random"
    WORKERS=$WORKERS bash extract.bash --preset "$PRESET" --controller "$LOG_BASE.best.json" "${WEIGHTS[@]}" \
      --trials $(((drives[0] + WORKERS - 1) / WORKERS)) --max-frames "${drives[1]}" --seed $((SEED + 100)) \
      --out "$R2/agent"
    "$PYTHON" check_record.py "$R2/agent"
    if [[ ! -d "$R2/random" ]]; then  # every other random episode, linked (no copies)
      rm -rf "$R2/.random.tmp"
      mkdir -p "$R2/.random.tmp"
      find "$RUN/record" -maxdepth 1 -name '[!.]*.npz' -printf '%f\n' | sort | awk 'NR % 2 == 1' |
        while read -r name; do ln -s "../../record/$name" "$R2/.random.tmp/$name"; done
      mv "$R2/.random.tmp" "$R2/random"
    fi
    done_with agent_drives
  fi

  if finished world_model_2; then
    skipped world_model_2
  else
    stage world_model_2 "V, series and M again, on $R2/random and $R2/agent -> $R2/{vae,rnn,initial_z}"
    m2_data=""
    [[ $ROUND2_M_DATA == drives ]] && m2_data=$R2/agent
    train_world_model "$R2" "$R2/random $R2/agent" "${m2_steps[*]}" "$m2_data"
    done_with world_model_2
  fi
  WEIGHTS=(--vae "$R2/vae/vae.json" --rnn "$R2/rnn/rnn.json")

  cma_es_stage cma_es_2 "CMA-ES from zero on the new V and M -> $R2/log/" "$R2/log" \
    "${WEIGHTS[@]}" --generations "$ROUND2_GENERATIONS"
  cma_es_stage refine "its best controller carried on, $REFINE_EPISODES episodes a member -> $R2/log/" \
    "$R2/log" "${WEIGHTS[@]}" --init "$FINAL_BASE.best.json" -e "$REFINE_EPISODES" \
    --sigma_init "$refine_sigma" --generations "$REFINE_GENERATIONS" --max-steps "$REFINE_MAX_STEPS"
  LOG_BASE=$FINAL_BASE
fi

stage evaluate "the best controller on tracks it never trained on (seeds 0, 1, 2, ...)"
if ! up_to_date "$RUN/score.txt" "$LOG_BASE.best.json"; then
  "$MPIRUN" -np "$WORKERS" "$PYTHON" model.py norender "$LOG_BASE.best.json" \
    --preset "$PRESET" "${WEIGHTS[@]}" --details "$RUN/tracks.csv" >"$RUN/.score.txt.tmp"
  mv -f "$RUN/.score.txt.tmp" "$RUN/score.txt"
fi
tail -n 1 "$RUN/score.txt"

stage plot_and_video "progress plot and a video of the best controller"
"$PYTHON" plot_training_progress.py "$LOG_BASE" --out "$RUN/progress.png"
up_to_date "$RUN/agent.gif" "$LOG_BASE.best.json" ||
  "$PYTHON" model.py record "$LOG_BASE.best.json" --preset "$PRESET" "${WEIGHTS[@]}" \
    --out "$RUN/agent.gif"

close_stage ""
round2_line=""
((ITERATE)) && round2_line=$'\n  round2/                 the second round: agent/, random/, V and M, log/'
echo
echo "=== done in $(($(date +%s) - start)) s this time; running time of every stage, all runs:"
awk -F'\t' 'NR > 1 { sub(/ \((interrupted|killed)\)$/, "", $1); t[$1] += $2; all += $2
             if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
     END { for (i = 1; i <= n; i++) printf "  %-15s %7.1f min\n", order[i], t[order[i]] / 60
           printf "  %-15s %7.1f min\n", "total", all / 60 }' "$TIMES"
cat <<SUMMARY
Run folder: $RUN/
  record/                 episodes ($(ls "$RUN/record" | grep -c '\.npz$') files)
  vae/ rnn/ initial_z/    the trained weights (training logs in tf_vae/, tf_rnn/)${round2_line}
  log/                    CMA-ES logs: ${LOG_BASE#"$RUN"/}.{json,hist.json,best.json,hist_best.json,log.json,timing.json}
  score.txt, tracks.csv   its score on each track, and why (lap, tiles, speed, off the road)
  progress.png            training progress     agent.gif   the best controller driving
  stage_times.tsv         wall-clock of every stage, every time this script ran
Best controller on the test tracks: $(tail -n 1 "$RUN/score.txt")
SUMMARY
