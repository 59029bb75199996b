"""The recipe with one round of iterative training: `ITERATE=1 bash reproduce.bash` on the
tiny preset, end to end, then again to check that it resumes without redoing anything."""

import json
from pathlib import Path

from conftest import run_script, script_env

from common import load_episode


def test_iterate_end_to_end(tmp_path):
    run = tmp_path / "run"
    env = script_env(RUN=str(run), PRESET="tiny", ITERATE="1")
    proc = run_script("reproduce.bash", env=env, timeout=900)
    r2 = run / "round2"
    stages = [line.split("\t")[0] for line in (run / "stage_times.tsv").read_text().splitlines()]
    assert stages[1:] == [
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
    for base, generations in ((first, [1, 2, 3, 4]), (again, [1, 2])):
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

    # a second run finds everything done
    proc = run_script("reproduce.bash", env=env, timeout=900)
    assert "extract worker 0: 0 new episodes" in proc.stderr
    assert proc.stderr.count("already trained") == 4
    assert "resuming after generation 2" in proc.stderr
    assert "starting" not in proc.stderr
    assert (run / "score.txt").read_text().splitlines() == scores
