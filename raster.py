"""pygame.gfxdraw's `aapolygon` and `filled_polygon`, compiled with numba, pixel for pixel.

gymnasium draws every CarRacing polygon with these two calls, which pygame implements
with SDL_gfx (`aapolygonColor`, `filledPolygonColorMT`): Wu anti-aliased edges blended
one pixel at a time, then a scan-line fill. The functions below follow SDL_gfx's
integer and float32 arithmetic step by step (line clipping, the 32-bit error
accumulator, the blend of a 32-bit surface without per-pixel alpha), so they write the
same pixel values; tests/test_fast_render.py checks them against pygame on random
polygons. What makes them faster is doing a whole list of polygons in one compiled
call, and not writing the rows that the observation never reads (`first_row`).

Pixels are a [rows, cols] uint32 view of a pygame Surface in the 0x00RRGGBB layout.

The compiled functions come from numba's ahead-of-time build of this file where
`make venv` has made it (`build()`, into .compiled/, named after a hash of this file so
that an edited file never runs old code), else from numba's just-in-time compiler and
its cache. Both are numba's compilation of the same functions, with the same pixels;
the build spares every process that draws numba's start, 0.33 s of CPU
(BENCHMARKS.md). The built functions take exactly the types in `EXPORTS`.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import math
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

COMPILED = Path(__file__).resolve().parent / ".compiled"
MODULE = "raster_" + hashlib.sha1(Path(__file__).read_bytes()).hexdigest()[:16]
BUILT_FILE = COMPILED / (MODULE + importlib.machinery.EXTENSION_SUFFIXES[0])

# The functions the build exports: their return type (numba's syntax) and their
# arguments, each an array's (dtype, dimensions), C-contiguous, or a scalar's type.
EXPORTS = {
    "draw_polygons": ("void", [("uint32", 2), ("int64", 2), ("int64", 2), ("int64", 1), "int64"]),
    "unpack_rgb": ("uint8[:, :, ::1]", [("uint32", 2), "int64"]),
    "select_polygons": (
        "Tuple((int64[::1], int64[:, ::1], int64[:, ::1]))",
        [("float64", 3), ("float64", 2), ("float64", 1), "int64"]
        + ["float64"] * 5
        + ["int64"] * 3
        + ["float64"],
    ),
    "body_points_to_screen": (
        "float64[:, ::1]",
        [("float32", 2), ("float32", 2), "int64"] + ["float64"] * 5,
    ),
    "field_to_screen": (
        "Tuple((float64[:, ::1], boolean))",
        [("float64", 2), "int64"] + ["float64"] * 9,
    ),
    "_resample_rgb": (
        "uint8[:, :, ::1]",
        [("uint8", 3), ("int64", 1), ("int32", 2), ("int64", 1), ("int32", 2)],
    ),
}


def _signature(name: str) -> str:
    result, args = EXPORTS[name]
    types = [
        a if isinstance(a, str) else f"{a[0]}[{', '.join([':'] * (a[1] - 1) + ['::1'])}]"
        for a in args
    ]
    return f"{result}({', '.join(types)})"


def _checked(function, source):
    """The built `function` (compiled from `source`), refusing arrays of another type or
    layout: built code would read them as if they had its own (wrong pixels, no error)."""
    name = source.__name__
    arrays = [
        (i, np.dtype(a[0]), a[1]) for i, a in enumerate(EXPORTS[name][1]) if not isinstance(a, str)
    ]

    def call(*args):
        for i, dtype, ndim in arrays:
            a = args[i]
            if not (
                isinstance(a, np.ndarray)
                and a.dtype == dtype
                and a.ndim == ndim
                and a.flags.c_contiguous
            ):
                got = (
                    f"{a.dtype} {a.ndim}-d{'' if a.flags.c_contiguous else ' strided'}"
                    if isinstance(a, np.ndarray)
                    else type(a).__name__
                )
                raise TypeError(
                    f"raster.{name}: argument {i + 1} must be a C-contiguous {ndim}-d "
                    f"{dtype} array, got {got}"
                )
        return function(*args)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = source.__doc__
    return call


def _load_built():
    """The built module when it exists for this file (and RASTER_JIT is not 1), else None."""
    if os.environ.get("RASTER_JIT") == "1" or not BUILT_FILE.exists():
        return None
    spec = importlib.util.spec_from_file_location(MODULE, BUILT_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILT = _load_built()


def njit(**options):
    """numba.njit(cache=True, **options); where the build is loaded, its function of the same
    name instead (helpers it compiled in stay plain Python, never called)."""
    if BUILT is not None:
        return lambda f: _checked(getattr(BUILT, f.__name__), f) if f.__name__ in EXPORTS else f
    import numba

    return numba.njit(cache=True, **options)


def build() -> Path:
    """Compile `EXPORTS` ahead of time into `BUILT_FILE` (needs a C compiler); old builds
    of other versions of this file are removed. Returns the file."""
    if BUILT is None:
        with warnings.catch_warnings():  # numba.pycc is pending deprecation (numba is pinned)
            warnings.simplefilter("ignore")
            from numba.pycc import CC

        COMPILED.mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory(dir=COMPILED) as tmp:
            cc = CC(MODULE)
            cc.output_dir = tmp
            cc.verbose = False
            for name in EXPORTS:
                cc.export(name, _signature(name))(globals()[name].py_func)
            cc.compile()
            os.replace(Path(tmp) / BUILT_FILE.name, BUILT_FILE)
    for old in COMPILED.glob("raster_*"):
        if old != BUILT_FILE:
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    return BUILT_FILE


MASK32 = 0xFFFFFFFF
LEFT, RIGHT, BOTTOM, TOP = 1, 2, 4, 8


@njit(inline="always")
def _int16(v: int) -> int:
    """C's (Sint16) conversion of an int: wrap to [-32768, 32767]."""
    return ((v + 32768) & 0xFFFF) - 32768


@njit(inline="always")
def _int32(v: int) -> int:
    return ((v + 2147483648) & MASK32) - 2147483648


@njit(inline="always")
def _blend_channel(dc: int, color: int, shift: int, alpha: int) -> int:
    """One channel of SDL_gfx's `_putPixelAlpha` for a 32-bit surface, in Uint32."""
    mask = 0xFF << shift
    d = dc & mask
    diff = (((color & mask) - d) & MASK32) >> shift
    return (d + (((diff * alpha & MASK32) >> 8) << shift & MASK32)) & MASK32 & mask


@njit(inline="always")
def _put(pixels, x: int, y: int, color: int, alpha: int, first_row: int) -> None:
    """`_putPixelAlpha`: clipped to the surface; rows above first_row are not written."""
    rows, cols = pixels.shape
    if x < 0 or x >= cols or y < first_row or y >= rows:
        return
    if alpha == 255:
        pixels[y, x] = color
        return
    dc = int(pixels[y, x])
    pixels[y, x] = (
        _blend_channel(dc, color, 16, alpha)
        | _blend_channel(dc, color, 8, alpha)
        | _blend_channel(dc, color, 0, alpha)
    )


@njit(inline="always")
def _put_weight(pixels, x: int, y: int, color: int, weight: int, first_row: int) -> None:
    """`pixelColorWeightNolock` for an opaque colour: alpha = 255 * weight >> 8."""
    _put(pixels, x, y, color, (255 * weight) >> 8, first_row)


@njit()
def _hline(pixels, x1: int, x2: int, y: int, color: int, first_row: int) -> None:
    """`hlineColor` for an opaque colour."""
    rows, cols = pixels.shape
    x1, x2, y = _int16(x1), _int16(x2), _int16(y)
    if x1 > x2:
        x1, x2 = x2, x1
    if x2 < 0 or x1 > cols - 1 or y < 0 or y > rows - 1 or y < first_row:
        return
    pixels[y, max(x1, 0) : min(x2, cols - 1) + 1] = color


@njit()
def _vline(pixels, x: int, y1: int, y2: int, color: int, first_row: int) -> None:
    """`vlineColor` for an opaque colour."""
    rows, cols = pixels.shape
    x, y1, y2 = _int16(x), _int16(y1), _int16(y2)
    if y1 > y2:
        y1, y2 = y2, y1
    if x < 0 or x > cols - 1 or y2 < 0 or y1 > rows - 1:
        return
    for y in range(max(y1, 0, first_row), min(y2, rows - 1) + 1):
        pixels[y, x] = color


@njit(inline="always")
def _encode(x: int, y: int, right: int, bottom: int) -> int:
    code = 0
    if x < 0:
        code |= LEFT
    elif x > right:
        code |= RIGHT
    if y < 0:
        code |= TOP
    elif y > bottom:
        code |= BOTTOM
    return code


@njit()
def _clip_line(x1: int, y1: int, x2: int, y2: int, right: int, bottom: int):
    """`_clipLine` (Cohen-Sutherland with a float32 slope) against the whole surface.
    Returns (draw, x1, y1, x2, y2); the points may come back swapped, as in SDL_gfx."""
    while True:
        code1 = _encode(x1, y1, right, bottom)
        code2 = _encode(x2, y2, right, bottom)
        if (code1 | code2) == 0:
            return True, x1, y1, x2, y2
        if code1 & code2:
            return False, x1, y1, x2, y2
        if code1 == 0:
            x1, x2 = x2, x1
            y1, y2 = y2, y1
            code1, code2 = code2, code1
        if x2 != x1:
            m = np.float32(y2 - y1) / np.float32(x2 - x1)
        else:
            m = np.float32(1.0)
        if code1 & LEFT:
            y1 = _int16(y1 + int(np.float32(0 - x1) * m))
            x1 = 0
        elif code1 & RIGHT:
            y1 = _int16(y1 + int(np.float32(right - x1) * m))
            x1 = right
        elif code1 & BOTTOM:
            if x2 != x1:
                x1 = _int16(x1 + int(np.float32(bottom - y1) / m))
            y1 = bottom
        elif code1 & TOP:
            if x2 != x1:
                x1 = _int16(x1 + int(np.float32(0 - y1) / m))
            y1 = 0


@njit()
def _aaline(pixels, x1: int, y1: int, x2: int, y2: int, color: int, first_row: int) -> None:
    """`_aalineColor(..., draw_endpoint=0)`: Wu's line with a 32-bit error accumulator."""
    rows, cols = pixels.shape
    draw, x1, y1, x2, y2 = _clip_line(x1, y1, x2, y2, cols - 1, rows - 1)
    if not draw:
        return
    xx0, yy0, xx1, yy1 = x1, y1, x2, y2
    if yy0 > yy1:
        xx0, yy0, xx1, yy1 = xx1, yy1, xx0, yy0
    dx = xx1 - xx0
    dy = yy1 - yy0
    if dx == 0:
        if dy > 0:
            _vline(pixels, x1, yy0, yy0 + dy, color, first_row)
        else:
            _put(pixels, x1, y1, color, 255, first_row)
        return
    if dy == 0:
        _hline(pixels, xx0, xx0 + dx, y1, color, first_row)
        return
    xdir = 1
    if dx < 0:
        xdir = -1
        dx = -dx
    erracc = 0
    _put(pixels, x1, y1, color, 255, first_row)
    if dy > dx:
        erradj = (((dx << 16) // dy) << 16) & MASK32
        x0pxdir = xx0 + xdir
        for _ in range(dy - 1):
            before = erracc
            erracc = (erracc + erradj) & MASK32
            if erracc <= before:
                xx0 = x0pxdir
                x0pxdir += xdir
            yy0 += 1
            wgt = (erracc >> 24) & 255
            _put_weight(pixels, xx0, yy0, color, 255 - wgt, first_row)
            _put_weight(pixels, x0pxdir, yy0, color, wgt, first_row)
    else:
        erradj = (((dy << 16) // dx) << 16) & MASK32
        y0p1 = yy0 + 1
        for _ in range(dx - 1):
            before = erracc
            erracc = (erracc + erradj) & MASK32
            if erracc <= before:
                yy0 = y0p1
                y0p1 += 1
            xx0 += xdir
            wgt = (erracc >> 24) & 255
            _put_weight(pixels, xx0, yy0, color, 255 - wgt, first_row)
            _put_weight(pixels, xx0, y0p1, color, wgt, first_row)


@njit()
def _aapolygon(pixels, vx, vy, color: int, first_row: int) -> None:
    n = len(vx)
    for i in range(n):
        j = (i + 1) % n
        _aaline(pixels, vx[i], vy[i], vx[j], vy[j], color, first_row)


@njit()
def _filled_polygon(pixels, vx, vy, color: int, first_row: int, ints) -> None:
    """`filledPolygonColorMT`: scan lines between sorted 16.16 fixed-point crossings."""
    rows = pixels.shape[0]
    n = len(vx)
    miny = maxy = vy[0]
    for i in range(1, n):
        if vy[i] < miny:
            miny = vy[i]
        elif vy[i] > maxy:
            maxy = vy[i]
    # hlineColor drops rows outside the surface (and we skip those above first_row),
    # so the scan can start and stop there; the crossings do not depend on it.
    for y in range(max(miny, first_row), min(maxy, rows - 1) + 1):
        count = 0
        for i in range(n):
            i1 = n - 1 if i == 0 else i - 1
            y1, y2 = vy[i1], vy[i]
            if y1 < y2:
                x1, x2 = vx[i1], vx[i]
            elif y1 > y2:
                y1, y2 = y2, y1
                x1, x2 = vx[i], vx[i1]
            else:
                continue
            if (y1 <= y < y2) or (y == maxy and y1 < y <= y2):
                ints[count] = _int32(
                    _int32(((65536 * (y - y1)) // (y2 - y1)) * (x2 - x1)) + 65536 * x1
                )
                count += 1
        for i in range(1, count):  # insertion sort: count is the number of edges
            v = ints[i]
            j = i - 1
            while j >= 0 and ints[j] > v:
                ints[j + 1] = ints[j]
                j -= 1
            ints[j + 1] = v
        for i in range(0, count - 1, 2):
            xa = ints[i] + 1
            xa = (xa >> 16) + ((xa & 32768) >> 15)
            xb = ints[i + 1] - 1
            xb = (xb >> 16) + ((xb & 32768) >> 15)
            _hline(pixels, xa, xb, y, color, first_row)


@njit()
def draw_polygons(pixels, xs, ys, colors, first_row: int) -> None:
    """For each polygon in order: `gfxdraw.aapolygon` then `gfxdraw.filled_polygon`.

    xs, ys: int64 [n, k] vertex coordinates as pygame passes them to SDL_gfx
    (`to_sdl`); colors: int64 [n] as 0x00RRGGBB."""
    ints = np.empty(xs.shape[1], np.int64)
    for p in range(xs.shape[0]):
        _aapolygon(pixels, xs[p], ys[p], colors[p], first_row)
        _filled_polygon(pixels, xs[p], ys[p], colors[p], first_row, ints)


@njit()
def unpack_rgb(pixels, rows: int):
    """A uint8 [rows, cols, 3] RGB frame from 0x00RRGGBB `pixels`: its first rows, then
    black rows up to `rows`."""
    n, cols = pixels.shape
    frame = np.zeros((rows, cols, 3), np.uint8)
    for r in range(n):
        for c in range(cols):
            p = pixels[r, c]
            frame[r, c, 0] = (p >> 16) & 255
            frame[r, c, 1] = (p >> 8) & 255
            frame[r, c, 2] = p & 255
    return frame


def to_sdl(points: np.ndarray) -> np.ndarray:
    """Float pixel coordinates -> the Sint16 values gfxdraw hands to SDL_gfx
    (Python's int(), i.e. truncation toward zero, then a 16-bit wrap)."""
    v = np.trunc(points).astype(np.int64)
    return ((v + 32768) & 0xFFFF) - 32768


def pack(colors) -> np.ndarray:
    """[n, 3] RGB in 0..255 -> 0x00RRGGBB, the pixel value of a 32-bit pygame Surface."""
    c = np.asarray(colors, dtype=np.int64).reshape(-1, 3)
    return (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]


@njit(inline="always")
def _to_screen(
    x: float, y: float, quarter: int, c: float, s: float, zoom: float, tx: float, ty: float
) -> tuple[float, float]:
    """One point through fast_render.to_screen: pygame's `Vector2.rotate_rad` (`quarter`
    0..3 for its exact quarter turns, else -1 and cos, sin), then `* zoom + translation`."""
    if quarter == 0:
        rx, ry = x, y
    elif quarter == 1:
        rx, ry = -y, x
    elif quarter == 2:
        rx, ry = -x, -y
    elif quarter == 3:
        rx, ry = y, -x
    else:
        rx, ry = c * x - s * y, s * x + c * y
    return rx * zoom + tx, ry * zoom + ty


@njit()
def select_polygons(
    polys,
    centers,
    radii,
    quarter: int,
    c: float,
    s: float,
    zoom: float,
    tx: float,
    ty: float,
    first_row: int,
    right: int,
    bottom: int,
    max_dim: float,
):
    """fast_render's culling and transform of quadrilaterals in one pass: which of
    `polys` [n, 4, 2] (world coordinates) can touch a kept pixel, and their vertices as
    `to_sdl` gives them. The rotation is pygame's `Vector2.rotate_rad` (`quarter` 0..3 for
    its exact quarter turns, else -1 and cos, sin), then `* zoom + translation`: the same
    float64 operations, in the same order, as fast_render.to_screen.

    Kept: the enclosing circle (`centers`, `radii`), 3 pixels wider, reaches the surface's
    kept rows; the bounding box, 2 pixels wider, meets them; and a vertex lies within
    `max_dim` of the surface (gymnasium's own test). Returns (indices, xs, ys)."""
    n = polys.shape[0]
    index = np.empty(n, np.int64)
    xs = np.empty((n, 4), np.int64)
    ys = np.empty((n, 4), np.int64)
    px = np.empty(4)
    py = np.empty(4)
    k = 0
    for i in range(n):
        cx, cy = _to_screen(centers[i, 0], centers[i, 1], quarter, c, s, zoom, tx, ty)
        r = radii[i] * zoom + 3.0
        if cx + r < 0 or cx - r > right or cy + r < first_row or cy - r > bottom:
            continue
        near = False
        for j in range(4):
            px[j], py[j] = _to_screen(polys[i, j, 0], polys[i, j, 1], quarter, c, s, zoom, tx, ty)
            if -max_dim <= px[j] <= right + max_dim and -max_dim <= py[j] <= bottom + max_dim:
                near = True
        if not near or px.max() < -2 or px.min() > right + 2:
            continue
        if py.max() < first_row - 2 or py.min() > bottom + 2:
            continue
        for j in range(4):
            xs[k, j] = _int16(int(px[j]))
            ys[k, j] = _int16(int(py[j]))
        index[k] = i
        k += 1
    return index[:k], xs[:k], ys[:k]


@njit()
def body_points_to_screen(
    bodies, vertices, quarter: int, c: float, s: float, zoom: float, tx: float, ty: float
):
    """fast_render.b2_mul then fast_render.to_screen in one pass, the same operations in the
    same types: Box2D's `transform * v` in float32 (bodies float32 [n, 4] of q.c, q.s, p.x,
    p.y for each vertex's body; vertices float32 [n, 2]), then pygame's rotation, zoom
    and translation in float64 (`quarter`, `c`, `s` as `select_polygons` takes them)."""
    out = np.empty((len(vertices), 2), np.float64)
    for i in range(len(vertices)):
        bc, bs, px, py = bodies[i, 0], bodies[i, 1], bodies[i, 2], bodies[i, 3]
        x, y = vertices[i, 0], vertices[i, 1]
        wx = np.float64((bc * x - bs * y) + px)
        wy = np.float64((bs * x + bc * y) + py)
        out[i, 0], out[i, 1] = _to_screen(wx, wy, quarter, c, s, zoom, tx, ty)
    return out


@njit()
def field_to_screen(
    field,
    quarter: int,
    c: float,
    s: float,
    zoom: float,
    tx: float,
    ty: float,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
):
    """The background polygon `field` [4, 2] (world) on the surface, as
    fast_render.to_screen gives it, and whether it contains the rectangle (x0, y0)-(x1, y1):
    every corner strictly on the same side of every edge (a corner on an edge is not
    contained)."""
    screen = np.empty((4, 2), np.float64)
    for i in range(4):
        screen[i, 0], screen[i, 1] = _to_screen(
            field[i, 0], field[i, 1], quarter, c, s, zoom, tx, ty
        )
    positive = negative = False
    for i in range(4):
        ax, ay = screen[i, 0], screen[i, 1]
        bx, by = screen[(i + 1) % 4, 0], screen[(i + 1) % 4, 1]
        for cx, cy in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)):
            cross = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
            if cross > 0:
                positive = True
            elif cross < 0:
                negative = True
            else:
                return screen, False
    return screen, positive != negative


# Pillow's `Image.resize(size, Image.BILINEAR)` for 8-bit RGB (libImaging/Resample.c):
# a horizontal pass, then a vertical one, each with coefficients rounded to 22-bit
# fixed point and the sum clipped to 0..255. The coefficients are computed here with
# the same double-precision operations as `precompute_coeffs` and
# `normalize_coeffs_8bpc`, so the compiled passes below give Pillow's bytes.

PRECISION_BITS = 32 - 8 - 2


def bilinear_coeffs(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pillow's `precompute_coeffs` (BILINEAR, the whole image as the box) then
    `normalize_coeffs_8bpc`: (bounds [out, 2] of (first input, count), int64 [out, k])."""
    scale = float(in_size) / out_size
    filterscale = max(scale, 1.0)
    support = 1.0 * filterscale
    ksize = int(math.ceil(support)) * 2 + 1
    bounds = np.zeros((out_size, 2), np.int64)
    kk = np.zeros((out_size, ksize), np.int64)
    for xx in range(out_size):
        center = 0.0 + (xx + 0.5) * scale
        ss = 1.0 / filterscale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size) - xmin
        weights = []
        for x in range(xmax):
            w = abs((x + xmin - center + 0.5) * ss)
            weights.append(1.0 - w if w < 1.0 else 0.0)
        ww = 0.0
        for w in weights:
            ww += w
        for x, w in enumerate(weights):
            w = w / ww if ww != 0.0 else w
            kk[xx, x] = (
                int(-0.5 + w * (1 << PRECISION_BITS))
                if w < 0
                else int(0.5 + w * (1 << PRECISION_BITS))
            )
        bounds[xx] = xmin, xmax
    return bounds, kk


def dense_taps(bounds: np.ndarray, kk: np.ndarray, in_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The same coefficients as (first input, int32 [out, taps]) with one tap count for
    every output: an output's window is moved inside the image and padded with zero
    weights, which add nothing to Pillow's integer sums."""
    taps = int(bounds[:, 1].max())
    start = np.minimum(bounds[:, 0], in_size - taps)
    weights = np.zeros((len(bounds), taps), np.int32)
    for o, (first, count) in enumerate(bounds):
        weights[o, first - start[o] : first - start[o] + count] = kk[o, :count]
    return start, weights


@njit()
def _resample_rgb(image, h_start, h_weights, v_start, v_weights):
    """ImagingResampleInner for RGB with `dense_taps` coefficients: the horizontal pass
    (each sum clipped to a byte), then the vertical pass on its rows."""
    half = 1 << (PRECISION_BITS - 1)
    cols = h_weights.shape[0]
    first = v_start.min()
    rows = (v_start + v_weights.shape[1]).max() - first
    temp = np.empty((rows, cols * 3), np.int32)
    for r in range(rows):
        row = image[r + first]
        for xx in range(cols):
            s = h_start[xx]
            a0 = a1 = a2 = half
            for t in range(h_weights.shape[1]):
                k = h_weights[xx, t]
                a0 += np.int32(row[s + t, 0]) * k
                a1 += np.int32(row[s + t, 1]) * k
                a2 += np.int32(row[s + t, 2]) * k
            temp[r, 3 * xx] = min(a0 >> PRECISION_BITS, 255)
            temp[r, 3 * xx + 1] = min(a1 >> PRECISION_BITS, 255)
            temp[r, 3 * xx + 2] = min(a2 >> PRECISION_BITS, 255)
    out = np.empty((v_weights.shape[0], cols * 3), np.uint8)
    acc = np.empty(cols * 3, np.int32)
    for yy in range(v_weights.shape[0]):
        s = v_start[yy] - first
        acc[:] = half
        for t in range(v_weights.shape[1]):
            k = v_weights[yy, t]
            src = temp[s + t]
            for i in range(cols * 3):
                acc[i] += src[i] * k
        for i in range(cols * 3):
            out[yy, i] = min(acc[i] >> PRECISION_BITS, 255)
    return out.reshape(v_weights.shape[0], cols, 3)


class BilinearResize:
    """`Image.fromarray(rgb).resize((cols, rows), Image.BILINEAR)` as a uint8 array,
    for one input size, with Pillow's fixed-point arithmetic (tests/test_env.py checks
    it against Pillow byte for byte). Sums of non-negative weights: nothing below 0."""

    def __init__(self, in_rows: int, in_cols: int, out_rows: int, out_cols: int):
        self.in_shape = (in_rows, in_cols, 3)
        self.h = dense_taps(*bilinear_coeffs(in_cols, out_cols), in_cols)
        self.v = dense_taps(*bilinear_coeffs(in_rows, out_rows), in_rows)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        if image.shape != self.in_shape or image.dtype != np.uint8:
            raise ValueError(
                f"expected a uint8 image of shape {self.in_shape}, got {image.dtype} {image.shape}"
            )
        return _resample_rgb(image, *self.h, *self.v)
