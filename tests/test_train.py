"""train.py: logs, MPI, resume, failure."""

import json
import os
import pickle
import re
import shlex
import signal
import subprocess
import sys
import time

import numpy as np
import psutil
import pytest
from conftest import ROOT, run_script, script_env, start_mpirun

from common import save_weights_json
from train import busy_fraction, load_run
from vae.numpy_vae import VAE_SHAPES

BASE = "carracing.cma.1.4"


def train_args(weights, log_dir, generations, *extra):
    return [
        "train.py",
        "-n",
        "4",
        "-t",
        "1",
        "-e",
        "1",
        "--max-steps",
        "40",
        "--eval_steps",
        "2",
        "--eval-episodes",
        "1",
        "--vae",
        str(weights["vae"]),
        "--rnn",
        str(weights["rnn"]),
        "--log-dir",
        str(log_dir),
        "--generations",
        str(generations),
        *extra,
    ]


def mpirun(*args, check=True):
    return run_script(*args, check=check, mpirun=2)


def logs(log_dir):
    return {
        ext: json.loads((log_dir / f"{BASE}.{ext}").read_text())
        for ext in ("json", "hist.json", "best.json", "hist_best.json", "log.json")
    }


def without_seconds(log):
    log = dict(log)
    log["hist.json"] = [row[:1] + row[2:] for row in log["hist.json"]]
    log["hist_best.json"] = [row[:1] + row[2:] for row in log["hist_best.json"]]
    return log


@pytest.fixture(scope="module")
def uninterrupted(weights, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("log")
    run_script(*train_args(weights, log_dir, 3))
    return logs(log_dir)


def test_seeds_pairs_by_default_and_whole_generation_with_same_tracks():
    from train import generation_seeds

    pairs = generation_seeds(7, 3, 6)
    assert pairs[:3] == pairs[3:] and len(set(pairs)) == 3
    assert generation_seeds(7, 3, 6, same_tracks=True) == [pairs[0]] * 6
    assert generation_seeds(7, 4, 6, same_tracks=True) != [pairs[0]] * 6  # new tracks each gen


def test_mpirun_two_processes_writes_the_five_logs(weights, tmp_path, uninterrupted):
    proc = mpirun(*train_args(weights, tmp_path, 3))
    assert "on 2 process(es)" in proc.stderr
    log = logs(tmp_path)
    assert len(log["json"]) == 1 and len(log["json"][0]) == 867
    assert [row[0] for row in log["hist.json"]] == [1, 2, 3]
    assert all(len(row) == 9 for row in log["hist.json"])
    gen, seconds, mean, low, high, std, sigma, mean_len, max_len = log["hist.json"][0]
    assert low <= mean <= high and std >= 0 and 0 < sigma < 0.2 and max_len == 40
    params, score = log["best.json"]
    assert len(params) == 867 and isinstance(score, float)
    assert len(log["hist_best.json"]) == 1
    row = log["hist_best.json"][0]
    assert row[0] == 2 and row[2::2] == ["improvement", "curr", "prev", "best"]
    assert row[5] == score and row[9] == score
    assert row[3] == pytest.approx(row[5] - row[7])
    assert row[7] == log["hist.json"][0][2]  # the first "prev" is generation 1's mean
    assert [entry[0] for entry in log["log.json"]] == [2] and len(log["log.json"][0][2]) == 867
    # the population does not depend on the number of processes: same run as one process
    assert without_seconds(log) == without_seconds(uninterrupted)


def test_resume_after_kill_equals_uninterrupted(weights, tmp_path, uninterrupted):
    cmd = [sys.executable, *train_args(weights, tmp_path, 3)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=script_env(), stderr=subprocess.DEVNULL)
    checkpoint = tmp_path / f"{BASE}.checkpoint.pkl"
    deadline = time.time() + 300
    while time.time() < deadline and not checkpoint.exists():
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = load_run(tmp_path / BASE).gen
    assert 1 <= done < 3
    proc = run_script(*train_args(weights, tmp_path, 3, "--resume"))
    assert f"resuming after generation {done}" in proc.stderr
    assert without_seconds(logs(tmp_path)) == without_seconds(uninterrupted)


def test_failing_worker_stops_the_run_cleanly(weights, tmp_path):
    mpirun(*train_args(weights, tmp_path, 1))
    broken = tmp_path / "nan_vae.json"  # NaN weights: the actions become NaN
    save_weights_json(broken, [np.zeros(s) for s in VAE_SHAPES])
    broken.write_text(broken.read_text().replace("0", "NaN", 1))
    args = train_args(weights, tmp_path, 3, "--resume")
    args[args.index("--vae") + 1] = str(broken)
    proc = mpirun(*args, check=False)
    assert proc.returncode == 2
    assert "ValueError" in proc.stderr and "finite" in proc.stderr
    assert "worker failed in generation 2" in proc.stderr
    assert len(json.loads((tmp_path / f"{BASE}.hist.json").read_text())) == 1
    mpirun(*train_args(weights, tmp_path, 2, "--resume"))  # fixed: goes on
    assert len(json.loads((tmp_path / f"{BASE}.hist.json").read_text())) == 2


def test_the_same_command_again_resumes_and_other_settings_stop(weights, tmp_path, uninterrupted):
    """Run again without --resume over a run's files: the same settings resume (also with
    more --generations); other settings, or logs without a checkpoint, are a one-line
    error that gives both ways on and changes nothing; --restart starts over."""
    run_script(*train_args(weights, tmp_path, 2))
    proc = run_script(*train_args(weights, tmp_path, 3))
    assert "resuming after generation 2 (its checkpoint was there" in proc.stderr
    assert without_seconds(logs(tmp_path)) == without_seconds(uninterrupted)

    def files():
        return {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    kept = files()
    other = train_args(weights, tmp_path, 4, "--sigma_init", "0.2")
    proc = run_script(*other, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    line = proc.stderr.strip()
    assert line.startswith(f"train.py: error: {tmp_path / BASE}.checkpoint.pkl: a run of 3 ")
    assert "--sigma_init 0.1 (this command: 0.2)" in line
    typed = shlex.join(["python", *other])
    assert f"to go on with it: {typed} --resume;" in line
    assert line.endswith(f"to start over, overwriting it: {typed} --restart")
    assert files() == kept
    proc = run_script(*other, "--resume")  # the checkpoint's run, on to generation 4
    assert "resuming after generation 3" in proc.stderr

    (tmp_path / f"{BASE}.checkpoint.pkl").unlink()
    kept = files()
    proc = run_script(*train_args(weights, tmp_path, 4), check=False)
    assert proc.returncode == 2 and "without its checkpoint" in proc.stderr
    assert "--restart" in proc.stderr and files() == kept

    proc = run_script(*train_args(weights, tmp_path, 3, "--restart"))
    assert "starting" in proc.stderr
    assert without_seconds(logs(tmp_path)) == without_seconds(uninterrupted)
    proc = run_script(*train_args(weights, tmp_path, 3, "--resume", "--restart"), check=False)
    assert proc.returncode == 2 and "not allowed with argument" in proc.stderr


def test_resume_without_checkpoint_is_a_clear_error(weights, tmp_path):
    proc = run_script(*train_args(weights, tmp_path, 1, "--resume"), check=False)
    assert proc.returncode == 2 and "no checkpoint" in proc.stderr


def test_average_last_scores_the_averaged_mean_too(weights, tmp_path, uninterrupted):
    run_script(*train_args(weights, tmp_path, 4, "--average-last", "2"))
    log = logs(tmp_path)
    # the search is unchanged: the same populations as without the option
    plain = [row[:1] + row[2:] for row in uninterrupted["hist.json"]]
    assert [row[:1] + row[2:] for row in log["hist.json"]][:3] == plain
    # generations 2 and 4 score the mean, then the average of the last 2 generations' means
    assert [(e[0], e[3:]) for e in log["log.json"]] == [
        (2, []),
        (2, ["average_of_last", 2]),
        (4, []),
        (4, ["average_of_last", 2]),
    ]
    run = load_run(tmp_path / BASE)  # written by train.py as the main program
    assert len(run.recent_means) == 2
    averaged = np.mean(run.recent_means, axis=0)
    assert np.allclose(log["log.json"][-1][2], averaged)
    assert not np.allclose(averaged, log["log.json"][-2][2])  # not the mean itself
    scores = [e[1] for e in log["log.json"]]
    params, score = log["best.json"]
    assert score == max(scores) and params == log["log.json"][scores.index(score)][2]
    assert [row[-2:] for row in log["hist_best.json"]][1] == ["average_of_last", 2]
    assert log["hist_best.json"][-1][9] == score


def test_max_sigma_caps_the_logged_step_size(weights, tmp_path, uninterrupted):
    assert max(row[6] for row in uninterrupted["hist.json"]) > 0.05
    run_script(*train_args(weights, tmp_path, 2, "--max-sigma", "0.05"))
    assert all(0 < row[6] <= 0.0505 for row in logs(tmp_path)["hist.json"])  # C stays near I


def test_checkpoint_is_plain_data(weights, tmp_path):
    """Lists, numbers and strings, and the ES's state as bytes: no class of train.py's,
    so any program can read it, not only train.py run as the main program."""
    run_script(*train_args(weights, tmp_path, 2))

    class PlainOnly(pickle.Unpickler):
        def find_class(self, module, name):
            raise AssertionError(f"the checkpoint refers to {module}.{name}")

    with open(tmp_path / f"{BASE}.checkpoint.pkl", "rb") as f:
        state = PlainOnly(f).load()
    assert state["gen"] == 2 and isinstance(state["es"], bytes)
    assert state["hist"] == json.loads((tmp_path / f"{BASE}.hist.json").read_text())
    assert load_run(tmp_path / BASE).es.current_param().tolist() == logs(tmp_path)["json"][0]


def alive(pids):
    """Those of `pids` still running (mpirun's proxy and ranks run in sessions of their own)."""
    still = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                still.append(pid)
        except psutil.NoSuchProcess:
            pass
    return still


def test_ctrl_c_under_mpirun_stops_every_rank_and_resumes(weights, tmp_path, uninterrupted):
    seed = int(os.environ.get("KILL_SEED", "18"))
    rng = np.random.default_rng(seed)
    checkpoint = tmp_path / f"{BASE}.checkpoint.pkl"
    for attempt in range(4):  # Ctrl-C, then the same command again, as a user would
        proc = start_mpirun(2, *train_args(weights, tmp_path, 3))
        delay = float(rng.uniform(0.5, 4.0))
        print(f"KILL_SEED={seed} attempt {attempt}: Ctrl-C after {delay:.2f} s")
        time.sleep(delay)
        family = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
        start = time.time()
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(f"Ctrl-C after {delay:.2f} s: still running 30 s later") from None
        while alive(family) and time.time() - start < 10:
            time.sleep(0.1)
        assert not alive(family), f"a rank still runs {time.time() - start:.1f} s later"
        # An interrupt during start-up (imports) prints Python's own KeyboardInterrupt
        # traceback, with whatever the library being imported raised on its way out (an
        # enum class interrupted half made gives a KeyError). Once started, the program
        # stops without a traceback, and no exception may appear.
        if "KeyboardInterrupt" in err:  # a start-up traceback, never one through main()
            assert "in run_main" not in err, err[-2000:]
        else:
            errors = [
                line
                for line in err.splitlines()
                if re.match(r"\s*([\w.]+\.)?\w*(Error|Exception)\b", line)
            ]
            assert not errors, err[-2000:]
        if checkpoint.exists():
            load_run(tmp_path / BASE)  # whole and readable
        if "interrupted" in err:
            assert "train.py: interrupted; finished work is kept, run again to resume" in err
    before = load_run(tmp_path / BASE).gen if checkpoint.exists() else 0
    proc = run_script(*train_args(weights, tmp_path, 3))
    if before:  # finished generations are kept, not started again
        assert f"resuming after generation {before}" in proc.stderr, proc.stderr
    assert without_seconds(logs(tmp_path)) == without_seconds(uninterrupted)


def test_a_ctrl_c_while_mpi_starts_ends_the_rank(tmp_path):
    """common.mpi_world starts MPI (mpi4py's import) with Python's SIGINT handler off, so
    that a Ctrl-C there kills the rank instead of being noted for after a start-up that
    waits on the other, interrupted ranks for ever; the handler it had is back afterwards
    (Python's own, or SIG_IGN where the shell started the process in the background)."""
    fake = tmp_path / "mpi4py"  # stands for mpi4py: records the handler MPI starts under
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "MPI.py").write_text(
        "import signal\nDURING = signal.getsignal(signal.SIGINT)\nCOMM_WORLD = 'world'\n"
    )
    code = (
        "import signal, sys; import common; before = signal.getsignal(signal.SIGINT); "
        "world = common.mpi_world(); "
        "print(world, sys.modules['mpi4py.MPI'].DURING is signal.SIG_DFL, "
        "signal.getsignal(signal.SIGINT) is before)"
    )
    env = script_env(PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["world", "True", "True"]


def test_timing_log_gives_each_members_seconds(weights, tmp_path):
    """<base>.timing.json: per generation the processes, the round's wall-clock and each
    member's seconds, from which each rank's busy time follows."""
    mpirun(*train_args(weights, tmp_path, 2))
    timing = json.loads((tmp_path / f"{BASE}.timing.json").read_text())
    assert [row[:2] for row in timing] == [[1, 2], [2, 2]]
    for _, size, wall, seconds in timing:
        assert len(seconds) == 4 and all(s > 0 for s in seconds)
        for rank in range(size):  # rank r evaluated members r, r + 2: within the round
            assert sum(seconds[rank::size]) <= wall + 0.01
        assert 0 < busy_fraction(seconds, size) <= 1


def test_busy_fraction_of_round_robin_ranks():
    assert busy_fraction([1, 1, 1, 5], 1) == 1.0
    assert busy_fraction([1, 1, 1, 5], 2) == 8 / (2 * 6)  # ranks hold 1 + 1 and 1 + 5
    assert busy_fraction([1, 1, 1, 5], 4) == 8 / (4 * 5)  # one member each: the slowest


def test_init_starts_the_search_at_a_controller(tmp_path):
    """--init: generation 1 samples around the shipped controller, so with a small sigma the
    population drives like it (from zeros every car drives straight on, half throttle,
    and leaves the road at the first bend)."""
    shipped = ["--vae", "vae/vae.json", "--rnn", "rnn/rnn.json"]
    args = [
        "train.py",
        "-n",
        "4",
        "-t",
        "1",
        "-e",
        "1",
        "--max-steps",
        "300",
        "--eval_steps",
        "5",
        "--generations",
        "1",
        "--sigma_init",
        "0.001",
        *shipped,
    ]
    run_script(*args, "--log-dir", str(tmp_path / "zeros"))
    run_script(
        *args, "--log-dir", str(tmp_path / "init"), "--init", "log/carracing.cma.8.32.best.json"
    )
    mean_reward = {
        name: json.loads((tmp_path / name / f"{BASE}.hist.json").read_text())[0][2]
        for name in ("zeros", "init")
    }
    assert mean_reward["init"] > mean_reward["zeros"] + 50, mean_reward
    # a controller of another mode is refused before anything is written
    proc = run_script(
        *args,
        "--log-dir",
        str(tmp_path / "bad"),
        "--mode",
        "z",
        "--init",
        "log/carracing.cma.8.32.best.json",
        check=False,
    )
    assert proc.returncode == 2 and "--mode zh" in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert not list((tmp_path / "bad").glob("*.json"))


def test_logs_behind_their_checkpoint_catch_up_on_resume(weights, tmp_path, uninterrupted):
    """A stop between the checkpoint and the logs leaves the logs a generation behind;
    the same command again, even with nothing left to run, writes them from the
    checkpoint. The logs that were up to date are left as they were, so that what was
    made from them (an evaluation, a video) is not made again."""
    run_script(*train_args(weights, tmp_path, 3))
    hist = tmp_path / f"{BASE}.hist.json"
    hist.write_text(json.dumps(json.loads(hist.read_text())[:2]))
    others = [p for p in tmp_path.glob(f"{BASE}.*") if p != hist]
    times = {p: p.stat().st_mtime_ns for p in others}
    proc = run_script(*train_args(weights, tmp_path, 3))
    assert "resuming after generation 3" in proc.stderr
    assert without_seconds(logs(tmp_path)) == without_seconds(uninterrupted)
    assert len(others) >= 6 and {p: p.stat().st_mtime_ns for p in others} == times


def test_fingerprint_covers_the_code_not_the_renderers_build():
    """Hosts compare raster.py, not the build each host's `make venv` made of it (its bytes
    may differ with the host's C compiler; its pixels do not: test_fast_render)."""
    from types import SimpleNamespace

    import raster
    import train

    assert raster.BUILT is not None, "raster.py was not built: run make venv"
    printed = train.fingerprint(SimpleNamespace(vae=None, rnn=None, init=None, dream=None))
    assert "raster.py" in printed and "train.py" in printed
    assert not [name for name in printed if not name.endswith(".py")]
    # a run in M's dream: its reward head and first frames too
    dreaming = SimpleNamespace(
        vae=None, rnn=None, init=None, dream="rnn/rnn.json", initial_z="initial_z/initial_z.json"
    )
    assert set(train.fingerprint(dreaming)) - set(printed) == {
        "rnn/rnn.json",
        "initial_z/initial_z.json",
    }
