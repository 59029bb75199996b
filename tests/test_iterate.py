"""The recipes with one round of iterative training on the tiny preset: the overnight one
(`OVERNIGHT=1 bash reproduce.bash`, what `make overnight` runs) end to end, again to check
that it resumes without redoing anything, and stopped with Ctrl-C in the middle, its
episodes deleted, then resumed to the same result; and `ITERATE=1`, the same stages
with the 3-hour sizes."""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import ROOT, run_script, script_env
from test_kill_resume import files, same

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


def recipe_env(run: Path, recipe: str) -> dict[str, str]:
    return script_env(RUN=str(run), PRESET="tiny", **{recipe: "1"})


@pytest.fixture(scope="module")
def overnight(tmp_path_factory):
    """The tiny overnight recipe, uninterrupted: (run folder, the first run's output)."""
    run = tmp_path_factory.mktemp("overnight") / "run"
    return run, run_script("reproduce.bash", env=recipe_env(run, "OVERNIGHT"), timeout=900)


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
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    assert proc.wait(timeout=120) != 0
    times = (run / "stage_times.tsv").read_text()
    assert "cma_es_2 (interrupted)" in times, times
    assert "refine" not in times, times

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


def test_iterate_end_to_end(tmp_path):
    run = tmp_path / "run"
    proc = run_script("reproduce.bash", env=recipe_env(run, "ITERATE"), timeout=900)
    check_round(run, proc, refine_generations=2)


def check_round(run: Path, proc, refine_generations: int) -> None:
    """The stages of one round, their data and weights, their logs, and the score."""
    r2 = run / "round2"
    stages = [line.split("\t")[0] for line in (run / "stage_times.tsv").read_text().splitlines()]
    assert stages[1:] == STAGES

    # V and M see every other random episode (links into record/, no copies) and the
    # first controller's drives: 4 tracks of up to 200 frames, on seeds of their own
    record = sorted(p.name for p in (run / "record").glob("*.npz"))
    linked = sorted(p.name for p in (r2 / "random").glob("*.npz"))
    assert len(record) == 8 and linked == record[::2]
    assert all((r2 / "random" / name).is_symlink() for name in linked)
    drives = sorted((r2 / "agent").glob("*.npz"))
    assert len(drives) == 4 and not {p.name for p in drives} & set(record)
    assert all(len(load_episode(p)["obs"]) <= 200 for p in drives)
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
    assert f"starting from the controller {first}.best.json" in proc.stderr

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
    assert "round2/log/carracing.cma.2.8" in proc.stdout
