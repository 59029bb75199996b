"""Agent rollouts and CMA-ES generations, each against a baseline in the same run.

    python bench/bench_agent.py [--episodes 2] [--gen-steps 500]

1. steps/s of the shipped agent (vae/vae.json, rnn/rnn.json, log/*.best.json) driving
   whole episodes (model.py's rollout: fast renderer, numpy V, M and C) against the bare
   CarRacing-v3 stepping the same actions on the same seeds (so it draws the same views;
   also shown: random actions), and against the same agent on gymnasium's renderer; each
   the best of --repeats runs, alternated; target >= 0.85 x the bare environment;
2. seconds per CMA-ES generation (population 8, 1 episode each; the evaluation round of
   `timing.json`) with 1 and with 2 MPI processes, alternated, best of --repeats runs
   each; target speed-up >= 1.8 x.
"""

from __future__ import annotations

import json
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
import numpy as np  # noqa: E402
from bench_extract import bare_steps_per_s  # noqa: E402
from tables import print_table  # noqa: E402

from common import COUNT, ArgumentParser  # noqa: E402
from env import make_env  # noqa: E402
from model import Agent, load_controller_params  # noqa: E402

VAE, RNN = ROOT / "vae/vae.json", ROOT / "rnn/rnn.json"


def agent_steps_per_s(agent: Agent, seeds: list[int], frames: int, renderer: str = "fast"):
    """Steps/s of the agent's rollouts, and the actions it took (for the baseline)."""
    env = make_env(max_episode_steps=frames, renderer=renderer)
    # warm up (the renderer's compiled code loads on the first frame drawn): not timed
    agent.rollout(env, np.random.default_rng(0), seed=0, max_steps=5)
    actions: list[list[np.ndarray]] = []
    step = env.step

    def recording_step(action):
        actions[-1].append(np.asarray(action, np.float64))
        return step(action)

    env.step = recording_step
    steps, start = 0, time.perf_counter()
    for seed in seeds:
        actions.append([])
        steps += agent.rollout(env, np.random.default_rng(seed), seed=seed, max_steps=frames)[1]
    return steps / (time.perf_counter() - start), actions


def replay_steps_per_s(seeds: list[int], actions: list[list[np.ndarray]]) -> float:
    """The bare env stepping the agent's own actions: same tracks, same views to draw."""
    env = gym.make("CarRacing-v3")
    steps, start = 0, time.perf_counter()
    for seed, episode in zip(seeds, actions, strict=True):
        env.reset(seed=seed)
        for action in episode:
            env.step(action)
            steps += 1
    return steps / (time.perf_counter() - start)


def seconds_per_generation(procs: int, log_dir: Path, max_steps: int) -> float:
    cmd = [
        sys.executable,
        "train.py",
        "-n",
        "8",
        "-e",
        "1",
        "--max-steps",
        str(max_steps),
        "--eval_steps",
        "1000",
        "--generations",
        "2",
        "--vae",
        str(VAE),
        "--rnn",
        str(RNN),
        "--log-dir",
        str(log_dir),
    ]
    if procs > 1:
        cmd = [str(Path(sys.executable).parent / "mpirun"), "-np", str(procs), *cmd]
    subprocess.run(
        cmd,
        cwd=ROOT,
        check=True,
        capture_output=True,
        env=dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1"),
    )
    # each generation's evaluation round, timed to the millisecond (hist.json's seconds
    # are whole numbers, too coarse for rounds of a few seconds)
    timing = json.loads((log_dir / "carracing.cma.1.8.timing.json").read_text())
    return sum(wall for _, _, wall, _ in timing) / len(timing)


def main() -> None:
    parser = ArgumentParser()
    parser.add_argument("--episodes", type=COUNT, default=2)
    parser.add_argument("--frames", type=COUNT, default=1000)
    parser.add_argument("--gen-steps", type=COUNT, default=500)
    parser.add_argument("--repeats", type=COUNT, default=3, help="runs of each process count")
    args = parser.parse_args()
    seeds = list(range(100, 100 + args.episodes))
    controller = next((ROOT / "log").glob("*.best.json"))
    agent = Agent.from_files(VAE, RNN)
    agent.controller.set_params(load_controller_params(controller))
    bare = bare_steps_per_s(seeds, args.frames)
    # Best of --repeats each, alternated: a run of two episodes drifts by about 5% with
    # this machine. The replay steps the actions of the first run.
    ours, actions = agent_steps_per_s(agent, seeds, args.frames)
    replay = replay_steps_per_s(seeds, actions)
    theirs, _ = agent_steps_per_s(agent, seeds, args.frames, renderer="gymnasium")
    for _ in range(args.repeats - 1):
        ours = max(ours, agent_steps_per_s(agent, seeds, args.frames)[0])
        replay = max(replay, replay_steps_per_s(seeds, actions))
        theirs = max(theirs, agent_steps_per_s(agent, seeds, args.frames, "gymnasium")[0])
    # Alternated, best of --repeats each: this machine's speed drifts between runs.
    one, two = float("inf"), float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            one = min(one, seconds_per_generation(1, Path(tmp) / f"a{r}", args.gen_steps))
            two = min(two, seconds_per_generation(2, Path(tmp) / f"b{r}", args.gen_steps))
    steps = f"{args.episodes} x {args.frames}-step episodes"
    print_table(
        "agent",
        ["what", "figure", "ratio", "target"],
        [
            [f"bare `CarRacing-v3`, random actions ({steps})", f"{bare:.1f} steps/s", "", ""],
            [
                f"bare `CarRacing-v3`, the agent's own actions (same tracks and views; best of "
                f"{args.repeats})",
                f"{replay:.1f} steps/s",
                "1.00",
                "",
            ],
            [
                f"the shipped agent (`{controller.relative_to(ROOT)}`) on gymnasium's renderer, "
                f"V + M + C in the loop (best of {args.repeats})",
                f"{theirs:.1f} steps/s ({1e3 / theirs:.2f} ms a step)",
                f"{theirs / replay:.2f} x bare on the same actions",
                "",
            ],
            [
                f"the shipped agent on the fast renderer (`model.py`'s rollout; best of "
                f"{args.repeats})",
                f"{ours:.1f} steps/s ({1e3 / ours:.2f} ms a step)",
                f"{ours / replay:.2f} x bare on the same actions, {ours / theirs:.2f} x on "
                f"gymnasium's renderer",
                ">= 0.85 x bare",
            ],
            [
                f"CMA-ES generation, pop 8 x 1 episode x {args.gen_steps} steps, 1 process "
                f"(its evaluation round, best of {args.repeats})",
                f"{one:.2f} s",
                "",
                "",
            ],
            [
                f"the same, `mpirun -np 2` (best of {args.repeats}, alternating)",
                f"{two:.2f} s",
                f"{one / two:.2f} x faster",
                ">= 1.80",
            ],
        ],
    )


if __name__ == "__main__":
    main()
