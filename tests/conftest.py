import contextlib
import fcntl
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))
import numerics  # noqa: E402, F401 - before numpy: the same arithmetic on every CPU

# isort: split
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def script_env(**extra: str) -> dict[str, str]:
    """Environment for running the project's scripts: the venv first on PATH, one thread,
    MPI ranks that sleep while they wait (as common.bash sets them for the scripts)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.update(MPIR_CVAR_CH4_PROGRESS_THROTTLE="1", MPIR_CVAR_ENABLE_HEAVY_YIELD="1")
    env.update(extra)
    return env


MPIRUN = str(Path(sys.executable).parent / "mpirun")


def start_mpirun(processes: int, *args: str) -> subprocess.Popen:
    """Start `python args...` under mpirun on that many processes, in a session of its own
    (a signal to its group is a terminal's), standard error piped, output dropped."""
    return subprocess.Popen(
        [MPIRUN, "-np", str(processes), sys.executable, *args],
        cwd=ROOT,
        env=script_env(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_script(
    *args: str, check: bool = True, timeout: float = 600, env=None, mpirun: int = 0, **kwargs
) -> subprocess.CompletedProcess:
    """Run `python <script> args...` (or bash for *.bash) from the repository root; with
    `mpirun` N, as N MPI processes."""
    cmd = ["bash" if args[0].endswith(".bash") else sys.executable, *args]
    if mpirun:
        cmd = [MPIRUN, "-np", str(mpirun), *cmd]
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or script_env(),
        **kwargs,
    )
    if check:
        succeeded(proc, args)
    return proc


def succeeded(proc: subprocess.CompletedProcess, args) -> None:
    """An AssertionError with the end of its output unless `proc` (running `args`) exited 0."""
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} failed ({proc.returncode}):\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )


def shared_run(tmp_path_factory, name: str, make) -> tuple[Path, subprocess.CompletedProcess]:
    """A run folder that `make(folder)` fills once for every pytest-xdist process of the
    session (a module fixture alone is made once per process): (folder, make's output)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by the workers of this session
    run, saved = base / name / "run", base / name / "output.json"
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait for the first to finish
        if not saved.exists():
            run.parent.mkdir(exist_ok=True)
            proc = make(run)
            saved.write_text(json.dumps([proc.args, proc.returncode, proc.stdout, proc.stderr]))
    return run, subprocess.CompletedProcess(*json.loads(saved.read_text()))


def run_in_process(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`run_script(script, args...)` for a TensorFlow script (vae_train.py, series.py,
    rnn_train.py) run in this test process: its main(), as `python script` runs it, with
    its output caught. TensorFlow then starts once per test process rather than once per
    run (about 5 s of CPU for a tiny V run of its own, more than the training). The weights
    are the same bytes: test_vae_killed_mid_epoch_resumes compares a run started as a
    process of its own with one made here."""
    import importlib

    from common import run_main

    module = importlib.import_module(Path(args[0]).stem)
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = list(args)  # the program name in its messages
    try:
        with (
            contextlib.chdir(ROOT),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                code = run_main(module.main, list(args[1:]))
            except SystemExit as e:  # argparse's errors
                code = e.code if isinstance(e.code, int) else int(e.code is not None)
    finally:
        sys.argv = argv
    proc = subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())
    if check:
        succeeded(proc, args)
    return proc


# The order the tests are handed out in (`make test`: pytest-xdist, --dist load, one test
# at a time): the longest first, so that the last minute is short tests on every core,
# and the shared tiny overnight run first of all, as three tests wait for it (these come
# after the long ones, by when it is made). CPU seconds each, on a quiet 2-core machine
# (2026-12-06); a test not named here is short.
LONG_TESTS = {
    "test_iterate.py::test_overnight_end_to_end": 1000,
    "test_kill_resume.py::test_kills_at_random_moments_resume_to_the_same_result": 34,
    "test_demo.py::test_demo_end_to_end": 32,
    "test_world_model_training.py::test_init_starts_v_and_m_from_given_weights": 23,
    "test_world_model_training.py::test_gpu_jobs_tiny_preset_installs_weights": 23,
    "test_bad_input.py::test_bad_invocations_fail_in_one_line_and_write_nothing": 18,
    "test_world_model_training.py::test_vae_resume_equals_uninterrupted": 17,
    "test_world_model_training.py::test_vae_killed_mid_epoch_resumes": 17,
    "test_shipped.py::test_published_score_is_the_shipped_agents": 15,
    "test_multihost.py::test_cma_es_on_two_hosts_and_four_processes_gives_the_one_host_logs": 14,
    "test_world_model_training.py::test_series_any_length": 13,
    "test_world_model_training.py::test_rnn_train_resume_and_outputs": 13,
    "test_multihost.py::test_a_host_cut_off_mid_run_costs_nothing": 11,
    "test_iterate.py::test_overnight_stopped_with_ctrl_c_and_resumed_without_its_episodes": 10,
    "test_iterate.py::test_iterate_end_to_end": 10,
    "test_kill_resume.py::test_the_evaluation_says_why_each_track_scored_what_it_did": 10,
    "test_multihost.py::test_an_extraction_that_loses_a_host_ends_and_resumes": 9,
    "test_multihost.py::test_norender_across_hosts_prints_the_one_process_scores": 8,
    "test_multihost.py::test_extract_over_two_hosts_writes_the_one_host_episodes": 8,
    "test_train.py::test_the_same_command_again_resumes_and_other_settings_stop": 8,
    "test_train.py::test_ctrl_c_under_mpirun_stops_every_rank_and_resumes": 8,
    "test_train.py::test_failing_worker_stops_the_run_cleanly": 8,
    "test_world_model_training.py::test_untrained_m_is_made_from_its_seed": 7,
    "test_fast_render.py::test_same_observations_rewards_and_physics[0-random]": 7,
    "test_fast_render.py::test_same_observations_rewards_and_physics[5-steer]": 7,
    "test_multihost.py::test_other_code_or_weights_on_a_host_is_a_one_line_error": 7,
    "test_train.py::test_mpirun_two_processes_writes_the_five_logs": 7,
}


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: -LONG_TESTS.get(item.nodeid.removeprefix("tests/"), 0))


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def weights(tmp_path_factory):
    """A random V (numpy, saved in the authors' format) and the authors' M."""
    import numpy as np

    from common import save_weights_json
    from vae.numpy_vae import VAE_SHAPES

    rng = np.random.default_rng(0)
    tensors = [
        rng.standard_normal(s) * (0.0 if len(s) == 1 else 1.0 / np.sqrt(np.prod(s[:-1])))
        for s in VAE_SHAPES
    ]
    folder = tmp_path_factory.mktemp("weights")
    save_weights_json(folder / "vae.json", tensors)
    return {"vae": folder / "vae.json", "rnn": SHARED / "reference/original/rnn.json"}


@pytest.fixture(scope="session")
def overnight(tmp_path_factory):
    """The tiny overnight recipe, uninterrupted: (run folder, the first run's output),
    made once for all the test processes."""

    from run_folders import recipe_env

    def make(run: Path):
        return run_script("reproduce.bash", env=recipe_env(run, "OVERNIGHT"), timeout=900)

    return shared_run(tmp_path_factory, "overnight", make)
