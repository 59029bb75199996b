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

# The project's Python (the venv's when there is one, unless PYTHON is set) and the
# mpirun beside it (MPICH from the venv), else whatever is on PATH.
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
MPIRUN=${MPIRUN:-$(dirname "$PYTHON")/mpirun}
[[ -x "$MPIRUN" ]] || MPIRUN=mpirun

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
