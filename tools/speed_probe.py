"""How much of the car's speed V's z and M's h carry: a linear probe.

    python tools/speed_probe.py log/carracing.cma.8.32.best.json
    python tools/speed_probe.py log/carracing.cma.8.32.best.json \
        --against log/laptop/vae.json:log/laptop/rnn.json

The frames have no speedometer (the indicator bar is cropped away), so the controller
knows the car's speed only through z and h. The controller, with its V and M (--vae,
--rnn), drives --drives tracks (seeds --seed, --seed + 1, ...). Then each V:M pair (the
driving one first, then each --against) encodes the same frames (z: V's mean) and runs
M over them with the same actions (h after (z_t, a_t), what C reads at the next step).
A ridge regression from z, from h and from [z, h] to the true speed (the speed bar's
|hull velocity| after each step) is fitted on the first 70% of the drives and scored on
the rest: R^2, 1 when the speed is a linear function of them, 0 when they tell nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project's modules
import numerics  # noqa: E402, F401 - first of all: numpy's arithmetic pinned before it loads

# isort: split

import numpy as np
from tqdm import tqdm

from common import COUNT, SEED, ArgumentParser, UserError, run_main
from env import make_env
from model import Agent, car_speed, load_controller_params
from rnn.numpy_rnn import NumpyRNN
from vae.numpy_vae import NumpyVAE

TRAIN_SHARE = 0.7  # of the drives, to fit the probe; the rest score it
RIDGE = 1.0  # on standardized features


def ridge_r2(features: list[np.ndarray], targets: list[np.ndarray]) -> float:
    """R^2 on the held-out drives of a ridge regression fitted on the first ones.

    features: per drive [T, F]; targets: per drive [T]. The first TRAIN_SHARE of the
    drives (at least one, and at least one left) fit it."""
    n_fit = min(max(1, round(TRAIN_SHARE * len(features))), len(features) - 1)
    x_fit, y_fit = np.concatenate(features[:n_fit]), np.concatenate(targets[:n_fit])
    x_test, y_test = np.concatenate(features[n_fit:]), np.concatenate(targets[n_fit:])
    mean, std = x_fit.mean(0), x_fit.std(0) + 1e-6
    x_fit = np.c_[(x_fit - mean) / std, np.ones(len(x_fit))]
    x_test = np.c_[(x_test - mean) / std, np.ones(len(x_test))]
    w = np.linalg.solve(x_fit.T @ x_fit + RIDGE * np.eye(x_fit.shape[1]), x_fit.T @ y_fit)
    return float(1.0 - np.var(y_test - x_test @ w) / np.var(y_test))


def speed_recorder(env, speeds: list):
    """An on_step callback appending the car's speed after each step to `speeds`."""
    car_racing = env.unwrapped

    def on_step(t: int, total: float) -> None:
        speeds.append(car_speed(car_racing.car))

    return on_step


def drive(agent: Agent, drives: int, seed: int, max_steps: int):
    """Frames, actions and true speeds of `drives` episodes, episode i on seed + i."""
    env = make_env(max_episode_steps=max_steps)
    frames, actions, speeds = [], [], []
    for i in tqdm(range(drives), desc="drives", unit="track", file=sys.stderr):
        record, speed = [], []
        agent.rollout(
            env,
            np.random.default_rng(seed + i),
            seed=seed + i,
            max_steps=max_steps,
            record=record,
            on_step=speed_recorder(env, speed),
        )
        frames.append(np.array([obs for obs, _, _ in record]))
        actions.append(np.array([a for _, a, _ in record], np.float32))
        speeds.append(np.array(speed))
    env.close()
    return frames, actions, speeds


def features(vae: NumpyVAE, rnn: NumpyRNN, frames, actions):
    """z (V's mean) and h (M's state after z_t and a_t) of every step, per drive."""
    zs, hs = [], []
    for obs, acts in zip(frames, actions, strict=True):
        z = np.concatenate(
            [vae.encode_mu_logvar(obs[i : i + 100])[0] for i in range(0, len(obs), 100)]
        )
        state, h = rnn.initial_state(), np.empty((len(z), rnn.hidden), np.float32)
        for t in range(len(z)):
            state = rnn.step(z[t][None], acts[t][None], state)
            h[t] = state[0][0]
        zs.append(z)
        hs.append(h)
    return zs, hs


def parse_pair(text: str) -> tuple[str, str]:
    vae, sep, rnn = text.partition(":")
    if not sep or not vae or not rnn:
        raise UserError(
            f"--against {text!r}: expected VAE:RNN, two weight files (vae.json:rnn.json)"
        )
    return vae, rnn


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description="How much of the car's speed z and h carry.")
    parser.add_argument(
        "file", help="the controller that drives, e.g. log/carracing.cma.8.32.best.json"
    )
    parser.add_argument("--vae", default="vae/vae.json", help="the driving agent's V")
    parser.add_argument("--rnn", default="rnn/rnn.json", help="the driving agent's M")
    parser.add_argument(
        "--against",
        nargs="*",
        default=[],
        metavar="VAE:RNN",
        help="other V and M pairs, probed on the same drives",
    )
    parser.add_argument("--drives", type=COUNT, default=10, help="tracks driven (at least 2)")
    parser.add_argument("--seed", type=SEED, default=300, help="first track's seed")
    parser.add_argument("--max-steps", type=COUNT, default=1000)
    args = parser.parse_args(argv)
    if args.drives < 2:
        raise UserError(
            f"--drives {args.drives}: expected at least 2 (some fit the probe, the others score it)"
        )
    pairs = [(args.vae, args.rnn)] + [parse_pair(p) for p in args.against]
    params = load_controller_params(args.file)
    models = [Agent.from_files(v, r) for v, r in pairs]  # every file checked before driving
    driver = models[0]  # the driving V and M, probed first
    driver.controller.set_params(params)
    frames, actions, speeds = drive(driver, args.drives, args.seed, args.max_steps)
    steps = sum(len(s) for s in speeds)
    print(
        f"{args.drives} drives, {steps} steps, mean speed "
        f"{np.mean(np.concatenate(speeds)):.1f}; R^2 of the speed on the held-out drives:"
    )
    print("vae:rnn z h z+h")
    for (v, r), probed in zip(pairs, models, strict=True):
        zs, hs = features(probed.vae, probed.rnn, frames, actions)
        both = [np.c_[z, h] for z, h in zip(zs, hs, strict=True)]
        print(
            f"{v}:{r} {ridge_r2(zs, speeds):.3f} {ridge_r2(hs, speeds):.3f} "
            f"{ridge_r2(both, speeds):.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
