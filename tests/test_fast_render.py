"""The fast renderer gives gymnasium's observations, byte for byte, over whole episodes."""

import numpy as np
import pytest
from conftest import run_script, script_env

from env import make_env
from fast_render import rotate


def actions(seed: int, kind: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.uniform([-1, 0, 0], [1, 1, 1], (1000, 3))
    # hard steering: full lock one way then the other, full gas, bursts of brake
    t = np.arange(1000)
    steer = np.where((t // rng.integers(20, 60)) % 2 == 0, 1.0, -1.0)
    brake = ((t // 97) % 5 == 4).astype(float)
    return np.stack([steer, np.ones(1000), brake], axis=1)


# whole 1000-step episodes on one track of each kind; on the others their first 250 steps
# (past the zoom, the first bends; gymnasium's renderer costs 5 ms a step)
WHOLE = {0, 5}


@pytest.mark.parametrize(
    "seed,kind", [(s, "random") for s in range(5)] + [(s, "steer") for s in range(5, 10)]
)
def test_same_observations_rewards_and_physics(seed, kind):
    length = 1000 if seed in WHOLE else 250
    ours = make_env(renderer="fast", max_episode_steps=length)
    theirs = make_env(renderer="gymnasium", max_episode_steps=length)
    obs_a, _ = ours.reset(seed=seed)
    obs_b, _ = theirs.reset(seed=seed)
    np.testing.assert_array_equal(obs_a, obs_b)
    car_a, car_b = ours.unwrapped.car, theirs.unwrapped.car
    steps = 0
    for action in actions(seed, kind)[:length]:  # the first 50 steps are the zoom animation
        obs_a, r_a, term_a, trunc_a, _ = ours.step(action)
        obs_b, r_b, term_b, trunc_b, _ = theirs.step(action)
        steps += 1
        assert np.array_equal(obs_a, obs_b), f"step {steps}: observations differ"
        assert np.array_equal(ours.unwrapped.state[:84], theirs.unwrapped.state[:84])
        assert not ours.unwrapped.state[84:].any()  # the indicator bar is not drawn
        assert (r_a, term_a, trunc_a) == (r_b, term_b, trunc_b)
        assert tuple(car_a.hull.position) == tuple(car_b.hull.position)
        if term_a or trunc_a:
            break
    assert steps == length or term_a


def test_full_size_frames_come_from_gymnasium():
    ours = make_env(render_mode="rgb_array", renderer="fast")
    theirs = make_env(render_mode="rgb_array", renderer="gymnasium")
    ours.reset(seed=3)
    theirs.reset(seed=3)
    for _ in range(5):
        ours.step([0.3, 0.5, 0])
        theirs.step([0.3, 0.5, 0])
    frame = ours.render()
    assert frame.shape == (400, 600, 3)
    np.testing.assert_array_equal(frame, theirs.render())


def test_unpack_rgb_reads_what_pixels3d_reads():
    import pygame

    from raster import unpack_rgb

    surface = pygame.Surface((96, 84))
    pixels = pygame.surfarray.pixels2d(surface).T
    pixels[:] = np.random.default_rng(0).integers(0, 1 << 24, pixels.shape)
    frame = unpack_rgb(pixels, 96)
    assert frame.shape == (96, 96, 3) and frame.dtype == np.uint8
    np.testing.assert_array_equal(frame[:84], pygame.surfarray.pixels3d(surface).transpose(1, 0, 2))
    assert not frame[84:].any()


def test_rotate_matches_pygame_bit_for_bit():
    import pygame

    rng = np.random.default_rng(0)
    points = rng.uniform(-500, 500, (200, 2))
    for angle in [*rng.uniform(-10, 10, 50), 0.0, np.pi / 2, -np.pi, 3 * np.pi / 2 + 1e-7]:
        expected = np.array([tuple(pygame.math.Vector2(*p).rotate_rad(angle)) for p in points])
        np.testing.assert_array_equal(rotate(points, angle), expected)


def test_select_polygons_culls_and_transforms_as_numpy_does():
    """raster.select_polygons (one compiled pass) against the same culling and transform
    written with fast_render.to_screen in numpy, on a real track seen from random places,
    angles (exact quarter turns included) and zooms (the opening zoom-out included)."""
    from gymnasium.envs.box2d import car_racing as cr

    import raster
    from fast_render import FIRST_KEPT_ROW, rotation, to_screen

    env = make_env(renderer="fast")
    env.reset(seed=4)
    track = env.unwrapped
    polys, centers, radii = track._polygons(), track._centers, track._radii
    rng = np.random.default_rng(1)
    w, h, m = cr.WINDOW_W, cr.WINDOW_H, cr.MAX_SHAPE_DIM
    kept, culled = 0, 0
    for trial in range(300):
        angle = (
            [0.0, np.pi / 2, -np.pi, 3 * np.pi / 2][trial % 4]
            if trial % 3 == 0
            else rng.uniform(-8, 8)
        )
        zoom = rng.choice([0.6, rng.uniform(0.6, 16.2), 16.2])
        trans = tuple(rng.uniform(-3000, 3000, 2) * zoom / 16.2 + [w / 2, h / 4])
        c = to_screen(centers, zoom, trans, angle)
        r = radii * zoom + 3.0
        cand = np.flatnonzero(
            (c[:, 0] + r >= 0)
            & (c[:, 0] - r <= w)
            & (c[:, 1] + r >= FIRST_KEPT_ROW)
            & (c[:, 1] - r <= h)
        )
        screen = to_screen(polys[cand], zoom, trans, angle)
        low, high = screen.min(axis=1), screen.max(axis=1)
        keep = (
            (high[:, 0] >= -2)
            & (low[:, 0] <= w + 2)
            & (high[:, 1] >= FIRST_KEPT_ROW - 2)
            & (low[:, 1] <= h + 2)
        )
        near = (
            (screen[..., 0] >= -m)
            & (screen[..., 0] <= w + m)
            & (screen[..., 1] >= -m)
            & (screen[..., 1] <= h + m)
        )
        keep &= near.any(axis=1)
        expected = raster.to_sdl(screen[keep])
        index, xs, ys = raster.select_polygons(
            polys,
            centers,
            radii,
            *rotation(angle),
            zoom,
            trans[0],
            trans[1],
            FIRST_KEPT_ROW,
            w,
            h,
            float(m),
        )
        assert index.tolist() == cand[keep].tolist(), trial
        np.testing.assert_array_equal(xs, expected[..., 0])
        np.testing.assert_array_equal(ys, expected[..., 1])
        kept += len(index)
        culled += len(polys) - len(index)
    assert kept > 1000 and culled > 1000, (kept, culled)


def test_renderer_choice_is_checked():
    with pytest.raises(ValueError, match="renderer"):
        make_env(renderer="opengl")


def test_b2_mul_matches_box2d_bit_for_bit():
    from fast_render import b2_mul

    env = make_env(renderer="fast")
    env.reset(seed=2)
    for _ in range(30):
        env.step([0.7, 1.0, 0.0])
    for body in env.unwrapped.car.drawlist:
        for fixture in body.fixtures:
            vertices = np.array(fixture.shape.vertices, np.float32)
            t = body.transform
            rotation = np.array(
                [(t.q.c, t.q.s, t.position[0], t.position[1])] * len(vertices), np.float32
            )
            expected = np.array([tuple(t * v) for v in fixture.shape.vertices])
            np.testing.assert_array_equal(b2_mul(rotation, vertices), expected)


def transforms(count: int):
    """Random (angle, zoom, translation) of the renderer, exact quarter turns included."""
    rng = np.random.default_rng(7)
    for k in range(count):
        angle = (k % 4) * np.pi / 2 if k % 3 == 0 else float(rng.uniform(-7, 7))
        zoom = float(rng.choice([0.6, 16.2, rng.uniform(0.5, 20)]))
        yield angle, zoom, (float(rng.uniform(-3e4, 3e4)), float(rng.uniform(-3e4, 3e4)))


def test_car_points_are_b2_mul_then_to_screen_bit_for_bit():
    from fast_render import b2_mul, rotation, to_screen
    from raster import body_points_to_screen

    rng = np.random.default_rng(0)
    for angle, zoom, trans in transforms(200):
        bodies = rng.uniform(-300, 300, (20, 4)).astype(np.float32)
        bodies[:, :2] = rng.uniform(-1, 1, (20, 2))
        vertices = rng.uniform(-2, 2, (20, 2)).astype(np.float32)
        expected = to_screen(b2_mul(bodies, vertices), zoom, trans, angle)
        got = body_points_to_screen(bodies, vertices, *rotation(angle), zoom, *trans)
        assert got.tobytes() == expected.tobytes()


def covers(quad: list, x0: float, y0: float, x1: float, y1: float) -> bool:
    """Whether the convex quadrilateral (4 points) contains the rectangle's four corners."""
    signs = set()
    for (ax, ay), (bx, by) in zip(quad, quad[1:] + quad[:1], strict=True):
        for cx, cy in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)):
            cross = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
            signs.add(cross > 0 if cross != 0 else None)
    return signs in ({True}, {False})


def test_field_to_screen_is_to_screen_and_covers():
    """The background polygon's place on the surface and whether it covers the surface:
    both as numpy and Python compute them, on views where it does and where it does not."""
    from fast_render import FIELD, rotation, to_screen
    from raster import field_to_screen

    outcomes = set()
    for angle, zoom, trans in transforms(400):
        expected = to_screen(FIELD, zoom, trans, angle)
        screen, covered = field_to_screen(
            FIELD, *rotation(angle), zoom, *trans, -3.0, -3.0, 1003.0, 803.0
        )
        assert screen.tobytes() == expected.tobytes()
        assert covered == covers(expected.tolist(), -3, -3, 1003, 803)
        outcomes.add(covered)
    assert outcomes == {True, False}
    square = np.array([(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)])
    _, touching = field_to_screen(square, 0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 5.0, 5.0)
    assert not touching and not covers(square.tolist(), 0, 0, 5, 5)  # a corner on an edge
    _, inside = field_to_screen(square, 0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 5.0, 5.0)
    assert inside and covers(square.tolist(), 1, 1, 5, 5)


@pytest.mark.parametrize("first_row", [0, 100])
def test_raster_draws_what_gfxdraw_draws(first_row):
    """raster.draw_polygons against pygame.gfxdraw.aapolygon + filled_polygon, on
    random polygons: small and huge, off the surface, past the 16-bit coordinate range,
    with integer vertices (horizontal, vertical and diagonal edges) and 3 to 6 sides."""
    import pygame
    from pygame import gfxdraw

    import raster

    rng = np.random.default_rng(first_row)
    for trial in range(120):
        n, sides = int(rng.integers(1, 20)), 4 if trial % 3 else int(rng.integers(3, 7))
        scale = [50, 400, 3000, 20000][trial % 4]
        polys = rng.uniform(-200, 1200, (n, 1, 2)) + rng.normal(0, scale / 4, (n, sides, 2))
        if trial % 5 == 0:
            polys = np.round(polys)
        if trial % 7 == 0:
            polys[:, 1] = polys[:, 0] + 10.0
        colors = rng.integers(0, 256, (n, 3))
        theirs, ours = pygame.Surface((1000, 800)), pygame.Surface((1000, 800))
        background = tuple(rng.integers(0, 256, 3).tolist())
        theirs.fill(background)
        ours.fill(background)
        for poly, color in zip(polys.tolist(), colors.tolist(), strict=True):
            gfxdraw.aapolygon(theirs, poly, color)
            gfxdraw.filled_polygon(theirs, poly, color)
        points = raster.to_sdl(polys)
        raster.draw_polygons(
            pygame.surfarray.pixels2d(ours).T,
            np.ascontiguousarray(points[..., 0]),
            np.ascontiguousarray(points[..., 1]),
            raster.pack(colors),
            first_row,
        )
        expected = pygame.surfarray.array3d(theirs)[:, first_row:]
        got = pygame.surfarray.array3d(ours)[:, first_row:]
        assert np.array_equal(got, expected), f"trial {trial}: pixels differ"


EPISODE = """
import hashlib, sys
import numpy as np
from env import make_env
import raster
digest = hashlib.sha1()
env = make_env(max_episode_steps=300)
obs, _ = env.reset(seed=3)
for action in np.random.default_rng(3).uniform([-1, 0, 0], [1, 1, 1], (300, 3)):
    digest.update(obs.tobytes())
    obs, reward, *_ = env.step(action)
    digest.update(np.float64(reward).tobytes())
print(raster.BUILT is not None, "numba" in sys.modules, digest.hexdigest())
"""


def test_the_build_draws_what_numba_draws_and_starts_without_numba():
    """The renderer built ahead of time (`make venv`: raster.build) is what a process loads,
    without numba, and its observations and rewards over 300 steps are those of numba's
    just-in-time compilation of the same functions (RASTER_JIT=1)."""
    built, jit = (
        run_script("-c", EPISODE, env=script_env(**extra)).stdout.split()
        for extra in ({}, {"RASTER_JIT": "1"})
    )
    assert built[:2] == ["True", "False"], "raster.py was not built: run make venv"
    assert jit[:2] == ["False", "True"]
    assert built[2] == jit[2]


def test_the_build_refuses_arrays_it_would_misread():
    """Built code reads an array as the type it was built for: anything else is an error,
    not wrong pixels."""
    import raster

    assert raster.BUILT is not None, "raster.py was not built: run make venv"
    pixels = np.zeros((10, 10), np.uint32)
    points = np.zeros((1, 4, 2), np.int64)
    with pytest.raises(TypeError, match="argument 2 must be a C-contiguous 2-d int64 array"):
        raster.draw_polygons(pixels, points[..., 0], points[..., 1], np.zeros(1, np.int64), 0)
    with pytest.raises(TypeError, match="argument 1 must be a C-contiguous 2-d uint32"):
        raster.unpack_rgb(pixels.astype(np.int64), 10)
