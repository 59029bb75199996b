"""Encode every recorded episode with V (SPEC "Series") -> OUT/<episode>.npz.

Each output file holds `mu` and `logvar` (float16 [T,32]) of every frame and the
episode's `action` (float16 [T,3]). Episodes are encoded one at a time, whatever their
length, so memory does not grow with the data set; files already written are skipped.
(The authors wrote one series.npz of [episodes, 1000, ...] arrays held in memory.)
"""

from __future__ import annotations

import numerics  # noqa: F401 - first of all: numpy's arithmetic pinned before it loads

# isort: split

import hashlib
import sys
from pathlib import Path

import numpy as np  # noqa: E402

from common import (  # noqa: E402
    COUNT,
    ArgumentParser,
    UserError,
    add_data_argument,
    add_restart_argument,
    atomic_savez,
    atomic_write_text,
    existing_file,
    iter_episodes,
    list_episode_files,
    parse_with_preset,
    progress,
    run_main,
    writable_folder,
)

SERIES_KEYS = ("mu", "logvar", "action")
Z_SIZE = 32


def load_series(path: Path) -> dict[str, np.ndarray]:
    """One episode's series (and its `reward`, where the episode recorded one); ValueError
    (naming the file) if it is not one."""
    try:
        with np.load(path) as data:
            series = {k: data[k] for k in SERIES_KEYS}
            if "reward" in data:
                series["reward"] = data["reward"]
    except Exception as e:  # noqa: BLE001 - any unreadable file is reported the same way
        raise ValueError(f"{path}: not a series file with mu, logvar, action ({e})") from None
    mu, logvar, action = (series[k] for k in SERIES_KEYS)
    n = len(mu)
    if n == 0 or mu.shape != (n, Z_SIZE) or logvar.shape != mu.shape or action.shape != (n, 3):
        raise ValueError(
            f"{path}: mu {list(mu.shape)}, logvar {list(logvar.shape)}, action "
            f"{list(action.shape)}; expected [T,{Z_SIZE}], [T,{Z_SIZE}], [T,3]"
        )
    if "reward" in series and series["reward"].shape != (n,):
        raise ValueError(f"{path}: reward {list(series['reward'].shape)}; expected [{n}]")
    return series


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_argument(parser)
    parser.add_argument("--vae", default="tf_vae/vae.json", help="V's weights")
    parser.add_argument("--out", default="series", help="output folder")
    parser.add_argument("--batch-size", type=COUNT, default=1000, help="frames per encoder call")
    add_restart_argument(parser, "the series in --out, encoding every episode again")
    args = parse_with_preset(parser, "series", argv)

    files = list_episode_files(args.data)
    existing_file(args.vae, "V's weights, vae.json")
    out = writable_folder(args.out, "series files")
    # Series made with other weights of V are another V's: kept unless --restart says so
    # (gpu_jobs.bash says so when its V has trained further).
    vae_hash = hashlib.sha1(Path(args.vae).read_bytes()).hexdigest()
    stamp = out / "vae_sha1.txt"
    stale = stamp.exists() and stamp.read_text().strip() != vae_hash
    if stale and not args.restart:
        raise UserError(
            f"{stamp}: {out}/ holds series encoded by another V than {args.vae}; add "
            f"--restart to encode every episode again with it (or choose another --out)"
        )
    if args.restart:
        print(f"series: --restart: encoding every episode again into {out}/", file=sys.stderr)
        stamp.unlink(missing_ok=True)
        for f in out.glob("*.npz"):
            f.unlink()
    todo = [p for p in files if not (out / p.name).exists()]
    done = len(files) - len(todo)
    if not todo:
        print(f"series: all {done} episodes already encoded in {out}/", file=sys.stderr)
        return 0

    model, encoded = None, 0
    for path, episode in progress(iter_episodes(todo), total=len(todo), desc="series", unit="ep"):
        if encoded == 0:  # TensorFlow and the stamp only once there is work
            from vae.vae import ConvVAE

            model = ConvVAE()
            model.load_json(args.vae)
            atomic_write_text(stamp, vae_hash + "\n")
        encoded += 1
        mus, logvars = [], []
        for start in range(0, len(episode["obs"]), args.batch_size):
            x = episode["obs"][start : start + args.batch_size].astype(np.float32) / 255.0
            mu, logvar = model.encode(x)
            mus.append(np.asarray(mu))
            logvars.append(np.asarray(logvar))
        rewards = {"reward": episode["reward"]} if "reward" in episode else {}
        atomic_savez(
            out / path.name,
            compress=False,
            mu=np.concatenate(mus).astype(np.float16),
            logvar=np.concatenate(logvars).astype(np.float16),
            action=episode["action"].astype(np.float16),
            **rewards,
        )
    if encoded + done == 0:
        raise UserError(
            f"{'/, '.join(args.data)}/: none of the {len(files)} episode files "
            f"could be read (warnings above); nothing encoded"
        )
    print(
        f"series: encoded {encoded} episodes into {out}/ ({done} were already there)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
