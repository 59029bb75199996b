"""speed_probe.py: the linear probe of the car's speed from z and h."""

import numpy as np
from conftest import run_script

from tools.speed_probe import ridge_r2


def test_ridge_r2_scores_held_out_drives():
    rng = np.random.default_rng(0)
    x = [rng.standard_normal((200, 8)) for _ in range(5)]
    w = rng.standard_normal(8)
    linear = [xi @ w + 3.0 for xi in x]
    noise = [rng.standard_normal(200) for _ in range(5)]
    assert ridge_r2(x, linear) > 0.99
    assert ridge_r2(x, noise) < 0.05
    # fitted on the first drives only: a target that changes meaning on the held-out
    # ones scores below zero
    flipped = linear[:4] + [-linear[4]]
    assert ridge_r2(x, flipped) < 0


def test_probes_every_pair_on_the_same_drives():
    proc = run_script(
        "tools/speed_probe.py",
        "log/carracing.cma.8.32.best.json",
        "--drives",
        "3",
        "--max-steps",
        "40",
        "--against",
        "vae/vae.json:log/untrained_m/rnn.json",
    )
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("3 drives, 120 steps")
    rows = [line.split() for line in lines[2:]]
    assert [r[0] for r in rows] == [
        "vae/vae.json:rnn/rnn.json",
        "vae/vae.json:log/untrained_m/rnn.json",
    ]
    scores = [[float(v) for v in r[1:]] for r in rows]
    assert all(len(s) == 3 and all(v <= 1.0 for v in s) for s in scores)
    # the same V on the same frames: the same z, so the same probe from z alone
    assert scores[0][0] == scores[1][0]
    # M differs, so h does
    assert scores[0][1] != scores[1][1]


def test_bad_pair_is_a_one_line_error():
    proc = run_script(
        "tools/speed_probe.py",
        "log/carracing.cma.8.32.best.json",
        "--against",
        "vae/vae.json",
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "speed_probe.py: error: --against 'vae/vae.json': expected VAE:RNN, two weight files "
        "(vae.json:rnn.json)"
    ]


def test_m_on_the_drives_alone_carries_the_speed_docs_quote():
    """docs/results.md's probe of seed 2's second round: its M and the M trained on the
    agent's drives only (log/m_drives_seed2), the same V, the same 10 drives."""
    s2 = "log/overnight_seed2"
    proc = run_script(
        "tools/speed_probe.py",
        f"{s2}/carracing.cma.8.32.best.json",
        "--vae",
        f"{s2}/vae.json",
        "--rnn",
        f"{s2}/rnn.json",
        "--against",
        f"{s2}/vae.json:log/m_drives_seed2/rnn.json",
    )
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("10 drives, 9354 steps, mean speed 54.9")
    assert lines[2:] == [
        f"{s2}/vae.json:{s2}/rnn.json 0.333 0.330 0.429",
        f"{s2}/vae.json:log/m_drives_seed2/rnn.json 0.333 0.828 0.825",
    ]
