"""Train M, the MDN-RNN, on the encoded episodes (SPEC "M") -> OUT/rnn.json and
initial_z.json.

Teacher forcing: each step takes a batch of episodes, redraws z = mu + exp(logvar/2) *
eps from the series, and learns to predict z_{t+1} from (z_t, a_t). Episodes shorter
than the sequence are padded and masked; longer ones contribute a random window.
Batches are read from disk each step, so memory does not grow with the data set.
Checkpoints as it goes; run the same command again to resume.
"""

from __future__ import annotations

import numerics  # noqa: F401 - first of all: numpy's arithmetic pinned before it loads

# isort: split

import json
import sys
import time
from pathlib import Path

import numpy as np  # noqa: E402

from common import (  # noqa: E402
    COUNT,
    POSITIVE,
    SEED,
    ArgumentParser,
    UserError,
    add_restart_argument,
    check_same_run,
    existing_file,
    import_tensorflow,
    parse_with_preset,
    progress,
    run_main,
    run_settings,
    writable_file,
    writable_folder,
    write_text_if_changed,
)
from series import load_series  # noqa: E402


def series_files(folder: str) -> list[Path]:
    path = Path(folder)
    files = sorted(path.glob("*.npz")) if path.is_dir() else []
    good = []
    for f in files:
        try:
            load_series(f)
            good.append(f)
        except ValueError as e:
            print(f"warning: skipping {e}", file=sys.stderr)
    if not good:
        raise UserError(
            f"{path}/: no series files (*.npz with mu, logvar, action); run series.py first"
        )
    return good


def make_batch(files: list[Path], step: int, batch_size: int, seq_len: int, seed: int):
    """Inputs [B,T,35], targets [B,T,32], mask [B,T] for one step, fixed by (seed, step).

    The episodes of step s are positions s*B .. s*B+B-1 of a stream that walks through
    a fresh permutation of all episodes on every pass.
    """
    n = len(files)
    rng = np.random.default_rng([seed, step])
    x = np.zeros((batch_size, seq_len, 35), np.float32)
    y = np.zeros((batch_size, seq_len, 32), np.float32)
    mask = np.zeros((batch_size, seq_len), np.float32)
    for b, position in enumerate(range(step * batch_size, (step + 1) * batch_size)):
        order = np.random.default_rng([seed, position // n, 7]).permutation(n)
        s = load_series(files[order[position % n]])
        mu, logvar = s["mu"].astype(np.float32), s["logvar"].astype(np.float32)
        z = mu + np.exp(logvar / 2.0) * rng.standard_normal(mu.shape).astype(np.float32)
        a = s["action"].astype(np.float32)
        start = int(rng.integers(0, len(z) - seq_len)) if len(z) > seq_len + 1 else 0
        z, a = z[start : start + seq_len + 1], a[start : start + seq_len + 1]
        t = len(z) - 1
        x[b, :t] = np.concatenate([z[:-1], a[:-1]], axis=1)
        y[b, :t] = z[1:]
        mask[b, :t] = 1.0
    return x, y, mask


def write_initial_z(files: list[Path], path: Path, count: int) -> None:
    """[mu_list, logvar_list] of frame 0 of the first episodes, as int(v * 10000) (the
    file is left as it is when it holds these already)."""
    mus, logvars = [], []
    for f in files[:count]:
        s = load_series(f)
        mus.append([int(v * 10000) for v in s["mu"][0].astype(np.float64)])
        logvars.append([int(v * 10000) for v in s["logvar"][0].astype(np.float64)])
    write_text_if_changed(path, json.dumps([mus, logvars]))


def write_untrained(out: Path, seed: int) -> int:
    """M as Keras initialises it for `seed` (the LSTM's kernels Glorot-uniform and
    orthogonal, the forget bias 1.0 of SPEC "M" not stored), in the authors' format."""
    import_tensorflow()
    import keras

    from rnn.rnn import MDNRNN

    keras.utils.set_random_seed(seed)
    MDNRNN().save_json(out / "rnn.json")
    print(
        f"rnn_train: wrote {out / 'rnn.json'}: M's initial weights for seed {seed}, untrained",
        file=sys.stderr,
    )
    return 0


# The flags that make a training run what it is: a checkpoint made with other values is
# another run (--steps may grow, --series and --init may change).
RNN_RUN_FLAGS = {
    "seed": "--seed",
    "batch_size": "--batch-size",
    "seq_len": "--seq-len",
    "learning_rate": "--learning-rate",
    "grad_clip": "--grad-clip",
}


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", default="series", help="folder written by series.py")
    parser.add_argument("--out", default="tf_rnn", help="output folder (rnn.json, logs)")
    parser.add_argument("--initial-z", default="tf_initial_z/initial_z.json")
    parser.add_argument("--steps", type=COUNT, default=4000)
    parser.add_argument("--batch-size", type=COUNT, default=100)
    parser.add_argument("--seq-len", type=COUNT, default=999)
    parser.add_argument("--learning-rate", type=POSITIVE, default=1e-3)
    parser.add_argument("--grad-clip", type=POSITIVE, default=1.0)
    parser.add_argument("--initial-z-episodes", type=COUNT, default=1000)
    parser.add_argument("--checkpoint-every", type=COUNT, default=100, help="steps")
    parser.add_argument("--seed", type=SEED, default=0)
    parser.add_argument(
        "--init",
        default=None,
        metavar="RNN_JSON",
        help="start from these weights of M instead of random ones (to train "
        "an M again on new episodes); a resumed run takes its checkpoint's",
    )
    parser.add_argument(
        "--untrained",
        action="store_true",
        help="write M's initial weights for --seed to OUT/rnn.json, never "
        "trained (the untrained-M agent of README's table), and stop; "
        "no series needed",
    )
    add_restart_argument(parser, "the weights, checkpoint and logs in --out")
    args = parse_with_preset(parser, "rnn_train", argv)
    if args.untrained:
        return write_untrained(writable_folder(args.out, "M's untrained weights"), args.seed)

    files = series_files(args.series)
    if args.init is not None:
        existing_file(args.init, "M's weights, rnn.json, for --init")
    out = writable_folder(args.out, "M's weights, checkpoint and logs")
    writable_file(args.initial_z, "initial_z.json")
    ckpt_path, json_path = out / "checkpoint.npz", out / "rnn.json"
    saved = check_same_run(
        ckpt_path, json_path, run_settings(args, RNN_RUN_FLAGS), RNN_RUN_FLAGS, args.restart
    )
    if saved and saved["step"] >= args.steps:  # no TensorFlow needed to say so
        print(f"rnn_train: {json_path} already trained ({saved['step']} steps)", file=sys.stderr)
    else:
        # TensorFlow only now that the settings and the data are known to be good
        tf = import_tensorflow()
        import keras

        from rnn.rnn import MDNRNN
        from train_utils import load_checkpoint

        keras.utils.set_random_seed(args.seed)
        model = MDNRNN()
        optimizer = keras.optimizers.Adam(args.learning_rate)
        progress = load_checkpoint(ckpt_path, model, optimizer, args.init) or {"step": 0}
        step = progress["step"]
        device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
        print(
            f"rnn_train: {len(files)} episodes on {device}, "
            f"{'resuming at step ' + str(step) if step else 'starting'}",
            file=sys.stderr,
        )
        train(model, optimizer, files, args, step, progress.get("seconds", 0.0))
    write_initial_z(files, Path(args.initial_z), args.initial_z_episodes)
    print(f"rnn_train: wrote {json_path} and {args.initial_z}", file=sys.stderr)
    return 0


def train(model, optimizer, files: list[Path], args, step: int, seconds: float) -> None:
    import tensorflow as tf

    from rnn.rnn import mdn_loss
    from train_utils import TrainLog, check_finite, save_progress

    out = Path(args.out)
    ckpt_path, json_path = out / "checkpoint.npz", out / "rnn.json"

    @tf.function(reduce_retracing=True)
    def train_step(x, y, mask):
        with tf.GradientTape() as tape:
            loss = mdn_loss(model(x), y, mask)
        grads = tape.gradient(loss, model.trainable_variables)
        grads = [tf.clip_by_value(g, -args.grad_clip, args.grad_clip) for g in grads]
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    log = TrainLog(out, "rnn_log", ["loss", "seconds"], step)
    start, good_step = time.time() - seconds, step
    try:
        bar = progress(
            range(step, args.steps), desc="M", initial=step, total=args.steps, unit="step"
        )
        for s in bar:
            x, y, mask = make_batch(files, s, args.batch_size, args.seq_len, args.seed)
            loss = float(train_step(x, y, mask))
            step = s + 1
            check_finite(loss, step, json_path, good_step)
            log.write(step, loss=loss, seconds=time.time() - start)
            bar.set_postfix(loss=f"{loss:.3f}")
            if step % args.checkpoint_every == 0 or step == args.steps:
                good_step = save_progress(
                    model,
                    optimizer,
                    json_path,
                    ckpt_path,
                    step,
                    start,
                    run_settings(args, RNN_RUN_FLAGS),
                )
    finally:
        log.close()


if __name__ == "__main__":
    sys.exit(run_main(main))
