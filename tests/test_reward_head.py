"""M's reward head (rnn/reward.py, reward_train.py): fitted on series with rewards, it
recovers a reward that is a function of what the dream has, and refuses series without
rewards."""

import json

import numpy as np
from conftest import ROOT, run_in_process

from rnn import reward
from rnn.numpy_rnn import NumpyRNN

RNN = ROOT / "rnn/rnn.json"


def write_series(folder, rewards_of, count=12, seed=0):
    """`count` episodes of random z and actions (two lengths), rewards from `rewards_of`."""
    folder.mkdir()
    rng = np.random.default_rng(seed)
    for k in range(count):
        steps = 100 if k % 2 else 45
        mu = rng.standard_normal((steps, 32)).astype(np.float16)
        action = rng.uniform(-1, 1, (steps, 3)).astype(np.float16)
        arrays = {"mu": mu, "logvar": np.zeros_like(mu), "action": action}
        if rewards_of is not None:
            arrays["reward"] = rewards_of(mu, action).astype(np.float32)
        np.savez(folder / f"{k}.npz", **arrays)


def test_the_head_recovers_a_reward_made_from_z_h_and_the_action(tmp_path):
    rnn = NumpyRNN.from_json(RNN)
    truth = np.random.default_rng(1).standard_normal(reward.FEATURES)

    def rewards_of(mu, action):  # the reward a linear head of M's own state gives
        x = reward.features(rnn, mu[None].astype(np.float32), action[None].astype(np.float32))
        return x[0] @ truth

    write_series(tmp_path / "series", rewards_of)
    with np.load(tmp_path / "series/0.npz") as data:  # the car leaves the playfield at 20:
        arrays = dict(data)  # -100, then steps a real episode never has (extraction's)
    arrays["reward"][20:] = np.random.default_rng(5).uniform(-100, 100, 25)
    arrays["reward"][20] = -100.0
    np.savez(tmp_path / "series/0.npz", **arrays)
    out = tmp_path / "reward.json"
    args = ["--series", str(tmp_path / "series"), "--rnn", str(RNN), "--out", str(out)]
    proc = run_in_process("reward_train.py", *args, "--ridge", "0")
    head = json.loads(out.read_text())
    assert head["r2_held_out"] > 0.9999 and head["held_out_steps"] == 100, proc.stderr  # episode 9
    assert head["r2_held_out_50_steps"] > 0.9999
    assert "held-out R2 1.000 a step, 1.000 over 50 steps" in proc.stderr
    weights = reward.load(out)
    np.testing.assert_allclose(weights, truth, rtol=1e-4, atol=1e-4)
    # predict() on one step gives what the features give
    z = np.random.default_rng(2).standard_normal((1, 32)).astype(np.float32)
    a = np.array([[0.1, 0.5, 0.0]], np.float32)
    h = rnn.step(z, a, rnn.initial_state())[0]
    x = np.concatenate([z[0], h[0], a[0], [1.0]])
    np.testing.assert_allclose(reward.predict(weights, z, h, a), [x @ weights], rtol=1e-6)


def test_noise_is_not_fitted_and_series_without_rewards_are_refused(tmp_path):
    write_series(tmp_path / "noise", lambda mu, a: np.random.default_rng(3).normal(size=len(mu)))
    out = tmp_path / "reward.json"
    args = ["--rnn", str(RNN), "--out", str(out)]
    run_in_process("reward_train.py", "--series", str(tmp_path / "noise"), *args)
    assert json.loads(out.read_text())["r2_held_out"] < 0.05
    write_series(tmp_path / "none", None)
    proc = run_in_process("reward_train.py", "--series", str(tmp_path / "none"), *args, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("reward_train.py: error: ") and "0.npz: no reward" in proc.stderr
