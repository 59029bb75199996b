"""Extraction throughput against the bare environment, measured in the same run.

    python bench/bench_extract.py [--episodes 2] [--frames 1000]

1. bare: gymnasium's CarRacing-v3 stepping random actions (no preprocessing, no saving);
2. ours: extract.py's loop (random policy, frame preprocessing, compressed atomic save)
   over the same seeds, in this process;
3. extract.bash with 1 worker and with 2 workers (whole processes, start-up included),
   alternated, best of --repeats runs each.
Targets: ours >= 0.9 x bare; 2 workers >= 1.8 x 1 worker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import numerics  # noqa: E402, F401 - before numpy: the same arithmetic on every CPU

# isort: split

import gymnasium as gym  # noqa: E402
from tables import print_table  # noqa: E402

from common import COUNT, ArgumentParser, atomic_savez  # noqa: E402
from env import make_env  # noqa: E402
from extract import episode_seeds, random_policy_episode  # noqa: E402


def bare_steps_per_s(seeds: list[int], frames: int) -> float:
    env = gym.make("CarRacing-v3", max_episode_steps=frames)
    env.action_space.seed(0)
    steps, start = 0, time.perf_counter()
    for seed in seeds:
        env.reset(seed=seed)
        for _ in range(frames):
            steps += 1
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                break
    return steps / (time.perf_counter() - start)


def ours_steps_per_s(seeds: list[int], frames: int, out: Path) -> float:
    env = make_env(full_episode=True, max_episode_steps=frames)
    steps, start = 0, time.perf_counter()
    for seed in seeds:
        obs, action, reward = random_policy_episode(env, seed, frames)
        atomic_savez(out / f"{seed}.npz", obs=obs, action=action, reward=reward)
        steps += len(obs)
    return steps / (time.perf_counter() - start)


def workers_steps_per_s(workers: int, episodes: int, frames: int, out: Path) -> float:
    env = dict(os.environ, WORKERS=str(workers))
    start = time.perf_counter()
    subprocess.run(
        [
            "bash",
            str(ROOT / "extract.bash"),
            "--trials",
            str(episodes),
            "--max-frames",
            str(frames),
            "--seed",
            "1",
            "--out",
            str(out),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    return workers * episodes * frames / (time.perf_counter() - start)


def main() -> None:
    parser = ArgumentParser()
    parser.add_argument("--episodes", type=COUNT, default=2)
    parser.add_argument("--frames", type=COUNT, default=1000)
    parser.add_argument("--repeats", type=COUNT, default=3, help="runs of each worker count")
    args = parser.parse_args()
    seeds = episode_seeds(0, args.episodes)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bare = bare_steps_per_s(seeds, args.frames)
        ours = ours_steps_per_s(seeds, args.frames, tmp)
        # Alternate the two settings and keep each one's best of --repeats: this
        # machine's speed drifts between runs by more than the effect measured.
        one, two = 0.0, 0.0
        for r in range(args.repeats):
            one = max(one, workers_steps_per_s(1, args.episodes, args.frames, tmp / f"a{r}"))
            two = max(two, workers_steps_per_s(2, args.episodes, args.frames, tmp / f"b{r}"))
    print_table(
        "extract",
        ["what", "steps/s", "ratio", "target"],
        [
            [
                "bare `CarRacing-v3` (gymnasium's renderer), random actions",
                f"{bare:.1f}",
                "1.00",
                "",
            ],
            [
                "`extract.py` loop (random policy, preprocessing, compressed atomic save, fast "
                "renderer)",
                f"{ours:.1f}",
                f"{ours / bare:.2f} x bare",
                ">= 0.90",
            ],
            [
                f"`extract.bash`, 1 worker (process start-up included; best of {args.repeats})",
                f"{one:.1f}",
                "",
                "",
            ],
            [
                f"`extract.bash`, 2 workers (best of {args.repeats}, alternating with 1 worker)",
                f"{two:.1f}",
                f"{two / one:.2f} x 1 worker",
                ">= 1.80",
            ],
        ],
    )


if __name__ == "__main__":
    main()
