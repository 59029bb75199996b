"""CarRacing-v3 as the World Models agent sees it (SPEC "Environment and frames").

`make_env` wraps gymnasium's continuous CarRacing-v3: observations are 64x64x3 uint8
frames made by `process_frame`, a non-finite action is refused, and `full_episode=True`
ignores termination so an episode always runs to the frame limit (extraction).
"""

from __future__ import annotations

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import functools  # noqa: E402

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

# The same environment with the faster renderer for observations (fast_render.py),
# loaded (with its compiled code) when the first one is made: a script stopped by a bad argument
# never pays for it.
FAST_ID = "WorldModels/CarRacingFast-v3"
if FAST_ID not in gym.registry:
    gym.register(
        id=FAST_ID,
        entry_point="fast_render:FastCarRacing",
        max_episode_steps=1000,
        reward_threshold=900,
    )
RENDERERS = {"fast": FAST_ID, "gymnasium": "CarRacing-v3"}

SCREEN_ROWS = 84  # rows 0..83 of the 96x96 frame; the rest is the indicator bar
FRAME_SIZE = 64
MAX_EPISODE_STEPS = 1000


@functools.cache
def _resize():
    """Pillow's Image.resize((64, 64), Image.BILINEAR) of the 96x84 picture, compiled."""
    from raster import BilinearResize

    return BilinearResize(SCREEN_ROWS, 96, FRAME_SIZE, FRAME_SIZE)


def process_frame(frame: np.ndarray) -> np.ndarray:
    """96x96x3 uint8 CarRacing frame -> 64x64x3 uint8: crop the indicator bar, then
    Pillow's bilinear resize (`Image.fromarray(frame[:84]).resize((64, 64),
    Image.BILINEAR)`, the same bytes, raster.BilinearResize)."""
    return _resize()(np.asarray(frame)[:SCREEN_ROWS])


class CarRacingWrapper(gym.Wrapper):
    """Processed frames, checked actions, optional full episodes, seeded first reset."""

    def __init__(self, env: gym.Env, seed: int = -1, full_episode: bool = False):
        super().__init__(env)
        self.observation_space = gym.spaces.Box(0, 255, (FRAME_SIZE, FRAME_SIZE, 3), np.uint8)
        self.full_episode = full_episode
        self._first_seed = None if seed is None or seed < 0 else int(seed)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is None:
            # The seed given to make_env seeds the first reset only, so that later
            # episodes continue the same random stream (the authors' env.seed()).
            seed, self._first_seed = self._first_seed, None
        obs, info = self.env.reset(seed=seed, options=options)
        return process_frame(obs), info

    def step(self, action):
        action = np.asarray(action, dtype=np.float64).reshape(-1)
        if action.shape != (3,) or not np.all(np.isfinite(action)):
            # A NaN action would be stepped as if it were valid and can make a broken
            # controller appear to finish the track.
            raise ValueError(
                f"CarRacing action must be 3 finite numbers "
                f"[steer, gas, brake], got {action.tolist()}"
            )
        obs, reward, terminated, truncated, info = self.env.step(action)
        if self.full_episode:
            terminated = False
        return process_frame(obs), reward, terminated, truncated, info


def squash_action(a: np.ndarray) -> np.ndarray:
    """Controller output in (-1, 1)^3 -> [steer in [-1,1], gas in [0,1], brake in [0,1]]."""
    a = np.array(a, dtype=np.float64)  # [3], or [B,3] for actions side by side
    a[..., 1] = (a[..., 1] + 1.0) / 2.0
    a[..., 2] = np.clip(a[..., 2], 0.0, 1.0)
    return a


def make_env(
    seed: int = -1,
    render_mode: str | None = None,
    full_episode: bool = False,
    max_episode_steps: int = MAX_EPISODE_STEPS,
    renderer: str = "fast",
) -> CarRacingWrapper:
    """Continuous CarRacing-v3 with 64x64 observations; episodes end at `max_episode_steps`.

    render_mode: None (observations only), "rgb_array" (full-size frames from
    `env.render()`, for videos) or "human" (a window; needs a display).
    renderer: "fast" (fast_render.py: the same observations, several times faster) or
    "gymnasium" (gymnasium's own drawing). Full-size frames always come from gymnasium.
    """
    if renderer not in RENDERERS:
        raise ValueError(f"renderer {renderer!r}: expected one of {sorted(RENDERERS)}")
    env = gym.make(
        RENDERERS[renderer],
        render_mode=render_mode,
        continuous=True,
        max_episode_steps=max_episode_steps,
        disable_env_checker=True,
    )
    return CarRacingWrapper(env, seed=seed, full_episode=full_episode)
