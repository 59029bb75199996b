"""M's reward head, for training the controller in M's dream (opt-in, not in the paper).

The paper trains C in the dream only for VizDoom, where M also predicts the episode's end;
CarRacing's reward is not predicted there. This head predicts it from what the dream has:
the reward of step t from [z_t, h_{t+1}, a_t, 1], where h_{t+1} is M's state after it read
z_t and a_t. M is left as it is; the head is a ridge regression fitted in closed form on
recorded episodes (`extract.py` writes each step's reward, `series.py` carries it), every
tenth episode held out to measure it.

    python reward_train.py --series series --rnn rnn/rnn.json --out rnn/reward.json

`reward.json`: {"weights": [z 32, h 256, action 3, bias 1], "r2_held_out": R2, ...}.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common import UserError, read_json
from rnn.numpy_rnn import ACTION_SIZE, HIDDEN, Z_SIZE, NumpyRNN

FEATURES = Z_SIZE + HIDDEN + ACTION_SIZE + 1
HELD_OUT = 10  # every tenth episode
LEFT_PLAYFIELD = -50.0  # a reward this low: the car left the playfield (-100), where a real
# episode ends; the steps from there on (extraction drives on) are left out
WINDOW = 50  # steps, for the R2 of summed rewards


def features(rnn: NumpyRNN, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """[z_t, h_{t+1}, a_t, 1] of each step of episodes of one length: z [B,T,32], a [B,T,3]
    -> [B,T,292], with M run over the B episodes side by side."""
    batch, steps = z.shape[:2]
    state = rnn.initial_state(batch)
    out = np.empty((batch, steps, FEATURES), np.float64)
    for t in range(steps):
        state = rnn.step(z[:, t], a[:, t], state)
        out[:, t] = row(z[:, t], state[0], a[:, t])
    return out


def row(z: np.ndarray, h_next: np.ndarray, a: np.ndarray) -> np.ndarray:
    """The head's input for rows of z [B,32], h after the step [B,256], action [B,3]."""
    return np.concatenate([z, h_next, a, np.ones((len(z), 1))], 1)


def predict(weights: np.ndarray, z: np.ndarray, h_next: np.ndarray, a: np.ndarray) -> np.ndarray:
    """The head's reward for rows of z [B,32], h after the step [B,256], action [B,3]."""
    return row(z, h_next, a) @ weights


def load(path: str | Path) -> np.ndarray:
    """The head's weights from `reward.json`; UserError naming the file if it is not one."""
    data = read_json(path, "M's reward head (reward.json, written by reward_train.py)")
    weights = np.asarray(data.get("weights", []) if isinstance(data, dict) else [], np.float64)
    if weights.shape != (FEATURES,):
        raise UserError(f"{path}: expected {{'weights': {FEATURES} numbers, ...}}")
    return weights


def fit(rnn: NumpyRNN, episodes: list[dict], ridge: float) -> dict:
    """The head on `episodes` (series with a reward; each up to where the car left the
    playfield, if it did), every HELD_OUT-th held out: its weights, and on the held-out
    episodes R2 and mean absolute error of each step's reward,
    and R2 of the reward summed over windows of WINDOW steps (a step's reward is mostly
    whether it reached a new tile, which no state foretells; a window's is how fast the car
    goes along the road, what the dream's return adds up)."""
    by_length: dict[int, list[int]] = {}
    for k, s in enumerate(episodes):
        by_length.setdefault(len(s["mu"]), []).append(k)
    gram, moment = np.zeros((FEATURES, FEATURES)), np.zeros(FEATURES)
    held_out = []  # (features [B,T,F], rewards [B,T], steps before leaving [B,T]) by length
    for indices in by_length.values():
        z = np.stack([episodes[k]["mu"] for k in indices]).astype(np.float32)
        a = np.stack([episodes[k]["action"] for k in indices]).astype(np.float32)
        r = np.stack([episodes[k]["reward"] for k in indices]).astype(np.float64)
        x = features(rnn, z, a)
        valid = np.cumsum(r <= LEFT_PLAYFIELD, axis=1) == 0
        held = np.array([k % HELD_OUT == HELD_OUT - 1 for k in indices])
        train = valid & ~held[:, None]
        gram += x[train].T @ x[train]
        moment += x[train].T @ r[train]
        if held.any():
            held_out.append((x[held], r[held], valid[held]))
    if not held_out:
        raise UserError(f"{len(episodes)} episodes: too few to hold every {HELD_OUT}th out")
    penalty = ridge * np.eye(FEATURES)
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    weights = np.linalg.solve(gram + penalty, moment)
    steps, windows = [], []  # (predicted, true)
    for x, r, valid in held_out:
        predicted = x @ weights
        steps.append((predicted[valid], r[valid]))
        n = r.shape[1] // WINDOW * WINDOW
        if n:
            whole = valid[:, :n].reshape(len(r), -1, WINDOW).all(-1)
            sums = [v[:, :n].reshape(len(r), -1, WINDOW).sum(-1)[whole] for v in (predicted, r)]
            windows.append(sums)
    predicted, true = (np.concatenate(v) for v in zip(*steps, strict=True))
    error = predicted - true
    head = {
        "weights": weights.tolist(),
        "features": "z_t (V's mean), h_{t+1}, a_t, 1",
        "ridge": ridge,
        "r2_held_out": r2(predicted, true),
        "mae_held_out": float(np.mean(np.abs(error))),
        "held_out_steps": len(true),
    }
    if windows:
        sums = [np.concatenate([w[k].reshape(-1) for w in windows]) for k in (0, 1)]
        if len(sums[1]) > 1:
            head[f"r2_held_out_{WINDOW}_steps"] = r2(*sums)
    return head


def r2(predicted: np.ndarray, true: np.ndarray) -> float:
    return float(1.0 - np.mean((predicted - true) ** 2) / np.var(true))
