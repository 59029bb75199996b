import gymnasium as gym
import numpy as np
import pytest
from PIL import Image

from env import CarRacingWrapper, make_env, process_frame, squash_action


def test_process_frame_shape_and_dtype():
    frame = np.random.default_rng(0).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    out = process_frame(frame)
    assert out.shape == (64, 64, 3)
    assert out.dtype == np.uint8


def test_process_frame_drops_indicator_bar():
    frame = np.zeros((96, 96, 3), np.uint8)
    frame[84:] = 255  # the indicator bar: rows 84..95
    assert process_frame(frame).max() == 0
    frame[83] = 255  # the last row of the picture is kept
    assert process_frame(frame)[-1].max() > 0


def test_process_frame_known_content():
    frame = np.zeros((96, 96, 3), np.uint8)
    frame[:, :48] = (200, 10, 30)
    frame[:, 48:] = (0, 100, 250)
    out = process_frame(frame).astype(int)
    assert np.all(out[:, :30] == (200, 10, 30))
    assert np.all(out[:, 34:] == (0, 100, 250))
    # bilinear: the columns at the edge are a blend of the two colours
    assert 0 < out[0, 31, 0] < 200 or 0 < out[0, 32, 0] < 200
    # uniform frame stays uniform
    assert np.all(process_frame(np.full((96, 96, 3), 77, np.uint8)) == 77)


def _pillow(frame):
    image = Image.fromarray(np.ascontiguousarray(frame[:84]))
    return np.asarray(image.resize((64, 64), Image.BILINEAR))


def test_process_frame_is_pillows_bilinear_resize_byte_for_byte():
    """process_frame's compiled resize gives Pillow's bytes: random noise, black and
    white edges (every rounding case of the weights), and CarRacing's own frames."""
    rng = np.random.default_rng(5)
    frames = [rng.integers(0, 256, (96, 96, 3), dtype=np.uint8) for _ in range(300)]
    frames += [rng.integers(0, 2, (96, 96, 3), dtype=np.uint8) * 255 for _ in range(300)]
    frames += [np.full((96, 96, 3), v, np.uint8) for v in (0, 1, 127, 254, 255)]
    env = gym.make("CarRacing-v3", continuous=True)
    obs, _ = env.reset(seed=3)
    for t in range(60):
        obs = env.step(np.array([np.sin(t / 7), 0.5, 0.0]))[0]
        frames.append(obs)
    env.close()
    for frame in frames:
        np.testing.assert_array_equal(process_frame(frame), _pillow(frame))


def test_bilinear_resize_refuses_another_shape():
    with pytest.raises(ValueError, match="shape"):
        process_frame(np.zeros((80, 96, 3), np.uint8))


def _rollout(seed, actions):
    env = make_env(seed=seed)
    obs, _ = env.reset()
    frames, rewards = [obs], []
    for a in actions:
        obs, r, terminated, truncated, _ = env.step(a)
        frames.append(obs)
        rewards.append(r)
    env.close()
    return np.stack(frames), np.array(rewards)


def test_same_seed_same_actions_same_episode():
    actions = np.random.default_rng(1).uniform([-1, 0, 0], [1, 1, 1], (40, 3))
    f1, r1 = _rollout(7, actions)
    f2, r2 = _rollout(7, actions)
    assert f1.shape == (41, 64, 64, 3) and f1.dtype == np.uint8
    np.testing.assert_array_equal(f1, f2)
    np.testing.assert_array_equal(r1, r2)
    f3, _ = _rollout(8, actions)
    assert not np.array_equal(f1[-1], f3[-1])  # another seed, another track


@pytest.mark.parametrize("bad", [[np.nan, 0, 0], [0, np.inf, 0], [0, 0]])
def test_non_finite_action_is_refused(bad):
    env = make_env(seed=0)
    env.reset()
    with pytest.raises(ValueError, match="finite"):
        env.step(bad)
    env.close()


class _EndsAtOnce(gym.Env):
    observation_space = gym.spaces.Box(0, 255, (96, 96, 3), np.uint8)
    action_space = gym.spaces.Box(-1, 1, (3,))

    def reset(self, *, seed=None, options=None):
        return np.zeros((96, 96, 3), np.uint8), {}

    def step(self, action):
        return np.zeros((96, 96, 3), np.uint8), -100.0, True, False, {}


def test_full_episode_ignores_termination():
    assert CarRacingWrapper(_EndsAtOnce(), full_episode=True).step([0, 0, 0])[2] is False
    assert CarRacingWrapper(_EndsAtOnce(), full_episode=False).step([0, 0, 0])[2] is True


def test_squash_action_ranges():
    a = squash_action(np.array([-1.0, -1.0, -1.0]))
    np.testing.assert_allclose(a, [-1, 0, 0])
    a = squash_action(np.array([0.5, 1.0, 0.7]))
    np.testing.assert_allclose(a, [0.5, 1.0, 0.7])
