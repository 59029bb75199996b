"""What V's and M's training scripts share: checkpoints that hold the model, the
optimizer and the progress in one atomically written file; per-step logs as CSV and
TensorBoard scalars; a stop with a clear error when the loss stops being finite."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from common import UserError, atomic_savez, atomic_write_text, import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402
import numpy as np  # noqa: E402


def save_checkpoint(
    path: Path, model: keras.Model, optimizer: keras.optimizers.Optimizer, progress: dict
) -> None:
    arrays = {f"model_{i}": v.numpy() for i, v in enumerate(model.variables)}
    arrays |= {f"opt_{i}": v.numpy() for i, v in enumerate(optimizer.variables)}
    arrays["progress"] = np.array(json.dumps(progress))
    atomic_savez(path, compress=False, **arrays)


def save_progress(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    json_path: Path,
    ckpt_path: Path,
    step: int,
    start: float,
    settings: dict,
) -> int:
    """Write the weights file, then the checkpoint; returns `step`, the last good step."""
    model.save_json(json_path)
    progress = {"step": step, "seconds": time.time() - start, "settings": settings}
    save_checkpoint(ckpt_path, model, optimizer, progress)
    return step


def load_checkpoint(
    path: Path,
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    init: Path | str | None = None,
) -> dict | None:
    """Restore model and optimizer from `path`; the saved progress, or None if absent. With
    no checkpoint, the model starts from the weights file `init` when one is given (--init):
    a resumed run always takes its checkpoint's."""
    optimizer.build(model.trainable_variables)
    if not path.exists():
        if init is not None:
            model.load_json(init)
        return None
    try:
        with np.load(path) as data:
            for prefix, variables in (("model", model.variables), ("opt", optimizer.variables)):
                for i, v in enumerate(variables):
                    v.assign(data[f"{prefix}_{i}"])
            return json.loads(str(data["progress"]))
    except (OSError, ValueError, KeyError) as e:
        raise UserError(
            f"{path}: unreadable checkpoint ({e}); add --restart to start again"
        ) from None


class TrainLog:
    """Per-step scalars in `OUT/<name>.csv` (for plotting) and TensorBoard (`OUT/tb`).

    Rows after the checkpoint a run resumes from are dropped, so the log of a resumed
    run reads like that of an uninterrupted one.
    """

    def __init__(self, out_dir: Path, name: str, fields: list[str], resume_step: int):
        self.path = out_dir / f"{name}.csv"
        self.fields = ["step", *fields]
        rows = []
        if self.path.exists() and resume_step > 0:
            with open(self.path, newline="") as f:
                rows = [r for r in csv.reader(f)][1:]
            rows = [r for r in rows if r and r[0].isdigit() and int(r[0]) <= resume_step]
        lines = [",".join(self.fields)] + [",".join(r) for r in rows]
        atomic_write_text(self.path, "\n".join(lines) + "\n")
        self.file = open(self.path, "a")
        self.writer = tf.summary.create_file_writer(str(out_dir / "tb"))

    def write(self, step: int, **values: float) -> None:
        self.file.write(
            ",".join([str(step)] + [f"{values[k]:.6g}" for k in self.fields[1:]]) + "\n"
        )
        self.file.flush()
        with self.writer.as_default():
            for k, v in values.items():
                tf.summary.scalar(k, v, step=step)

    def close(self) -> None:
        self.file.close()
        self.writer.close()


def check_finite(loss: float, step: int, weights_path: Path, good_step: int) -> None:
    if not np.isfinite(loss):
        kept = (
            f"the last good weights (step {good_step}) are in {weights_path}"
            if good_step
            else f"no weights were written to {weights_path}"
        )
        raise UserError(
            f"{weights_path.parent}/: loss became {loss} at step {step}; stopped: {kept}"
        )
