"""Agent rollouts and CMA-ES generations, each against a baseline in the same run.

    python bench/bench_agent.py [--episodes 2] [--gen-steps 500]

1. env steps/s of full episodes with V, M and C in the loop (model.py's rollout) against
   the bare CarRacing-v3 stepping the same actions on the same seeds (so it draws the
   same views; also shown: random actions); target >= 0.85 x;
2. seconds per CMA-ES generation (population 8, 1 episode each) with 1 and with 2 MPI
   processes, alternated, best of --repeats runs each; target speed-up >= 1.8 x.
V is random (the speed does not depend on its weights); M is the authors' rnn.json.
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

from common import COUNT, ArgumentParser, save_weights_json  # noqa: E402
from env import make_env  # noqa: E402
from model import Agent, param_count  # noqa: E402
from vae.numpy_vae import VAE_SHAPES  # noqa: E402

AUTHORS_RNN = ROOT.parent / "shared/reference/original/rnn.json"


def random_vae(path: Path) -> None:
    rng = np.random.default_rng(0)
    save_weights_json(path, [rng.standard_normal(s) / np.sqrt(np.prod(s[:-1]))
                             if len(s) > 1 else np.zeros(s) for s in VAE_SHAPES])


def agent_steps_per_s(agent: Agent, seeds: list[int], frames: int):
    """Steps/s of the agent's rollouts, and the actions it took (for the baseline)."""
    env = make_env(max_episode_steps=frames)
    rng = np.random.default_rng(0)
    agent.controller.set_params(rng.standard_normal(param_count("zh")) * 0.1)
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


def seconds_per_generation(procs: int, vae: Path, log_dir: Path, max_steps: int) -> float:
    cmd = [sys.executable, "train.py", "-n", "8", "-e", "1", "--max-steps", str(max_steps),
           "--eval_steps", "1000", "--generations", "2", "--vae", str(vae), "--rnn",
           str(AUTHORS_RNN), "--log-dir", str(log_dir)]
    if procs > 1:
        cmd = [str(Path(sys.executable).parent / "mpirun"), "-np", str(procs), *cmd]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True,
                   env=dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1"))
    hist = json.loads((log_dir / "carracing.cma.1.8.hist.json").read_text())
    return hist[-1][1] / len(hist)


def main() -> None:
    parser = ArgumentParser()
    parser.add_argument("--episodes", type=COUNT, default=2)
    parser.add_argument("--frames", type=COUNT, default=1000)
    parser.add_argument("--gen-steps", type=COUNT, default=500)
    parser.add_argument("--repeats", type=COUNT, default=3, help="runs of each process count")
    args = parser.parse_args()
    seeds = list(range(100, 100 + args.episodes))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        random_vae(tmp / "vae.json")
        agent = Agent.from_files(tmp / "vae.json", AUTHORS_RNN)
        bare = bare_steps_per_s(seeds, args.frames)
        ours, actions = agent_steps_per_s(agent, seeds, args.frames)
        replay = replay_steps_per_s(seeds, actions)
        # Alternated, best of --repeats each: this machine's speed drifts between runs.
        one, two = float("inf"), float("inf")
        for r in range(args.repeats):
            one = min(one, seconds_per_generation(1, tmp / "vae.json", tmp / f"a{r}",
                                                  args.gen_steps))
            two = min(two, seconds_per_generation(2, tmp / "vae.json", tmp / f"b{r}",
                                                  args.gen_steps))
    print(f"cores: {os.cpu_count()}; {args.episodes} episodes x {args.frames} steps")
    print(f"bare CarRacing-v3, random actions : {bare:7.1f} steps/s")
    print(f"bare CarRacing-v3, agent's actions: {replay:7.1f} steps/s  (same tracks and views)")
    print(f"agent rollout (V + M + C)         : {ours:7.1f} steps/s  ratio {ours / replay:.2f} "
          f"to the same actions, {ours / bare:.2f} to random actions (target >= 0.85)")
    print(f"CMA-ES generation (pop 8 x 1 episode x {args.gen_steps} steps): 1 process "
          f"{one:.1f} s, 2 processes {two:.1f} s, speed-up {one / two:.2f} (target >= 1.80)")


if __name__ == "__main__":
    main()
