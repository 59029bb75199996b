"""Plot CMA-ES training progress from a run's logs (SPEC "CMA-ES training", log files).

    python plot_training_progress.py log/carracing.cma.16.64 --out progress.png
    python plot_training_progress.py log/carracing.cma.4.32 \
        --against ../shared/reference/original/carracing.cma.16.64 --out compare.png

Reads LOG_BASE.hist.json (every generation: mean, min, max reward) and, when present,
LOG_BASE.hist_best.json (every evaluation of the mean, and of averaged means). Plots
them against generation and against wall-clock hours, with the paper's 900 line. With
--against, plots several runs on a common axis of environment steps instead: a
generation costs population x episodes x mean episode length steps (the population and
the episodes per member are read from the name, `<env>.<optimizer>.<episodes>.<popsize>`;
the mean length from hist.json), evaluations of the mean not counted. `plot_training_progress.ipynb`
calls `plot()` from here.
"""

from __future__ import annotations

import numerics  # noqa: F401 - first of all: numpy's arithmetic pinned before it loads

# isort: split

import os
import sys
from pathlib import Path

import numpy as np

from common import (
    ArgumentParser,
    UserError,
    atomic_write,
    read_json,
    run_main,
    writable_file,
)

SOLVED = 900.0


def load_history(base: str | os.PathLike) -> tuple[np.ndarray, np.ndarray | None]:
    """hist [gen, hours, mean, min, max] and evaluations [gen, hours, score] (or None)."""
    hist, evals, _ = _load(base, columns=5)
    return hist, evals


def load_averaged(base: str | os.PathLike) -> np.ndarray | None:
    """Evaluations of averaged means (train.py --average-last): [gen, hours, score]."""
    return _load(base, columns=5)[2]


def _load(
    base: str | os.PathLike, columns: int
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """hist.json's first `columns` values per row (seconds as hours), the evaluations of
    the mean and those of averaged means (train.py --average-last)."""
    hist_path = Path(f"{base}.hist.json")
    rows = read_json(hist_path, "a list of [gen, seconds, mean, min, max, ...] rows")
    try:
        hist = np.array(
            [[float(r[0]), float(r[1]) / 3600] + [float(v) for v in r[2:columns]] for r in rows]
        )
    except (TypeError, ValueError, IndexError, KeyError):
        hist = None
    if hist is None or hist.ndim != 2 or len(hist) == 0 or hist.shape[1] != columns:
        raise UserError(
            f"{hist_path}: expected a non-empty list of rows [gen, seconds, "
            f"mean_reward, min_reward, max_reward, ...]"
        )
    best_path = Path(f"{base}.hist_best.json")
    if not best_path.exists():
        return hist, None, None
    rows = read_json(best_path, 'a list of [gen, seconds, "improvement", x, "curr", x, ...]')
    try:
        plain = [r for r in rows if r[4] == "curr" and len(r) == 10]
        averaged = [r for r in rows if r[4] == "curr" and r[10:11] == ["average_of_last"]]
        evals, evals_averaged = (
            np.array([[float(r[0]), float(r[1]) / 3600, float(r[5])] for r in part]).reshape(-1, 3)
            for part in (plain, averaged)
        )
    except (TypeError, ValueError, IndexError, KeyError):
        evals = None
    if evals is None or len(plain) + len(averaged) != len(rows):
        raise UserError(
            f'{best_path}: expected rows [gen, seconds, "improvement", x, '
            f'"curr", x, "prev", x, "best", x]'
        )
    return (hist, evals if len(evals) else None, evals_averaged if len(evals_averaged) else None)


def plot(base: str | os.PathLike, title: str | None = None):
    """A matplotlib Figure: progress against generation (left) and hours (right)."""
    import matplotlib

    if "ipykernel" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hist, evals, averaged = _load(base, columns=5)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
    for ax, col, label in ((axes[0], 0, "generation"), (axes[1], 1, "wall-clock hours")):
        x = hist[:, col]
        ax.fill_between(
            x, hist[:, 3], hist[:, 4], color="tab:blue", alpha=0.2, label="population min..max"
        )
        ax.plot(x, hist[:, 2], color="tab:blue", lw=1.2, label="population mean")
        if evals is not None:
            ax.plot(
                evals[:, col],
                evals[:, 2],
                "o-",
                color="tab:orange",
                ms=3,
                label="mean parameters, evaluation",
            )
        if averaged is not None:
            ax.plot(
                averaged[:, col],
                averaged[:, 2],
                "s",
                color="tab:green",
                ms=4,
                label="averaged means, evaluation",
            )
        ax.axhline(SOLVED, color="tab:red", ls="--", lw=1, label="900 (paper: solved)")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("reward")
    axes[0].legend(loc="lower right", fontsize=8)
    fig.suptitle(title or f"CMA-ES training progress: {Path(base).name}")
    fig.tight_layout()
    return fig


def steps_history(base: str | os.PathLike) -> tuple[np.ndarray, np.ndarray | None]:
    """Cumulative environment steps after each generation with the population mean
    [steps, mean] and the evaluations [steps, score] (or None)."""
    parts = Path(base).name.split(".")
    try:
        episodes, popsize = int(parts[-2]), int(parts[-1])
    except (ValueError, IndexError):
        raise UserError(
            f"{base}: expected a log base named <env>.<optimizer>.<episodes>."
            f"<popsize>, e.g. log/carracing.cma.16.64"
        ) from None
    hist, evals, _ = _load(base, columns=8)
    steps = np.cumsum(popsize * episodes * hist[:, 7])
    at_gen = dict(zip(hist[:, 0], steps, strict=True))
    curve = np.stack([steps, hist[:, 2]], axis=1)
    if evals is None:
        return curve, None
    return curve, np.array([[at_gen.get(g, np.nan), score] for g, _, score in evals])


def plot_steps(bases: list[str | os.PathLike], labels: list[str], title: str | None = None):
    """A matplotlib Figure: several runs against millions of environment steps, on a linear
    axis over the first run's span (left) and on a log axis over all of them (right)."""
    import matplotlib

    if "ipykernel" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [steps_history(b) for b in bases]
    span = runs[0][0][-1, 0] / 1e6
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
    colors = ["tab:blue", "tab:green", "tab:purple", "tab:brown"]
    for ax, log_x in ((axes[0], False), (axes[1], True)):
        for (curve, evals), label, color in zip(runs, labels, colors, strict=False):
            ax.plot(
                curve[:, 0] / 1e6,
                curve[:, 1],
                color=color,
                lw=1.2,
                label=f"{label}: population mean",
            )
            if evals is not None:
                ax.plot(
                    evals[:, 0] / 1e6,
                    evals[:, 1],
                    "o-",
                    color=color,
                    ms=3,
                    lw=0.8,
                    alpha=0.7,
                    mfc="white",
                    label=f"{label}: evaluation of the mean",
                )
        ax.axhline(SOLVED, color="tab:red", ls="--", lw=1, label="900 (paper: solved)")
        ax.grid(alpha=0.3)
        if log_x:
            ax.set_xscale("log")
            ax.set_xlabel("million environment steps (log scale, every run whole)")
        else:
            ax.set_xlim(0, span * 1.5)
            ax.set_xlabel(f"million environment steps (first {span * 1.5:.3g}M)")
    axes[0].set_ylabel("reward")
    axes[0].legend(loc="lower right", fontsize=8)
    fig.suptitle(title or "CMA-ES training progress against environment steps")
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description="Plot training progress from a run's logs.")
    parser.add_argument("log_base", help="e.g. log/carracing.cma.16.64")
    parser.add_argument("--out", default=None, help="PNG to write (default: LOG_BASE.png)")
    parser.add_argument("--title", default=None)
    parser.add_argument(
        "--against",
        action="append",
        default=[],
        metavar="LOG_BASE",
        help="another run to plot on a common axis of environment steps (repeatable)",
    )
    parser.add_argument(
        "--labels", default=None, help="comma-separated names of the runs, with --against"
    )
    args = parser.parse_args(argv)
    out = writable_file(args.out or f"{args.log_base}.png", "the plot")
    if args.against:
        bases = [args.log_base, *args.against]
        labels = args.labels.split(",") if args.labels else [Path(b).name for b in bases]
        if len(labels) != len(bases):
            parser.error(f"--labels names {len(labels)} runs, expected {len(bases)}")
        fig = plot_steps(bases, labels, args.title)
    else:
        fig = plot(args.log_base, args.title)
    atomic_write(out, lambda f: fig.savefig(f, format="png", dpi=100), "wb")
    print(f"plot_training_progress: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
