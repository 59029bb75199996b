"""Plot CMA-ES training progress from a run's logs (SPEC "CMA-ES training", log files).

    python plot_training_progress.py log/carracing.cma.16.64 --out progress.png

Reads LOG_BASE.hist.json (every generation: mean, min, max reward) and, when present,
LOG_BASE.hist_best.json (every evaluation of the mean). Plots them against generation
and against wall-clock hours, with the paper's 900 line. `plot_training_progress.ipynb`
calls `plot()` from here.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from common import UserError, read_json, run_main

SOLVED = 900.0


def load_history(base: str | os.PathLike) -> tuple[np.ndarray, np.ndarray | None]:
    """hist [gen, hours, mean, min, max] and evaluations [gen, hours, score] (or None)."""
    hist_path = Path(f"{base}.hist.json")
    rows = read_json(hist_path, "a list of [gen, seconds, mean, min, max, ...] rows")
    try:
        hist = np.array([[float(r[0]), float(r[1]) / 3600, float(r[2]), float(r[3]),
                          float(r[4])] for r in rows])
    except (TypeError, ValueError, IndexError, KeyError):
        hist = None
    if hist is None or hist.ndim != 2 or len(hist) == 0:
        raise UserError(f"{hist_path}: expected a non-empty list of rows [gen, seconds, "
                        f"mean_reward, min_reward, max_reward, ...]")
    best_path = Path(f"{base}.hist_best.json")
    if not best_path.exists():
        return hist, None
    rows = read_json(best_path, 'a list of [gen, seconds, "improvement", x, "curr", x, ...]')
    try:
        evals = np.array([[float(r[0]), float(r[1]) / 3600, float(r[5])] for r in rows
                          if r[4] == "curr"]).reshape(-1, 3)
    except (TypeError, ValueError, IndexError, KeyError):
        evals = None
    if evals is None or (rows and len(evals) != len(rows)):
        raise UserError(f'{best_path}: expected rows [gen, seconds, "improvement", x, '
                        f'"curr", x, "prev", x, "best", x]')
    return hist, evals if len(evals) else None


def plot(base: str | os.PathLike, title: str | None = None):
    """A matplotlib Figure: progress against generation (left) and hours (right)."""
    import matplotlib

    if "ipykernel" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hist, evals = load_history(base)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
    for ax, col, label in ((axes[0], 0, "generation"), (axes[1], 1, "wall-clock hours")):
        x = hist[:, col]
        ax.fill_between(x, hist[:, 3], hist[:, 4], color="tab:blue", alpha=0.2,
                        label="population min..max")
        ax.plot(x, hist[:, 2], color="tab:blue", lw=1.2, label="population mean")
        if evals is not None:
            ax.plot(evals[:, col], evals[:, 2], "o-", color="tab:orange", ms=3,
                    label="mean parameters, evaluation")
        ax.axhline(SOLVED, color="tab:red", ls="--", lw=1, label="900 (paper: solved)")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("reward")
    axes[0].legend(loc="lower right", fontsize=8)
    fig.suptitle(title or f"CMA-ES training progress: {Path(base).name}")
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Plot training progress from a run's logs.")
    parser.add_argument("log_base", help="e.g. log/carracing.cma.16.64")
    parser.add_argument("--out", default=None, help="PNG to write (default: LOG_BASE.png)")
    parser.add_argument("--title", default=None)
    args = parser.parse_args(argv)
    out = Path(args.out or f"{args.log_base}.png")
    fig = plot(args.log_base, args.title)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp.png")
    fig.savefig(tmp, dpi=100)
    os.replace(tmp, out)
    print(f"plot_training_progress: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
