#!/usr/bin/env bash
# Train V and M from record/ and install their weights where the agent reads them
# (SPEC "Pipeline", steps 2-5). Uses the GPU when TensorFlow sees one, else the CPU.
#
#   bash gpu_jobs.bash                    # the paper's settings
#   bash gpu_jobs.bash --preset tiny      # a preset reaches every stage
#   VAE_ARGS="--epochs 1" RNN_ARGS="--steps 500" bash gpu_jobs.bash
#
# Folders (all overridable): DATA=record (several, space-separated, are trained on together:
# DATA="record agent", see extract.py --controller) VAE_DIR=tf_vae SERIES=series RNN_DIR=tf_rnn
# INITIAL_Z=tf_initial_z/initial_z.json, and INSTALL=. (weights go to INSTALL/vae/vae.json,
# INSTALL/rnn/rnn.json, INSTALL/initial_z/initial_z.json). A stage whose output is
# complete does nothing, so running the script again after a crash resumes it; V, M or
# series made with other settings stop it with an error (their --restart starts over).
# M_DATA (some of DATA's folders) trains M on those folders' episodes only: V and the
# series are of all of DATA, and M reads SERIES_m/, links to the series of M_DATA's episodes.
set -euo pipefail
cd "$(dirname "$0")"
source common.bash

PRESET=${PRESET:-paper}
while (($#)); do
  case "$1" in
    --preset) PRESET=$2; shift 2 ;;
    --preset=*) PRESET=${1#--preset=}; shift ;;
    *) echo "gpu_jobs.bash: error: unknown argument $1 (use --preset NAME, VAE_ARGS, SERIES_ARGS, RNN_ARGS)" >&2; exit 2 ;;
  esac
done
DATA=${DATA:-record}
read -ra data <<<"$DATA"
read -ra m_data <<<"${M_DATA:-}"
for folder in "${m_data[@]}"; do  # before any training: a folder that is not there
  if [[ ! -d "$folder" ]]; then
    echo "gpu_jobs.bash: error: M_DATA $folder: no such folder; expected one of DATA's folders of episodes" >&2
    exit 2
  fi
done
VAE_DIR=${VAE_DIR:-tf_vae}
SERIES=${SERIES:-series}
RNN_DIR=${RNN_DIR:-tf_rnn}
INITIAL_Z=${INITIAL_Z:-tf_initial_z/initial_z.json}
INSTALL=${INSTALL:-.}
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}

# shellcheck disable=SC2086  # *_ARGS are word lists on purpose
"$PYTHON" vae_train.py --preset "$PRESET" --data "${data[@]}" --out "$VAE_DIR" ${VAE_ARGS:-}
# V trained further since its series were encoded: encode them again, and train M again
# on them (the only case where this script starts finished work over by itself)
again=()
if [[ -f "$SERIES/vae_sha1.txt" && "$(sha1sum <"$VAE_DIR/vae.json")" != "$(cat "$SERIES/vae_sha1.txt")  -" ]]; then
  again=(--restart)
fi
# shellcheck disable=SC2086
"$PYTHON" series.py --preset "$PRESET" --data "${data[@]}" --vae "$VAE_DIR/vae.json" --out "$SERIES" \
  "${again[@]}" ${SERIES_ARGS:-}
m_series=$SERIES
if ((${#m_data[@]})); then  # M on M_DATA's episodes only: their series, linked
  m_series=${SERIES%/}_m
  rm -rf "$m_series.tmp"
  mkdir -p "$m_series.tmp"
  cp "$SERIES/vae_sha1.txt" "$m_series.tmp/"
  if ! find "${m_data[@]}" -maxdepth 1 -name '[!.]*.npz' -printf '%f\n' | sort | while read -r name; do
    if [[ ! -f "$SERIES/$name" ]]; then
      echo "gpu_jobs.bash: error: $SERIES/$name: no series for M_DATA's episode $name; expected M_DATA among DATA's folders" >&2
      exit 2
    fi
    ln -s "$(realpath "$SERIES/$name")" "$m_series.tmp/$name"
  done; then  # an episode of M_DATA without a series: nothing of M changed
    rm -rf "$m_series.tmp"
    exit 2
  fi
  rm -rf "$m_series"
  mv "$m_series.tmp" "$m_series"
fi
# shellcheck disable=SC2086
"$PYTHON" rnn_train.py --preset "$PRESET" --series "$m_series" --out "$RNN_DIR" --initial-z "$INITIAL_Z" \
  "${again[@]}" ${RNN_ARGS:-}

install_weights() {  # copy to a hidden temporary name, then rename: never half a file
  local tmp
  cmp -s "$1" "$2" && return  # there already: its time stays, nothing made from it is redone
  tmp="$(dirname "$2")/.$(basename "$2").tmp.$$"
  mkdir -p "$(dirname "$2")"
  cp "$1" "$tmp"
  mv -f "$tmp" "$2"
  echo "gpu_jobs.bash: installed $1 -> $2" >&2
}
install_weights "$VAE_DIR/vae.json" "$INSTALL/vae/vae.json"
install_weights "$RNN_DIR/rnn.json" "$INSTALL/rnn/rnn.json"
install_weights "$INITIAL_Z" "$INSTALL/initial_z/initial_z.json"
