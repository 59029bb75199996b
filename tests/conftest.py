import fcntl
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
    """Environment for running the project's scripts: the venv first on PATH, one thread."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def run_script(
    *args: str, check: bool = True, timeout: float = 600, env=None, mpirun: int = 0, **kwargs
) -> subprocess.CompletedProcess:
    """Run `python <script> args...` (or bash for *.bash) from the repository root; with
    `mpirun` N, as N MPI processes."""
    cmd = ["bash" if args[0].endswith(".bash") else sys.executable, *args]
    if mpirun:
        cmd = [str(Path(sys.executable).parent / "mpirun"), "-np", str(mpirun), *cmd]
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or script_env(),
        **kwargs,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} failed ({proc.returncode}):\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


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
