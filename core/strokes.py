"""A digit kept as pen strokes, drawn again at MNIST's stroke width for its own size.

The pad paints with a pen of fixed width, right for a digit drawn about 200 of its 280 pixels
tall; a digit drawn small gets strokes far too thick for its size once preprocessing has scaled
it to 20 pixels (a 4 drawn 50 pixels tall has strokes 28 / 50 * 20 = 11 pixels wide, its loop
closed, and is read as 9). The pad keeps its strokes as points, so they can be drawn again at
the width that suits the digit: that is what ``render_strokes`` does, and it makes the input
independent of the size drawn. (The other way, thinning the painted ink to a skeleton and
thickening it again, is ``thin``'s use here: it makes pen strokes of test digits for the
benchmark, ``app.readbench``, where no points exist.)

Notation (points are (x, y) in any unit, as the pad reports them; images are [row, column]):

    L          the points' longer extent, max(x_max - x_min, y_max - y_min)
    GRID       the grid the strokes are drawn on: the ink box's longer side, GRID = SUPERSAMPLE * BOX
    P          the pen's width on the grid: P = PEN_FRACTION * GRID. MNIST's strokes are 2.8 of
               its box's 20 pixels (``app.panels.pad`` measured the median), PEN_FRACTION = 0.14
    k          grid pixels per unit: the ink box is k L + P long, so k = (GRID - P) / L
    path       every segment of a stroke sampled at most half a grid pixel apart, rounded to
               pixels: the pen's path, one pixel wide
    ink        the path dilated by a disc of diameter P: a pixel is ink if a path pixel lies
               within P / 2 of it (binary; ``preprocess``'s area averaging from GRID down to
               BOX pixels gives the edges SUPERSAMPLE^2 + 1 grey levels)

The result goes through ``core.preprocess.preprocess`` like any canvas: its box is GRID long,
so it is scaled by 1 / SUPERSAMPLE to 20 pixels and centred by its centre of mass.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from core.preprocess import BOX

PEN_FRACTION = 0.14  # MNIST's median stroke, 2.8 pixels, over its box's 20
SUPERSAMPLE = 4  # grid pixels per output pixel: 17 grey levels at the strokes' edges
GRID = SUPERSAMPLE * BOX  # the ink box's longer side on the grid
STEP = 0.5  # grid pixels between samples of a segment, at most: no gap in the path


def render_strokes(strokes: Sequence[np.ndarray], pen_fraction: float = PEN_FRACTION) -> np.ndarray | None:
    """Strokes, each an (n, 2) array of (x, y) points, drawn on the grid with a round pen
    ``pen_fraction`` of the ink box wide: (h, w) float32, ink = 1, max(h, w) about GRID. None
    when there are no points."""
    return render_segments(*segments_of(strokes), pen_fraction)


def segments_of(strokes: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The strokes' segments as their starts and ends, (S, 2) each; a one-point stroke is a
    segment of length 0 (a dot)."""
    starts, ends = [], []
    for s in strokes:
        s = np.asarray(s, dtype=np.float64).reshape(-1, 2)
        if len(s):
            s = s if len(s) > 1 else np.concatenate([s, s])
            starts.append(s[:-1])
            ends.append(s[1:])
    if not starts:
        return np.zeros((0, 2)), np.zeros((0, 2))
    return np.concatenate(starts), np.concatenate(ends)


def render_segments(a: np.ndarray, b: np.ndarray, pen_fraction: float = PEN_FRACTION) -> np.ndarray | None:
    """Segments from a to b, (S, 2) (x, y) each, drawn as ``render_strokes`` draws strokes."""
    if len(a) == 0:
        return None
    points = np.concatenate([a, b])  # (2S, 2)
    low = points.min(axis=0)
    L = float((points.max(axis=0) - low).max())
    P = pen_fraction * GRID
    k = (GRID - P) / L if L > 0 else 0.0  # a single dot: the pen's disc alone
    path = _sampled((a - low) * k, (b - low) * k)  # (M, 2) grid (x, y)
    r = P / 2
    margin = math.ceil(r) + 1
    cols, rows = np.rint(path).astype(int).T + margin
    skeleton = np.zeros((rows.max() + margin + 1, cols.max() + margin + 1), dtype=bool)
    skeleton[rows, cols] = True
    return dilate_disc(skeleton, r).astype(np.float32)


def paint_strokes(strokes: Sequence[np.ndarray], pen_width: float, side: int) -> np.ndarray:
    """Strokes in the pixels of a ``side`` square canvas painted with a pen ``pen_width`` pixels
    wide, as the pad paints them (without its antialiasing): (side, side) float32, ink = 1."""
    return paint_segments(*segments_of(strokes), pen_width, side)


def paint_segments(a: np.ndarray, b: np.ndarray, pen_width: float, side: int) -> np.ndarray:
    canvas = np.zeros((side, side), dtype=bool)
    if len(a):
        cols, rows = np.rint(_sampled(a, b)).astype(int).T
        keep = (rows >= 0) & (rows < side) & (cols >= 0) & (cols < side)
        canvas[rows[keep], cols[keep]] = True
    return dilate_disc(canvas, pen_width / 2).astype(np.float32)


def _sampled(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Points on the segments from a to b, (S, 2) each, at most STEP apart, both ends included."""
    n = np.maximum(1, np.ceil(np.hypot(*(b - a).T) / STEP)).astype(int)  # (S,) samples per segment
    segment = np.repeat(np.arange(len(a)), n + 1)  # (M,) which segment each sample is on
    t = (np.arange(segment.size) - np.repeat(np.cumsum(n + 1) - (n + 1), n + 1)) / np.repeat(n, n + 1)
    return a[segment] + t[:, None] * (b - a)[segment]  # t runs 0, 1/n, ..., 1 on each segment


def dilate_disc(mask: np.ndarray, r: float) -> np.ndarray:
    """Binary dilation by a disc of radius r: out[y, x] if mask holds a pixel within r of (y, x).
    The disc is a stack of rows: the row dy of it is 2 floor(sqrt(r^2 - dy^2)) + 1 wide, and a
    row-wise "any pixel within half-width h" is a difference of cumulative sums; the rows are
    then shifted by dy and or-ed together. Ink within r of the mask's edge is cut there."""
    h, w = mask.shape
    R = math.floor(r)
    C = np.zeros((h, w + 2 * R + 3), dtype=np.int32)  # R + 1 columns of nothing either side
    np.cumsum(np.pad(mask, ((0, 0), (R + 1, R + 1))), axis=1, out=C[:, 1:])
    out = np.zeros_like(mask)
    for dy in range(-R, R + 1):
        half = math.floor(math.sqrt(max(r * r - dy * dy, 0.0)))
        # pixels in [x - half, x + half] of a row: C[x' + half + 1] - C[x' - half], x' = x + R + 1
        row_any = C[:, R + 2 + half:R + 2 + half + w] > C[:, R + 1 - half:R + 1 - half + w]
        if dy >= 0:
            out[dy:] |= row_any[:h - dy]  # the disc's row dy below a path pixel
        else:
            out[:dy] |= row_any[-dy:]
    return out


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang and Suen's thinning (1984): pixels of a binary image peeled off in two alternating
    sub-steps until only a one-pixel-wide skeleton is left, connected as the ink was. A pixel
    with neighbours P2..P9 (clockwise from above) goes when it has 2 to 6 ink neighbours B,
    exactly one 0 -> 1 change A around it, and (first sub-step) P2 P4 P6 = P4 P6 P8 = 0 or
    (second) P2 P4 P8 = P2 P6 P8 = 0. Each sub-step is one vectorised pass."""
    m = np.pad(np.asarray(mask, dtype=bool), 1)
    while True:
        changed = False
        for second in (False, True):
            n = [m[:-2, 1:-1], m[:-2, 2:], m[1:-1, 2:], m[2:, 2:],  # P2 P3 P4 P5
                 m[2:, 1:-1], m[2:, :-2], m[1:-1, :-2], m[:-2, :-2]]  # P6 P7 P8 P9
            B = sum(p.astype(np.uint8) for p in n)
            A = sum((~n[i] & n[(i + 1) % 8]).astype(np.uint8) for i in range(8))
            P2, P4, P6, P8 = n[0], n[2], n[4], n[6]
            if second:
                keep_side = ~(P2 & P4 & P8) & ~(P2 & P6 & P8)
            else:
                keep_side = ~(P2 & P4 & P6) & ~(P4 & P6 & P8)
            peel = m[1:-1, 1:-1] & (B >= 2) & (B <= 6) & (A == 1) & keep_side
            if peel.any():
                m[1:-1, 1:-1] &= ~peel
                changed = True
        if not changed:
            return m[1:-1, 1:-1]


def skeleton_segments(skeleton: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A one-pixel-wide skeleton as segments (x, y): one for every pair of 8-neighbouring
    pixels, and a dot for every pixel (so that a pixel alone is drawn too)."""
    rows, cols = np.nonzero(skeleton)
    points = np.stack([cols, rows], axis=1).astype(np.float64)  # (n, 2) (x, y)
    padded = np.pad(skeleton, 1)
    starts, ends = [points], [points]
    for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)):  # each neighbouring pair once
        has = padded[rows + 1 + dy, cols + 1 + dx]
        starts.append(points[has])
        ends.append(points[has] + (dx, dy))
    return np.concatenate(starts), np.concatenate(ends)
