# Shared by the project's bash scripts, sourced from the project's folder: checks of
# numeric settings, and where Python and mpirun are.

# require_int NAME MIN: the variable NAME must hold an integer >= MIN; otherwise a one-line
# error naming it and the allowed range, and exit status 2, before anything is written.
require_int() {
  local name=$1 min=$2 value=${!1-}
  if ! [[ $value =~ ^[0-9]+$ ]] || ((10#$value < min)); then
    echo "$(basename "$0"): error: $name=$value: expected an integer >= $min" >&2
    exit 2
  fi
}

# require_writable_dir DIR WHAT: DIR is a folder (made if missing) where files can be
# written; otherwise a one-line error naming it, and exit status 2, before any work starts.
require_writable_dir() {
  local dir=$1 what=$2 probe
  if [[ -e $dir && ! -d $dir ]]; then
    echo "$(basename "$0"): error: $dir: exists and is not a folder (expected a folder for $what)" >&2
    exit 2
  fi
  if ! mkdir -p "$dir" 2>/dev/null || ! probe=$(mktemp -p "$dir" .write-check.XXXXXX 2>/dev/null); then
    echo "$(basename "$0"): error: $dir/: cannot write there (expected a writable folder for $what)" >&2
    exit 2
  fi
  rm -f "$probe"
}

# killed_stage_row OPEN DIR START: the stage_times.tsv line for a stage whose script was
# killed outright. OPEN holds "name<TAB>start"; the stage's time runs to the newest file
# written under DIR since then, less the parts of its pauses (DIR/pauses.tsv, written by
# tools/pause.py) that fell before that file: a pause after it, before the kill, took
# nothing off the time counted. Only files count (a folder's time moves when a script
# checks it can write there), and none from the 2 s before START, when the next
# invocation began (a launcher's line in a log beside them, such as nohup's), nor
# tools/pause.py's.
killed_stage_row() {
  local open=$1 dir=$2 start=$3 paused=0 name since last ran from to stage
  IFS=$'\t' read -r name since <"$open"
  last=$(find "$dir" -type f -newer "$open" ! -newermt "@$((start - 2))" ! -name pauses.tsv \
    ! -name .stage_paused ! -name .paused_since -printf '%T@\n' | sort -n | tail -n 1)
  last=${last%.*}
  last=${last:-$since}
  if [[ -f $dir/pauses.tsv ]]; then
    while IFS=$'\t' read -r from to _ stage; do
      [[ $stage == "$name" ]] || continue
      from=$(date -u -d "$from" +%s)
      to=$(date -u -d "$to" +%s)
      ((from < since)) && from=$since
      ((to > last)) && to=$last
      ((to > from)) && paused=$((paused + to - from))
    done < <(tail -n +2 "$dir/pauses.tsv")
  fi
  ran=$((last - since - paused))
  printf '%s (killed)\t%d\t%s\t%d\n' "$name" "$((ran > 0 ? ran : 0))" \
    "$(date -u -d "@$last" +%Y-%m-%dT%H:%M:%SZ)" "$paused"
}

# The project's Python (the venv's when there is one, unless PYTHON is set) and the
# mpirun beside it (MPICH from the venv), else whatever is on PATH.
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
MPIRUN=${MPIRUN:-$(dirname "$PYTHON")/mpirun}
[[ -x "$MPIRUN" ]] || MPIRUN=mpirun
# MPICH's ranks spin at full speed while they wait for a message (a worker between
# CMA-ES rounds, a rank at the end of an evaluation); these make a waiting rank sleep
# between polls, leaving the core to the ranks that work (Open MPI ignores them)
export MPIR_CVAR_CH4_PROGRESS_THROTTLE=${MPIR_CVAR_CH4_PROGRESS_THROTTLE:-1}
export MPIR_CVAR_ENABLE_HEAVY_YIELD=${MPIR_CVAR_ENABLE_HEAVY_YIELD:-1}

# check_hosts HOSTFILE: every host of an MPICH host file (`host[:cores]` a line) answers:
# mpirun starts a process there within HOST_TIMEOUT seconds (30; a second try after a
# failed one), all hosts at once;
# otherwise a one-line error naming the first that did not, and exit status 2.
check_hosts() {
  local file=$1 host dir pids=() names=() k
  if [[ ! -s $file ]]; then
    echo "$(basename "$0"): error: $file: not found or empty (expected an MPICH host file, host:cores a line)" >&2
    exit 2
  fi
  dir=$(mktemp -d)
  while IFS=: read -r host _; do
    host=${host%%#*}
    host=${host//[[:space:]]/}
    [[ -z $host ]] && continue
    {  # twice: a start that fails once on a busy host is not a host that is gone
      # SIGPIPE ignored: mpiexec writes to the proxies as they end, and `true` ends at
      # once; under load it may write to one just closed and be killed by SIGPIPE with
      # nothing printed (3 probes in 240 on two hosts of a loaded 2-core machine; none
      # in 240 with it ignored, where the write fails and mpiexec goes on). A job's
      # mpirun keeps SIGPIPE: at its end, mpirun_on_hosts makes such a death a note.
      trap '' PIPE
      timeout "${HOST_TIMEOUT:-30}" "$MPIRUN" -hosts "$host" -np 1 true ||
        timeout "${HOST_TIMEOUT:-30}" "$MPIRUN" -hosts "$host" -np 1 true || {
        echo "exit status $?"
        exit 1
      }
    } >"$dir/${#names[@]}" 2>&1 &
    pids+=($!)
    names+=("$host")
  done <"$file"
  for k in "${!pids[@]}"; do
    if ! wait "${pids[k]}"; then
      echo "$(basename "$0"): error: $file: host ${names[k]} did not answer (mpirun could not start a process there within ${HOST_TIMEOUT:-30} s, twice: $(grep -m 1 . "$dir/$k"))" >&2
      rm -rf "$dir"
      exit 2
    fi
  done
  rm -rf "$dir"
}

# up_to_date FILE INPUT...: FILE is there, not empty, and newer than every INPUT (what
# was made from them need not be made again).
up_to_date() {
  local file=$1 input
  shift
  [[ -s $file ]] || return 1
  for input; do [[ $file -nt $input ]] || return 1; done
}

# has_flag FLAG ARGS...: whether ARGS give FLAG (`FLAG V` or `FLAG=V`). A loop, not
# `printf | grep -q`: grep ends at its first match, and printf's next line then dies of
# SIGPIPE, which pipefail reads as no match.
has_flag() {
  local flag=$1 arg
  shift
  for arg; do
    [[ $arg == "$flag" || $arg == "$flag"=* ]] && return 0
  done
  return 1
}

# flag_value FLAG DEFAULT ARGS...: the value ARGS give FLAG (`FLAG V` or `FLAG=V`, the last
# one), else DEFAULT.
flag_value() {
  local flag=$1 value=$2 args k
  shift 2
  args=("$@")
  for ((k = 0; k < ${#args[@]}; k++)); do
    case "${args[k]}" in
      "$flag") value=${args[k + 1]-} ;;
      "$flag"=*) value=${args[k]#"$flag"=} ;;
    esac
  done
  printf '%s\n' "$value"
}

# mpirun_on_hosts END DONE MPIRUN_ARGS...: mpirun over HOSTFILE's hosts, whose rank 0
# touches END (WORLDMODELS_END_FILE) once the job's work is done, DONE saying what that
# work is. A rank that aborts the job writes why to END.error (WORLDMODELS_ERROR_FILE),
# printed here once mpirun has ended: the abort may cut the hosts' output short. After
# the work is done, MPI's own end may fail (mpirun killed by SIGPIPE, writing to a
# host's proxy already gone): a one-line note, status 0. Or it may wait for ever on a
# host lost meanwhile: END_TIMEOUT seconds (60) after END, mpirun is stopped, and
# check_hosts names that host; otherwise a one-line error, status 3. Any other end is
# mpirun's status. Ctrl-C reaches mpirun (its handler) and the script waits for it.
mpirun_on_hosts() {
  local end=$1 done=$2 pid status=0
  shift 2
  rm -f "$end" "$end.error"
  trap '' INT
  WORLDMODELS_END_FILE=$end WORLDMODELS_ERROR_FILE=$end.error "$MPIRUN" "$@" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [[ -f $end ]] && (($(date +%s) - $(stat -c %Y "$end") > ${END_TIMEOUT:-60})); then
      kill -TERM "$pid" 2>/dev/null; sleep 1; kill -KILL "$pid" 2>/dev/null || true
      rm -f "$end"
      check_hosts "$HOSTFILE"
      echo "$(basename "$0"): error: $done, but MPI had not ended ${END_TIMEOUT:-60} s later: stopped it" >&2
      exit 3
    fi
    sleep 0.5
  done
  wait "$pid" || status=$?
  if [[ -f $end.error ]]; then
    cat "$end.error" >&2
    rm -f "$end.error"
  fi
  if ((status != 0)) && [[ -f $end ]]; then
    echo "$(basename "$0"): note: mpirun ended with status $status, but $done: nothing is lost" >&2
    status=0
  fi
  rm -f "$end"
  return "$status"
}
