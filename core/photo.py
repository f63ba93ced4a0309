"""A photo of ink on paper made into ink on nothing, and the digits found in it.

A phone photo of a digit is not a scan: the paper is off-white, lit unevenly, under a soft
shadow, with sensor noise and JPEG's blocks. ``core.preprocess.ink_from_image`` takes the
paper to be one grey level (the median of the border) and so reads a shadow as ink; here the
paper's brightness is estimated across the picture and divided out first. One stage per step:

    work       the picture averaged down by a whole factor f to at most WORK pixels a side (a
               digit needs no more: it ends as 20), g in [0, 1]
    paper      the paper's brightness at every pixel, p: the picture's grey-level closing over
               K x K windows, K = CLOSING of its longer side (``paper_brightness``): a running
               maximum fills every stroke narrower than K with the paper around it, a running
               minimum then takes back what the maximum spread over the paper's own dark parts,
               so a shadow's edge stays where it is. (A grid of tiles, each one's 90th
               percentile, interpolated, smoothed such an edge over a tile: the strip of shadow
               beside it was read as ink, and digits joined to it dropped with the edge.)
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
               one digit), groups too short to be a digit joined to the nearer neighbour, a
               group much wider than the digits' height split where the ink is thinnest (two
               touching digits), read left to right. Given the network, it reads them
               (segmentation by recognition, ``read_groups``): each cut is the one, among
               straight cuts and a seam that winds between the strokes, whose parts it reads
               surest (``surest_cuts``); a short group may be read with its neighbour as one
               digit, a wide group as one digit fewer when its cutting leaves a stroke, as
               the network is surer. Each digit must look made by a pen
               (``check_digit_shape``: no solid blotch or shape, no pieces stacked apart, no
               more holes than a digit has, as a face's eyes and mouth are)

Each digit's ink, i / (the ink's typical darkness) clipped to [0, 1] and kept only on and
beside its marks, is a canvas for ``core.preprocess.preprocess``, as the pad's drawing is.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from core.preprocess import Stages, preprocess, unit_interval

WORK = 400  # pixels on the longer side at most, for finding the ink
# K, the paper's window, over the picture's longer side: wider than the strokes read. MNIST's
# thickest ink (``thickest``) is 0.16 of a digit's height at the median, 0.41 at the 99.9th
# percentile; a digit in the readbench's photos is at most 0.64 of the picture, so its strokes
# are 0.10 of it at the median and a fifth leaves room. A shadow's straight edge is kept at any
# K. Four-digit numbers read exactly with a fully trained network (readbench, seed 0): 0.835
# with the tiles used before (200 photos), 0.883 with this and the joins below (300 photos).
CLOSING = 0.2
MIN_CONTRAST = 0.15  # the ink class's mean darkness over the paper's, at least
SPECK = 0.04  # pieces smaller than this fraction of the largest are specks
MAX_MARKS = 40  # more pieces than this is a page of text or a photo of something, not digits
MAX_FILL = 0.75  # ink covers at most this much of its box (MNIST's test digits: median 0.37, at most 0.67)
FRAGMENT = 0.45  # a group shorter than this of the tallest is part of a digit (MNIST's shortest: 0.5)
NEAR = 0.5  # ... of the digit beside it, at most this many of those heights away across
THICKEST = 0.5  # a digit's thickest ink over its height, at most (MNIST's test digits: at most 0.45)
ROW_GAP = 0.2  # rows free of ink inside a digit, over its height, at most (MNIST's: 1 in 10,000 more)
NUMBER_HEIGHT = 0.6  # a second group this tall, of the tallest, makes a picture a number
SPLIT_WIDTH = 1.2  # a group wider than this many times the digits' height holds several
DIGIT_WIDTH = 0.8  # a digit's width over its height when a wide group is shared out (see split_columns)
SLIVER = 0.25  # a piece of a cut part under this of its largest piece was cut off a neighbour
# Straight cuts tried for each cut, besides the seam (``surest_cuts``). Four-digit numbers read
# exactly with the fully trained fast network, 300 photos made as the readbench's (a quarter
# touching), two sets: 0.893 and 0.907 cut at the least ink, 0.900 and 0.923 with the network
# choosing; of the touching numbers misread with the originals right, 6 and 10 became 4 and 5.
# The readbench (300 numbers, seeds 0 and 1): 0.8833 and 0.9000 before, 0.8867 and 0.9067.
CANDIDATES = 3
# Straight cuts spread evenly over each cut's range besides (``candidate_cuts``): about two of
# MNIST's pixels apart. The least ink is often in a digit's middle (a 0's two thin strokes), not
# where it touches the next; among the readbench's touching numbers misread with the originals
# right, a 0 cut so was the commonest fault (7 of 19, seeds 0-8). Four-digit numbers read
# exactly, the readbench's 300 of each of seeds 0-8 (fully trained fast network): 2468 of 2700
# without these cuts, 2477 with them (12 gained, 3 lost); 9, 12 or 15 of them read 2475-2476.
EVENLY = 7
# A hole: paper enclosed by ink, at least HOLE of the ink's area. Photos of MNIST test digits
# (the readbench's, an eighth light on dark): 400 have no third hole of even 0.001 of the ink
# (235 none, 136 one, 29 two), one of the readbench's 300 (seed 1, a loop's pinch) has a third of
# 0.0035. The 82 bright faces on a dark background of 300 (taken for chalk, their skin one mark)
# have a third of at least 0.0049 (eyes, brows, mouth: 4-5 holes). 0.004 lies between.
# And at least HOLE_PIXELS pixels: a digit of a number is small in the picture (about 40-60
# pixels tall), and a pinch of 2-10 pixels where its strokes meet is more than 0.004 of its ink.
# The readbench's numbers, seeds 0-8: 16 of 2700 were refused for a digit's third hole. Their
# digits' holes beyond a digit's two are at most 10 pixels but for three real loops (36-46
# pixels, still refused); the faces' (300) are at least 66 pixels. 25 lies between: 13 of the 16
# are now read exactly, and no face is read that was refused.
HOLE = 0.004
HOLE_PIXELS = 25
MAX_HOLES = 2  # holes in one digit at most (an 8)

Probabilities = Callable[[np.ndarray], np.ndarray]  # the network's: inputs (n, 784) -> (n, 10)


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


def digits(photo: Photo, split: bool = True,
           probabilities: Probabilities | None = None) -> list[np.ndarray]:
    """The digits of a cleaned photo, left to right: each its ink (h, w), cut to its box, other
    digits' ink removed. The marks are grouped by their columns (``group_columns``,
    ``join_fragments``); with ``split``, a group too wide for one digit is cut into several
    (``split_group``). Given the network's ``probabilities``, the network chooses too: where
    the cuts go, how many digits a wide group holds and whether a short group is part of its
    neighbour (``read_groups``). NotADigit if a digit is not digit-shaped."""
    labels = photo.labels
    n = int(labels.max())
    rows, cols = np.nonzero(labels)
    k = labels[rows, cols] - 1
    top, bottom = _per_label(np.minimum, rows, k, n, rows.max()), _per_label(np.maximum, rows, k, n, 0)
    left, right = _per_label(np.minimum, cols, k, n, cols.max()), _per_label(np.maximum, cols, k, n, 0)
    groups = join_fragments(group_columns(left, right), top, bottom, left, right)
    heights = [max(bottom[m] for m in ms) - min(top[m] for m in ms) + 1 for ms in groups]
    height = float(np.median(heights))

    def ink_of(marks: list[int]) -> np.ndarray:
        """The marks' ink, alone, cut to the columns they cover: (h, w)."""
        c0, c1 = min(left[m] for m in marks), max(right[m] for m in marks) + 1
        mine = np.isin(labels[:, c0:c1], np.array(marks) + 1)
        return np.where(mine, photo.ink[:, c0:c1], 0.0).astype(np.float32)

    if split and probabilities is not None:
        return read_groups(groups, ink_of, heights, height, probabilities)
    out = []
    for marks in groups:
        ink = ink_of(marks)
        for part in split_group(ink, height) if split else [ink]:
            part = trimmed(part)
            check_digit_shape(part)
            out.append(part)
    return out


def read_groups(groups: list[list[int]], ink_of: Callable[[list[int]], np.ndarray],
                heights: list[int], height: float, probabilities: Probabilities) -> list[np.ndarray]:
    """The digits of the groups of marks, left to right, read the way the network is surest of:
    segmentation by recognition, a small dynamic programme over the groups.

    A group may be read as ``split_group`` cuts it (one digit unless it is wide; each cut where
    the network reads the parts surest); as one digit fewer, if that cutting leaves a part
    shorter than FRAGMENT of the tallest group (a stroke cut off a digit, not a digit); or,
    if it is shorter than NUMBER_HEIGHT of the tallest (not a digit of a number by itself,
    ``read_digit``), as one digit with its left or right neighbour, if the two together are no
    wider than a digit (SPLIT_WIDTH heights): the pieces of a broken 4, the stroke an 8 was
    finished with. Each way of reading a group or pair scores the sum of the logarithms of its
    parts' confidences (``confidence``: each part prepared as MNIST's, its most probable
    digit's probability); a way with a part that holds no ink or is not digit-shaped
    (``check_digit_shape``) is ruled out. The reading of all the groups is the one of greatest
    total score, the greatest product of the confidences, found left to right: the best
    reading of groups[:b] is the best of groups[:b - 1] and a way of reading group b - 1, or
    of groups[:b - 2] and a way of reading the pair. Where readings score alike, each group
    read as ``split_group`` cuts it is kept; NotADigit if no reading has every part
    digit-shaped."""
    tallest = max(heights)
    ways: dict[tuple[int, int], list[list[np.ndarray]]] = {}  # (a, b): ways to read groups[a:b]
    for a, marks in enumerate(groups):
        ink = ink_of(marks)
        cut = split_group(ink, height, probabilities)
        ways[a, a + 1] = [cut]
        if len(cut) > 1 and min(part_height(p) for p in cut) < FRAGMENT * tallest:
            ways[a, a + 1].append(split_group(ink, height, probabilities, len(cut) - 1))
        if a > 0 and min(heights[a - 1], heights[a]) < NUMBER_HEIGHT * tallest:
            pair = ink_of(groups[a - 1] + marks)
            if pair.shape[1] <= SPLIT_WIDTH * height:
                ways[a - 1, a + 1] = [[pair]]
    scores: dict[tuple[int, int], list[tuple[float, list[np.ndarray]]]] = {}
    refusal: NotADigit | None = None
    for key, options in ways.items():
        scores[key] = []
        for parts in options:
            parts = [trimmed(part) for part in parts]
            if any(part.size == 0 for part in parts):
                continue
            try:
                for part in parts:
                    check_digit_shape(part)
            except NotADigit as exc:
                refusal = refusal or exc
                continue
            scores[key].append((confidence(parts, probabilities), parts))
    best: list[tuple[float, list[np.ndarray]] | None] = [(0.0, [])] + [None] * len(groups)
    for b in range(1, len(groups) + 1):
        for a in (b - 1, b - 2):  # the group alone first: a pair must score higher to win
            if a < 0 or best[a] is None or (a, b) not in scores:
                continue
            for score, parts in scores[a, b]:
                total = best[a][0] + score
                if best[b] is None or total > best[b][0]:
                    best[b] = (total, best[a][1] + parts)
    if best[-1] is None:
        raise refusal
    return best[-1][1]


def confidence(parts: list[np.ndarray], probabilities: Probabilities) -> float:
    """The sum over the parts of the logarithm of the network's probability of the digit it
    reads, each part prepared as MNIST's; -inf if a part holds no ink."""
    prepared = [preprocess(part) for part in parts]
    if any(s is None for s in prepared):
        return -math.inf
    p = probabilities(np.stack([s.x for s in prepared]))  # (n, 784) -> (n, 10)
    return float(np.log(np.maximum(p.max(axis=1), 1e-12)).sum())


def trimmed(part: np.ndarray) -> np.ndarray:
    """The part (h, w) cut to the rows and columns that hold its ink."""
    r, c = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
    return part[r[0]:r[-1] + 1, c[0]:c[-1] + 1] if len(r) else part[:0, :0]


def part_height(part: np.ndarray) -> int:
    """How many rows the ink of a part (h, w) spans, from its first to its last."""
    r = np.flatnonzero(part.any(axis=1))
    return int(r[-1] - r[0] + 1) if len(r) else 0


def split_group(ink: np.ndarray, height: float, probabilities: Probabilities | None = None,
                n: int | None = None) -> list[np.ndarray]:
    """A group of ink (h, w) as the digits in it, left to right, each (h, w) with the others'
    ink removed: ``n`` of them, or as many as its width holds (``digit_count``); cut at the
    columns ``split_columns`` chose, and a piece that the cut left on the wrong side (a sliver
    of the neighbour's stroke, cut off from the rest of it: under SLIVER of the part's largest
    piece, touching the cut) goes back to the neighbour it came from. Given the network's
    ``probabilities``, each cut is instead the one of its candidates (``candidate_cuts``) whose
    parts the network reads surest (``surest_cuts``)."""
    cuts = split_columns(ink, height, n)
    if len(cuts) == 1:
        return [ink]
    h = ink.shape[0]
    bounds = [np.full(h, a) for a, _ in cuts[1:]]  # each cut: the first column right of it, per row
    if probabilities is not None:
        bounds = surest_cuts(ink, bounds, probabilities)
    return parts_between(ink, bounds)


def parts_between(ink: np.ndarray, bounds: list[np.ndarray]) -> list[np.ndarray]:
    """The ink (h, w) cut into len(bounds) + 1 parts, left to right: part j holds the pixels
    right of cut j - 1 and left of cut j (a cut is, for every row, the first column right of it);
    a sliver (a piece of a part under SLIVER of its largest, touching a cut) goes across it."""
    h, w = ink.shape
    columns = np.arange(w)[None, :]
    owner = np.ones(ink.shape, dtype=np.int32)  # 1..n: which part each pixel of ink goes to
    for bound in bounds:
        owner += columns >= bound[:, None]
    owner[ink <= 0] = 0
    moved = owner.copy()
    edges = [np.zeros(h, int), *bounds, np.full(h, w)]
    for j in range(len(bounds) + 1):
        pieces, m = label(owner == j + 1)
        if m < 2:
            continue
        area = np.bincount(pieces.ravel(), minlength=m + 1)[1:]
        first = columns == edges[j][:, None]  # the part's first column in each row
        last = columns == edges[j + 1][:, None] - 1  # and its last
        for k in np.flatnonzero(area < SLIVER * area.max()):
            where = pieces == k + 1
            to = (j if j > 0 and (where & first).any() else  # a sliver of the left neighbour
                  j + 2 if j < len(bounds) and (where & last).any() else None)  # of the right
            if to is not None:
                moved[where] = to
    return [np.where(moved == j + 1, ink, 0.0).astype(np.float32) for j in range(len(bounds) + 1)]


def candidate_cuts(ink: np.ndarray, lo: int, hi: int) -> list[np.ndarray]:
    """Ways to cut the ink (h, w) between columns lo and hi, each the first column right of the
    cut in every row: straight down at the CANDIDATES columns of least ink that are each the
    least within CANDIDATES columns' reach, at EVENLY columns spread evenly from lo to hi - 1
    (the least ink is often in the middle of a digit, a 0's two thin strokes, rather than where
    it touches the next digit), and along the seam of least ink (one column a row, moving at
    most one column from row to row: it passes between strokes that overlap across, as digits
    that touch do, where no straight cut can)."""
    h = ink.shape[0]
    profile = ink[:, lo:hi].sum(axis=0)  # (hi - lo,)
    order = np.argsort(profile, kind="stable")
    straight: list[int] = []
    for c in order:
        if all(abs(int(c) - s) > CANDIDATES for s in straight):
            straight.append(int(c))
        if len(straight) == CANDIDATES:
            break
    spread = np.unique(np.linspace(0, hi - lo - 1, EVENLY).round().astype(int))
    cuts = [np.full(h, lo + c) for c in [*straight, *(int(c) for c in spread if c not in straight)]]
    cost = ink[:, lo:hi].astype(np.float64) + 1e-3  # (h, hi - lo); the small term: no needless turns
    total = cost[0].copy()
    came = np.zeros(cost.shape, dtype=np.int8)  # -1, 0, 1: the column step from the row above
    for r in range(1, h):
        options = np.stack([np.r_[np.inf, total[:-1]], total, np.r_[total[1:], np.inf]])  # (3, hi - lo)
        step = options.argmin(axis=0)
        came[r] = step - 1
        total = options[step, np.arange(len(total))] + cost[r]
    seam = np.empty(h, dtype=int)
    seam[-1] = int(total.argmin())
    for r in range(h - 1, 0, -1):
        seam[r - 1] = seam[r] + came[r, seam[r]]
    cuts.append(lo + seam)
    return cuts


def surest_cuts(ink: np.ndarray, bounds: list[np.ndarray],
                probabilities: Probabilities) -> list[np.ndarray]:
    """The cuts of a group of ink (h, w), improved one at a time, left to right: each is set to
    the candidate (``candidate_cuts``, within the third of a digit around its even share that
    ``split_columns`` searched) whose parts, prepared as MNIST's, the network reads surest
    (scored as ``confidence`` scores them, every candidate's parts read in one call; a part
    without ink is never chosen); the other cuts stay. Of candidates that score alike the
    first is kept, the cut as it was."""
    w = ink.shape[1]
    n = len(bounds) + 1
    bounds = list(bounds)
    for j in range(len(bounds)):
        centre, reach = (j + 1) * w / n, w / n / 3
        lo, hi = max(1, int(centre - reach)), min(w - 1, int(centre + reach) + 1)
        if lo >= hi:
            continue
        options = [bounds[j], *candidate_cuts(ink, lo, hi)]
        readings = []  # each option's parts, prepared as MNIST's
        for cut in options:
            parts = parts_between(ink, [*bounds[:j], cut, *bounds[j + 1:]])
            readings.append([preprocess(part) for part in parts])
        readable = [k for k, parts in enumerate(readings) if all(s is not None for s in parts)]
        if not readable:
            continue
        x = np.stack([s.x for k in readable for s in readings[k]])  # (len(readable) n, 784)
        sure = np.log(np.maximum(probabilities(x).max(axis=1), 1e-12)).reshape(len(readable), n)
        bounds[j] = options[readable[int(np.argmax(sure.sum(axis=1)))]]
    return bounds


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
    """The paper's brightness at every pixel of g (h, w): g's grey-level closing, a running
    maximum over K x K windows (ink narrower than K is gone: the paper around it fills it in)
    and then a running minimum over the same windows (what the maximum spread beyond the
    paper's own dark regions, a shadow, is taken back: a closing keeps every edge straighter
    than K, so a shadow's edge stays where it is)."""
    k = 2 * round(CLOSING * max(g.shape) / 2) + 1  # odd: the window is centred
    if k <= 1:
        return g.copy()
    bright = running(running(g, k, 0, np.maximum), k, 1, np.maximum)
    return running(running(bright, k, 0, np.minimum), k, 1, np.minimum)


def running(x: np.ndarray, k: int, axis: int, op) -> np.ndarray:
    """op (np.maximum or np.minimum) over the k (odd) pixels centred on each, along ``axis``,
    the edge pixels repeated beyond the ends. Van Herk's and Gil and Werman's way (1992-93),
    about three ops a pixel whatever k: the line cut into blocks of k, each block's running op
    from its start (G) and from its end (H); the window [i, i + k) spans at most two blocks,
    and its op is op(H[i], G[i + k - 1])."""
    x = np.moveaxis(x, axis, -1)
    n, r = x.shape[-1], k // 2
    m = math.ceil((n + 2 * r) / k) * k  # padded length, whole blocks
    p = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(r, m - n - r)], mode="edge")
    blocks = p.reshape(*p.shape[:-1], m // k, k)
    G = op.accumulate(blocks, axis=-1).reshape(p.shape)
    H = op.accumulate(blocks[..., ::-1], axis=-1)[..., ::-1].reshape(p.shape)
    return np.moveaxis(op(H[..., :n], G[..., k - 1:k - 1 + n]), -1, axis)


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


def join_fragments(groups: list[list[int]], top, bottom, left, right) -> list[list[int]]:
    """Groups too short to be a digit (under FRAGMENT of the tallest group's height: a 5's bar
    beside its body, a piece of a broken stroke) joined to the neighbour nearer to them across,
    if that one is within NEAR of that height; the groups, left to right."""
    def box(ms):
        return (min(top[m] for m in ms), max(bottom[m] for m in ms) + 1,
                min(left[m] for m in ms), max(right[m] for m in ms) + 1)

    groups = [list(g) for g in groups]
    while len(groups) > 1:
        boxes = [box(g) for g in groups]
        height = float(max(b[1] - b[0] for b in boxes))
        short = [j for j, b in enumerate(boxes) if b[1] - b[0] < FRAGMENT * height]
        joined = False
        for j in sorted(short, key=lambda j: boxes[j][1] - boxes[j][0]):  # the shortest first
            gaps = {n: max(boxes[n][2], boxes[j][2]) - min(boxes[n][3], boxes[j][3])
                    for n in (j - 1, j + 1) if 0 <= n < len(groups)}  # < 0: they overlap
            n = min(gaps, key=gaps.get)
            if gaps[n] <= NEAR * height:
                groups[n] += groups[j]
                del groups[j]
                joined = True
                break
        if not joined:
            return groups
    return groups


def digit_count(width: float, height: float) -> int:
    """How many digits a group of ink this wide holds, given the digits' height: one if it is
    no wider than SPLIT_WIDTH heights, else round(width / (DIGIT_WIDTH height)), at least 2."""
    if width <= SPLIT_WIDTH * height:
        return 1
    return max(2, round(width / (DIGIT_WIDTH * height)))


def split_columns(ink: np.ndarray, height: float, n: int | None = None) -> list[tuple[int, int]]:
    """Where a group of ink (h, w) is cut into ``n`` digits, or as many as ``digit_count``
    says its width holds: [(from, to), ...] columns, each cut at the column of least ink
    within a third of a digit of its even share."""
    w = ink.shape[1]
    n = digit_count(w, height) if n is None else n
    if n == 1:
        return [(0, w)]
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
    """NotADigit unless the ink (h, w) looks made by a pen: strokes, not a solid blotch (of
    its box, at most MAX_FILL is ink, unless it is twice as tall as wide: a 1), not a solid shape (its
    thickest part, the side of the largest square that fits in the ink, at most THICKEST of
    its height: an eye, a mouth, a face), nor pieces stacked with paper between them (at most
    ROW_GAP of its height free of ink: a face's brows, eyes, mouth and chin), nor more than
    MAX_HOLES holes for each digit its width holds (a bright face's eyes, brows and mouth in the
    skin around them, when the face is taken for chalk on a board))."""
    h, w = ink.shape
    mask = ink > 0.5
    fill = float(mask.sum()) / (h * w)
    if fill > MAX_FILL and h < 2 * w:  # a 1 may fill its narrow box: a thick slanted 1 did (79%)
        raise NotADigit(f"its ink is a solid blotch ({fill:.0%} of its box), not pen strokes")
    thick = thickest(mask)
    if thick > THICKEST * h:
        raise NotADigit(f"its ink is a solid shape ({thick / h:.0%} of its height thick), "
                        "not pen strokes")
    empty = ~ink.any(axis=1)
    gap = int(np.diff(np.flatnonzero(np.concatenate([[False], ~empty, [False]]))).max()) - 1
    if gap > ROW_GAP * h:
        raise NotADigit(f"its ink is pieces stacked apart ({gap / h:.0%} of its height between "
                        "them), not a digit's strokes")
    n = holes(mask)
    if n > MAX_HOLES * digit_count(w, h):
        raise NotADigit(f"its ink encloses {n} holes, more than a digit's {MAX_HOLES} (an 8's), "
                        "as a face's eyes and mouth do")


def holes(mask: np.ndarray) -> int:
    """How many holes the ink (h, w) has: pieces of paper wholly enclosed by it (8-connected,
    so paper leaking through a diagonal gap is not enclosed), each at least HOLE of the ink's
    area and HOLE_PIXELS pixels (a pinhole of noise in a thick stroke, or where a small
    digit's strokes pinch, is not one)."""
    paper, n = label(~np.pad(mask, 1))  # the padding joins all the paper around the ink
    if n < 2:
        return 0
    area = np.bincount(paper.ravel(), minlength=n + 1)
    area[paper[0, 0]] = 0  # the paper around
    return int((area[1:] >= max(HOLE * mask.sum(), HOLE_PIXELS)).sum())


def thickest(mask: np.ndarray) -> int:
    """The side of the largest square that fits wholly inside mask (0 if it holds nothing): the
    largest odd k whose k x k running minimum keeps some pixel, by bisection."""
    if not mask.any():
        return 0
    lo, hi = 1, 2 * (min(mask.shape) // 2) + 1  # k = lo fits; k = hi + 2 never does
    fits = np.pad(mask, 1).astype(np.uint8)  # paper around it: running repeats the edges
    while lo < hi:
        k = 2 * ((lo + hi + 2) // 4) + 1  # an odd k in (lo, hi]
        k = max(k, lo + 2)
        if running(running(fits, k, 0, np.minimum), k, 1, np.minimum).any():
            lo = k
        else:
            hi = k - 2
    return lo


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


def read_number(grey: np.ndarray,
                probabilities: Probabilities | None = None) -> tuple[Photo, list[Stages]]:
    """Every digit of a photo, left to right, each prepared as MNIST's (``preprocess``).
    ``probabilities``, the network's (``Network.predict_proba``: inputs (n, 784) -> (n, 10)),
    chooses where touching digits are cut and how the groups of marks make digits: the way it
    reads them surest (``read_groups``). Without it touching digits are cut at the columns of
    least ink and the groups are digits as their shapes say."""
    photo = clean(grey)
    return photo, [preprocess(ink) for ink in digits(photo, probabilities=probabilities)]


def read_digit(grey: np.ndarray) -> tuple[Photo, Stages]:
    """The one digit of a photo: all its kept ink, prepared as MNIST's. NotADigit when the
    picture holds two or more digits side by side (a number: groups of marks apart across,
    each at least NUMBER_HEIGHT of the tallest; a broken digit's shorter pieces were joined to
    it by ``join_fragments``), or nothing digit-shaped."""
    photo = clean(grey)
    found = digits(photo, split=False)
    heights = sorted((ink.shape[0] for ink in found), reverse=True)
    if len(heights) > 1 and heights[1] >= NUMBER_HEIGHT * heights[0]:
        several = sum(h >= NUMBER_HEIGHT * heights[0] for h in heights)
        raise NotADigit(f"it holds {several} digits side by side, a number: "
                        "'predict --number' reads numbers")
    return photo, preprocess(photo.ink)
