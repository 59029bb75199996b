"""A step in M's dream against a step in the environment, measured in the same run.

    python bench/bench_dream.py [--episodes 4] [--steps 1000] [--repeats 3]

1. real: the shipped agent's rollouts (model.py's: the environment on the fast renderer,
   V, M and C), --episodes episodes of --steps steps one after another, as a CMA-ES member
   runs them;
2. dream: the same controller's --episodes dreams side by side (train.py --dream:
   model.DreamAgent, M's step, its sampling and a reward head), --steps steps each.
Each the best of --repeats runs, alternated, in one process. Target: a dream step costs
at most a tenth of a real one.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import numerics  # noqa: E402, F401 - before numpy: the same arithmetic on every CPU

# isort: split

import json  # noqa: E402

import numpy as np  # noqa: E402
from tables import print_table  # noqa: E402

from common import COUNT, ArgumentParser  # noqa: E402
from env import make_env  # noqa: E402
from model import Agent, DreamAgent, load_controller_params  # noqa: E402
from rnn import reward  # noqa: E402

VAE, RNN, INITIAL_Z = (
    ROOT / p for p in ("vae/vae.json", "rnn/rnn.json", "initial_z/initial_z.json")
)


def main() -> None:
    parser = ArgumentParser()
    parser.add_argument("--episodes", type=COUNT, default=4)
    parser.add_argument("--steps", type=COUNT, default=1000)
    parser.add_argument("--repeats", type=COUNT, default=3)
    args = parser.parse_args()
    controller = ROOT / "log/carracing.cma.8.32.best.json"
    params = load_controller_params(controller)
    agent = Agent.from_files(VAE, RNN)
    with tempfile.TemporaryDirectory() as tmp:  # a head's cost does not depend on its weights
        head = Path(tmp) / "reward.json"
        weights = np.random.default_rng(0).normal(0, 0.01, reward.FEATURES)
        head.write_text(json.dumps({"weights": weights.tolist()}))
        dreamer = DreamAgent(agent, reward.load(head), str(INITIAL_Z), tau=1.0)
    env = make_env(max_episode_steps=args.steps)
    agent.evaluate(env, params, 0, 1, max_steps=5)  # the renderer's first frame: not timed
    real = dream = 0.0
    for _ in range(args.repeats):
        start = time.perf_counter()
        _, lengths = agent.evaluate(env, params, 100, args.episodes, max_steps=args.steps)
        real = max(real, sum(lengths) / (time.perf_counter() - start))
        start = time.perf_counter()
        _, lengths = dreamer.evaluate(None, params, 100, args.episodes, max_steps=args.steps)
        dream = max(dream, sum(lengths) / (time.perf_counter() - start))
    env.close()
    what = f"{args.episodes} episodes x {args.steps} steps, best of {args.repeats}"
    print_table(
        "dream",
        ["what", "figure", "ratio", "target"],
        [
            [
                f"the shipped agent in the environment (`{controller.relative_to(ROOT)}`, "
                f"model.py's rollout; {what})",
                f"{real:.0f} steps/s ({1e3 / real:.3f} ms a step)",
                "1.00",
                "",
            ],
            [
                f"the same controller in M's dream (`train.py --dream`, its episodes side by "
                f"side; {what})",
                f"{dream:.0f} steps/s ({1e3 / dream:.3f} ms a step)",
                f"a step costs {real / dream:.3f} of a real one",
                "<= 0.1",
            ],
        ],
    )


if __name__ == "__main__":
    main()
