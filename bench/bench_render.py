"""The fast renderer against gymnasium's, in the same run, on the same episodes.

    python bench/bench_render.py [--episodes 3] [--steps 1000]

Both environments step the same actions from the same seeds (random actions, and a
driving policy that steers along the track with gas), whole episodes including the
zoom animation of the first second, one renderer's episode after the other's.
Target: >= 4x gymnasium's steps/s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import numerics  # noqa: E402, F401 - before numpy: the same arithmetic on every CPU

# isort: split

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
from tables import print_table  # noqa: E402

from common import COUNT, ArgumentParser  # noqa: E402
from env import RENDERERS, make_env  # noqa: E402


def episode_seconds(env, seed: int, steps: int, kind: str) -> tuple[float, int]:
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    start = time.perf_counter()
    for t in range(steps):
        if kind == "random":
            action = rng.uniform([-1, 0, 0], [1, 1, 1])
        else:  # gentle weaving with gas: the car moves along, the view changes
            action = np.array([np.sin(t / 25.0) * 0.5, 0.3, 0.0])
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            return time.perf_counter() - start, t + 1
    return time.perf_counter() - start, steps


def compare(seeds: list[int], steps: int, kind: str, wrapped: bool) -> tuple[float, float]:
    """steps/s of each renderer; episodes alternate so that drift in the machine's speed
    falls on both alike. wrapped: through make_env (with the 64x64 preprocessing both
    share), else the bare gymnasium environments."""
    if wrapped:
        envs = {r: make_env(renderer=r, max_episode_steps=steps) for r in RENDERERS}
    else:
        envs = {r: gym.make(RENDERERS[r], max_episode_steps=steps) for r in RENDERERS}
    seconds, count = {r: 0.0 for r in envs}, {r: 0 for r in envs}
    for seed in seeds:
        for r, env in envs.items():
            dt, n = episode_seconds(env, seed, steps, kind)
            seconds[r] += dt
            count[r] += n
    return count["gymnasium"] / seconds["gymnasium"], count["fast"] / seconds["fast"]


def main() -> None:
    parser = ArgumentParser()
    parser.add_argument("--episodes", type=COUNT, default=3)
    parser.add_argument("--steps", type=COUNT, default=1000)
    args = parser.parse_args()
    seeds = list(range(args.episodes))
    rows = []
    for wrapped in (False, True):
        for kind in ("random", "driving"):
            theirs, ours = compare(seeds, args.steps, kind, wrapped)
            rows.append(
                [
                    "`make_env` (64x64 observations)" if wrapped else "bare env (96x96 frame)",
                    {
                        "random": "random (the car stays near the start)",
                        "driving": "driving (weaving with gas)",
                    }[kind],
                    f"{theirs:.1f} steps/s",
                    f"{ours:.1f} steps/s",
                    f"{ours / theirs:.2f}x",
                    ">= 4",
                ]
            )
    print_table(
        "render",
        ["environment", "actions", "gymnasium's renderer", "fast renderer", "speed-up", "target"],
        rows,
    )


if __name__ == "__main__":
    main()
