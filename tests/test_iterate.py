"""The recipes with one round of iterative training on the tiny preset: the overnight one
(`OVERNIGHT=1 bash reproduce.bash`, what `make overnight` runs) end to end, again to check
that it resumes without redoing anything, and stopped with Ctrl-C in the middle, its
episodes deleted, then resumed to the same result; and `ITERATE=1`, whose tiny sizes are
the overnight one's up to its shorter refinement, from that point on.

The last two start from a copy of the uninterrupted run's folder as it was when a stage
had finished (the later stages' files and times taken out): the stages before it are
the same commands on the same files, already checked end to end."""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from conftest import ROOT, run_script
from run_folders import copy_until, files, recipe_env, same

from common import load_episode

STAGES = [
    "extract",
    "world_model",
    "cma_es",
    "agent_drives",
    "world_model_2",
    "cma_es_2",
    "refine",
    "evaluate",
    "plot_and_video",
]


def test_overnight_end_to_end(overnight):
    run, proc = overnight
    check_round(run, proc, refine_generations=3)

    # a second run finds everything done
    proc = run_script("reproduce.bash", env=recipe_env(run, "OVERNIGHT"), timeout=900)
    for stage in ("extract", "world_model", "agent_drives", "world_model_2"):
        assert f"=== {stage}: finished before" in proc.stdout, stage
    assert "resuming after generation 3" in proc.stderr
    assert "starting" not in proc.stderr


def test_overnight_stopped_with_ctrl_c_and_resumed_without_its_episodes(overnight, tmp_path):
    """Ctrl-C in the second round's CMA-ES; then the run folder loses what a move to a new
    machine would leave behind (the episodes, the series, the training checkpoints of V
    and M); the same command again ends with the same files as the uninterrupted run."""
    reference = overnight[0]
    run = tmp_path / "run"
    copy_until(reference, run, "world_model_2", ["round2/log"])
    proc = subprocess.Popen(
        ["bash", "reproduce.bash"],
        cwd=ROOT,
        env=recipe_env(run, "OVERNIGHT"),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    marker = run / "round2/log/carracing.cma.1.8.hist.json"
    deadline = time.time() + 600
    while not marker.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the recipe ended before the second round's CMA-ES"
    # paused for 2 s (tools/pause.py), which its stage's time leaves out
    run_script("tools/pause.py", str(run), "stop")
    time.sleep(2)
    run_script("tools/pause.py", str(run), "cont")
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    assert proc.wait(timeout=120) != 0
    times = (run / "stage_times.tsv").read_text()
    assert "cma_es_2 (interrupted)" in times, times
    assert "refine" not in times, times
    row = [line.split("\t") for line in times.splitlines() if line.startswith("cma_es_2")][0]
    assert int(row[3]) >= 2, row
    pauses = (run / "pauses.tsv").read_text().splitlines()
    assert len(pauses) == 2 and pauses[1].endswith("\tcma_es_2"), pauses
    assert not (run / ".recipe_pid").exists()
    (run / "pauses.tsv").unlink()  # this run's own record, which the uninterrupted one lacks

    gone = ["record", "series", "tf_vae", "tf_rnn", "round2/agent", "round2/random"]
    gone += ["round2/series", "round2/tf_vae", "round2/tf_rnn"]
    for name in gone:
        shutil.rmtree(run / name)
    proc = run_script("reproduce.bash", env=recipe_env(run, "OVERNIGHT"), timeout=900)
    for stage in ("extract", "world_model", "agent_drives", "world_model_2"):
        assert f"=== {stage}: finished before" in proc.stdout, stage
    assert "resuming after generation" in proc.stderr
    kept = [rel for rel in files(reference) if rel.parts[0] not in ("record", "series")]
    kept = [rel for rel in kept if not any(str(rel).startswith(g + "/") for g in gone)]
    assert sorted(kept) == files(run)
    different = [str(rel) for rel in kept if not same(run, reference, rel)]
    assert not different, f"differ from the uninterrupted run: {different}"


def test_iterate_end_to_end(overnight, tmp_path):
    """ITERATE=1 from where its tiny stages stop being the overnight recipe's: its own
    refinement (2 generations, not 3), evaluation, plot and GIF."""
    run = tmp_path / "run"
    copy_until(overnight[0], run, "cma_es_2", ["round2/log/carracing.cma.2.8.*"])
    env = recipe_env(run, "ITERATE")
    proc = run_script("reproduce.bash", env=env, timeout=900)
    stages = [line.split("\t")[0] for line in (run / "stage_times.tsv").read_text().splitlines()]
    assert stages[-3:] == ["refine", "evaluate", "plot_and_video"]
    assert "refine" not in stages[:-3]
    # the first run's output, for the checks of the stages before
    check_round(run, overnight[1], refine_generations=2, last=proc)


def check_round(run: Path, proc, refine_generations: int, last=None) -> None:
    """The stages of one round, their data and weights, their logs, and the score; `proc`
    the run's output, `last` the output of its last invocation when it was resumed."""
    last = last or proc
    r2 = run / "round2"
    stages = [line.split("\t")[0] for line in (run / "stage_times.tsv").read_text().splitlines()]
    # each stage once; a resumed run adds a line for each stage it went through again
    assert (stages[1:] if last is proc else list(dict.fromkeys(stages[1:]))) == STAGES

    # V and M see every other random episode (links into record/, no copies) and the
    # first controller's drives: 4 tracks of up to 100 frames, on seeds of their own
    record = sorted(p.name for p in (run / "record").glob("*.npz"))
    linked = sorted(p.name for p in (r2 / "random").glob("*.npz"))
    assert len(record) == 8 and linked == record[::2]
    assert all((r2 / "random" / name).is_symlink() for name in linked)
    drives = sorted((r2 / "agent").glob("*.npz"))
    assert len(drives) == 4 and not {p.name for p in drives} & set(record)
    assert all(len(load_episode(p)["obs"]) <= 100 for p in drives)
    assert "extract: base seed 101" in proc.stderr
    # new weights, trained on that data, not a copy of the first round's
    for name in ("vae/vae.json", "rnn/rnn.json", "initial_z/initial_z.json"):
        assert (run / name).read_bytes() != (r2 / name).read_bytes(), name

    # CMA-ES from zero on them, then its best controller carried on with 2 episodes a member
    first, again = r2 / "log/carracing.cma.1.8", r2 / "log/carracing.cma.2.8"
    refined = list(range(1, refine_generations + 1))
    for base, generations in ((first, [1, 2, 3, 4]), (again, refined)):
        hist = json.loads(Path(f"{base}.hist.json").read_text())
        assert [row[0] for row in hist] == generations
    assert f"starting from the controller {first}.best.json" in last.stderr

    # the score is the refined controller's, with the second round's V and M
    scores = (run / "score.txt").read_text().splitlines()
    check = run_script(
        "model.py",
        "norender",
        f"{again}.best.json",
        "--preset",
        "tiny",
        "--trials",
        "1",
        "--vae",
        str(r2 / "vae/vae.json"),
        "--rnn",
        str(r2 / "rnn/rnn.json"),
    )
    assert check.stdout.splitlines()[0] == scores[0]
    assert "round2/log/carracing.cma.2.8" in last.stdout
