"""Pictures of the world model, as PNG:

    python figures.py --record record --vae vae/vae.json --rnn rnn/rnn.json --out figures

- `OUT/vae_reconstruction.png`: real frames (top row) above V's reconstructions
  (decoded from mu) for frames spread over one recorded episode;
- `OUT/rnn_dream.png`: frames decoded from a dream: z starts from the episode's first
  frame, then M samples every next z at temperature `--tau` while the episode's
  recorded actions are replayed.
"""

from __future__ import annotations

import numerics  # noqa: F401 - first of all: numpy's arithmetic pinned before it loads

# isort: split

import sys

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from common import (  # noqa: E402
    COUNT,
    POSITIVE,
    SEED,
    ArgumentParser,
    UserError,
    atomic_save_png,
    existing_file,
    iter_episodes,
    list_episode_files,
    run_main,
    writable_folder,
)
from rnn.numpy_rnn import NumpyRNN  # noqa: E402
from vae.numpy_vae import NumpyVAE  # noqa: E402


def grid(rows: list[np.ndarray], scale: int = 2) -> Image.Image:
    """rows of [N,64,64,3] uint8 frames -> one image, a 2-pixel gap between frames."""
    n = max(len(r) for r in rows)
    canvas = np.full((len(rows) * 66, n * 66, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        for j, frame in enumerate(row):
            canvas[i * 66 + 1 : i * 66 + 65, j * 66 + 1 : j * 66 + 65] = frame
    return Image.fromarray(canvas).resize(
        (canvas.shape[1] * scale, canvas.shape[0] * scale), Image.NEAREST
    )


def to_uint8(x) -> np.ndarray:
    return (np.clip(np.asarray(x), 0.0, 1.0) * 255).round().astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description="V's reconstructions and M's dream as PNG.")
    parser.add_argument("--record", default="record", help="folder of episode files")
    parser.add_argument("--vae", default="vae/vae.json")
    parser.add_argument("--rnn", default="rnn/rnn.json")
    parser.add_argument("--out", default="figures")
    parser.add_argument("--frames", type=COUNT, default=10, help="frames per row")
    parser.add_argument("--tau", type=POSITIVE, default=1.0, help="dream temperature")
    parser.add_argument("--seed", type=SEED, default=0)
    args = parser.parse_args(argv)

    _, episode = next(iter_episodes(list_episode_files(args.record)), (None, None))
    if episode is None:
        raise UserError(f"{args.record}/: none of the episode files could be read (warnings above)")
    for path in (args.vae, args.rnn):
        existing_file(path, "weights; run gpu_jobs.bash")
    vae = NumpyVAE.from_json(args.vae)
    rnn = NumpyRNN.from_json(args.rnn)
    out = writable_folder(args.out, "the figures")

    obs, actions = episode["obs"], episode["action"]
    picks = np.linspace(0, len(obs) - 1, args.frames).round().astype(int)
    mu, _ = vae.encode_mu_logvar(obs[picks])
    recon = to_uint8(vae.decode(mu))
    atomic_save_png(out / "vae_reconstruction.png", grid([obs[picks], recon]))

    rng = np.random.default_rng(args.seed)
    z, _ = vae.encode_mu_logvar(obs[:1])
    state = rnn.initial_state()
    steps = min(len(actions), args.frames * 10)
    dream = []
    for t in range(steps):
        if t % 10 == 0:
            dream.append(z)
        state = rnn.step(z, actions[t][None], state)
        z = rnn.sample_z(state[0], args.tau, rng)
    frames = to_uint8(vae.decode(np.concatenate(dream)))
    atomic_save_png(out / "rnn_dream.png", grid([frames]))
    print(f"figures: wrote {out / 'vae_reconstruction.png'} and {out / 'rnn_dream.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
