"""Train V, the ConvVAE, on recorded frames (SPEC "V") -> OUT/vae.json.

Frames are streamed from the episode files through a bounded shuffle buffer, so
memory does not grow with the number of episodes (the authors loaded all 10M frames,
about 123 GB). Checkpoints as it goes; run the same command again to resume.
"""

from __future__ import annotations

import numerics  # noqa: F401 - first of all: numpy's arithmetic pinned before it loads

# isort: split

import itertools
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np  # noqa: E402

from common import (  # noqa: E402
    COUNT,
    POSITIVE,
    SEED,
    ArgumentParser,
    EpisodeError,
    UserError,
    add_data_argument,
    add_restart_argument,
    check_same_run,
    existing_file,
    float_at_least,
    import_tensorflow,
    list_episode_files,
    load_episode,
    parse_with_preset,
    progress,
    run_main,
    run_settings,
    writable_folder,
)


def count_frames(files: list[Path]) -> tuple[list[Path], int]:
    """Keep the readable episode files (reading only their small action arrays)."""
    good, frames = [], 0
    for path in files:
        try:
            with np.load(path) as data:
                n = len(data["action"])
            if n == 0:
                raise ValueError("empty episode")
        except Exception as e:  # noqa: BLE001 - any unreadable file is skipped the same way
            print(f"warning: skipping bad episode file {path}: {e}", file=sys.stderr)
            continue
        good.append(path)
        frames += n
    return good, frames


def frame_dataset(
    files: list[Path], epoch: int, seed: int, batch_size: int, shuffle_buffer: int
) -> Iterator[np.ndarray]:
    """uint8 batches [batch_size,64,64,3] for one epoch, in an order fixed by (seed, epoch).

    Episodes are read one at a time, in a shuffled order, into a buffer of about
    `shuffle_buffer` frames (plus one episode); each batch is drawn at random from the
    buffer and its slots are filled from the buffer's tail. Memory stays bounded whatever
    the data set size, and numpy does it without the per-frame cost of a tf.data pipeline.
    """
    rng = np.random.default_rng([seed, epoch])
    order = iter(rng.permutation(len(files)))
    buffer, n, exhausted = np.empty((0, 64, 64, 3), np.uint8), 0, False
    while True:
        while not exhausted and n < shuffle_buffer:
            i = next(order, None)
            if i is None:
                exhausted = True
                break
            try:
                obs = load_episode(files[i])["obs"]
            except EpisodeError as e:
                print(f"warning: skipping bad episode file {e}", file=sys.stderr)
                continue
            if n + len(obs) > len(buffer):
                grown = np.empty((n + len(obs), 64, 64, 3), np.uint8)
                grown[:n] = buffer[:n]
                buffer = grown
            buffer[n : n + len(obs)] = obs
            n += len(obs)
        if n < batch_size:
            return
        pick = rng.choice(n, batch_size, replace=False)
        yield buffer[pick]
        n -= batch_size
        holes = pick[pick < n]
        buffer[holes] = buffer[np.setdiff1d(np.arange(n, n + batch_size), pick)]


# The flags that make a training run what it is: a checkpoint made with other values is
# another run (--epochs may grow, --data and --init may change).
VAE_RUN_FLAGS = {
    "seed": "--seed",
    "batch_size": "--batch-size",
    "learning_rate": "--learning-rate",
    "kl_tolerance": "--kl-tolerance",
    "max_files": "--max-files",
    "shuffle_buffer": "--shuffle-buffer",
}


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_argument(parser)
    parser.add_argument("--out", default="tf_vae", help="output folder (vae.json, logs)")
    parser.add_argument("--epochs", type=COUNT, default=10)
    parser.add_argument("--batch-size", type=COUNT, default=100)
    parser.add_argument("--learning-rate", type=POSITIVE, default=1e-4)
    parser.add_argument("--kl-tolerance", type=float_at_least(0.0), default=0.5)
    parser.add_argument(
        "--max-files",
        type=COUNT,
        default=10000,
        help="use the first N episode files (the authors used 10,000)",
    )
    parser.add_argument("--shuffle-buffer", type=COUNT, default=10000, help="frames")
    parser.add_argument("--checkpoint-every", type=COUNT, default=500, help="steps")
    parser.add_argument("--seed", type=SEED, default=0)
    parser.add_argument(
        "--init",
        default=None,
        metavar="VAE_JSON",
        help="start from these weights of V instead of random ones (to train "
        "a V again on new episodes); a resumed run takes its checkpoint's",
    )
    add_restart_argument(parser, "the weights, checkpoint and logs in --out")
    args = parse_with_preset(parser, "vae_train", argv)

    files, frames = count_frames(list_episode_files(args.data)[: args.max_files])
    steps_per_epoch = frames // args.batch_size
    if steps_per_epoch == 0:
        raise UserError(
            f"{'/, '.join(args.data)}/: {frames} good frames, fewer than one "
            f"batch of {args.batch_size}"
        )
    if args.init is not None:
        existing_file(args.init, "V's weights, vae.json, for --init")
    out = writable_folder(args.out, "V's weights, checkpoint and logs")
    total_steps = steps_per_epoch * args.epochs
    ckpt_path, json_path = out / "checkpoint.npz", out / "vae.json"
    settings = run_settings(args, VAE_RUN_FLAGS)
    saved = check_same_run(ckpt_path, json_path, settings, VAE_RUN_FLAGS, args.restart)
    if saved and saved["step"] >= total_steps:  # no TensorFlow needed to say so
        print(
            f"vae_train: {json_path} already trained ({saved['step']} steps, {args.epochs} epochs)",
            file=sys.stderr,
        )
        return 0

    # TensorFlow only now that the settings and the data are known to be good
    tf = import_tensorflow()
    import keras

    from train_utils import TrainLog, check_finite, load_checkpoint, save_progress
    from vae.vae import ConvVAE, vae_losses

    keras.utils.set_random_seed(args.seed)
    model = ConvVAE(kl_tolerance=args.kl_tolerance, seed=args.seed)
    optimizer = keras.optimizers.Adam(args.learning_rate)
    saved = load_checkpoint(ckpt_path, model, optimizer, args.init) or {"step": 0}
    step = saved["step"]
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    print(
        f"vae_train: {len(files)} episodes, {frames} frames, {steps_per_epoch} steps/epoch "
        f"on {device}, "
        f"{'resuming at step ' + str(step) if step else 'starting'}",
        file=sys.stderr,
    )

    @tf.function
    def train_step(frames):
        x = tf.cast(frames, tf.float32) / 255.0
        with tf.GradientTape() as tape:
            loss, r_loss, kl_loss = vae_losses(model, x)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss, r_loss, kl_loss

    log = TrainLog(out, "vae_log", ["epoch", "loss", "r_loss", "kl_loss", "seconds"], step)
    start, good_step = time.time() - saved.get("seconds", 0.0), step
    try:
        for epoch in range(step // steps_per_epoch, args.epochs):
            done_in_epoch = step - epoch * steps_per_epoch
            batches = itertools.islice(
                frame_dataset(files, epoch, args.seed, args.batch_size, args.shuffle_buffer),
                done_in_epoch,
                steps_per_epoch,
            )
            bar = progress(
                batches,
                desc=f"V epoch {epoch + 1}/{args.epochs}",
                initial=done_in_epoch,
                total=steps_per_epoch,
                unit="batch",
            )
            for x in bar:
                loss, r_loss, kl_loss = (float(v) for v in train_step(x))
                step += 1
                check_finite(loss, step, json_path, good_step)
                log.write(
                    step,
                    epoch=epoch,
                    loss=loss,
                    r_loss=r_loss,
                    kl_loss=kl_loss,
                    seconds=time.time() - start,
                )
                bar.set_postfix(loss=f"{loss:.1f}", r=f"{r_loss:.1f}", kl=f"{kl_loss:.1f}")
                if step % args.checkpoint_every == 0 or step == total_steps:
                    good_step = save_progress(
                        model, optimizer, json_path, ckpt_path, step, start, settings
                    )
    finally:
        log.close()
    print(f"vae_train: wrote {json_path} ({step} steps)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
