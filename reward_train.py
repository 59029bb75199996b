"""Fit M's reward head on recorded episodes, for training the controller in M's dream
(opt-in, not in the paper; rnn/reward.py says what the head is).

    python reward_train.py --series series --rnn rnn/rnn.json --out rnn/reward.json

The series must come from episodes that recorded their rewards (extract.py writes them,
series.py carries them). Every tenth episode is held out; its R2 is printed and saved.
"""

from __future__ import annotations

import numerics  # noqa: F401 - first of all: numpy's arithmetic pinned before it loads

# isort: split

import sys

from common import ArgumentParser, UserError, atomic_write_json, float_at_least, run_main
from rnn.numpy_rnn import NumpyRNN
from rnn.reward import WINDOW, fit
from rnn_train import series_files
from series import load_series


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", default="series", help="series.py's folder")
    parser.add_argument("--rnn", default="rnn/rnn.json", help="M's weights")
    parser.add_argument("--out", default="rnn/reward.json", help="the head's file")
    parser.add_argument("--ridge", type=float_at_least(0.0), default=1.0, help="L2 penalty")
    args = parser.parse_args(argv)
    rnn = NumpyRNN.from_json(args.rnn)
    episodes = []
    for path in series_files(args.series):  # each one read and checked there
        s = load_series(path)
        if "reward" not in s:
            raise UserError(f"{path}: no reward (expected episodes extracted with rewards)")
        episodes.append(s)
    head = fit(rnn, episodes, args.ridge)
    atomic_write_json(args.out, head)
    windowed = head.get(f"r2_held_out_{WINDOW}_steps")
    print(
        f"reward head: {args.out}: held-out R2 {head['r2_held_out']:.3f} a step"
        + (f", {windowed:.3f} over {WINDOW} steps" if windowed is not None else "")
        + f", mean absolute error {head['mae_held_out']:.3f} on {head['held_out_steps']} "
        f"steps ({len(episodes)} episodes)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
