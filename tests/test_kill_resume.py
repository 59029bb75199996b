"""Kills leave nothing broken: the whole recipe (reproduce.bash, tiny preset) is killed with
SIGKILL at a random moment of each long stage (extraction, V, series, M, CMA-ES over MPI,
the evaluation under mpirun), started again each time, and must end with the same files
as an uninterrupted run, timing fields aside, and no unreadable file.

The moments are drawn from KILL_SEED (printed); set it to replay a failure.
"""

import json
import os
import subprocess
import time

import numpy as np
import psutil
import pytest
from conftest import ROOT, run_script, script_env, shared_run
from run_folders import copy_until, files, same
from test_shipped import read_details

# (stage, the path that shows it has started, the longest random wait after that, s)
TARGETS = [
    ("extract", "record", 2.0),
    ("V", "tf_vae", 5.0),
    ("series", "series", 3.0),
    ("M", "tf_rnn", 5.0),
    ("CMA-ES", "log", 6.0),
    ("evaluate", ".score.txt.tmp", 2.0),
]


def recipe(run):
    return ["bash", "reproduce.bash"], script_env(RUN=str(run), PRESET="tiny")


@pytest.fixture(scope="module")
def reference(tmp_path_factory, overnight):
    """The uninterrupted run: the tiny overnight recipe's folder (test_iterate) as it was
    after its first CMA-ES, whose stages are this recipe's, then this recipe's own
    evaluation, plot and GIF."""

    def make(run):
        copy_until(
            overnight[0], run, "cma_es", ["round2", ".done/agent_drives", ".done/world_model_2"]
        )
        cmd, env = recipe(run)
        return run_script(*cmd[1:], env=env, timeout=900)

    return shared_run(tmp_path_factory, "uninterrupted", make)[0]


def kill_everything(proc):
    """SIGKILL the recipe and every process under it (mpirun's ranks have sessions of
    their own, so a process group is not enough)."""
    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    for p in [psutil.Process(proc.pid), *family] if proc.poll() is None else family:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    proc.wait()
    psutil.wait_procs(family, timeout=10)


def readable(path):
    if path.suffix == ".npz":
        with np.load(path) as data:
            return all(data[k] is not None for k in data.files)
    if path.suffix == ".json":
        json.loads(path.read_text())
    return True


def test_the_evaluation_says_why_each_track_scored_what_it_did(reference):
    """RUN/tracks.csv (`model.py norender --details`) has a row for each track of
    RUN/score.txt, with the same reward."""
    scores = (reference / "score.txt").read_text().splitlines()[:-1]
    rows = read_details(reference / "tracks.csv")
    assert [[r["track"], r["reward"]] for r in rows] == [line.split() for line in scores]
    assert all(0 <= int(r["tiles_visited"]) <= int(r["tiles_total"]) for r in rows)


def test_kills_at_random_moments_resume_to_the_same_result(request, tmp_path):
    """(The uninterrupted run is asked for only at the end, so that the kills go on while
    another test process makes it.)"""
    seed = int(os.environ.get("KILL_SEED", str(time.time_ns() % 10**6)))
    print(f"KILL_SEED={seed}")
    rng = np.random.default_rng(seed)
    run = tmp_path / "run"
    cmd, env = recipe(run)
    for stage, marker, longest in TARGETS:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 300
        while not (run / marker).exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        delay = float(rng.uniform(0.0, longest))
        time.sleep(delay)
        finished = proc.poll() is not None
        kill_everything(proc)
        line = f"{stage}: killed {delay:.2f} s after {marker} appeared"
        print(line if not finished else f"{stage}: the recipe had ended before the kill")
        # every file a person or the next stage would read is whole
        for path in run.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                assert readable(path), f"{line}: {path} unreadable"
    cmd, env = recipe(run)
    proc = run_script(*cmd[1:], env=env, timeout=900)
    assert "Best controller on the test tracks: average_reward" in proc.stdout
    reference = request.getfixturevalue("reference")
    assert files(run) == files(reference)
    different = [str(rel) for rel in files(run) if not same(run, reference, rel)]
    print(f"{len(files(run))} files compared with the uninterrupted run, {len(different)} differ")
    assert not different, f"KILL_SEED={seed}: differ from the uninterrupted run: {different}"
    times = (run / "stage_times.tsv").read_text()
    assert "(killed)" in times, times


def test_a_killed_stage_is_timed_to_its_last_file_not_to_the_restart(tmp_path):
    """The "(killed)" line counts to the last file the stage wrote, less the parts of its
    pauses before that file (a pause after it, before the kill, took nothing off). A
    restart's own traces are left out: the run folder's time (the restart checks it can
    write there) and a log beside it that the restart's launcher has just written to
    (nohup's line); so are the pause tool's files."""
    now = int(time.time())
    run = tmp_path / "run"
    (run / "log").mkdir(parents=True)
    open_file = run / ".stage_open"
    open_file.write_text(f"cma_es\t{now - 100}\n")
    os.utime(open_file, (now - 100, now - 100))
    written = run / "log" / "carracing.cma.4.32.hist.json"
    written.write_text("[]")
    os.utime(written, (now - 40, now - 40))
    (run / "run.log").write_text("nohup: ignoring input\n")  # written now, by the launcher
    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    pauses = [  # (from, to, stage): counted 15 s, 5 s of the one across the last file
        (now - 200, now - 150, "cma_es"),  # an earlier invocation's
        (now - 90, now - 75, "cma_es"),
        (now - 45, now - 30, "cma_es"),
        (now - 25, now - 15, "cma_es"),  # after the last file
        (now - 70, now - 60, "extract"),
    ]
    rows = [f"{stamp(a)}\t{stamp(b)}\t{b - a}\t{stage}\n" for a, b, stage in pauses]
    (run / "pauses.tsv").write_text("paused\tresumed\tseconds\tstage\n" + "".join(rows))
    (run / ".stage_paused").write_text("40\n")
    for name in ("pauses.tsv", ".stage_paused"):  # written by tools/pause.py, after it
        os.utime(run / name, (now - 15, now - 15))
    proc = subprocess.run(
        [
            "bash",
            "-c",
            'source common.bash && require_writable_dir "$1" run && '
            'killed_stage_row "$1/.stage_open" "$1" "$(date +%s)"',
            "-",
            str(run),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout == f"cma_es (killed)\t40\t{stamp(now - 40)}\t20\n"
