"""Pieces shared by the pipeline's stages: one-line errors, atomic writes, presets,
and the loading of episode files (`record/*.npz`, SPEC "Extraction")."""

from __future__ import annotations

import numerics  # noqa: F401 - first of all: numpy's arithmetic pinned before it loads

# isort: split

import argparse
import contextlib
import hashlib
import json
import os
import pickle
import signal
import sys
import tempfile
import threading
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

FRAME_SHAPE = (64, 64, 3)
ACTION_DIM = 3


class UserError(Exception):
    """A failed precondition: reported as one line naming the file, exit status 2."""


def run_main(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> int:
    """Run a script's main(); a UserError becomes `prog: error: message` and exit 2."""
    prog = Path(sys.argv[0]).name
    try:
        return main(argv) or 0
    except UserError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        line = f"{prog}: interrupted; finished work is kept, run again to resume"
        if under_mpi() and "mpi4py.MPI" in sys.modules:
            # The other ranks may be waiting in a collective call that will never complete:
            # end them all now. Every file is renamed into place whole, so none is broken.
            abort_job(sys.modules["mpi4py.MPI"].COMM_WORLD, 130, line)
        print(line, file=sys.stderr)
        return 130


# TensorFlow's C++ start-up notices, printed whatever TF_CPP_MIN_LOG_LEVEL says
TF_START_UP_LINES = (
    "All log messages before absl::InitializeLog()",
    "oneDNN custom operations are on",
    "cpu_feature_guard.cc",
    "rebuild TensorFlow with the appropriate compiler flags",
)


@contextlib.contextmanager
def without_matplotlib():
    """Imports inside see matplotlib as missing (an ImportError), unless it is loaded
    already; it stays importable afterwards. cma and Keras import pyplot at start-up
    only to offer plots this project never asks of them, and that import costs 0.3 to
    0.4 s of CPU in every process that loads them (BENCHMARKS.md)."""
    held = "matplotlib" not in sys.modules
    if held:
        sys.modules["matplotlib"] = None
    try:
        yield
    finally:
        if held:
            del sys.modules["matplotlib"]


def import_tensorflow():
    """TensorFlow, imported with its C++ start-up notices held back from stderr (the
    oneDNN notice, absl's warning before its logging starts); any other line passes.
    Keras is imported with it, without matplotlib."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            with without_matplotlib():
                import keras  # noqa: F401 - tensorflow.keras, loaded now while pyplot is held
                import tensorflow
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            for line in caught.read().decode(errors="replace").splitlines(keepends=True):
                if not any(notice in line for notice in TF_START_UP_LINES):
                    sys.stderr.write(line)
            sys.stderr.flush()
    return tensorflow


def mark_job_end() -> None:
    """Tell the script around mpirun that this job's work is done (the file named by
    WORLDMODELS_END_FILE, which common.bash's mpirun_on_hosts watches), if there is one."""
    end = os.environ.get("WORLDMODELS_END_FILE")
    if end:
        Path(end).touch()


def abort_job(comm, code: int, line: str) -> None:
    """Say why in one line, then end every rank of the job (and mpirun) with
    MPI_Abort(code). Over several hosts the line goes to the file WORLDMODELS_ERROR_FILE
    names, which common.bash's mpirun_on_hosts prints once mpirun has ended: the abort may
    end MPI's forwarding of the hosts' output before a line printed just ahead of it got
    through (seen: a lost host's run ended with no line at all)."""
    error = os.environ.get("WORLDMODELS_ERROR_FILE")
    if error:
        atomic_write_text(error, line + "\n")
    else:
        print(line, file=sys.stderr, flush=True)
    comm.Abort(code)
    os._exit(code)  # should Abort come back, with a host gone


def under_mpi() -> bool:
    """True when started by mpirun/mpiexec (MPICH or Open MPI)."""
    return any(v in os.environ for v in ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE"))


def mpi_world():
    """mpi4py's MPI.COMM_WORLD, starting MPI on first use.

    A Ctrl-C while MPI starts ends this process at once: MPI's start-up waits on the
    other ranks and on mpirun inside C code, where Python only notes the interrupt for
    later, so ranks all interrupted there would wait on each other for ever. Ended by the
    signal, a rank takes the job down with it (mpirun ends the others)."""
    if "mpi4py.MPI" not in sys.modules:
        previous = signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            from mpi4py import MPI  # noqa: F401 - MPI_Init
        finally:
            signal.signal(signal.SIGINT, previous)
    return sys.modules["mpi4py.MPI"].COMM_WORLD


class _RunningClock:
    """Monotonic seconds less the time this process was stopped (SIGSTOP: tools/pause.py,
    a terminal's Ctrl-Z). A lost rank is one silent for too long; without this, a job
    paused for longer than that would find its ranks lost on waking, as they all were
    stopped together. A daemon thread reads the clock every TICK seconds, and so does
    every caller: a gap of more than GAP seconds between two reads is a stop. A thread
    kept off the CPU that long (a machine overloaded) is counted as stopped too, which only
    makes a timeout later, never sooner."""

    TICK, GAP = 0.25, 2.0

    def __init__(self):
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._stopped = 0.0
        self._ticker: threading.Thread | None = None

    def _read(self) -> float:
        with self._lock:
            now = time.monotonic()
            if now - self._last > self.GAP:
                self._stopped += now - self._last - self.TICK
            self._last = now
            return now - self._stopped

    def _tick(self) -> None:
        while True:
            time.sleep(self.TICK)
            self._read()

    def __call__(self) -> float:
        if self._ticker is None:  # started on first use: a process that never asks has none
            self._last = time.monotonic()
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self._read()


running_time = _RunningClock()  # running_time(): seconds, for rank timeouts and round times


# ---------------------------------------------------------------- progress bars


class _Lines:
    """A stream for PlainProgress: tqdm's lone carriage returns and newlines are dropped."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        if text.strip("\r\n "):
            self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


class PlainProgress(tqdm):
    """tqdm for logs (CI, nohup, a file): one whole line every `percent` percent or
    `interval` seconds, and a last one when it closes; no carriage returns."""

    def __init__(self, *args, percent: float = 5.0, interval: float = 60.0, **kwargs):
        self._percent, self._interval = percent, interval
        self._shown_at, self._shown_bucket, self._shown_n = None, None, None
        self._closing = False
        self._first = kwargs.get("initial", 0)  # nothing to report before the first update
        kwargs["file"] = _Lines(kwargs.get("file") or sys.stderr)
        kwargs.setdefault("ncols", 100)
        kwargs["mininterval"], kwargs["miniters"] = 0, 1  # display() itself decides
        super().__init__(*args, **kwargs)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        if msg == "" or self.n == self._first or (self._closing and self.n == self._shown_n):
            return True  # nothing done yet, or the last line already says it
        now = time.time()
        bucket = int(100 * self.n / self.total // self._percent) if self.total else None
        if not (
            self._closing
            or self._shown_at is None
            or bucket != self._shown_bucket
            or now - self._shown_at >= self._interval
        ):
            return True
        self._shown_at, self._shown_bucket, self._shown_n = now, bucket, self.n
        self.fp.write((self.__str__() if msg is None else msg).strip() + "\n")
        self.fp.flush()
        return True

    def close(self) -> None:
        self._closing = True
        super().close()


def progress(iterable=None, *, percent: float = 5.0, interval: float = 60.0, **kwargs) -> tqdm:
    """A progress bar: tqdm's own in a terminal, PlainProgress's lines (every `percent`
    percent or `interval` seconds) when stderr is not one (a log file, CI, nohup)."""
    stream = kwargs.get("file") or sys.stderr
    if hasattr(stream, "isatty") and stream.isatty():
        return tqdm(iterable, **kwargs)
    return PlainProgress(iterable, percent=percent, interval=interval, **kwargs)


# ---------------------------------------------------------------- atomic writes


def atomic_write(path: str | os.PathLike, write: Callable[[object], None], mode: str) -> None:
    """Write through `write(fileobj)` to a temporary file beside `path`, then rename it in."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write(path, lambda f: f.write(text), "w")


def atomic_write_json(path: str | os.PathLike, obj: object) -> None:
    atomic_write_text(path, json.dumps(obj))


def write_text_if_changed(path: str | os.PathLike, text: str) -> bool:
    """atomic_write_text, unless the file holds `text` already: its time then stays, so
    what was made from it is not made again. Whether it wrote."""
    path = Path(path)
    try:
        if path.read_text() == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    atomic_write_text(path, text)
    return True


def atomic_write_pickle(path: str | os.PathLike, obj: object) -> None:
    atomic_write(path, lambda f: pickle.dump(obj, f), "wb")


def atomic_savez(path: str | os.PathLike, compress: bool = True, **arrays: np.ndarray) -> None:
    save = np.savez_compressed if compress else np.savez
    atomic_write(path, lambda f: save(f, **arrays), "wb")


def atomic_save_png(path: str | os.PathLike, image) -> None:
    """A PIL image as PNG, written atomically."""
    atomic_write(path, lambda f: image.save(f, format="PNG"), "wb")


def writable_folder(path: str | os.PathLike, what: str) -> Path:
    """`path` as a folder that can be written, made if missing: checked before any work
    starts, so that a bad --out costs nothing; a UserError naming it otherwise."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{path}: exists and is not a folder (expected a folder for {what})")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-check.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UserError(
            f"{path}/: cannot write there ({e.strerror}; expected a writable folder for {what})"
        ) from None
    return path


def writable_file(path: str | os.PathLike, what: str) -> Path:
    """`path` as a file that can be written (its folder made if missing); see
    writable_folder."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a folder (expected a file name for {what})")
    writable_folder(path.parent, what)
    return path


def existing_file(path: str | os.PathLike, what: str) -> Path:
    """`path` as a file that exists; otherwise a UserError naming it and what it should be."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found (expected {what})")
    return path


def read_json(path: str | os.PathLike, what: str) -> object:
    """Load a JSON file, or raise a UserError naming it and what it should hold."""
    path = existing_file(path, what)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not valid JSON (expected {what}): {e}") from None


# ---------------------------------------------------------------- weight files

# The authors' weight format (vae.json, rnn.json): a JSON list with one nested list
# per tensor, each value round(w * 10000) as an int.
WEIGHT_SCALE = 10000.0


def save_weights_json(path: str | os.PathLike, tensors: list[np.ndarray]) -> None:
    qparams = [
        np.round(np.asarray(t, np.float64) * WEIGHT_SCALE).astype(np.int64).tolist()
        for t in tensors
    ]
    atomic_write_text(path, json.dumps(qparams, separators=(",", ":")))


def _skeleton(shape: tuple[int, ...]) -> bytes:
    """A nested list of `shape` as JSON with its numbers left out: (2, 3) -> [[,,],[,,]]."""
    if not shape:
        return b""
    return b"[" + b",".join([_skeleton(shape[1:])] * shape[0]) + b"]"


_WHITESPACE = b" \t\r\n"


def _read_int_tensors(path: Path, shapes: list[tuple[int, ...]]) -> list[np.ndarray] | None:
    """The authors' weights file read at C speed, to the same arrays as the JSON parser
    gives: the tensors when the file is a JSON list of integer tensors of exactly these
    shapes, None for anything else (which the JSON parser then reads and reports). A V
    file holds 4.3 million numbers; json and numpy's conversion of nested lists take
    most of a second, in every process that loads V."""
    text = path.read_bytes()
    packed = text.translate(None, _WHITESPACE)
    skeleton = b"[" + b",".join(_skeleton(tuple(s)) for s in shapes) + b"]"
    if packed.translate(None, b"-0123456789") != skeleton:
        return None  # other shapes, floats, or not the format at all
    if any(empty in packed for empty in (b",,", b"[,", b",]")):
        return None  # a place without a number
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # where numpy stops early: counted below
            numbers = np.fromstring(
                text.translate(bytes.maketrans(b"[],", b"   ")), np.int64, sep=" "
            )
    except ValueError:  # what it cannot read as integers
        return None
    tensors = _split(numbers, shapes)
    if tensors is None:
        return None  # a place with two numbers ("1 2", "1-2"), or a stray sign
    return [t.astype(np.float32) / WEIGHT_SCALE for t in tensors]


def _split(flat: np.ndarray, shapes: list[tuple[int, ...]]) -> list[np.ndarray] | None:
    """`flat` cut, in order, into views of these shapes; None if its length is not theirs."""
    sizes = [int(np.prod(s)) for s in shapes]
    if len(flat) != sum(sizes):
        return None
    ends = np.cumsum(sizes)
    return [
        flat[end - size : end].reshape(shape)
        for end, size, shape in zip(ends, sizes, shapes, strict=True)
    ]


def load_weights_json(
    path: str | os.PathLike, shapes: list[tuple[int, ...]], what: str, cache: bool = False
) -> list[np.ndarray]:
    """Read tensors of the given shapes; a UserError naming the file if they do not fit.

    With `cache`, through a binary copy of the tensors beside the file, named after a
    hash of its text and the shapes (`.vae.json.<hash>.f32`): every process that drives
    the agent loads V, and its 19 MB of text take 0.28 s to read, the copy 0.07 (BENCHMARKS.md).
    The copy is written (atomically) by the first process that reads the file; where
    it cannot be written, the file is read as without it."""
    path = existing_file(path, what)
    if not cache:
        return _parse_weights(path, shapes, what)
    key = hashlib.sha1(path.read_bytes() + repr([tuple(s) for s in shapes]).encode())
    copy = path.with_name(f".{path.name}.{key.hexdigest()[:16]}.f32")
    try:
        tensors = _split(np.fromfile(copy, np.float32), shapes)
        if tensors is not None:
            return [t.copy() for t in tensors]  # each an array of its own, as parsed
    except (OSError, ValueError):
        pass
    tensors = _parse_weights(path, shapes, what)
    try:
        atomic_write(copy, lambda f: f.write(b"".join(t.tobytes() for t in tensors)), "wb")
        for old in path.parent.glob(f".{path.name}.*.f32"):
            if old != copy:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only folder: nothing lost but time
    return tensors


def _parse_weights(path: Path, shapes: list[tuple[int, ...]], what: str) -> list[np.ndarray]:
    tensors = _read_int_tensors(path, shapes)
    if tensors is not None:
        return tensors
    data = read_json(path, what)
    expected = ", ".join(str(list(s)) for s in shapes)
    if not isinstance(data, list) or len(data) != len(shapes):
        n = len(data) if isinstance(data, list) else type(data).__name__
        raise UserError(f"{path}: expected {what}: {len(shapes)} tensors ({expected}), got {n}")
    tensors = []
    for i, (t, shape) in enumerate(zip(data, shapes, strict=True)):
        try:
            a = np.asarray(t, dtype=np.float32) / WEIGHT_SCALE
        except (ValueError, TypeError):
            a = None
        if a is None or a.shape != tuple(shape):
            got = "ragged" if a is None else list(a.shape)
            raise UserError(f"{path}: tensor {i} is {got}, expected {list(shape)} ({what})")
        tensors.append(a)
    return tensors


# ---------------------------------------------------------------- command lines


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose errors are one line, `prog: error: message`, exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _number_type(kind: type, what: str, ok: Callable[[float], bool]) -> Callable[[str], float]:
    """An argparse `type=`: `kind(text)` when it is finite and `ok`, else an error saying
    `what` was expected."""

    def parse(text: str):
        try:
            value = kind(text)
        except (TypeError, ValueError):
            value = None
        if value is None or not np.isfinite(value) or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = what  # argparse names the type in some messages
    return parse


def int_at_least(low: int) -> Callable[[str], int]:
    return _number_type(int, f"an integer >= {low}", lambda v: v >= low)


def float_above(low: float) -> Callable[[str], float]:
    return _number_type(float, f"a number > {low:g}", lambda v: v > low)


def float_at_least(low: float) -> Callable[[str], float]:
    return _number_type(float, f"a number >= {low:g}", lambda v: v >= low)


COUNT = int_at_least(1)  # episodes, steps, batch sizes, workers...
NON_NEGATIVE = int_at_least(0)
SEED = int_at_least(0)  # numpy and gymnasium take seeds >= 0
POSITIVE = float_above(0.0)  # learning rates, sigmas, temperatures


# ---------------------------------------------------------------- presets

# Defaults in each script are the paper's values; a preset overrides some of them
# for one stage. Flags given on the command line still win.
PRESETS: dict[str, dict[str, dict[str, object]]] = {
    "paper": {},
    "tiny": {
        "extract": {"trials": 4, "max_frames": 100},
        "vae_train": {"epochs": 1, "batch_size": 32, "max_files": 16},
        "series": {},
        "rnn_train": {"steps": 20, "batch_size": 8, "seq_len": 99},
        "train": {
            "num_worker": 8,
            "num_episode": 1,
            "eval_steps": 2,
            "eval_episodes": 2,
            "generations": 4,
            "max_steps": 50,
        },
        "model": {"trials": 4, "max_steps": 50},
    },
    # The whole World Model on a 2-core laptop within a 3-hour budget (reproduce.bash; the
    # shipped agent): 2.96 hours measured on a slow 2-core Xeon, about 2.2 on a faster
    # one; CMA-ES is two thirds of it and scales with the agent's steps per second
    # (bench/), V and M with TensorFlow's. docs/pipeline.md says why each number was
    # chosen. M's 7200 steps (about 21 minutes) scored 844.0 and 833.8 (seeds 1 and 2)
    # where 2400 scored 814.4 and 827.7.
    "laptop": {
        "extract": {"trials": 400, "max_frames": 500},
        "vae_train": {"epochs": 2, "learning_rate": 1e-3},
        "series": {},
        "rnn_train": {"steps": 7200, "batch_size": 32, "seq_len": 200},
        "train": {
            "num_worker": 32,
            "num_episode": 4,
            "eval_steps": 5,
            "eval_episodes": 64,
            "early_stop": 50,
            "same_tracks": True,
            "max_sigma": 0.1,
            "average_last": 10,
            "generations": 70,
        },
        "model": {},
    },
}


def parse_with_preset(
    parser: ArgumentParser, stage: str, argv: list[str] | None
) -> argparse.Namespace:
    """Parse `argv` after applying the defaults of `--preset` for this stage."""
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="paper",
        help="named settings; 'tiny' shrinks every stage to run in minutes",
    )
    known, _ = parser.parse_known_args(argv)
    parser.set_defaults(**PRESETS[known.preset].get(stage, {}))
    return parser.parse_args(argv)


# ---------------------------------------------------------------- episode files


class EpisodeError(Exception):
    """An episode file that is truncated, corrupt or of the wrong shape."""


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    """`--data FOLDER...`: the episode folders a stage reads (list_episode_files)."""
    parser.add_argument(
        "--data",
        nargs="+",
        default=["record"],
        metavar="FOLDER",
        help="folders of episode files (several: trained on all of them)",
    )


def run_settings(args, flags: dict[str, str]) -> dict:
    """The values of the flags that make a run what it is ({attribute: flag}), as a
    checkpoint keeps them."""
    return {name: getattr(args, name) for name in flags}


def check_same_run(
    ckpt_path: Path, json_path: Path, settings: dict, flags: dict[str, str], restart: bool
) -> dict | None:
    """Before V or M trains into a folder (and before TensorFlow loads): the progress of
    its checkpoint (`{"step": ...}`), or None to start. With --restart, the checkpoint is
    forgotten; else a checkpoint made with other settings, or weights without a
    checkpoint, are another run's finished work, and a one-line error says how to go on
    or start over."""
    if restart:
        ckpt_path.unlink(missing_ok=True)
        return None
    if not ckpt_path.exists():
        if json_path.exists():
            raise UserError(
                f"{json_path}: weights are there without their checkpoint, so nothing can "
                f"resume them; add --restart to train again over them (or choose another --out)"
            )
        return None
    try:
        with np.load(ckpt_path) as data:
            progress = json.loads(str(data["progress"]))
    except (OSError, ValueError, KeyError) as e:
        raise UserError(
            f"{ckpt_path}: unreadable checkpoint ({e}); add --restart to start again"
        ) from None
    saved = progress.get("settings")
    if saved is None:  # from before checkpoints kept their settings
        return progress
    differ = [
        f"{flags[k]} {saved.get(k)} (this command: {settings[k]})"
        for k in flags
        if saved.get(k) != settings[k]
    ]
    if differ:
        raise UserError(
            f"{ckpt_path}: a run made with {', '.join(differ)}; to go on with it, run the "
            f"command again with those values; to start over, overwriting it, add --restart"
        )
    return progress


def add_restart_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """`--restart`: the explicit way to start a stage over on finished work; without it
    the same command resumes, and a command that would overwrite other work stops."""
    parser.add_argument(
        "--restart",
        action="store_true",
        help=f"start over, overwriting {what} (without it, the same command resumes, "
        "and other settings than the checkpoint's stop with an error)",
    )


def list_episode_files(data_dir: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """The `*.npz` files in `data_dir` (one folder, or several in turn), sorted within each
    folder; a UserError if a folder has none, or if two folders hold the same episode
    name (series.py names its outputs after the episodes)."""
    dirs = [data_dir] if isinstance(data_dir, (str, os.PathLike)) else list(data_dir)
    files: list[Path] = []
    where: dict[str, Path] = {}
    for folder in map(Path, dirs):
        if not folder.is_dir():
            raise UserError(f"{folder}/: folder not found (expected episode files, *.npz)")
        found = sorted(p for p in folder.glob("*.npz") if not p.name.startswith("."))
        if not found:
            raise UserError(f"{folder}/: no episode files (*.npz) found")
        for path in found:
            if path.name in where:
                raise UserError(
                    f"{path}: the same episode name as {where[path.name]} "
                    f"(expected distinct episode seeds in the data folders)"
                )
            where[path.name] = path
        files += found
    return files


def load_episode(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read one episode: `obs` uint8 [T,64,64,3], `action` [T,3] and, where it was
    recorded (not in the authors' files), `reward` float32 [T]; EpisodeError if bad."""
    try:
        with np.load(path) as data:
            if "obs" not in data or "action" not in data:
                raise EpisodeError(f"{path}: missing array 'obs' or 'action'")
            obs, action = data["obs"], data["action"]
            reward = data["reward"] if "reward" in data else None
    except EpisodeError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise EpisodeError(f"{path}: unreadable ({type(e).__name__}: {e})") from None
    if obs.dtype != np.uint8 or obs.ndim != 4 or obs.shape[1:] != FRAME_SHAPE:
        raise EpisodeError(
            f"{path}: obs is {obs.dtype}{list(obs.shape)}, expected uint8[T,64,64,3]"
        )
    if action.ndim != 2 or action.shape != (len(obs), ACTION_DIM):
        raise EpisodeError(f"{path}: action is {list(action.shape)}, expected [{len(obs)},3]")
    if len(obs) == 0:
        raise EpisodeError(f"{path}: empty episode")
    episode = {"obs": obs, "action": action.astype(np.float32)}
    if reward is not None:
        if reward.shape != (len(obs),):
            raise EpisodeError(f"{path}: reward is {list(reward.shape)}, expected [{len(obs)}]")
        episode["reward"] = reward.astype(np.float32)
    return episode


def iter_episodes(files: list[Path]) -> Iterator[tuple[Path, dict[str, np.ndarray]]]:
    """Yield (path, episode) for every readable file; warn about and skip the others."""
    for path in files:
        try:
            yield path, load_episode(path)
        except EpisodeError as e:
            print(f"warning: skipping bad episode file {e}", file=sys.stderr)
