"""The agent: V (numpy encoder), M (numpy LSTM) and C, the controller (SPEC "C").

    python model.py render   log/carracing.cma.16.64.best.json   # one episode in a window
    python model.py norender log/carracing.cma.16.64.best.json   # score 100 episodes
    python model.py record   log/carracing.cma.16.64.best.json --out agent.gif
    python model.py norender log/carracing.cma.16.64.best.json --details tracks.csv
    python model.py map      log/carracing.cma.16.64.best.json --seed 20 --out track20.png

C acts on [z_t, h_t]: z is sampled from V's posterior (not the mean), h is M's LSTM
state after (z_{t-1}, a_{t-1}); after acting, M is advanced with (z_t, a_t).
No TensorFlow: the rollout path runs in numpy from the JSON weight files.
"""

from __future__ import annotations

import numerics  # noqa: F401 - first of all: numpy's arithmetic pinned before it loads

# isort: split

import os
import sys
from pathlib import Path

import numpy as np
from gymnasium.envs.box2d.car_racing import PLAYFIELD  # the game-over boundary

from common import (
    COUNT,
    POSITIVE,
    SEED,
    ArgumentParser,
    UserError,
    atomic_write,
    atomic_write_text,
    existing_file,
    mpi_world,
    parse_with_preset,
    read_json,
    run_main,
    under_mpi,
    writable_file,
)
from env import make_env, squash_action
from rnn import reward
from rnn.numpy_rnn import NumpyRNN
from vae.numpy_vae import NumpyVAE

Z_SIZE, HIDDEN, ACTION_SIZE, CONTROLLER_HIDDEN = 32, 256, 3, 40
# controller modes of the paper: input and parameter count
MODES = {
    "zh": Z_SIZE + HIDDEN,  # full World Model: 867 parameters
    "z": Z_SIZE,  # V only: 99
    "z_hidden": Z_SIZE,  # V only with a 40-unit tanh hidden layer: 1443
}


def param_count(mode: str) -> int:
    n_in = MODES[mode]
    if mode == "z_hidden":
        return (n_in + 1) * CONTROLLER_HIDDEN + CONTROLLER_HIDDEN * ACTION_SIZE + ACTION_SIZE
    return n_in * ACTION_SIZE + ACTION_SIZE


class Controller:
    """The authors' parameter layout: `b(3), W(in x 3)` row-major; with the hidden layer
    `b_h(40), W_h(32 x 40), b_o(3), W_o(40 x 3)`."""

    def __init__(self, mode: str = "zh"):
        if mode not in MODES:
            raise ValueError(f"controller mode {mode!r}: expected one of {sorted(MODES)}")
        self.mode, self.input_size, self.param_count = mode, MODES[mode], param_count(mode)
        self.set_params(np.zeros(self.param_count))

    def set_params(self, params) -> None:
        p = np.asarray(params, dtype=np.float64).reshape(-1)
        if len(p) != self.param_count:
            raise ValueError(
                f"{len(p)} parameters, expected {self.param_count} for controller {self.mode!r}"
            )
        if self.mode == "z_hidden":
            cut = (self.input_size + 1) * CONTROLLER_HIDDEN
            self.bias_hidden = p[:CONTROLLER_HIDDEN]
            self.weight_hidden = p[CONTROLLER_HIDDEN:cut].reshape(
                self.input_size, CONTROLLER_HIDDEN
            )
            self.bias = p[cut : cut + ACTION_SIZE]
            self.weight = p[cut + ACTION_SIZE :].reshape(CONTROLLER_HIDDEN, ACTION_SIZE)
        else:
            self.bias = p[:ACTION_SIZE]
            self.weight = p[ACTION_SIZE:].reshape(self.input_size, ACTION_SIZE)

    def action(self, z: np.ndarray, h: np.ndarray) -> np.ndarray:
        return self._act(np.concatenate([z.ravel(), h.ravel()]) if self.mode == "zh" else z.ravel())

    def actions(self, z: np.ndarray, h: np.ndarray) -> np.ndarray:
        """The actions of B episodes side by side: z [B,32], h [B,256] -> [B,3]."""
        return self._act(np.concatenate([z, h], 1) if self.mode == "zh" else z)

    def _act(self, x: np.ndarray) -> np.ndarray:
        """The action(s) for input(s) x: [in] or [B, in]."""
        if self.mode == "z_hidden":
            x = np.tanh(x @ self.weight_hidden + self.bias_hidden)
        return squash_action(np.tanh(x @ self.weight + self.bias))


def load_controller_params(path: str | os.PathLike, mode: str = "zh") -> np.ndarray:
    """Parameters from a controller file (`.json`: [params]; `.best.json`: [params, score])."""
    data = read_json(path, "a controller file: [params, ...]")
    try:
        params = np.asarray(data[0], dtype=np.float64)
    except (TypeError, ValueError, IndexError, KeyError):
        params = None
    if params is None or params.ndim != 1:
        raise UserError(
            f"{path}: expected a controller file, a JSON list whose first item "
            f"is the list of parameters"
        )
    if not np.all(np.isfinite(params)):
        bad = int(np.sum(~np.isfinite(params)))
        raise UserError(
            f"{path}: {bad} of the {len(params)} parameters are NaN or infinite "
            f"(expected a controller's finite parameters)"
        )
    if len(params) != param_count(mode):
        hint = [m for m in MODES if param_count(m) == len(params)]
        raise UserError(
            f"{path}: {len(params)} parameters, expected {param_count(mode)} for "
            f"controller {mode!r}" + (f" (use --mode {hint[0]})" if hint else "")
        )
    return params


class Agent:
    """V + M + C, stepping in numpy."""

    def __init__(self, vae: NumpyVAE, rnn: NumpyRNN, mode: str = "zh"):
        self.vae, self.rnn, self.controller = vae, rnn, Controller(mode)

    @classmethod
    def from_files(cls, vae_path, rnn_path, mode: str = "zh") -> Agent:
        for path, what in ((vae_path, "V's weights (vae.json)"), (rnn_path, "M's (rnn.json)")):
            existing_file(path, f"{what}; run gpu_jobs.bash or pass --vae/--rnn")
        return cls(NumpyVAE.from_json(vae_path), NumpyRNN.from_json(rnn_path), mode)

    def rollout(
        self,
        env,
        rng: np.random.Generator,
        seed: int | None = None,
        max_steps: int = 1000,
        on_step=None,
        early_stop: int = 0,
        record: list | None = None,
    ) -> tuple[float, int]:
        """One episode; returns (total reward, steps). `seed` reseeds the env's track.

        `early_stop` N > 0 ends the episode after N consecutive steps of negative reward
        (no new tile): a training shortcut, off in the paper's loop and in evaluations.
        `record`, a list, receives (observation, action, reward) of every step: the frame
        the agent saw, what it did and the reward that followed (extract.py --controller).
        """
        obs, _ = env.reset(seed=seed)
        state = self.rnn.initial_state()
        uses_h = self.controller.mode == "zh"  # V-only controllers never read M's state
        total, t, idle = 0.0, 0, 0
        while t < max_steps:
            z = self.vae.encode(obs, rng)
            action = self.controller.action(z, state[0])
            seen = obs
            obs, reward, terminated, truncated, _ = env.step(action)
            if record is not None:
                record.append((seen, action, reward))
            if uses_h:
                state = self.rnn.step(z, action[None].astype(np.float32), state)
            total += reward
            t += 1
            idle = idle + 1 if reward < 0 else 0
            if on_step is not None:
                on_step(t, total)
            if terminated or truncated or (early_stop and idle >= early_stop):
                break
        return total, t

    def evaluate(
        self, env, params, seed: int, num_episodes: int, max_steps: int = 1000, early_stop: int = 0
    ) -> tuple[list[float], list[int]]:
        """`num_episodes` episodes one after another from one seed (SPEC: the env is seeded
        once, so they are different tracks, the same for every caller with that seed)."""
        self.controller.set_params(params)
        rng = np.random.default_rng(seed)
        rewards, lengths = [], []
        for i in range(num_episodes):
            r, n = self.rollout(
                env, rng, seed=seed if i == 0 else None, max_steps=max_steps, early_stop=early_stop
            )
            rewards.append(r)
            lengths.append(n)
        return rewards, lengths


class DreamAgent:
    """An agent's controller trained in M's dream instead of the environment (train.py
    --dream; opt-in, not the paper's CarRacing loop): the same evaluate() as Agent, each
    episode a dream as `dream` dreams it, its reward M's reward head's (rnn/reward.py).
    The episodes of one call run side by side; each runs `max_steps` steps."""

    def __init__(self, agent: Agent, head: np.ndarray, initial_z: str, tau: float):
        self.controller, self.rnn, self.head, self.tau = agent.controller, agent.rnn, head, tau
        self.mus, self.logvars = read_initial_z(initial_z, agent.rnn.z_size)

    def evaluate(
        self, env, params, seed: int, num_episodes: int, max_steps: int = 1000, early_stop: int = 0
    ) -> tuple[list[float], list[int]]:
        self.controller.set_params(params)
        rng = np.random.default_rng(seed)
        k = rng.integers(len(self.mus), size=num_episodes)
        noise = rng.standard_normal((num_episodes, self.mus.shape[1]))
        z = (self.mus[k] + np.exp(self.logvars[k] / 2.0) * noise).astype(np.float32)
        state = self.rnn.initial_state(num_episodes)
        total = np.zeros(num_episodes)
        for _ in range(max_steps):
            action = self.controller.actions(z, state[0])
            state = self.rnn.step(z, action.astype(np.float32), state)
            total += reward.predict(self.head, z, state[0], action)
            z = self.rnn.sample_z(state[0], self.tau, rng)
        return total.tolist(), [max_steps] * num_episodes


# ------------------------------------------------------------------ command line


def car_speed(car) -> float:
    """The car's speed, |hull velocity|: what the speed bar shows."""
    return float(np.hypot(*car.hull.linearVelocity))


class TrackDetails:
    """Why an episode scored what it did, read from the environment after every step: an
    `on_step` callback for Agent.rollout."""

    FIELDS = (
        "track",
        "reward",
        "lap_finished",
        "steps",
        "tiles_visited",
        "tiles_total",
        "furthest_tile",
        "tiles_other_way",
        "steps_off_road",
        "mean_speed",
        "top_speed",
        "left_playfield",
    )
    FORWARD = 20  # a tile at most this far ahead of the furthest one extends the progress

    def __init__(self, env):
        self.car_racing = env.unwrapped
        self.speed_sum, self.top_speed, self.off_road = 0.0, 0.0, 0
        self.furthest = 0  # the furthest tile reached driving forward from the start

    def __call__(self, t: int, total: float) -> None:
        car = self.car_racing.car
        speed = car_speed(car)
        self.speed_sum += speed
        self.top_speed = max(self.top_speed, speed)
        touched = [tile.idx for wheel in car.wheels for tile in wheel.tiles]
        self.off_road += not touched
        ahead = [i for i in touched if 0 < i - self.furthest <= self.FORWARD]
        if ahead:  # a car that turns round and crosses the start backwards makes no progress
            self.furthest = max(ahead)

    def row(self, track: int, reward: float, steps: int) -> dict:
        env = self.car_racing
        x, y = env.car.hull.position
        lap = bool(env.new_lap or env.tile_visited_count == len(env.track))
        furthest = len(env.track) if lap else self.furthest + 1  # tiles 0..furthest
        beyond = sum(tile.road_visited for tile in env.road if tile.idx >= furthest)
        return {
            "track": track,
            "reward": reward,
            "lap_finished": int(lap),
            "steps": steps,
            "tiles_visited": env.tile_visited_count,
            "tiles_total": len(env.track),
            "furthest_tile": furthest,
            "tiles_other_way": beyond,
            "steps_off_road": self.off_road,
            "mean_speed": round(self.speed_sum / max(steps, 1), 2),
            "top_speed": round(self.top_speed, 2),
            "left_playfield": int(max(abs(x), abs(y)) > PLAYFIELD),
        }


def where_points_go(rows: list[dict]) -> list[str]:
    """The points below 1000 per track, averaged over the tracks, by outcome: each
    episode earns 1000 spread over the tiles, minus 0.1 per step (SPEC "Environment")."""
    n = len(rows)
    groups = {
        "lap finished": [r for r in rows if r["lap_finished"]],
        "out of time (lap unfinished at the step limit)": [
            r for r in rows if not r["lap_finished"] and not r["left_playfield"]
        ],
        "left the playfield": [r for r in rows if r["left_playfield"]],
    }
    lines = [
        f"points lost per track (1000 - reward), averaged over {n} tracks: "
        f"{sum(1000 - r['reward'] for r in rows) / n:.1f}"
    ]
    for name, group in groups.items():
        # tiles never reached driving forward (some reached the other way round), and
        # tiles skipped on the way to the furthest one
        skipped = (
            sum(
                1000
                * (r["furthest_tile"] - r["tiles_visited"] + r["tiles_other_way"])
                / r["tiles_total"]
                for r in group
            )
            / n
        )
        ahead = (
            sum(
                1000
                * (r["tiles_total"] - r["furthest_tile"] - r["tiles_other_way"])
                / r["tiles_total"]
                for r in group
            )
            / n
        )
        lost = sum(1000 - r["reward"] for r in group) / n
        lines.append(
            f"  {name}: {len(group)} tracks, {lost:.1f} points: {ahead:.1f} for tiles "
            f"never reached, {skipped:.1f} for tiles skipped, "
            f"{lost - ahead - skipped:.1f} for time (0.1 a step) and penalties"
        )
    low = [r for r in rows if r["reward"] < 500]
    lines.append(
        f"  tracks under 500: {len(low)}, {sum(1000 - r['reward'] for r in low) / n:.1f} points"
    )
    return lines


def cmd_norender(agent: Agent, args) -> int:
    """Score --trials episodes, episode i on seed (--seed + i); in parallel under mpirun.
    With --details, a CSV row per track says why it scored what it did."""
    rank, size, comm = 0, 1, None
    if under_mpi():
        comm = mpi_world()
        rank, size = comm.Get_rank(), comm.Get_size()
    if args.details and rank == 0:
        writable_file(args.details, "the per-track details (CSV)")
    env = make_env(max_episode_steps=args.max_steps)
    mine = {}
    for i in range(rank, args.trials, size):
        seed = args.seed + i
        details = TrackDetails(env) if args.details else None
        reward, steps = agent.rollout(
            env, np.random.default_rng(seed), seed=seed, max_steps=args.max_steps, on_step=details
        )
        mine[i] = (reward, details.row(seed, reward, steps) if details else None)
        if comm is None:
            print(i, reward, flush=True)
    env.close()
    if comm is not None:
        parts = comm.gather(mine, root=0)
        if rank != 0:
            return 0
        mine = {k: v for part in parts for k, v in part.items()}
        for i in sorted(mine):
            print(i, mine[i][0])
    scores = np.array([mine[i][0] for i in sorted(mine)])
    print("average_reward", np.mean(scores), "stdev", np.std(scores))
    if args.details:
        rows = [mine[i][1] for i in sorted(mine)]
        lines = [",".join(TrackDetails.FIELDS)]
        lines += [",".join(str(r[k]) for k in TrackDetails.FIELDS) for r in rows]
        atomic_write_text(args.details, "\n".join(lines) + "\n")
        print(f"model.py: wrote {args.details}", *where_points_go(rows), sep="\n", file=sys.stderr)
    return 0


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_render(agent: Agent, args) -> int:
    if not has_display():
        raise UserError(
            f"no display found (DISPLAY is not set) to show a window; save a video "
            f"instead: python model.py record {args.file} --out agent.gif"
        )
    env = make_env(render_mode="human", max_episode_steps=args.max_steps)
    reward, steps = agent.rollout(
        env, np.random.default_rng(args.seed), seed=args.seed, max_steps=args.max_steps
    )
    env.close()
    print(f"reward {reward:.2f} in {steps} steps")
    return 0


VIDEO_FPS = 50  # CarRacing's simulation runs at 50 steps per second


class GifWriter:
    """Frames kept in memory with a 64-colour palette, written as one GIF at the end."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps, self.frames = path, fps, []

    @property
    def count(self) -> int:
        return len(self.frames)

    def add(self, image) -> None:
        from PIL import Image

        self.frames.append(image.convert("P", palette=Image.ADAPTIVE, colors=64))

    def close(self) -> None:
        self.frames[0].save(
            self.path,
            format="GIF",
            save_all=True,
            append_images=self.frames[1:],
            duration=int(1000 / self.fps),
            loop=0,
        )


class Mp4Writer:
    """Frames streamed to an H.264 MP4 through imageio-ffmpeg's own ffmpeg binary."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps, self.count, self.writer = path, fps, 0, None

    def add(self, image) -> None:
        if self.writer is None:  # the frame size is known with the first frame
            import imageio_ffmpeg

            self.writer = imageio_ffmpeg.write_frames(
                str(self.path),
                image.size,
                fps=self.fps,
                codec="libx264",
                pix_fmt_out="yuv420p",
                quality=7,
                macro_block_size=2,
                output_params=["-f", "mp4"],
                ffmpeg_log_level="error",
            )
            self.writer.send(None)
        self.writer.send(np.ascontiguousarray(np.asarray(image.convert("RGB"))))
        self.count += 1

    def close(self) -> None:
        self.writer.close()


VIDEO_WRITERS = {".gif": GifWriter, ".mp4": Mp4Writer}


def cmd_record(agent: Agent, args) -> int:
    from PIL import Image, ImageDraw

    out = Path(args.out or "agent.gif")
    if out.suffix.lower() not in VIDEO_WRITERS:
        raise UserError(f"{out}: expected a video name ending in .gif or .mp4")
    writable_file(out, "the video")
    tmp = out.with_name(f".{out.stem}.tmp{out.suffix}")
    video = VIDEO_WRITERS[out.suffix.lower()](tmp, VIDEO_FPS / args.every)
    env = make_env(render_mode="rgb_array", max_episode_steps=args.max_steps)
    shown = 0

    def grab(t, total):
        nonlocal shown
        image = Image.fromarray(env.render())
        ImageDraw.Draw(image).text((8, 8), f"step {t}  score {total:7.1f}", fill=(255, 255, 255))
        video.add(image)
        shown = t

    try:
        reward, steps = agent.rollout(
            env,
            np.random.default_rng(args.seed),
            seed=args.seed,
            max_steps=args.max_steps,
            on_step=lambda t, r: t % args.every == 0 and grab(t, r),
        )
        if shown != steps:  # the last frame, whatever --every
            grab(steps, reward)
        video.close()
        os.replace(tmp, out)
    finally:
        env.close()
        tmp.unlink(missing_ok=True)
    print(f"record: {out}: {video.count} frames, reward {reward:.2f} in {steps} steps")
    return 0


def read_initial_z(path: str, z_size: int) -> tuple[np.ndarray, np.ndarray]:
    """mu and logvar [episodes, z] of the episodes' first frames (rnn_train.py writes them
    as ints x 10000); UserError naming the file if it is not that."""
    try:
        mus, logvars = (
            np.asarray(v, np.float64) / 10000.0
            for v in read_json(
                path, "initial_z.json: [mu list, logvar list], each episodes x 32, x 10000"
            )
        )
    except (TypeError, ValueError):
        mus = logvars = np.zeros(0)
    if mus.ndim != 2 or mus.shape != logvars.shape or mus.shape[1] != z_size:
        raise UserError(f"{path}: expected [mu list, logvar list] of {z_size} numbers each")
    return mus, logvars


def dream(agent: Agent, initial_z: str, tau: float, seed: int, steps: int):
    """The controller driving in M's dream (the authors' dream_env): z starts from one of
    the episodes' first frames in `initial_z` (picked, then sampled from its mu and
    logvar, with a generator of `seed`); each step C acts on [z, h], M steps on (z,
    action), and the next z is drawn from M's mixture at temperature `tau`. Yields
    (step, z) for z of steps 0..steps-1."""
    mus, logvars = read_initial_z(initial_z, agent.rnn.z_size)
    rng = np.random.default_rng(seed)
    k = int(rng.integers(len(mus)))
    z = (mus[k] + np.exp(logvars[k] / 2.0) * rng.standard_normal(mus.shape[1]))[None]
    z = z.astype(np.float32)
    state = agent.rnn.initial_state()
    for t in range(steps):
        yield t, z
        action = agent.controller.action(z, state[0])
        state = agent.rnn.step(z, action[None].astype(np.float32), state)
        z = agent.rnn.sample_z(state[0], tau, rng)


def dream_frames(agent: Agent, args, vae_path: str):
    """(step, PIL image) of the dream, decoded by V, 4 times the 64-pixel frame, with
    the step and temperature written on it."""
    from PIL import Image, ImageDraw

    vae = NumpyVAE.from_json(vae_path)
    batch: list = []

    def decoded():
        frames = np.asarray(vae.decode(np.concatenate([z for _, z in batch])))
        for (t, _), frame in zip(batch, frames, strict=True):
            image = Image.fromarray((np.clip(frame, 0.0, 1.0) * 255).round().astype(np.uint8))
            image = image.resize((256, 256), Image.BILINEAR)
            text = f"dream step {t}  temperature {args.temperature:g}"
            ImageDraw.Draw(image).text((6, 6), text, fill=(255, 255, 255))
            yield t, image
        batch.clear()

    size = 1 if args.out is None else 100  # a window shows each frame as it comes
    for t, z in dream(agent, args.initial_z, args.temperature, args.seed, args.max_steps):
        if t % args.every == 0 or t == args.max_steps - 1:
            batch.append((t, z))
        if len(batch) == size:
            yield from decoded()
    yield from decoded()


def cmd_dream(agent: Agent, args) -> int:
    existing_file(args.initial_z, "initial_z.json; run gpu_jobs.bash or pass --initial-z")
    if args.out is None:  # a window, as render shows the real track
        if not has_display():
            raise UserError(
                f"no display found (DISPLAY is not set) to show a window; save a video "
                f"instead: python model.py dream {args.file} --out dream.gif"
            )
        import pygame

        pygame.init()
        screen = pygame.display.set_mode((256, 256))
        pygame.display.set_caption("the agent in M's dream")
        clock = pygame.time.Clock()
        for _, image in dream_frames(agent, args, args.vae):
            pygame.event.pump()
            surface = pygame.image.fromstring(image.tobytes(), image.size, image.mode)
            screen.blit(surface, (0, 0))
            pygame.display.flip()
            clock.tick(VIDEO_FPS / args.every)
        pygame.quit()
        print(f"dream: {args.max_steps} steps at temperature {args.temperature:g}")
        return 0
    out = Path(args.out)
    if out.suffix.lower() not in VIDEO_WRITERS:
        raise UserError(f"{out}: expected a video name ending in .gif or .mp4")
    writable_file(out, "the video")
    tmp = out.with_name(f".{out.stem}.tmp{out.suffix}")
    video = VIDEO_WRITERS[out.suffix.lower()](tmp, VIDEO_FPS / args.every)
    try:
        for _, image in dream_frames(agent, args, args.vae):
            video.add(image)
        video.close()
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    print(
        f"dream: {out}: {video.count} frames of {args.max_steps} dream steps at "
        f"temperature {args.temperature:g}, seed {args.seed}"
    )
    return 0


def cmd_map(agent: Agent, args) -> int:
    """One episode seen from above: the tiles it visited and missed, and the car's path
    coloured by speed."""
    out = Path(args.out or "track.png")
    if out.suffix.lower() != ".png":
        raise UserError(f"{out}: expected a picture name ending in .png")
    writable_file(out, "the track map")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Polygon

    env = make_env(max_episode_steps=args.max_steps)
    details, path = TrackDetails(env), []

    def on_step(t: int, total: float) -> None:
        details(t, total)
        x, y = env.unwrapped.car.hull.position
        path.append((x, y, car_speed(env.unwrapped.car)))

    reward, steps = agent.rollout(
        env,
        np.random.default_rng(args.seed),
        seed=args.seed,
        max_steps=args.max_steps,
        on_step=on_step,
    )
    row = details.row(args.seed, reward, steps)
    fig, ax = plt.subplots(figsize=(7.5, 6))
    for tile in env.unwrapped.road:
        ax.add_patch(
            Polygon(
                tile.fixtures[0].shape.vertices,
                closed=True,
                lw=0,
                color="0.75" if tile.road_visited else "tab:red",
            )
        )
    path = np.array(path)
    segments = np.stack([path[:-1, :2], path[1:, :2]], axis=1)
    line = LineCollection(segments, cmap="viridis", lw=1.5)
    line.set_array(path[1:, 2])
    ax.add_collection(line)
    fig.colorbar(line, ax=ax, shrink=0.6, label="speed")
    start = env.unwrapped.road[0].fixtures[0].shape.vertices
    ax.plot(*np.mean(start, axis=0), "k^", ms=9, label="start (tile 0)")
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(
        f"track {args.seed}: reward {reward:.1f} in {steps} steps; tiles visited "
        f"{row['tiles_visited']} of {row['tiles_total']} (red: missed); lap "
        f"{'finished' if row['lap_finished'] else 'unfinished'}",
        fontsize=9,
    )
    env.close()
    fig.tight_layout()
    atomic_write(out, lambda f: fig.savefig(f, format="png", dpi=90), "wb")
    print(f"map: {out}: reward {reward:.2f} in {steps} steps")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description="Render, score or record a controller.")
    parser.add_argument("command", choices=["render", "norender", "record", "map", "dream"])
    parser.add_argument("file", help="controller file, e.g. log/carracing.cma.16.64.best.json")
    parser.add_argument("--vae", default="vae/vae.json")
    parser.add_argument("--rnn", default="rnn/rnn.json")
    parser.add_argument(
        "--mode",
        choices=sorted(MODES),
        default="zh",
        help="controller input: zh (867 params), z (99), z_hidden (1443)",
    )
    parser.add_argument("--trials", type=COUNT, default=100, help="episodes for norender")
    parser.add_argument("--seed", type=SEED, default=0)
    parser.add_argument("--max-steps", type=COUNT, default=1000)
    parser.add_argument(
        "--out",
        default=None,
        help="record: the video, .gif or .mp4 (H.264; default agent.gif); "
        "map: the picture, .png (default track.png); dream: the video, .gif or .mp4 "
        "(default: a window)",
    )
    parser.add_argument(
        "--temperature",
        type=POSITIVE,
        default=1.0,
        help="dream: M's sampling temperature (higher: a wilder dream)",
    )
    parser.add_argument(
        "--initial-z",
        default="initial_z/initial_z.json",
        help="dream: the first frames' z to start from (written with M by rnn_train.py)",
    )
    parser.add_argument("--every", type=COUNT, default=2, help="record every N-th frame")
    parser.add_argument(
        "--details",
        default=None,
        metavar="CSV",
        help="norender: also write a row per track (lap finished, steps, tiles "
        "visited, steps off the road, speeds) and say where points go",
    )
    args = parse_with_preset(parser, "model", argv)

    params = load_controller_params(args.file, args.mode)
    agent = Agent.from_files(args.vae, args.rnn, args.mode)
    agent.controller.set_params(params)
    commands = {"render": cmd_render, "norender": cmd_norender, "record": cmd_record}
    commands |= {"map": cmd_map, "dream": cmd_dream}
    return commands[args.command](agent, args)


if __name__ == "__main__":
    sys.exit(run_main(main))
