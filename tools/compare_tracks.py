"""Compare two agents track for track, from their `model.py norender --details` files.

    python tools/compare_tracks.py runs/overnight/tracks.csv log/carracing.cma.8.32.tracks.csv

Prints each agent's mean +/- standard deviation, median, laps finished, tracks under 500
and steps off the road, then the paired difference (first minus second) with its standard
error: the project ships a new agent when it beats the shipped one by more than two of
them on seeds 0..99 (docs/results.md). Where the files have the lap columns (`steps`,
`tiles_total`, `furthest_tile`), one more line per agent splits its laps: the finished
ones' average and pace (steps a tile of track), and the unfinished ones' average, pace
(steps over the furthest tile reached) and how many were within 5% of the end.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import UserError, existing_file, run_main  # noqa: E402

COLUMNS = ("track", "reward", "lap_finished", "steps_off_road")
LAP_COLUMNS = ("steps", "tiles_total", "furthest_tile")
NEAR_END = 0.95  # an unfinished lap this far round counts as within 5% of the end
SHIP_AT = 2.0  # paired standard errors


def load_tracks(path: Path) -> dict[int, dict[str, float]]:
    """{track: row} of a --details file, every number a float."""
    existing_file(path, "the per-track details (CSV)")
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        missing = [c for c in COLUMNS if not rows or c not in rows[0]]
        if missing:
            raise ValueError(f"no column {missing[0]}")
        tracks = {int(r["track"]): {k: float(v) for k, v in r.items()} for r in rows}
    except (ValueError, TypeError, csv.Error, UnicodeDecodeError) as e:
        raise UserError(
            f"{path}: expected model.py norender --details' CSV, a row per track ({e})"
        ) from None
    if len(tracks) != len(rows):
        raise UserError(f"{path}: a track appears twice")
    return tracks


def summary(tracks: dict[int, dict[str, float]]) -> str:
    rewards = [r["reward"] for r in tracks.values()]
    under = [x for x in rewards if x < 500]
    worst = f" (worst {min(rewards):.0f})" if under else ""
    return (
        f"{statistics.mean(rewards):.1f} +/- {statistics.pstdev(rewards):.1f}, "
        f"median {statistics.median(rewards):.0f}, "
        f"{sum(r['lap_finished'] for r in tracks.values()):.0f} laps finished, "
        f"{len(under)} under 500{worst}, "
        f"{statistics.mean(r['steps_off_road'] for r in tracks.values()):.1f} steps off the road"
    )


def laps(tracks: dict[int, dict[str, float]]) -> str:
    """Finished and unfinished laps: how many, their average reward and their pace, steps
    over the tiles covered (the whole track, or up to the furthest tile reached)."""
    rows = list(tracks.values())
    done = [r for r in rows if r["lap_finished"]]
    short = [r for r in rows if not r["lap_finished"]]
    parts = []
    for group, name, tiles in (
        (done, "finished", "tiles_total"),
        (short, "unfinished", "furthest_tile"),
    ):
        if group:
            pace = statistics.mean(r["steps"] / max(r[tiles], 1) for r in group)
            mean = statistics.mean(r["reward"] for r in group)
            parts.append(f"{len(group)} {name}, average {mean:.1f}, {pace:.2f} steps a tile")
    if short:
        near = sum(r["furthest_tile"] >= NEAR_END * r["tiles_total"] for r in short)
        parts[-1] += f", {near} within {1 - NEAR_END:.0%} of the end"
    return "; ".join(parts)


def paired(first: dict, second: dict) -> tuple[float, float]:
    """Mean and standard error of first minus second, track for track."""
    d = [first[t]["reward"] - second[t]["reward"] for t in sorted(first)]
    se = statistics.stdev(d) / math.sqrt(len(d)) if len(d) > 1 else math.inf
    return statistics.mean(d), se


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path, help="a --details CSV, e.g. the new agent's")
    parser.add_argument("second", type=Path, help="another, on the same tracks")
    args = parser.parse_args(argv)
    first, second = load_tracks(args.first), load_tracks(args.second)
    if set(first) != set(second):
        raise UserError(
            f"{args.second}: expected the same tracks as {args.first} "
            f"({len(first)} tracks, {min(first)}..{max(first)}); it has {len(second)}"
        )
    diff, se = paired(first, second)
    print(f"first:  {summary(first)}  ({args.first})")
    print(f"second: {summary(second)}  ({args.second})")
    verdict = "more" if diff > SHIP_AT * se else "not more"
    print(
        f"first - second over {len(first)} tracks: {diff:+.1f}, standard error {se:.1f} "
        f"({diff / se:+.1f} SE): {verdict} than {SHIP_AT:g} standard errors ahead"
    )
    if all(c in row for c in LAP_COLUMNS for t in (first, second) for row in t.values()):
        print(f"first laps:  {laps(first)}")
        print(f"second laps: {laps(second)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
