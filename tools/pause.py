"""Pause a running recipe (reproduce.bash) and resume it, its hours kept honest.

    python tools/pause.py runs/overnight stop    # SIGSTOP the recipe and every process under it
    python tools/pause.py runs/overnight cont    # SIGCONT them; the pause is logged

A recipe's stage_times.tsv counts each stage's own running time: a pause made with this
tool is taken out of the stage it fell in (its row's `paused` column), and logged in
RUN/pauses.tsv (when, how long, which stage). Use it to run tests or benchmarks on the
same cores without the recipe's hours counting theirs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import UserError, atomic_write_text, run_main  # noqa: E402


def recipe_processes(run: Path) -> list[psutil.Process]:
    """The recipe running in `run` (RUN/.recipe_pid) and every process under it (mpirun's
    ranks included: they are its proxy's children)."""
    try:
        pid = int((run / ".recipe_pid").read_text())
        root = psutil.Process(pid)
        if "reproduce.bash" not in " ".join(root.cmdline()):
            raise psutil.NoSuchProcess(pid)
    except (OSError, ValueError, psutil.NoSuchProcess):
        raise UserError(f"{run}/: no recipe running there (expected RUN/.recipe_pid)") from None
    return [root, *root.children(recursive=True)]


def signal_all(processes: list[psutil.Process], sig: int) -> None:
    for p in processes:
        try:
            p.send_signal(sig)
        except psutil.NoSuchProcess:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="the recipe's run folder (its RUN)")
    parser.add_argument("action", choices=["stop", "cont"])
    args = parser.parse_args(argv)
    run, since = args.run, args.run / ".paused_since"
    processes = recipe_processes(run)
    if args.action == "stop":
        if since.exists():
            raise UserError(f"{since}: the recipe is paused already (resume it with cont)")
        atomic_write_text(since, f"{time.time()}\n")
        signal_all(processes, signal.SIGSTOP)
        print(f"pause: stopped {len(processes)} processes of {run}/")
        return 0
    if not since.exists():
        raise UserError(f"{since}: not found (the recipe is not paused by this tool)")
    # counted while the recipe is still stopped, so that no stage can close in between
    start, end = float(since.read_text()), time.time()
    seconds = round(end - start)
    stage = run / ".stage_open"
    name = stage.read_text().split("\t")[0] if stage.exists() else ""
    if name:  # taken out of that stage's time when it is written (reproduce.bash)
        counted = run / ".stage_paused"
        before = int(counted.read_text()) if counted.exists() else 0
        atomic_write_text(counted, f"{before + seconds}\n")
    log = run / "pauses.tsv"
    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    with open(log, "a") as f:
        if f.tell() == 0:
            f.write("paused\tresumed\tseconds\tstage\n")
        f.write(f"{stamp(start)}\t{stamp(end)}\t{seconds}\t{name}\n")
    since.unlink()
    signal_all(processes, signal.SIGCONT)
    print(f"pause: resumed {len(processes)} processes of {run}/ after {seconds} s")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
