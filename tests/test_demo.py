"""The main job end to end: `bash demo.bash` on the tiny preset into a fresh run folder."""

import json

from conftest import run_script, script_env

from common import TF_START_UP_LINES
from rnn.numpy_rnn import NumpyRNN
from vae.numpy_vae import NumpyVAE


def test_demo_end_to_end(tmp_path):
    run = tmp_path / "run"
    proc = run_script("demo.bash", env=script_env(RUN=str(run)), timeout=900)
    assert "Evaluation of the best controller: average_reward" in proc.stdout
    # the project's own lines and real warnings only: no TensorFlow start-up notices
    shown = proc.stdout + proc.stderr
    assert not [line for line in TF_START_UP_LINES if line in shown]
    assert "vae_train: wrote" in shown and "rnn_train: wrote" in shown
    assert len(list((run / "record").glob("*.npz"))) == 8
    NumpyVAE.from_json(run / "vae/vae.json")
    NumpyRNN.from_json(run / "rnn/rnn.json")
    assert json.loads((run / "initial_z/initial_z.json").read_text())[0]
    base = run / "log/carracing.cma.1.8"
    hist = json.loads(base.with_name(base.name + ".hist.json").read_text())
    assert [row[0] for row in hist] == [1, 2, 3, 4]
    for ext in ("json", "best.json", "hist_best.json", "log.json"):
        assert base.with_name(f"{base.name}.{ext}").exists()
    scores = (run / "score.txt").read_text().splitlines()
    assert len(scores) == 5 and scores[-1].startswith("average_reward")
    for name in (
        "progress.png",
        "agent.gif",
        "figures/vae_reconstruction.png",
        "figures/rnn_dream.png",
    ):
        assert (run / name).stat().st_size > 1000, name
    # every stage skips finished work: a second run resumes and redoes nothing
    made = {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()}
    proc = run_script("demo.bash", env=script_env(RUN=str(run)), timeout=900)
    assert "extract worker 0: 0 new episodes" in proc.stderr
    assert "already trained" in proc.stderr and "resuming after generation 4" in proc.stderr
    assert len(json.loads(base.with_name(base.name + ".hist.json").read_text())) == 4
    assert proc.stdout.count("average_reward") == 2  # the score, shown again
    changed = {p for p, t in made.items() if p.stat().st_mtime_ns != t}
    assert changed == {run / "progress.png"}, changed  # drawn again: a fraction of a second
