"""A job stopped whole (tools/pause.py, Ctrl-Z) for longer than its rank timeout carries on
when continued: the ranks were all stopped, none was late. common.running_time."""

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable

import psutil
from conftest import start_mpirun
from test_train import BASE, logs, train_args

from common import list_episode_files, running_time

# seconds: a pause half as long again as the rank timeout, which is itself several times a
# round's time on a machine that runs other tests beside this one
PAUSE = 12.0
TIMEOUT = "8"


def paused_mpirun(args: list[str], started: Callable[[], bool]) -> subprocess.CompletedProcess:
    """`args` under mpirun on 2 processes, stopped for PAUSE seconds as tools/pause.py
    stops a recipe (SIGSTOP to mpirun and every process under it) once `started()`,
    then continued."""
    proc = start_mpirun(2, *args)
    try:
        deadline = time.time() + 120
        while not started() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, f"ended before the pause:\n{proc.stderr.read()[-2000:]}"
        family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        assert len(family) >= 3, family  # mpirun, its proxy, the ranks
        for p in family:
            p.send_signal(signal.SIGSTOP)
        time.sleep(PAUSE)
        for p in family:
            p.send_signal(signal.SIGCONT)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(proc.args, proc.returncode, "", err)


def test_running_time_leaves_out_a_stop():
    """The clock of this very process, stopped for 3 s by a child."""
    begin, wall = running_time(), time.monotonic()
    subprocess.run(["bash", "-c", f"kill -STOP {os.getpid()}; sleep 3; kill -CONT {os.getpid()}"])
    time.sleep(0.5)  # SIGCONT reaches this process at once, the shell ends just after
    assert time.monotonic() - wall > 3.0
    assert running_time() - begin < 1.5


def test_cma_es_paused_past_its_rank_timeout_carries_on(weights, tmp_path):
    args = train_args(weights, tmp_path, 5, "--rank-timeout", TIMEOUT)
    args[args.index("--max-steps") + 1] = "300"  # rounds of about a second: a stop lands in one
    proc = paused_mpirun(args, (tmp_path / f"{BASE}.hist.json").exists)  # after generation 1
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "did not answer" not in proc.stderr
    assert [row[0] for row in logs(tmp_path)["hist.json"]] == [1, 2, 3, 4, 5]
    timing = json.loads((tmp_path / f"{BASE}.timing.json").read_text())
    rounds = [row[2] for row in timing]  # the pause is not in a round's time
    assert max(rounds) < PAUSE, rounds


def test_extraction_paused_past_its_rank_timeout_carries_on(tmp_path):
    out = tmp_path / "rec"
    args = ["extract.py", "--trials", "3", "--max-frames", "150", "--seed", "4"]
    args += ["--out", str(out), "--rank-timeout", TIMEOUT]
    proc = paused_mpirun(args, lambda: any(out.glob("[!.]*.npz")))  # after an episode
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "did not answer" not in proc.stderr and "lost" not in proc.stderr
    assert len(list_episode_files(out)) == 6
