"""The controller trained in M's dream (train.py --dream, model.DreamAgent): its episodes
are dreams whose reward is M's reward head's; CMA-ES learns what the head rewards."""

import json

import numpy as np
import pytest
from conftest import ROOT, run_in_process

from model import Agent, DreamAgent, param_count
from rnn import reward

SHIPPED = ("vae/vae.json", "rnn/rnn.json", "initial_z/initial_z.json")
GAS = reward.Z_SIZE + reward.HIDDEN + 1  # the head's weight on a_t's gas


def gas_head(path):
    """A head whose reward is the gas pedal: a dream's return is its steps' mean gas."""
    weights = np.zeros(reward.FEATURES)
    weights[GAS] = 1.0
    path.write_text(json.dumps({"weights": weights.tolist()}))
    return path


def test_dreams_are_reproducible_and_their_return_is_the_heads(tmp_path):
    vae, rnn, initial_z = (str(ROOT / p) for p in SHIPPED)
    head = reward.load(gas_head(tmp_path / "gas.json"))
    dreamer = DreamAgent(Agent.from_files(vae, rnn), head, initial_z, tau=1.0)
    params = np.zeros(param_count("zh"))  # gas = (tanh(0) + 1) / 2 every step
    rewards, lengths = dreamer.evaluate(None, params, seed=3, num_episodes=3, max_steps=20)
    assert lengths == [20, 20, 20] and np.allclose(rewards, 10.0)
    params = np.random.default_rng(0).normal(0, 0.1, param_count("zh"))
    once = dreamer.evaluate(None, params, seed=3, num_episodes=3, max_steps=20)
    assert dreamer.evaluate(None, params, seed=3, num_episodes=3, max_steps=20) == once
    other = dreamer.evaluate(None, params, seed=4, num_episodes=3, max_steps=20)
    assert len(set(once[0])) == 3 and other[0] != once[0]  # each dream its own
    assert all(0.0 < r < 20.0 for r in once[0])


def test_cma_es_in_the_dream_learns_what_the_head_rewards(tmp_path):
    head = gas_head(tmp_path / "gas.json")
    args = (
        "-n 4 -t 2 -e 2 --max-steps 30 --eval_steps 5 --eval-episodes 4 --generations 10 "
        f"--dream {head} --log-dir {tmp_path / 'log'}"
    ).split()
    run_in_process("train.py", *args)
    hist = json.loads((tmp_path / "log/carracing.cma.2.8.hist.json").read_text())
    best = json.loads((tmp_path / "log/carracing.cma.2.8.best.json").read_text())
    assert [row[0] for row in hist] == list(range(1, 11))
    assert hist[-1][2] > hist[0][2] + 1.0  # the population's mean return rose
    assert best[1] > 20.0  # more gas than the zero controller's 15 in 30 steps
    # another temperature is another run: its checkpoint is not taken for this one
    proc = run_in_process("train.py", *args, "--dream-temperature", "1.2", check=False)
    assert proc.returncode == 2 and "--dream-temperature 1.0" in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    "extra, message",
    [
        ("--dream-temperature 1.2", "argument --dream-temperature: only with --dream"),
        ("--dream {missing}", "{missing}: file not found"),
        ("--dream {bad}", "{bad}: expected {{'weights': 292 numbers, ...}}"),
        ("--dream {good} --initial-z {bad}", "{bad}: expected [mu list, logvar list]"),
    ],
)
def test_bad_dream_input_is_a_one_line_error(tmp_path, extra, message):
    files = {"missing": tmp_path / "none.json", "bad": tmp_path / "bad.json"}
    files["bad"].write_text('{"weights": [1, 2]}')
    files["good"] = gas_head(tmp_path / "gas.json")
    args = f"-n 2 --max-steps 5 --generations 1 --log-dir {tmp_path / 'log'} " + extra
    proc = run_in_process("train.py", *args.format(**files).split(), check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert message.format(**files) in proc.stderr
    assert not (tmp_path / "log").exists()
