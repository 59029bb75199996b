"""The fast renderer against gymnasium's, in the same run, on the same episodes.

    python bench/bench_render.py [--episodes 3] [--steps 1000]

Both environments step the same actions from the same seeds (random actions, and a
driving policy that steers along the track with gas), whole episodes including the
zoom animation of the first second. Target: >= 4x gymnasium's steps/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from env import make_env  # noqa: E402


def steps_per_s(renderer: str, seeds: list[int], steps: int, kind: str) -> float:
    env = make_env(renderer=renderer, max_episode_steps=steps)
    total, start = 0, time.perf_counter()
    for seed in seeds:
        rng = np.random.default_rng(seed)
        env.reset(seed=seed)
        for t in range(steps):
            if kind == "random":
                action = rng.uniform([-1, 0, 0], [1, 1, 1])
            else:  # gentle weaving with gas: the car moves along, the view changes
                action = np.array([np.sin(t / 25.0) * 0.5, 0.3, 0.0])
            total += 1
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                break
    return total / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    seeds = list(range(args.episodes))
    print(f"{args.episodes} episodes x {args.steps} steps, one core")
    for kind in ("random", "driving"):
        theirs = steps_per_s("gymnasium", seeds, args.steps, kind)
        ours = steps_per_s("fast", seeds, args.steps, kind)
        print(f"{kind:8s} actions: gymnasium {theirs:6.1f} steps/s, fast {ours:6.1f} steps/s, "
              f"speed-up {ours / theirs:.2f}x (target >= 4)")


if __name__ == "__main__":
    main()
