"""V and M training scripts on tiny data: run in this process (conftest.run_in_process),
as processes of their own where a test kills one, and through gpu_jobs.bash."""

import json
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, SHARED, run_in_process, run_script, script_env, shared_run

from common import list_episode_files, load_episode
from rnn.numpy_rnn import NumpyRNN
from series import load_series
from vae.numpy_vae import NumpyVAE


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    def make(out):
        args = ["--trials", "4", "--max-frames", "48", "--seed", "2", "--out", str(out)]
        return run_script("extract.py", *args)

    return shared_run(tmp_path_factory, "record", make)[0]


@pytest.fixture(scope="module")
def trained(record, tmp_path_factory):
    """tiny V and series made once, for the tests that only read them."""
    return shared_run(tmp_path_factory, "wm", lambda base: train_v_and_series(record, base))[0]


def train_v_and_series(record, base):
    run_in_process(
        "vae_train.py",
        "--data",
        str(record),
        "--out",
        str(base / "tf_vae"),
        "--epochs",
        "1",
        "--batch-size",
        "32",
    )
    return run_in_process(
        "series.py",
        "--data",
        str(record),
        "--vae",
        str(base / "tf_vae/vae.json"),
        "--out",
        str(base / "series"),
    )


def vae_cmd(record, out, epochs, *extra):
    return [
        "vae_train.py",
        "--data",
        str(record),
        "--out",
        str(out),
        "--epochs",
        str(epochs),
        "--batch-size",
        "32",
        "--checkpoint-every",
        "3",
        *extra,
    ]


@pytest.fixture(scope="module")
def vae_reference(record, tmp_path_factory):
    """An uninterrupted 2-epoch run (6 steps per epoch, a checkpoint every 3)."""
    make = lambda out: run_in_process(*vae_cmd(record, out, 2))  # noqa: E731
    return shared_run(tmp_path_factory, "vae_ref", make)[0]


def log_steps(path):
    return [int(line.split(",")[0]) for line in path.read_text().splitlines()[1:]]


def test_vae_resume_equals_uninterrupted(record, vae_reference, tmp_path):
    run_in_process(*vae_cmd(record, tmp_path, 1))  # stops after epoch 1 ...
    proc = run_in_process(*vae_cmd(record, tmp_path, 2))  # ... and goes on
    assert "resuming at step 6" in proc.stderr
    assert (vae_reference / "vae.json").read_text() == (tmp_path / "vae.json").read_text()
    assert log_steps(tmp_path / "vae_log.csv") == list(range(1, 13))
    proc = run_in_process(*vae_cmd(record, tmp_path, 2))
    assert "already trained" in proc.stderr
    check_v_run_again(record, tmp_path)


def tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def check_v_run_again(record, v):
    """Over a finished V: other settings than the checkpoint's, or weights without a
    checkpoint, are a one-line error that changes nothing; --restart starts over."""
    kept = tree(v)
    proc = run_in_process(*vae_cmd(record, v, 2, "--seed", "3"), check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"{v / 'checkpoint.npz'}: a run made with --seed 0 (this command: 3)" in proc.stderr
    assert "add --restart" in proc.stderr and tree(v) == kept
    (v / "checkpoint.npz").rename(v / "saved.npz")
    proc = run_in_process(*vae_cmd(record, v, 2), check=False)
    assert proc.returncode == 2 and "without their checkpoint" in proc.stderr
    (v / "saved.npz").rename(v / "checkpoint.npz")
    assert tree(v) == kept
    proc = run_in_process(*vae_cmd(record, v, 1, "--seed", "3", "--restart"))
    assert "starting" in proc.stderr and tree(v)["vae.json"] != kept["vae.json"]


def test_vae_killed_mid_epoch_resumes(record, vae_reference, tmp_path):
    cmd = [sys.executable, *vae_cmd(record, tmp_path, 2)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=script_env(), stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (tmp_path / "checkpoint.npz").exists():
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert (tmp_path / "checkpoint.npz").exists()
    NumpyVAE.from_json(tmp_path / "vae.json")  # the weights on disk are whole
    proc = run_in_process(*vae_cmd(record, tmp_path, 2))
    assert "resuming at step" in proc.stderr
    assert (tmp_path / "vae.json").read_text() == (vae_reference / "vae.json").read_text()
    assert log_steps(tmp_path / "vae_log.csv") == list(range(1, 13))


def test_vae_nan_stops_and_keeps_weights(record, tmp_path):
    proc = run_in_process(*vae_cmd(record, tmp_path, 1, "--learning-rate", "1e12"), check=False)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert "loss became" in last
    # a weights file exists only when a finite step was saved: never an untrained one
    if "last good weights" in last:
        NumpyVAE.from_json(tmp_path / "vae.json")
    else:
        assert "no weights were written" in last
        assert not (tmp_path / "vae.json").exists()


def test_vae_skips_corrupt_episode(record, tmp_path):
    data = tmp_path / "rec"
    data.mkdir()
    for f in list_episode_files(record)[:2]:
        (data / f.name).write_bytes(f.read_bytes())
    (data / "999.npz").write_bytes(b"not a zip")
    proc = run_in_process(
        "vae_train.py",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "v"),
        "--epochs",
        "1",
        "--batch-size",
        "32",
    )
    assert "999.npz" in proc.stderr and "warning" in proc.stderr
    proc = run_in_process(
        "vae_train.py", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "v2"), check=False
    )
    assert proc.returncode == 2 and "no episode files" not in proc.stdout
    assert "none/" in proc.stderr.strip().splitlines()[-1]


def test_series_any_length(trained, record, tmp_path):
    series = sorted((trained / "series").glob("*.npz"))
    assert [f.name for f in series] == [f.name for f in list_episode_files(record)]
    s = load_series(series[0])
    assert s["mu"].dtype == np.float16 and s["mu"].shape == (48, 32)
    assert s["logvar"].shape == (48, 32) and s["action"].shape == (48, 3)
    recorded = load_episode(list_episode_files(record)[0])["reward"]
    np.testing.assert_array_equal(s["reward"], recorded)  # the episode's rewards, carried
    # an episode of another length, encoded in several chunks
    data = tmp_path / "rec"
    data.mkdir()
    np.savez_compressed(
        data / "5.npz",
        obs=np.zeros((37, 64, 64, 3), np.uint8),
        action=np.zeros((37, 3), np.float16),
    )
    run_in_process(
        "series.py",
        "--data",
        str(data),
        "--vae",
        str(trained / "tf_vae/vae.json"),
        "--out",
        str(tmp_path / "s"),
        "--batch-size",
        "10",
    )
    s = load_series(tmp_path / "s/5.npz")
    assert s["mu"].shape == (37, 32) and "reward" not in s  # none recorded (the authors' files)
    np.testing.assert_allclose(s["mu"][0], s["mu"][36], atol=1e-3)  # same frame, same code
    # several data folders (random and agent episodes): every episode of each is encoded
    run_in_process(
        "series.py",
        "--data",
        str(record),
        str(data),
        "--vae",
        str(trained / "tf_vae/vae.json"),
        "--out",
        str(tmp_path / "both"),
    )
    assert sorted(f.name for f in (tmp_path / "both").glob("*.npz")) == sorted(
        [f.name for f in list_episode_files(record)] + ["5.npz"]
    )


def rnn_cmd(series, out, steps):
    return [
        "rnn_train.py",
        "--series",
        str(series),
        "--out",
        str(out),
        "--initial-z",
        str(out / "initial_z.json"),
        "--steps",
        str(steps),
        "--batch-size",
        "3",
        "--seq-len",
        "30",
        "--checkpoint-every",
        "2",
    ]


def test_rnn_train_resume_and_outputs(trained, tmp_path):
    series = trained / "series"
    run_in_process(*rnn_cmd(series, tmp_path / "a", 6))
    assert "already trained" in run_in_process(*rnn_cmd(series, tmp_path / "a", 6)).stderr
    kept = tree(tmp_path / "a")
    proc = run_in_process(*rnn_cmd(series, tmp_path / "a", 6), "--seq-len", "20", check=False)
    assert proc.returncode == 2 and "--seq-len 30 (this command: 20)" in proc.stderr
    assert tree(tmp_path / "a") == kept
    run_in_process(*rnn_cmd(series, tmp_path / "b", 3))
    proc = run_in_process(*rnn_cmd(series, tmp_path / "b", 6))
    assert "resuming at step 3" in proc.stderr
    assert (tmp_path / "a/rnn.json").read_text() == (tmp_path / "b/rnn.json").read_text()
    NumpyRNN.from_json(tmp_path / "a/rnn.json")
    mus, logvars = json.loads((tmp_path / "a/initial_z.json").read_text())
    assert len(mus) == 4 and len(mus[0]) == 32 and len(logvars) == 4
    first = load_series(sorted(series.glob("*.npz"))[0])
    np.testing.assert_allclose(np.array(mus[0]) / 10000, first["mu"][0], atol=2e-4)
    losses = [
        float(r.split(",")[1]) for r in (tmp_path / "a/rnn_log.csv").read_text().splitlines()[1:]
    ]
    assert len(losses) == 6 and all(np.isfinite(losses))
    proc = run_in_process(*rnn_cmd(series, tmp_path / "a", 2), "--seq-len", "20", "--restart")
    assert "starting" in proc.stderr


def test_rnn_train_needs_series(tmp_path):
    proc = run_in_process(*rnn_cmd(tmp_path / "empty", tmp_path / "o", 2), check=False)
    assert proc.returncode == 2 and "no series files" in proc.stderr


def test_figures(trained, record, tmp_path):
    run_in_process(*rnn_cmd(trained / "series", tmp_path / "m", 2))
    run_script(
        "figures.py",
        "--record",
        str(record),
        "--vae",
        str(trained / "tf_vae/vae.json"),
        "--rnn",
        str(tmp_path / "m/rnn.json"),
        "--out",
        str(tmp_path / "fig"),
        "--frames",
        "4",
    )
    from PIL import Image

    recon = Image.open(tmp_path / "fig/vae_reconstruction.png")
    dream = Image.open(tmp_path / "fig/rnn_dream.png")
    assert recon.size == (4 * 66 * 2, 2 * 66 * 2)
    assert dream.size[1] == 66 * 2


def gpu_jobs_env(tmp_path, data: str, **more) -> dict[str, str]:
    """gpu_jobs.bash's environment for the tiny preset: DATA, every output under tmp_path."""
    return script_env(
        DATA=data,
        VAE_DIR=str(tmp_path / "tf_vae"),
        SERIES=str(tmp_path / "series"),
        RNN_DIR=str(tmp_path / "tf_rnn"),
        INITIAL_Z=str(tmp_path / "tf_initial_z/initial_z.json"),
        INSTALL=str(tmp_path),
        RNN_ARGS="--seq-len 40",
        **more,
    )


def test_gpu_jobs_tiny_preset_installs_weights(record, tmp_path):
    env = gpu_jobs_env(tmp_path, str(record))
    run_script("gpu_jobs.bash", "--preset", "tiny", env=env)
    NumpyVAE.from_json(tmp_path / "vae/vae.json")
    NumpyRNN.from_json(tmp_path / "rnn/rnn.json")
    assert json.loads((tmp_path / "initial_z/initial_z.json").read_text())[0]
    assert (tmp_path / "vae/vae.json").read_text() == (tmp_path / "tf_vae/vae.json").read_text()
    proc = run_script("gpu_jobs.bash", "--preset", "tiny", env=env)  # complete: skipped
    assert "already trained" in proc.stderr and "already encoded" in proc.stderr
    # again with another seed for V: stopped before anything changes; with more epochs,
    # V goes on, and its series are encoded and M trained again
    kept = tree(tmp_path)
    other = dict(env, VAE_ARGS="--seed 4")
    proc = run_script("gpu_jobs.bash", "--preset", "tiny", env=other, check=False)
    assert proc.returncode == 2 and "--seed 0 (this command: 4)" in proc.stderr
    assert tree(tmp_path) == kept
    proc = run_script("gpu_jobs.bash", "--preset", "tiny", env=dict(env, VAE_ARGS="--epochs 2"))
    assert "resuming at step" in proc.stderr and "encoding every episode again" in proc.stderr
    assert proc.stderr.count("starting") == 1  # M, on the new series


def test_gpu_jobs_trains_m_on_m_data_alone(record, tmp_path):
    """M_DATA: V and the series are of every folder of DATA, M reads only the series of
    M_DATA's episodes (linked in SERIES_m/); an M_DATA folder outside DATA is a one-line
    error before M trains, and a folder that is not there one before anything trains."""
    names = sorted(p.name for p in record.glob("*.npz"))
    halves = {"a": names[:2], "b": names[2:]}
    for half, files in halves.items():
        (tmp_path / half).mkdir()
        for name in files:
            (tmp_path / half / name).symlink_to(record / name)
    env = gpu_jobs_env(tmp_path, f"{tmp_path / 'a'} {tmp_path / 'b'}", M_DATA=str(tmp_path / "b"))
    run_script("gpu_jobs.bash", "--preset", "tiny", env=env)
    assert sorted(p.name for p in (tmp_path / "series").glob("*.npz")) == names
    linked = sorted((tmp_path / "series_m").glob("*.npz"))
    assert [p.name for p in linked] == halves["b"]
    assert all(p.resolve() == (tmp_path / "series" / p.name).resolve() for p in linked)
    NumpyRNN.from_json(tmp_path / "rnn/rnn.json")
    (tmp_path / "c").mkdir()
    (tmp_path / "c/stray.npz").write_bytes(b"")
    proc = run_script(
        "gpu_jobs.bash", "--preset", "tiny", env=dict(env, M_DATA=str(tmp_path / "c")), check=False
    )
    assert proc.returncode == 2 and "rnn_train" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"gpu_jobs.bash: error: {tmp_path / 'series'}/stray.npz: no series for M_DATA's "
        "episode stray.npz; expected M_DATA among DATA's folders"
    )
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("series_m")) == [
        "series_m"
    ]
    missing = tmp_path / "none"
    proc = run_script(
        "gpu_jobs.bash", "--preset", "tiny", env=dict(env, M_DATA=str(missing)), check=False
    )
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        f"gpu_jobs.bash: error: M_DATA {missing}: no such folder; expected one of DATA's folders "
        "of episodes"
    ]


def test_untrained_m_is_made_from_its_seed(tmp_path):
    """rnn_train.py --untrained: M's initial weights, the same file for the same seed, with
    no series needed; another seed gives other weights."""
    for name, seed in (("a", "0"), ("b", "0"), ("c", "1")):
        proc = run_in_process(
            "rnn_train.py",
            "--untrained",
            "--seed",
            seed,
            "--series",
            str(tmp_path / "none"),
            "--out",
            str(tmp_path / name),
        )
        assert "untrained" in proc.stderr
    a, b, c = ((tmp_path / n / "rnn.json").read_text() for n in "abc")
    assert a == b and a != c
    rnn = NumpyRNN.from_json(tmp_path / "a/rnn.json")
    w_out, b_out, kernel, bias = (json.loads(a)[i] for i in range(4))
    assert not np.any(b_out) and not np.any(bias)  # Keras starts biases at 0 (forget: +1.0)
    assert np.std(kernel) > 0.01
    state = rnn.step(
        np.zeros((1, 32), np.float32), np.zeros((1, 3), np.float32), rnn.initial_state()
    )
    assert np.all(np.isfinite(state[0]))


def weights_vector(path) -> np.ndarray:
    """Every number of a weights file (a JSON list of tensors), in order."""
    return np.concatenate(
        [np.ravel(np.asarray(t, np.float64)) for t in json.loads(path.read_text())]
    )


def test_init_starts_v_and_m_from_given_weights(record, trained, tmp_path):
    """--init: with a vanishing learning rate, training ends where it started; without it,
    it starts from random weights, far from the given ones (V: the trained tiny V; M:
    the authors' M)."""
    given = trained / "tf_vae/vae.json"
    tiny_lr = ("--learning-rate", "1e-12")
    v = ["vae_train.py", "--data", str(record), "--epochs", "1", "--batch-size", "32", *tiny_lr]
    run_in_process(*v, "--out", str(tmp_path / "v"), "--init", str(given))
    run_in_process(*v, "--out", str(tmp_path / "v0"))
    start = weights_vector(given)
    assert np.allclose(weights_vector(tmp_path / "v/vae.json"), start, atol=1e-6)
    assert not np.allclose(weights_vector(tmp_path / "v0/vae.json"), start, atol=1e-2)

    m = ["--series", str(trained / "series"), "--steps", "2", "--batch-size", "2"]
    m += ["--seq-len", "20", *tiny_lr, "--seed", "1"]
    given = SHARED / "reference/original/rnn.json"
    for name, init in (("m", ["--init", str(given)]), ("m1", [])):
        out = ["--out", str(tmp_path / name), "--initial-z", str(tmp_path / name / "z.json")]
        run_in_process("rnn_train.py", *m, *out, *init)
    assert np.allclose(weights_vector(tmp_path / "m/rnn.json"), weights_vector(given), atol=1e-6)
    assert not np.allclose(
        weights_vector(tmp_path / "m1/rnn.json"), weights_vector(given), atol=1e-2
    )
    # a missing file: a one-line error naming it, before any training
    proc = run_in_process(
        *v, "--out", str(tmp_path / "v2"), "--init", str(tmp_path / "no.json"), check=False
    )
    assert proc.returncode == 2 and "no.json" in proc.stderr and not (tmp_path / "v2").exists()


def test_series_and_extract_run_again_keep_their_work(record, trained, vae_reference, tmp_path):
    """series.py over series of another V (the 2-epoch reference, not `trained`'s 1-epoch
    one) stops unless --restart; extract.py again with other flags adds nothing and
    changes no episode."""
    series = tmp_path / "series"
    shutil.copytree(trained / "series", series)
    other_v = vae_reference / "vae.json"
    assert other_v.read_bytes() != (trained / "tf_vae/vae.json").read_bytes()
    cmd = [
        "series.py",
        "--data",
        str(record),
        "--vae",
        str(other_v),
        "--out",
        str(series),
    ]
    kept = tree(series)
    proc = run_in_process(*cmd, check=False)
    assert proc.returncode == 2 and "encoded by another V" in proc.stderr
    assert "--restart" in proc.stderr and tree(series) == kept
    proc = run_in_process(*cmd, "--restart")
    assert "encoding every episode again" in proc.stderr and tree(series) != kept

    episodes = tmp_path / "record"
    shutil.copytree(record, episodes)
    kept = tree(episodes)
    for flags in ([], ["--max-frames", "20"]):
        args = ["--trials", "4", "--max-frames", "48", "--seed", "2", *flags]
        proc = run_script("extract.py", *args, "--out", str(episodes))
        assert "0 new episodes" in proc.stderr and tree(episodes) == kept
