"""Run folders of the recipes in tests: the tiny overnight run made once for the session,
copies of it as it was after a stage, and comparisons of two run folders' results."""

import json
import shutil
from pathlib import Path

import numpy as np
from conftest import script_env

from common import load_episode
from series import load_series


def recipe_env(run: Path, recipe: str) -> dict[str, str]:
    return script_env(RUN=str(run), PRESET="tiny", **{recipe: "1"})


def copy_until(reference: Path, run: Path, last_stage: str, later: list[str]) -> None:
    """`run`: the reference run folder as it was when `last_stage` had finished, without
    the `later` stages' files and times."""
    shutil.copytree(reference, run, symlinks=True)
    for name in ["score.txt", "tracks.csv", "progress.png", "agent.gif", *later]:
        for path in run.glob(name):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    lines = (run / "stage_times.tsv").read_text().splitlines(keepends=True)
    keep = [line.split("\t")[0] for line in lines].index(last_stage) + 1
    (run / "stage_times.tsv").write_text("".join(lines[:keep]))


def files(run):
    return sorted(
        p.relative_to(run)
        for p in run.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(run).parts)
        and "tb" not in p.parts
    )


def without_seconds(path):
    rows = json.loads(path.read_text())
    if path.name.endswith(("hist.json", "hist_best.json")):
        return [row[:1] + row[2:] for row in rows]  # column 1: seconds since the start
    if path.name.endswith("timing.json"):  # [gen, processes, wall, [member seconds]]
        return [[gen, size, len(seconds)] for gen, size, _, seconds in rows]
    return rows


def same(a, b, rel):
    """Whether file `rel` holds the same results in runs a and b."""
    name = str(rel)
    if name.endswith(".npz") and rel.parts[0] == "record":
        x, y = load_episode(a / rel), load_episode(b / rel)
        return all(np.array_equal(x[k], y[k]) for k in x)
    if name.endswith(".npz") and rel.parts[0] == "series":
        x, y = load_series(a / rel), load_series(b / rel)
        return all(np.array_equal(x[k], y[k]) for k in x)
    if "log" in rel.parts and name.endswith(".json"):
        return without_seconds(a / rel) == without_seconds(b / rel)
    if name == "tracks.csv":  # the evaluation's per-track details: no timing in them
        return (a / rel).read_bytes() == (b / rel).read_bytes()
    if name.endswith((".csv", ".tsv", ".png", "checkpoint.npz", ".pkl")):
        return True  # timing columns, or pictures and state already checked through results
    return (a / rel).read_bytes() == (b / rel).read_bytes()
