"""The cost of pinning the arithmetic (numerics.py): the shipped agent's episodes with the
pin against the same episodes with the kernels numpy and OpenBLAS choose for this CPU
(WORLDMODELS_CPU=native), in the same run, alternated, best of --repeats each.

    python bench/bench_numerics.py [--episodes 2] [--repeats 3]

Target: the pin costs nothing (ratio >= 0.97, within this machine's timing noise).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import numerics  # noqa: E402, F401 - before numpy, as in every script (this one only drives)

# isort: split

from tables import print_table  # noqa: E402

PROBE = """
import numerics, sys, time
import numpy as np
from env import make_env
from model import Agent, load_controller_params
agent = Agent.from_files("vae/vae.json", "rnn/rnn.json")
agent.controller.set_params(load_controller_params(sys.argv[1]))
env = make_env()
steps, start = 0, time.perf_counter()
for seed in range(int(sys.argv[2])):
    steps += agent.rollout(env, np.random.default_rng(seed), seed=seed)[1]
from numerics import openblas_core
print(steps / (time.perf_counter() - start), numerics.PINNED, openblas_core())
"""


def agent_steps_per_s(pinned: bool, controller: str, episodes: int) -> tuple[float, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES", "WORLDMODELS_CPU")
    }
    if not pinned:
        env["WORLDMODELS_CPU"] = "native"
    out = subprocess.run(
        [sys.executable, "-c", PROBE, controller, str(episodes)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), f"{out[1]} ({out[2]} kernels)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--controller", default=str(next((ROOT / "log").glob("*.best.json"))))
    args = parser.parse_args()
    best = {True: (0.0, ""), False: (0.0, "")}
    for _ in range(args.repeats):
        for pinned in (False, True):
            rate, how = agent_steps_per_s(pinned, args.controller, args.episodes)
            best[pinned] = max(best[pinned], (rate, how))
    (native, native_how), (pin, pin_how) = best[False], best[True]
    print_table(
        "numerics",
        ["what", "agent steps/s", "ratio", "target"],
        [
            [f"kernels chosen for this CPU: {native_how}", f"{native:.1f}", "1.00", ""],
            [f"pinned: {pin_how}", f"{pin:.1f}", f"{pin / native:.3f} x", ">= 0.97"],
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
