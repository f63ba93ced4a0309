"""A photo of ink on paper made into ink on nothing, and the digits found in it.

A phone photo of a digit is not a scan: the paper is off-white, lit unevenly, under a soft
shadow, with sensor noise and JPEG's blocks. ``core.preprocess.ink_from_image`` takes the
paper to be one grey level (the median of the border) and so reads a shadow as ink; here the
paper's brightness is estimated across the picture and divided out first. One stage per step:

    work       the picture averaged down by a whole factor f to at most WORK pixels a side (a
               digit needs no more: it ends as 20), g in [0, 1]
    paper      the paper's brightness at every pixel, p: the picture cut into a grid of about
               TILES x TILES tiles; each tile's PAPER_QUANTILE-th brightest level (the paper, as
               long as a tenth of the tile is paper); a 3x3 median over the tiles (a tile wholly
               inside a thick stroke takes its neighbours' paper, while the edge of a shadow
               stays sharp); then interpolated bilinearly between the tiles' centres
    ink        i = 1 - g / p for dark ink (the light falling on the page scales paper and ink
               alike, so the ratio is the ink's own darkness); light ink on dark paper is the
               same on the inverted picture, and the polarity whose ink is stronger wins
    threshold  Otsu's (1979): the level t that best splits the histogram of i into two
               classes (the largest between-class variance); the classes' means must be
               MIN_CONTRAST apart, or the picture is blank
    marks      the connected pieces of i > t (8-connected, ``label``); pieces touching the
               picture's edge (the table, the page's edge, a finger) and specks smaller than
               SPECK of the largest piece are dropped
    digits     the marks grouped by the columns they cover (a 5's separate bar, a broken 4 stay
               one digit), a group much wider than the others' height split where the ink is
               thinnest (two touching digits), read left to right

Each digit's ink, i / (the ink's typical darkness) clipped to [0, 1] and kept only on and
beside its marks, is a canvas for ``core.preprocess.preprocess``, as the pad's drawing is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from core.preprocess import Stages, preprocess, unit_interval

WORK = 400  # pixels on the longer side at most, for finding the ink
TILES = 12  # about this many tiles along the longer side for the paper's brightness
PAPER_QUANTILE = 0.9  # a tile's paper is its 90th percentile of brightness
MIN_CONTRAST = 0.15  # the ink class's mean darkness over the paper's, at least
SPECK = 0.04  # pieces smaller than this fraction of the largest are specks
MAX_MARKS = 40  # more pieces than this is a page of text or a photo of something, not digits
MAX_FILL = 0.75  # ink covers at most this much of its box (MNIST's test digits: median 0.37, at most 0.67)
SPLIT_WIDTH = 1.2  # a group wider than this many times the digits' height holds several
DIGIT_WIDTH = 0.7  # a digit's width, over its height, when a wide group is shared out


@dataclass(frozen=True)
class Photo:
    """What ``clean`` found: every stage, read-only, for the window to show."""
    work: np.ndarray  # (h, w) float32 in [0, 1]: the picture averaged down
    paper: np.ndarray  # (h, w): the paper's estimated brightness (of the inverted picture if light ink)
    ink: np.ndarray  # (h, w) float32 in [0, 1]: the kept marks' ink, 1 for typical ink
    labels: np.ndarray  # (h, w) int32: 0 for paper, k for kept mark k (1..n)
    light_ink: bool  # light ink on dark paper
    threshold: float  # Otsu's level in i


class NotADigit(ValueError):
    """The picture holds no ink, or ink that is not digit-shaped; the message says which, as
    the end of a sentence: "it holds no ink (is it blank?)"."""


def clean(grey: np.ndarray) -> Photo:
    """A photo (H, W), uint8 or float, as ink on nothing; NotADigit if it holds no ink."""
    g = average_down(unit_interval(grey), WORK)
    if g.size == 0:
        raise NotADigit("it holds no ink (is it blank?)")
    median = float(np.median(g))  # the paper is most of the picture; the ink the longer tail
    low, high = np.quantile(g, [0.005, 0.995])
    light_ink = high - median > median - low
    picture = 1.0 - g if light_ink else g  # light ink on dark paper: the same, inverted
    paper = paper_brightness(picture)
    i = np.clip(1.0 - picture / np.maximum(paper, 1e-3), 0.0, 1.0)
    t, contrast = otsu(i)
    if contrast < MIN_CONTRAST:
        raise NotADigit("it holds no ink (is it blank?)")
    labels, n = label(i > t)
    labels, n = drop_edges_and_specks(labels, n)
    if n == 0:
        raise NotADigit("it holds no ink away from its edges (is it blank?)")
    if n > MAX_MARKS:
        raise NotADigit(f"it holds {n} separate marks, more like text or a photo than digits")
    on_marks = labels > 0
    level = float(np.median(i[on_marks]))  # the typical ink becomes 1, as a pen's on the pad
    near = _grow(on_marks)  # the marks and their soft rims
    ink = np.where(near, np.clip(i / level, 0.0, 1.0), 0.0).astype(np.float32)
    labels = np.where(near & ~on_marks, _nearest_label(labels), labels).astype(np.int32)
    return Photo(*(_read_only(a) for a in (g.astype(np.float32), paper.astype(np.float32), ink,
                                           labels)), light_ink, float(t))


def digits(photo: Photo, split: bool = True) -> list[np.ndarray]:
    """The digits of a cleaned photo, left to right: each its ink (h, w), cut to its columns,
    other digits' ink removed; with ``split``, a group too wide for one digit is cut into
    several. NotADigit if a group of marks is not digit-shaped."""
    labels = photo.labels
    n = int(labels.max())
    rows, cols = np.nonzero(labels)
    k = labels[rows, cols] - 1
    top, bottom = _per_label(np.minimum, rows, k, n, rows.max()), _per_label(np.maximum, rows, k, n, 0)
    left, right = _per_label(np.minimum, cols, k, n, cols.max()), _per_label(np.maximum, cols, k, n, 0)
    groups = group_columns(left, right)  # lists of mark indices, left to right
    spans = []  # (marks, column from, column to)
    for marks in groups:
        spans.append((marks, min(left[m] for m in marks), max(right[m] for m in marks) + 1))
    heights = [max(bottom[m] for m in ms) - min(top[m] for m in ms) + 1 for ms, _, _ in spans]
    height = float(np.median(heights))
    out = []
    for (marks, c0, c1), h in zip(spans, heights):
        mine = np.isin(labels, np.array(marks) + 1)
        ink = np.where(mine, photo.ink, 0.0).astype(np.float32)
        for a, b in split_columns(ink[:, c0:c1], height) if split else [(0, c1 - c0)]:
            part = ink[:, c0 + a:c0 + b]
            r = np.flatnonzero(part.any(axis=1))
            part = part[r[0]:r[-1] + 1]
            check_digit_shape(part)
            out.append(part)
    return out


# --- the stages -------------------------------------------------------------------------------


def average_down(g: np.ndarray, most: int) -> np.ndarray:
    """g averaged over f x f blocks, f the least whole number that brings both sides to at
    most ``most`` (the last partial rows and columns are dropped)."""
    f = math.ceil(max(g.shape, default=0) / most) if g.size else 1
    if f <= 1:
        return g
    h, w = g.shape[0] // f, g.shape[1] // f
    if h == 0 or w == 0:
        return g[:max(h, 1) * f, :max(w, 1) * f].mean(dtype=np.float32).reshape(1, 1)
    rows = g[:h * f, :w * f].reshape(h, f, w * f).sum(axis=1)  # (h, w f): f rows summed
    return rows.reshape(h, w, f).sum(axis=2) / np.float32(f * f)  # then f columns


def paper_brightness(g: np.ndarray) -> np.ndarray:
    """The paper's brightness at every pixel of g (h, w) (see the module's docstring)."""
    h, w = g.shape
    s = max(1, math.ceil(max(h, w) / TILES))  # a tile's side
    th, tw = max(1, h // s), max(1, w // s)
    tiles = g[:th * s, :tw * s].reshape(th, s, tw, s).transpose(0, 2, 1, 3).reshape(th, tw, -1)
    if tiles.shape[2] == 0:  # a picture thinner than a tile
        return np.full_like(g, float(np.quantile(g, PAPER_QUANTILE)) if g.size else 1.0)
    level = np.quantile(tiles, PAPER_QUANTILE, axis=2)  # (th, tw)
    p = np.pad(level, 1, mode="edge")
    neighbourhood = np.stack([p[dy:dy + th, dx:dx + tw] for dy in range(3) for dx in range(3)])
    level = np.median(neighbourhood, axis=0)  # (9, th, tw) -> (th, tw)
    # Bilinear between tile centres: tile j's centre is at (j + 1/2) s - 1/2 in pixels.
    Ry, Rx = _interpolation(h, th, s), _interpolation(w, tw, s)
    return Ry @ level @ Rx.T  # (h, th) @ (th, tw) @ (tw, w) -> (h, w)


def _interpolation(n: int, m: int, s: int) -> np.ndarray:
    """(n, m): pixel i's weights on the m tile centres, linear between them, flat beyond."""
    u = np.clip((np.arange(n) + 0.5) / s - 0.5, 0, m - 1)
    j = np.minimum(np.floor(u).astype(int), max(m - 2, 0))
    t = u - j
    W = np.zeros((n, m), dtype=np.float32)
    W[np.arange(n), j] = 1 - t if m > 1 else 1.0
    if m > 1:
        W[np.arange(n), j + 1] = t
    return W


def otsu(i: np.ndarray, bins: int = 256) -> tuple[float, float]:
    """Otsu's threshold of values in [0, 1] and the difference of the two classes' means.
    With w0, w1 the classes' weights and m0, m1 their means below and above each candidate
    level, the between-class variance is w0 w1 (m1 - m0)^2; the best level maximises it."""
    counts, edges = np.histogram(i, bins=bins, range=(0.0, 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(counts)[:-1].astype(np.float64)  # below level k+1
    w1 = counts.sum() - w0
    mass = np.cumsum(counts * centres)[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        m0, m1 = mass / w0, (mass[-1] + counts[-1] * centres[-1] - mass) / w1
        between = w0 * w1 * (m1 - m0) ** 2
    between = np.nan_to_num(between, nan=-1.0)
    k = int(between.argmax())
    if between[k] <= 0:
        return 1.0, 0.0
    return float(edges[k + 1]), float(m1[k] - m0[k])


def label(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """The 8-connected pieces of a binary image: (labels (h, w) int32 with 0 for background
    and 1..n for the pieces, n). A small labelling pass over runs: each row's runs of ink are
    found with a difference, a run is joined to the runs of the next row that touch it (its
    columns widened by one, for diagonals), and the joins are resolved by taking the least
    run index along every join and pointer jumping (labels[labels]) until nothing changes."""
    h, w = mask.shape
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)  # (h, w + 1)
    row, start = np.nonzero(edges == 1)  # runs [start, end) of row, in row-major order
    _, end = np.nonzero(edges == -1)
    n_runs = len(row)
    labels = np.zeros((h, w), dtype=np.int32)
    if n_runs == 0:
        return labels, 0
    span = w + 2  # keys row * span + column order runs across rows without mixing them
    key_start, key_end = row * span + start, row * span + end
    below_lo = np.searchsorted(key_end, (row + 1) * span + start, side="left")  # end_b >= start_a
    below_hi = np.searchsorted(key_start, (row + 1) * span + end, side="right")  # start_b <= end_a
    count = np.maximum(below_hi - below_lo, 0)
    a = np.repeat(np.arange(n_runs), count)
    b = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count) + np.repeat(below_lo, count)
    root = np.arange(n_runs)
    while True:
        least = np.minimum(root[a], root[b])
        new = root.copy()
        np.minimum.at(new, a, least)
        np.minimum.at(new, b, least)
        new = new[new]
        while not np.array_equal(new, new[new]):
            new = new[new]
        if np.array_equal(new, root):
            break
        root = new
    roots, piece = np.unique(root, return_inverse=True)  # pieces numbered 0..n-1
    length = end - start
    pixel_run = np.repeat(np.arange(n_runs), length)
    columns = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length) + start[pixel_run]
    labels[row[pixel_run], columns] = piece[pixel_run] + 1
    return labels, len(roots)


def drop_edges_and_specks(labels: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """Pieces touching the picture's edge, and specks under SPECK of the largest, removed; the
    others numbered 1..m again."""
    if n == 0:
        return labels, 0
    area = np.bincount(labels.ravel(), minlength=n + 1)
    edge = np.zeros(n + 1, dtype=bool)
    edge[np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])] = True
    keep = ~edge
    keep[0] = False
    if keep.any():
        keep &= area >= SPECK * area[keep].max()
    renumber = np.zeros(n + 1, dtype=np.int32)
    renumber[keep] = np.arange(1, keep.sum() + 1)
    return renumber[labels], int(keep.sum())


def group_columns(left: np.ndarray, right: np.ndarray) -> list[list[int]]:
    """Marks whose columns overlap by half of the narrower one's width (or whose one lies
    within the other) are one digit; the groups, left to right."""
    order = np.argsort(left, kind="stable")
    groups: list[list[int]] = []
    lo = hi = 0
    for m in order:
        m = int(m)
        if groups:
            overlap = min(hi, right[m]) - max(lo, left[m]) + 1
            narrower = min(hi - lo, right[m] - left[m]) + 1
            if overlap >= 0.5 * narrower:
                groups[-1].append(m)
                hi = max(hi, int(right[m]))
                continue
        groups.append([m])
        lo, hi = int(left[m]), int(right[m])
    return groups


def split_columns(ink: np.ndarray, height: float) -> list[tuple[int, int]]:
    """Where a group of ink (h, w) is cut into digits: [(from, to), ...] columns. A group no
    wider than SPLIT_WIDTH times the digits' height is one digit; a wider one holds
    round(w / (DIGIT_WIDTH height)) of them, cut at the column of least ink within a third of a
    digit of each even share."""
    w = ink.shape[1]
    if w <= SPLIT_WIDTH * height:
        return [(0, w)]
    n = max(2, round(w / (DIGIT_WIDTH * height)))
    profile = ink.sum(axis=0)  # (w,) ink in each column
    cuts = [0]
    for j in range(1, n):
        centre, reach = j * w / n, w / n / 3
        lo, hi = max(cuts[-1] + 1, int(centre - reach)), min(w - 1, int(centre + reach) + 1)
        if lo >= hi:
            continue
        cuts.append(lo + int(profile[lo:hi].argmin()))
    cuts.append(w)
    return [(a, b) for a, b in pairwise(cuts) if profile[a:b].any()]


def check_digit_shape(ink: np.ndarray) -> None:
    """NotADigit unless the ink looks made by a pen: strokes, not a solid blotch."""
    h, w = ink.shape
    fill = float((ink > 0.5).sum()) / (h * w)
    if fill > MAX_FILL and h < 3 * w:  # a 1 may fill its narrow box: it is a bar
        raise NotADigit(f"its ink is a solid blotch ({fill:.0%} of its box), not pen strokes")


def _per_label(reduce, values, k, n, initial) -> np.ndarray:
    out = np.full(n, initial)
    reduce.at(out, k, values)
    return out


def _grow(mask: np.ndarray) -> np.ndarray:
    """mask and its 8 neighbours."""
    p = np.pad(mask, 1)
    out = mask.copy()
    for dy in range(3):
        for dx in range(3):
            out |= p[dy:dy + mask.shape[0], dx:dx + mask.shape[1]]
    return out


def _nearest_label(labels: np.ndarray) -> np.ndarray:
    """Each pixel's label, or the largest label among its 8 neighbours where it has none."""
    p = np.pad(labels, 1)
    h, w = labels.shape
    return np.max([p[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)], axis=0)


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


# --- from a photo to the network's inputs -----------------------------------------------------


def read_number(grey: np.ndarray) -> tuple[Photo, list[Stages]]:
    """Every digit of a photo, left to right, each prepared as MNIST's (``preprocess``)."""
    photo = clean(grey)
    return photo, [preprocess(ink) for ink in digits(photo)]


def read_digit(grey: np.ndarray) -> tuple[Photo, Stages]:
    """The one digit of a photo: all its kept ink, prepared as MNIST's. NotADigit when the
    picture holds three or more digits side by side (a number), or nothing digit-shaped."""
    photo = clean(grey)
    found = digits(photo, split=False)
    if len(found) > 2:  # two may be one digit's broken strokes; three of a height are a number
        heights = sorted((ink.shape[0] for ink in found), reverse=True)
        if heights[2] >= 0.6 * heights[0]:
            raise NotADigit(f"it holds {len(found)} digits side by side, a number: "
                            "'predict --number' reads numbers")
    return photo, preprocess(photo.ink)
