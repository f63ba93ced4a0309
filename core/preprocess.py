"""From a drawing to what the network sees: MNIST's own normalisation, one stage at a time.

LeCun, Cortes and Burges made MNIST's digits from NIST's scans in two steps (the MNIST page,
yann.lecun.com/exdb/mnist):
the ink's bounding box was scaled, keeping its aspect ratio, so that its longer side is 20
pixels, with anti-aliasing; the result was placed in a 28x28 field so that the centre of mass
of its pixels sits at the centre of the field. ``preprocess`` does the same to a canvas and
keeps every stage (``Stages``), so the window can show them.

Notation (images are arrays indexed [row, column], rows first as everywhere in ``core``):

    I          ink in [0, 1]: 0 is paper, 1 is full ink, MNIST's white-on-black convention
    box        the rows and columns holding a pixel above INK_THRESHOLD * max(I), so a faint
               anti-aliased rim does not grow the box
    h, w       the box's height and width in canvas pixels; L = max(h, w)
    s          canvas pixels per output pixel: s = L / BOX, the same along both axes (the
               aspect ratio is kept). Along an axis of n pixels the digit covers n / s output
               pixels, BOX along the longer axis and a fraction in general along the other; a
               side thinner than one output pixel gets s = n, so it is one whole pixel wide
    R          one axis's area-averaging matrix, (n_out, n_in): output pixel i covers the
               interval [a + i s, a + (i + 1) s) of the input (a centres the n_out footprints
               on the n input pixels), and R[i, j] = |[a + i s, a + (i + 1) s) ∩ [j, j + 1)| / s.
               Each output pixel is the mean of the input area it covers, pixels at its edges
               counted by the fraction covered and paper beyond the input's ends: exact
               anti-aliasing, no aliasing, down or up, at any scale.
    scaled     S = R_rows @ I[box] @ R_cols.T               (h, w) -> (h', w'), max(h', w') = BOX
    (r̄, c̄)     the centre of mass of S: r̄ = Σ_rc r S[r, c] / Σ_rc S[r, c], likewise c̄,
               in pixel indices (pixel (0, 0) is centred on (0, 0))
    centred    S pasted into SIDE x SIDE zeros with its top-left corner at
               (round(CENTRE - r̄), round(CENTRE - c̄)); what would fall outside is clipped

CENTRE is 14, not 13.5. The middle of 28 pixels indexed 0..27 is 13.5, but MNIST's own test
digits have their centres of mass spread evenly over [13.5, 14.5] in both axes (mean 14.00,
standard deviation 0.29): LeCun's integer shift aimed at 28 / 2 = 14 in pixel indices. After
the rounded shift ours lie in the same interval, within half a pixel of 14.

The scale of the values is already the network's: MNIST stores ink as uint8 / 255, so a
centred image in [0, 1] is what ``core.data.normalize`` makes of the same picture. A test digit
passed through ``preprocess`` comes back unchanged, since its box is already 20 pixels long and
its centre of mass already within half a pixel of 14: 9,340 of the 10,000 bit for bit, and all
but 8 of the others lose only a few pixels fainter than INK_THRESHOLD at the rim of their box.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SIDE = 28  # MNIST's field is SIDE x SIDE pixels
BOX = 20  # the longer side of the digit's box after scaling
CENTRE = SIDE / 2  # where the centre of mass goes, in pixel indices (see the module's docstring)
INK_THRESHOLD = 0.05  # a pixel belongs to the box above this fraction of the brightest ink
FAINTEST_INK = 0.5 / 255  # below half an 8-bit grey level a canvas holds no ink at all
MIN_CONTRAST = 0.1  # an image whose ink differs from its paper by less than this is blank


@dataclass(frozen=True)
class Stages:
    """Every stage of ``preprocess``, read-only, for the window to show and the network to read."""
    raw: np.ndarray  # (H, W) float32 in [0, 1], ink = 1: the canvas as given
    cropped: np.ndarray  # (h, w): the ink's bounding box cut out of raw
    scaled: np.ndarray  # (h', w'), max(h', w') = BOX: the crop scaled, aspect kept (area averaging)
    centred: np.ndarray  # (SIDE, SIDE): scaled pasted so its centre of mass sits at (CENTRE, CENTRE)
    x: np.ndarray  # (784,) float32: what the network sees, scaled as in training


def preprocess(canvas: np.ndarray) -> Stages | None:
    """A canvas (H, W), uint8 or float, ink high, as MNIST's digits were made; None if it holds
    no ink (an empty canvas is no error, there is just nothing to classify)."""
    raw = unit_interval(canvas)
    if raw.size == 0 or raw.max() < FAINTEST_INK:
        return None
    cropped = raw[ink_box(raw)]
    scaled = scale_to_box(cropped)
    centred = centre_of_mass_paste(scaled)
    x = centred.reshape(SIDE * SIDE)  # (28, 28) -> (784,), a view: rows one after another, as normalize
    return Stages(*(_read_only(a) for a in (raw, cropped, scaled, centred, x)))


def ink_from_image(gray: np.ndarray) -> np.ndarray:
    """Any grayscale picture (H, W), uint8 or float, as ink in [0, 1]: dark ink on light paper is
    inverted, light ink on dark paper kept. The paper is the median of the border pixels; the
    ink is whichever extreme lies farther from it. Paper becomes 0 and the strongest ink 1, so a
    grey pencil on a grey photo reads like MNIST's full-contrast strokes; an image whose ink is
    within MIN_CONTRAST of its paper is blank (all zeros)."""
    g = unit_interval(gray)
    if g.size == 0:
        return g
    border = np.concatenate([g[0], g[-1], g[1:-1, 0], g[1:-1, -1]])
    paper = float(np.median(border))
    darker, lighter = paper - float(g.min()), float(g.max()) - paper
    contrast = max(darker, lighter)
    if contrast < MIN_CONTRAST:
        return np.zeros_like(g)
    ink = (paper - g) if darker > lighter else (g - paper)  # dark ink on light paper: invert
    ink /= contrast
    return np.clip(ink, 0.0, 1.0, out=ink)


# --- the stages -------------------------------------------------------------------------------


def unit_interval(image: np.ndarray) -> np.ndarray:
    """A copy of ``image`` (H, W) as float32 in [0, 1]: integers divided by their type's maximum
    (uint8 / 255, as MNIST), floats clipped, NaN taken as 0."""
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"expected a grayscale image of shape (H, W), got shape {image.shape}")
    if image.dtype == np.bool_:
        return image.astype(np.float32)
    if np.issubdtype(image.dtype, np.integer):
        top = np.iinfo(image.dtype).max
        return np.clip(image.astype(np.float32) / np.float32(top), 0.0, 1.0)
    unit = np.nan_to_num(image.astype(np.float32), nan=0.0)  # astype copies: the caller's stays
    return np.clip(unit, 0.0, 1.0, out=unit)


def ink_box(raw: np.ndarray) -> tuple[slice, slice]:
    """The rows and columns of the ink's bounding box: those with a pixel above
    INK_THRESHOLD * max(raw). raw must hold some ink."""
    ink = raw > INK_THRESHOLD * raw.max()
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def scale_to_box(cropped: np.ndarray) -> np.ndarray:
    """The crop (h, w) scaled by 1 / s so that its longer side is BOX pixels: S = R_rows @ I @ R_cols.T."""
    h, w = cropped.shape
    s = max(h, w) / BOX  # input pixels per output pixel
    R_rows, R_cols = area_matrix(h, s), area_matrix(w, s)
    scaled = R_rows @ cropped @ R_cols.T  # (h', h) @ (h, w) @ (w, w') -> (h', w')
    return np.clip(scaled, 0.0, 1.0, out=scaled)  # means of [0, 1] stay there, but for rounding


def area_matrix(n_in: int, s: float) -> np.ndarray:
    """The area-averaging matrix R (n_out, n_in) of one axis: output pixel i is the mean of the
    input interval [a + i s, a + (i + 1) s), and R[i, j] is the fraction of that interval that
    input pixel [j, j + 1) covers."""
    s = min(s, n_in)  # a side thinner than one output pixel still gets a whole one
    n_out = max(1, math.ceil(n_in / s - 1e-6))  # the tolerance keeps 20.0000001 from becoming 21
    a = (n_in - n_out * s) / 2  # <= 0: the footprints overhang both ends of the input alike
    edges = a + s * np.arange(n_out + 1)  # (n_out + 1,) footprint boundaries, in input pixels
    j = np.arange(n_in)  # input pixel j spans [j, j + 1)
    overlap = np.minimum(edges[1:, None], j + 1) - np.maximum(edges[:-1, None], j)  # (n_out, n_in)
    return (np.maximum(overlap, 0.0) / s).astype(np.float32)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(r̄, c̄) = Σ (r, c) I[r, c] / Σ I[r, c], in pixel indices. The image must hold some ink."""
    mass = image.sum(dtype=np.float64)
    r_bar = image.sum(axis=1, dtype=np.float64) @ np.arange(image.shape[0]) / mass
    c_bar = image.sum(axis=0, dtype=np.float64) @ np.arange(image.shape[1]) / mass
    return float(r_bar), float(c_bar)


def centre_of_mass_paste(scaled: np.ndarray) -> np.ndarray:
    """``scaled`` placed in SIDE x SIDE zeros, shifted by whole pixels so that its centre of mass
    lands within half a pixel of (CENTRE, CENTRE); what would fall outside is clipped, not wrapped."""
    r_bar, c_bar = centre_of_mass(scaled)
    top, left = math.floor(CENTRE - r_bar + 0.5), math.floor(CENTRE - c_bar + 0.5)  # round half up
    rows, src_rows = _overlap(top, scaled.shape[0])
    cols, src_cols = _overlap(left, scaled.shape[1])
    centred = np.zeros((SIDE, SIDE), dtype=np.float32)
    centred[rows, cols] = scaled[src_rows, src_cols]
    return centred


def _overlap(offset: int, n: int) -> tuple[slice, slice]:
    """Where n pixels placed from ``offset`` fall inside [0, SIDE): (field slice, source slice)."""
    start, stop = max(offset, 0), min(offset + n, SIDE)
    stop = max(stop, start)  # nothing left inside: empty slices
    return slice(start, stop), slice(start - offset, stop - offset)


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def over_contrasting_paper(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 4) RGBA -> (H, W) grey levels, each pixel blended with paper by its opacity
    alpha: grey = alpha * luminance + (1 - alpha) * paper. The paper is white under dark
    strokes and black under light ones, so strokes on a transparent background stay visible."""
    rgb, alpha = rgba[..., :3].astype(np.float32), rgba[..., 3].astype(np.float32) / 255
    luminance = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # (H, W, 3) -> (H, W), ITU-R 601
    opaque = alpha.sum()
    dark_strokes = opaque == 0 or (alpha * luminance).sum() / opaque < 128
    paper = 255.0 if dark_strokes else 0.0
    grey = alpha * luminance + (1 - alpha) * paper
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8)


# --- a picture of a thing, as Fashion-MNIST's were made -----------------------------------------


def prepare_picture(gray: np.ndarray) -> np.ndarray | None:
    """A picture (H, W) of one thing on a plain background as Fashion-MNIST's product photos
    were made (Xiao, Rasul and Vollgraf, 2017): the background trimmed, the longer side scaled to
    SIDE, the shorter one padded to SIDE with the thing in the middle, and the intensities
    negated, so that a dark shoe on white becomes a light shoe on black. Not a digit's recipe:
    the thing fills the field and is centred by its box, not its centre of mass. The network's
    input x (SIDE * SIDE,) float32 in [0, 1], or None if the picture is background only."""
    ink = ink_from_image(gray)  # background 0, the thing up to 1 (negated if it is darker)
    if not ink.any():
        return None
    rows, cols = ink_box(ink)
    cropped = ink[rows, cols]  # (h, w)
    h, w = cropped.shape
    s = max(h, w) / SIDE  # input pixels per output pixel
    scaled = area_matrix(h, s) @ cropped @ area_matrix(w, s).T  # (h', h) @ (h, w) @ (w, w') -> (h', w')
    field = np.zeros((SIDE, SIDE), dtype=np.float32)
    top, left = (SIDE - scaled.shape[0]) // 2, (SIDE - scaled.shape[1]) // 2
    field[top:top + scaled.shape[0], left:left + scaled.shape[1]] = np.clip(scaled, 0.0, 1.0)
    return _read_only(field.reshape(-1))
