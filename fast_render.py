"""CarRacing-v3 with a faster renderer for the 96x96 state frame (the observations).

gymnasium draws every grass and road polygon each step, visible or not, transforming
it point by point in Python, then the indicator bar and the score text, and scales
the 1000x800 surface down to 96x96. `FastCarRacing` draws the same picture on the
same coordinates, but:

- culls the polygons that cannot touch a kept pixel and transforms the others in one
  compiled pass (raster.select_polygons), with the exact arithmetic of pygame's
  `Vector2.rotate_rad` (so the coordinates are bit for bit the same);
- draws the grass and road polygons that are left in one compiled call (raster.py:
  pygame.gfxdraw's `aapolygon` and `filled_polygon`, pixel for pixel), leaving out the
  rows the observation never reads;
- draws the car with Box2D's float32 transform done in numpy, bit for bit, and
  pygame's own `draw.polygon`;
- skips the indicator bar and the score text, and flips and scales only the top 700
  rows: they become rows 84..95 of the 96x96 frame, which `env.process_frame` crops;
- filters columns before flipping (smoothscale filters columns, then rows), so the
  flip moves a 96-column image instead of a 1000-column one.

So rows 0..83 of its state frame, and hence every 64x64 observation, are identical to
gymnasium's (tests/test_fast_render.py checks whole episodes). Rewards, termination and
physics are gymnasium's own code. Full-size frames (render_mode "rgb_array", "human")
are drawn by gymnasium.
"""

from __future__ import annotations

import math

import numpy as np
import pygame
from gymnasium.envs.box2d import car_dynamics as cd
from gymnasium.envs.box2d import car_racing as cr

import raster

TWO_PI = 2.0 * math.pi
VECTOR_EPSILON = 1e-6  # pygame's default Vector2.epsilon
CROP_ROWS = 700  # rows of the 800-row surface above the indicator bar (84 of 96)
FIRST_KEPT_ROW = 100  # before the vertical flip, rows 100..799 are the ones kept
# the background polygon, gymnasium's `field`
FIELD = cr.PLAYFIELD * np.array([(1, 1), (1, -1), (-1, -1), (-1, 1)], dtype=np.float64)
# gymnasium's grass patches, the same on every track, with their enclosing circles
_D = cr.GRASS_DIM
GRASS = np.array(
    [
        [(_D * x + _D, _D * y), (_D * x, _D * y), (_D * x, _D * y + _D), (_D * x + _D, _D * y + _D)]
        for x in range(-20, 20, 2)
        for y in range(-20, 20, 2)
    ],
    np.float64,
)
GRASS_CENTERS = GRASS.mean(axis=1)
GRASS_RADII = np.linalg.norm(GRASS - GRASS_CENTERS[:, None], axis=2).max(1)


def rotation(angle: float) -> tuple[int, float, float]:
    """How pygame's Vector2.rotate_rad turns a vector by `angle`: (quarter, 0, 0) for an
    exact quarter turn (0..3), which it does by swapping and negating, else (-1, cos, sin)."""
    angle = math.fmod(angle, TWO_PI)
    if angle < 0:
        angle += TWO_PI
    if math.fmod(angle + VECTOR_EPSILON, math.pi / 2) < 2 * VECTOR_EPSILON:
        return int((angle + VECTOR_EPSILON) / (math.pi / 2)) % 4, 0.0, 0.0
    return -1, math.cos(angle), math.sin(angle)


def rotate(xy: np.ndarray, angle: float) -> np.ndarray:
    """pygame's Vector2.rotate_rad on an [..., 2] array, bit for bit."""
    x, y = xy[..., 0], xy[..., 1]
    quarter, c, s = rotation(angle)
    out = np.empty(np.shape(xy), np.float64)
    if quarter >= 0:
        out[..., 0], out[..., 1] = [(x, y), (-y, x), (-x, -y), (y, -x)][quarter]
    else:
        out[..., 0] = c * x - s * y
        out[..., 1] = s * x + c * y
    return out


def to_screen(points: np.ndarray, zoom: float, translation, angle: float) -> np.ndarray:
    """World points [..., 2] -> surface coordinates, as gymnasium computes them."""
    p = rotate(points, angle)
    p[..., 0] = p[..., 0] * zoom + translation[0]
    p[..., 1] = p[..., 1] * zoom + translation[1]
    return p


def b2_mul(rotation: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Box2D's `transform * v` in its float32 arithmetic, row by row.

    rotation: float32 [n, 4] of (q.c, q.s, p.x, p.y) of each row's body transform;
    vertices: float32 [n, 2]. Returns float64 [n, 2], the values pybox2d gives Python."""
    c, s, px, py = rotation[:, 0], rotation[:, 1], rotation[:, 2], rotation[:, 3]
    x, y = vertices[:, 0], vertices[:, 1]
    out = np.empty((len(vertices), 2), np.float64)
    out[:, 0] = (c * x - s * y) + px
    out[:, 1] = (s * x + c * y) + py
    return out


class FastCarRacing(cr.CarRacing):
    """gymnasium's CarRacing with a faster `state_pixels` renderer (see the module doc)."""

    _cached_road = None

    def _polygons(self) -> np.ndarray:
        """The grass patches then the road tiles, [N, 4, 2], in gymnasium's drawing order;
        built once per track, with each one's colour array (`_color_refs`). Colours are
        read from those arrays at every frame: gymnasium changes a tile's in place, to
        the road colour, when the car touches it."""
        if self._cached_road is not self.road_poly or self._cached_len != len(self.road_poly):
            road = np.array([poly for poly, _ in self.road_poly], np.float64).reshape(-1, 4, 2)
            centers = road.mean(axis=1)
            radii = np.linalg.norm(road - centers[:, None], axis=2).max(1)
            self._polys = np.concatenate([GRASS, road])
            self._centers = np.concatenate([GRASS_CENTERS, centers])
            self._radii = np.concatenate([GRASS_RADII, radii])
            self._color_refs = [self.grass_color] * len(GRASS) + [
                color for _, color in self.road_poly
            ]
            self._cached_road, self._cached_len = self.road_poly, len(self.road_poly)
        return self._polys

    def _draw_track(self, zoom: float, translation, turn: tuple[int, float, float]) -> None:
        """The grass patches and road tiles that can touch a kept pixel, culled and
        transformed in one compiled pass (raster.select_polygons), then drawn in order.
        `turn` is the view's `rotation(angle)`."""
        polys = self._polygons()
        index, xs, ys = raster.select_polygons(
            polys,
            self._centers,
            self._radii,
            *turn,
            zoom,
            translation[0],
            translation[1],
            FIRST_KEPT_ROW,
            cr.WINDOW_W,
            cr.WINDOW_H,
            float(cr.MAX_SHAPE_DIM),
        )
        if len(index):
            refs = self._color_refs
            colors = raster.pack([refs[i] for i in index.tolist()])
            # gfxdraw.aapolygon then gfxdraw.filled_polygon for each, in order (raster.py)
            raster.draw_polygons(self._pixels, xs, ys, colors, FIRST_KEPT_ROW)

    def _background(self) -> int:
        """The background colour as a pixel value, packed again only when it changes."""
        key = self.bg_color.tobytes()
        if key != getattr(self, "_background_key", None):
            self._background_key, self._background_value = key, int(raster.pack(self.bg_color)[0])
        return self._background_value

    def _draw_field(self, screen: np.ndarray) -> None:
        """The background polygon (the playfield, on the surface at `screen`), where it
        does not cover the whole surface."""
        low, high = screen.min(axis=0), screen.max(axis=0)
        if (
            high[0] < -2
            or low[0] > cr.WINDOW_W + 2
            or high[1] < FIRST_KEPT_ROW - 2
            or low[1] > cr.WINDOW_H + 2
        ):
            return  # nothing of it can touch a kept pixel
        points = raster.to_sdl(screen[None])
        xs, ys = (np.ascontiguousarray(points[..., i]) for i in (0, 1))
        raster.draw_polygons(self._pixels, xs, ys, raster.pack(self.bg_color), FIRST_KEPT_ROW)

    def _draw_car(self, zoom: float, translation, turn: tuple[int, float, float]) -> None:
        """gymnasium's `Car.draw(draw_particles=False)`: the same polygons in the same
        order, all vertices transformed in one pass with Box2D's float32 arithmetic.
        `turn` is the view's `rotation(angle)`."""
        car = self.car
        if getattr(self, "_car_cache", (None,))[0] is not car:
            # every fixture's vertices, the body each belongs to, and each polygon's
            # (body, first row, rows) in drawing order; wheels have one fixture each
            shapes = [
                (k, np.array(f.shape.vertices, np.float32))
                for k, obj in enumerate(car.drawlist)
                for f in obj.fixtures
            ]
            owners = np.concatenate([np.full(len(v), k) for k, v in shapes])
            starts = np.cumsum([0] + [len(v) for _, v in shapes])
            polygons = [(k, int(starts[i]), len(v)) for i, (k, v) in enumerate(shapes)]
            wheels = [k for k, obj in enumerate(car.drawlist) if "phase" in obj.__dict__]
            self._car_cache = (
                car,
                np.concatenate([v for _, v in shapes]),
                owners,
                polygons,
                wheels,
            )
        _, vertices, owners, polygons, wheels = self._car_cache
        bodies = []
        for obj in car.drawlist:
            t = obj.transform
            q, p = t.q, t.position
            bodies.append((q.c, q.s, p[0], p[1]))
        # the white stripe of each wheel, drawn right after it when visible
        size, whites, white_owners, after = cd.SIZE, [], [], {}
        for k in wheels:
            a1 = car.drawlist[k].phase
            a2 = a1 + 1.2
            s1, s2, c1, c2 = math.sin(a1), math.sin(a2), math.cos(a1), math.cos(a2)
            if s1 > 0 and s2 > 0:
                continue
            if s1 > 0:
                c1 = np.sign(c1)
            if s2 > 0:
                c2 = np.sign(c2)
            whites += [
                (-cd.WHEEL_W * size, +cd.WHEEL_R * c1 * size),
                (+cd.WHEEL_W * size, +cd.WHEEL_R * c1 * size),
                (+cd.WHEEL_W * size, +cd.WHEEL_R * c2 * size),
                (-cd.WHEEL_W * size, +cd.WHEEL_R * c2 * size),
            ]
            white_owners += [k] * 4
            after[k] = len(vertices) + len(white_owners) - 4  # its first row
        if whites:
            vertices = np.concatenate([vertices, np.array(whites, np.float32)])
            owners = np.concatenate([owners, white_owners])
        # b2_mul then to_screen, compiled in one pass (the same arithmetic)
        points = raster.body_points_to_screen(
            np.array(bodies, np.float32)[owners],
            vertices,
            *turn,
            zoom,
            translation[0],
            translation[1],
        ).tolist()
        colors = [[int(c * 255) for c in obj.color] for obj in car.drawlist]
        for k, first, n in polygons:
            pygame.draw.polygon(self.surf, color=colors[k], points=points[first : first + n])
            if k in after:
                pygame.draw.polygon(
                    self.surf, color=cd.WHEEL_WHITE, points=points[after[k] : after[k] + 4]
                )

    def _render(self, mode: str):
        if mode != "state_pixels" or "t" not in self.__dict__:
            return super()._render(mode)
        if getattr(self, "_state_surf", None) is None:
            self._state_surf = pygame.Surface((cr.WINDOW_W, cr.WINDOW_H))
            # [row, column] 0x00RRGGBB view of its pixels, for raster.py
            self._pixels = pygame.surfarray.pixels2d(self._state_surf).T
            top = pygame.Surface((cr.STATE_W, cr.STATE_H * CROP_ROWS // cr.WINDOW_H))
            self._scaling = (
                self._state_surf.subsurface((0, FIRST_KEPT_ROW, cr.WINDOW_W, CROP_ROWS)),
                pygame.Surface((cr.STATE_W, CROP_ROWS)),
                top,
                pygame.surfarray.pixels2d(top).T,
            )  # [row, column] 0x00RRGGBB view
        self.surf = self._state_surf
        angle = -self.car.hull.angle
        zoom = 0.1 * cr.SCALE * max(1 - self.t, 0) + cr.ZOOM * cr.SCALE * min(self.t, 1)
        scroll_x = -(self.car.hull.position[0]) * zoom
        scroll_y = -(self.car.hull.position[1]) * zoom
        trans = pygame.math.Vector2((scroll_x, scroll_y)).rotate_rad(angle)
        trans = (cr.WINDOW_W / 2 + trans[0], cr.WINDOW_H / 4 + trans[1])

        turn = rotation(angle)  # for the field, the track and the car alike
        # the background polygon's place and whether it covers the surface, in one pass
        field, covered = raster.field_to_screen(
            FIELD, *turn, zoom, trans[0], trans[1], -3.0, -3.0, cr.WINDOW_W + 3.0, cr.WINDOW_H + 3.0
        )
        if covered:
            # The background polygon covers the whole surface, its edges (and their
            # anti-aliasing) beyond it: filling gives the same pixels, much faster.
            self._pixels[FIRST_KEPT_ROW:] = self._background()
        else:
            self._pixels[FIRST_KEPT_ROW:] = 0  # what a new pygame.Surface holds
            self._draw_field(field)
        self._draw_track(zoom, trans, turn)
        self._draw_car(zoom, trans, turn)
        # Only the rows that are kept, 100..799 (rows 0..699 once flipped). No indicator
        # bar, no score text: both lie in rows 700..799 of the flipped picture, which the
        # observation crops away; scaling only the rows above gives the same pixels there.
        # smoothscale filters columns, then rows: filtering the columns first on the
        # unflipped rows, flipping the narrow result, then filtering the rows gives the
        # same bytes as flipping first, with a 96-column flip instead of a 1000-column one.
        # The surfaces in between are made once and scaled into.
        kept, narrow, top, top_pixels = self._scaling
        pygame.transform.smoothscale(kept, narrow.get_size(), narrow)
        pygame.transform.smoothscale(
            pygame.transform.flip(narrow, False, True), top.get_size(), top
        )
        return raster.unpack_rgb(top_pixels, cr.STATE_H)
