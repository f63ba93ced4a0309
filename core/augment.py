"""Data augmentation: each training image moved by a random affine transform (shift, rotation,
scale, shear) and, optionally, bent by an elastic distortion (Simard, Steinkraus and Platt,
"Best practices for convolutional neural networks applied to visual document analysis", 2003),
drawn afresh for every image of every batch, on the fly, for the training batches only.

Notation (images are arrays indexed [row, column], rows first as everywhere in ``core``):

    p = (r, c)       an output pixel, in pixel indices 0..27
    o = (13.5, 13.5) the centre of the field: rotation, scale and shear turn about it
    T                a forward map, what happens to the digit: a source point s lands on
                     T(s) = o + L (s - o) + d, with L = R(theta) Sh(shear) K(k) and the shift d
    S = T^-1         the sampling map: output pixel p takes the source's value at
                     S(p) = o + L^-1 (p - o - d)
    u(p)             the elastic displacement field (2, 28, 28): uniform noise in [-1, 1] per
                     pixel and component, smoothed by a Gaussian of standard deviation sigma,
                     times alpha (Simard's section 2); it is added to the sampling point
    I'(p)            = I(S(p) + u(p)), read by bilinear interpolation, zero outside the field

Maps are (n, 2, 3) arrays acting on homogeneous [r, c, 1]: ``affine`` builds forward maps from
parameters, ``invert`` turns one into the other, ``sampling_points`` evaluates a sampling map at
every pixel, ``warp`` reads the images there. All of it is vectorised over the batch: the only
Python loops are over the four bilinear neighbours, never over images.

Where the pixels go, in the sense of T: with
    L = [[cos t, -sin t],  [[1, 0],      [[k, 0],
         [sin t,  cos t]] @ [shear, 1]] @ [0, k]]
a positive angle t turns the digit anticlockwise on the screen (rows grow downwards), a
positive shear slants it like italics leaning left, k > 1 enlarges it, and d = (dr, dc) moves
it down and right.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from core.errors import ConfigError

SIDE = 28  # MNIST's field is SIDE x SIDE pixels
CENTRE = (SIDE - 1) / 2  # 13.5: the middle of the field in pixel indices, the pivot of L

# Upper bounds of the settings: beyond them a digit is no longer the digit of its label.
# Images warped at a time. A batch's arrays are 0.4-0.8 MB each, and glibc hands memory of that
# size back to the system when it is freed, so every call paid for fresh pages: 750-870 page
# faults, 1.7 of 2.4 ms for a batch of 128 ('affine'). Blocks of 32 images keep every array
# under 0.2 MB and the faults at 0; a batch of 128 then takes 0.66 ms (blocks of 8: 1.5 ms,
# 16: 1.1, 64: 0.9, whole batches 2.9; one run of each, on a machine shared with other work).
# Each block is vectorised over its images: the loop turns B / 32 times, not B.
BLOCK = 32
MAX_SHIFT = SIDE / 2  # pixels: half the field would push any digit out of it
MAX_ROTATION = 180.0  # degrees: a full turn either way
MAX_SCALE = 0.9  # the factor 1 +- scale stays at least 0.1: a digit never collapses to a point
MAX_SHEAR = 1.0  # a slant of 45 degrees
MAX_ELASTIC_ALPHA = 100.0  # pixels: three times Simard's 34
MIN_ELASTIC_SIGMA, MAX_ELASTIC_SIGMA = 0.5, float(SIDE)  # pixels: from a pixel's noise to the whole field


@dataclass(frozen=True)
class Augmentation:
    """The ranges each image's random transform is drawn from; every one is uniform and
    symmetric, so the digits stay centred on average. All zeros: the identity."""
    shift: float = 0.0  # pixels: dr, dc uniform in [-shift, shift]
    rotation: float = 0.0  # degrees: uniform in [-rotation, rotation]
    scale: float = 0.0  # relative: the factor k uniform in [1 - scale, 1 + scale]
    shear: float = 0.0  # the shear factor uniform in [-shear, shear]
    elastic_alpha: float = 0.0  # pixels of elastic displacement (Simard's alpha); 0: none
    elastic_sigma: float = 4.0  # pixels, the Gaussian smoothing of the random field
    mirror: float = 0.0  # the probability an image is mirrored left to right (clothes, not digits)

    def __post_init__(self):
        limits = {"shift": MAX_SHIFT, "rotation": MAX_ROTATION, "scale": MAX_SCALE, "shear": MAX_SHEAR,
                  "elastic_alpha": MAX_ELASTIC_ALPHA, "elastic_sigma": MAX_ELASTIC_SIGMA, "mirror": 1.0}
        for field in fields(self):
            value = getattr(self, field.name)
            name = field.name.replace("_", " ")
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise ConfigError(f"the augmentation's {name} must be a number, got {value!r}")
            if not (math.isfinite(value) and 0.0 <= value <= limits[field.name]):
                raise ConfigError(f"the augmentation's {name} must be a finite number from 0 to "
                                  f"{limits[field.name]:g}, got {value}")
            object.__setattr__(self, field.name, float(value))
        if self.elastic_sigma < MIN_ELASTIC_SIGMA:
            raise ConfigError(f"the augmentation's elastic sigma must be at least {MIN_ELASTIC_SIGMA:g} "
                              f"pixels, got {self.elastic_sigma}")

    @property
    def identity(self) -> bool:
        """True if every image comes out as it went in."""
        return (self.shift == self.rotation == self.scale == self.shear == self.elastic_alpha
                == self.mirror == 0.0)

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """x (B, 784) float32 in [0, 1] -> a NEW (B, 784) float32 array, each image transformed
        by its own random transform drawn from ``rng``: ``apply(x, draw(B, rng))``. Never
        modifies x (x may be read-only)."""
        return self.apply(x, self.draw(len(x), rng))

    def draw(self, n: int, rng: np.random.Generator) -> "Drawn":
        """The random part of transforming n images, all of it, in this order: (n, 5) uniforms
        for the affine maps, then, if mirror > 0, (n,) uniforms choosing the images mirrored,
        then, if elastic_alpha > 0, the (2 b, 28, 28) noise of each block's elastic field,
        block after block. Only numbers are drawn; the rest (``apply``: the maps made of them,
        and the images) is arithmetic, which a thread can do while the generator goes on
        (``core.train`` does: the draws stay in their order)."""
        if self.identity:
            return Drawn(None, None, ())
        u = rng.uniform(-1.0, 1.0, size=(n, 5))  # (n, 5): dr, dc, angle, scale, shear in [-1, 1]
        mirrored = rng.random(n) < self.mirror if self.mirror > 0.0 else None
        noise = ()
        if self.elastic_alpha > 0.0:
            noise = tuple(elastic_noise(len(range(start, min(start + BLOCK, n))), rng)
                          for start in range(0, n, BLOCK))
        return Drawn(u, mirrored, noise)

    def sampling_maps(self, drawn: "Drawn") -> np.ndarray:
        """The sampling maps S (n, 2, 3) of what ``draw`` drew: the forward maps T of the
        uniforms (``random_affine``), mirrored first for the images chosen, inverted."""
        maps = maps_of_uniforms(drawn.uniforms, self.shift, self.rotation, self.scale, self.shear)
        if drawn.mirrored is not None:
            mirrored = drawn.mirrored
            maps[mirrored] = compose(maps[mirrored], MIRROR[None].repeat(mirrored.sum(), 0))
        return invert(maps)

    def apply(self, x: np.ndarray, drawn: "Drawn") -> np.ndarray:
        """x (B, 784) transformed by what ``draw(B, ...)`` drew: a NEW (B, 784) float32 array.
        Reads only its arguments, so it may run on another thread."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != SIDE * SIDE:
            raise ValueError(f"augmentation expects images of shape (B, {SIDE * SIDE}), got {x.shape}")
        if drawn.uniforms is None:
            return np.array(x, dtype=np.float32)  # a copy, bit for bit
        if len(drawn.uniforms) != len(x):
            raise ValueError(f"{len(drawn.uniforms)} transforms drawn for {len(x)} images")
        maps = self.sampling_maps(drawn)
        out = np.empty((len(x), SIDE * SIDE), dtype=np.float32)
        for i, start in enumerate(range(0, len(x), BLOCK)):  # blocks of images, each vectorised (see BLOCK)
            block = slice(start, start + BLOCK)
            points = sampling_points(maps[block])  # (2, b, 784)
            if drawn.noise:
                field = smooth_field(drawn.noise[i], self.elastic_alpha, self.elastic_sigma)
                points += field.reshape(points.shape)
            _bilinear(x[block].reshape(-1, SIDE, SIDE), points, out[block])
        return np.clip(out, 0.0, 1.0, out=out)  # bilinear means of [0, 1] stay there, but for rounding


@dataclass(frozen=True)
class Drawn:
    """What ``Augmentation.draw`` drew for n images: the (n, 5) uniforms of their affine maps
    (None for the identity), which of them are mirrored (None without the mirror), and the raw
    noise of each block's elastic field (none without elastic)."""
    uniforms: np.ndarray | None
    mirrored: np.ndarray | None
    noise: tuple[np.ndarray, ...]


# --- affine maps ------------------------------------------------------------------------------


def affine(dr, dc, degrees, scale, shear) -> np.ndarray:
    """Forward maps T (n, 2, 3) float64 from n values of each parameter (arrays or scalars,
    broadcast): T(s) = o + L (s - o) + d, in homogeneous form [L | o + d - L o], with
    L = k R Sh = k [[cos - h sin, -sin], [sin + h cos, cos]] (written out: the matrix products
    of a few 2x2 matrices cost more in NumPy's overhead than these lines)."""
    dr, dc, t, k, h = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64).reshape(-1)
                                            for v in (dr, dc, np.radians(degrees), scale, shear)))
    cos, sin = np.cos(t), np.sin(t)
    T = np.empty((len(t), 2, 3))
    T[:, 0, 0] = k * (cos - h * sin)
    T[:, 0, 1] = -k * sin
    T[:, 1, 0] = k * (sin + h * cos)
    T[:, 1, 1] = k * cos
    L = T[:, :, :2]
    T[:, :, 2] = CENTRE + np.stack([dr, dc], -1) - L.sum(axis=2) * CENTRE  # o + d - L o, o = (13.5, 13.5)
    return T


def random_affine(n: int, rng: np.random.Generator, shift: float = 0.0, rotation: float = 0.0,
                  scale: float = 0.0, shear: float = 0.0) -> np.ndarray:
    """n random forward maps (n, 2, 3), each parameter uniform in its symmetric range. Always
    draws (n, 5) numbers, whichever ranges are zero, so that the same generator gives the same
    maps whatever comes after."""
    u = rng.uniform(-1.0, 1.0, size=(n, 5))  # (n, 5): dr, dc, angle, scale, shear in [-1, 1]
    return maps_of_uniforms(u, shift, rotation, scale, shear)


def maps_of_uniforms(u: np.ndarray, shift: float = 0.0, rotation: float = 0.0, scale: float = 0.0,
                     shear: float = 0.0) -> np.ndarray:
    """The forward maps (n, 2, 3) of (n, 5) uniforms in [-1, 1], each scaled to its range."""
    return affine(shift * u[:, 0], shift * u[:, 1], rotation * u[:, 2], 1.0 + scale * u[:, 3],
                  shear * u[:, 4])


def invert(maps: np.ndarray) -> np.ndarray:
    """The inverse of each map (n, 2, 3): [L | t]^-1 = [L^-1 | -L^-1 t], with the 2x2 inverse
    [[a, b], [c, d]]^-1 = [[d, -b], [-c, a]] / (a d - b c)."""
    a, b, t_r = maps[:, 0].T
    c, d, t_c = maps[:, 1].T
    det = a * d - b * c
    inverse = np.empty_like(maps)
    inverse[:, 0, 0], inverse[:, 0, 1] = d / det, -b / det
    inverse[:, 1, 0], inverse[:, 1, 1] = -c / det, a / det
    inverse[:, :, 2] = -(inverse[:, :, :2] @ maps[:, :, 2:])[:, :, 0]  # (n, 2, 2) @ (n, 2, 1)
    return inverse


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """outer after inner, (n, 2, 3) each: [A | a] [B | b] = [A B | A b + a]."""
    A, a = outer[:, :, :2], outer[:, :, 2:]
    B, b = inner[:, :, :2], inner[:, :, 2:]
    return np.concatenate([A @ B, A @ b + a], axis=2)


# The mirror image left to right, about the field's centre: column c goes to 27 - c, exactly.
MIRROR = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 2 * CENTRE]])


def _pixel_grid() -> np.ndarray:
    """(3, 784) float32: every pixel's homogeneous [r, c, 1], row after row as in x."""
    r, c = np.divmod(np.arange(SIDE * SIDE), SIDE)
    return np.stack([r, c, np.ones_like(r)]).astype(np.float32)


GRID = _pixel_grid()
GRID.flags.writeable = False


def sampling_points(maps: np.ndarray) -> np.ndarray:
    """(2, n, 784) float32: the sampling maps S (n, 2, 3) at every pixel p, S(p) = (row, col)
    where output pixel p of image i reads its source: rows [0, i, p], columns [1, i, p]. The
    component comes first so that each is one contiguous (n, 784) block for the arithmetic of
    ``warp``. Exact for the identity and whole-pixel shifts."""
    return maps.astype(np.float32).transpose(1, 0, 2) @ GRID  # (2, n, 3) @ (3, 784) -> (2, n, 784)


# --- elastic distortion -----------------------------------------------------------------------


def gaussian_matrix(sigma: float, n: int = SIDE) -> np.ndarray:
    """G (n, n) float32: G @ f is f (n,) convolved with a normalised Gaussian of standard deviation
    sigma (truncated at 4 sigma), zeros outside, as scipy.ndimage.gaussian_filter(mode="constant")
    used by common re-implementations of Simard's distortions."""
    radius = int(4.0 * sigma + 0.5)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    offsets = np.arange(n)[None, :] - np.arange(n)[:, None]  # (n, n): j - i
    G = np.where(np.abs(offsets) <= radius, taps[np.clip(offsets + radius, 0, 2 * radius)], 0.0)
    return G.astype(np.float32)


def elastic_field(n: int, rng: np.random.Generator, alpha: float, sigma: float) -> np.ndarray:
    """(2, n, 28, 28) float32 displacements (rows, then columns, as ``sampling_points``): noise
    uniform in [-1, 1] per pixel (``elastic_noise``), smoothed along both axes by a Gaussian of
    sigma, times alpha (``smooth_field``). With sigma = 4 the smoothing leaves a standard
    deviation of about 0.04 of the noise's 0.58, so alpha = 34 moves pixels by about 1.3 px
    (more at the centre, less at the rim, where part of the kernel falls outside)."""
    return smooth_field(elastic_noise(n, rng), alpha, sigma)


def elastic_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """(2 n, 28, 28) float32 uniform in [-1, 1): the random part of n images' elastic fields."""
    noise = rng.random((2 * n, SIDE, SIDE), dtype=np.float32)
    noise *= 2.0
    noise -= 1.0
    return noise


def smooth_field(noise: np.ndarray, alpha: float, sigma: float) -> np.ndarray:
    """``elastic_noise`` (2 n, 28, 28) smoothed along both axes (separable: G @ F @ G.T, two
    matrix products for the whole batch) and times alpha: (2, n, 28, 28). Does not modify noise."""
    G = gaussian_matrix(sigma)  # (28, 28)
    n = len(noise) // 2
    # alpha folded into the first pass: (2n 28, 28) @ (28, 28), each row of each image smoothed
    rows_smoothed = noise.reshape(-1, SIDE) @ (G.T * np.float32(alpha))
    return (G @ rows_smoothed.reshape(2 * n, SIDE, SIDE)).reshape(2, n, SIDE, SIDE)  # along columns too


# --- bilinear sampling ------------------------------------------------------------------------


def warp(images: np.ndarray, points: np.ndarray) -> np.ndarray:
    """images (n, 28, 28) read at points (2, n, 784) (``sampling_points``) by bilinear
    interpolation, zero outside the field: a NEW (n, 784) float32 array; neither argument is
    modified. A whole-pixel point reads its pixel exactly."""
    images = np.asarray(images, dtype=np.float32)
    if images.shape[1:] != (SIDE, SIDE) or np.shape(points) != (2, len(images), SIDE * SIDE):
        raise ValueError(f"warp expects images (n, {SIDE}, {SIDE}) and points (2, n, {SIDE * SIDE}), "
                         f"got {images.shape} and {np.shape(points)}")
    return _bilinear(images, np.array(points, dtype=np.float32))


def _bilinear(images: np.ndarray, p: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``warp`` into ``out`` (n, 784) if given, using the points p (2, n, 784) float32 as
    scratch space.

    The images are laid in a zero frame, one pixel before and two after each axis (H = 31), and
    the points clipped to [-1, 28]: a point beyond the field then reads only frame zeros, and
    the four neighbours r0, r0 + 1 of any point are inside the padded array. With the flat
    index i of the top-left neighbour, the others are i + 1, i + H, i + H + 1: gathers from
    views of the flat array shifted by those amounts, with the same indices.

    An array of a batch of 128 is 0.4-0.8 MB, and on this machine fresh memory of that size
    costs more in page faults than the arithmetic on it (measured: 870 faults, 2.5 of 3.7 ms
    per batch with a new array for each step), so the steps reuse a few buffers in place."""
    n = len(images)
    H = SIDE + 3
    padded = np.zeros((n, H, H), dtype=np.float32)
    padded[:, 1:SIDE + 1, 1:SIDE + 1] = images
    np.clip(p, -1.0, float(SIDE), out=p)
    p0 = np.floor(p)  # (2, n, 784): the top-left neighbour's row and column
    p -= p0  # p now holds the fractional parts fr, fc in [0, 1)
    r0, c0 = p0  # (n, 784) each
    r0 *= H
    r0 += c0
    r0 += H + 1  # the top-left neighbour's place in its padded image, < H^2: exact in float32
    index32 = r0.astype(np.int32)
    index32 += (np.arange(n, dtype=np.int32) * (H * H))[:, None]  # + the start of image i
    index = index32.astype(np.intp)  # (n, 784); float32 -> int32 -> intp is twice as fast as direct
    flat = padded.reshape(-1)
    fr, fc = p
    # I' = (1 - fr) [(1 - fc) v00 + fc v01] + fr [(1 - fc) v10 + fc v11], as three lerps
    # a + f (b - a): a fraction of 0 gives a exactly. The gathers reuse p0's memory.
    top = np.empty((n, SIDE * SIDE), dtype=np.float32) if out is None else out
    bottom, v = p0
    np.take(flat, index, out=top, mode="clip")  # v00; every index is in range, so no check
    np.take(flat[1:], index, out=v, mode="clip")  # v01
    v -= top
    v *= fc
    top += v  # the top row's value at column c
    np.take(flat[H:], index, out=bottom, mode="clip")  # v10
    np.take(flat[H + 1:], index, out=v, mode="clip")  # v11
    v -= bottom
    v *= fc
    bottom += v  # the bottom row's
    bottom -= top
    bottom *= fr
    top += bottom
    return top


# --- named settings ---------------------------------------------------------------------------

# The named settings. What was looked at: a 'fast' network trained for one epoch on 20,000
# MNIST digits without augmentation (94.6% right on the 10,000 test digits) reading the test
# digits augmented, each transform alone: shift 2 px 78.6%, rotation 12 deg 93.7% (15 deg 92.8%),
# scale 0.1 93.8%, shear 0.15 94.5%; all four together 74.4%, with 0.2% of the ink on the
# frame's rim (none of it lost: the ink's total changes by +0.1%). The shift costs most because a
# perceptron has no notion of place, which is what augmentation teaches it; 2 px keeps MNIST's
# 20 px box inside its 28 px field. Elastic, Simard's alpha 34 at sigma 4: 71.2% alone, 54.7%
# with the affine part, and a 2 px stroke thinned or thickened by up to half, its centre of mass
# moved up to 5.6 px; at sigma 6 (the smoother field Ciresan et al. 2010 used for their
# perceptrons, sigma 5-6 with alpha 36-38) 86.2% alone and 65.9% with the affine part: bends
# of the strokes rather than ragged ones, so sigma 6 it is.
#
# "auto" is the one that suits the dataset (``augmentation(name, digits)``): "affine" for digits,
# none for anything else. Fashion-MNIST's clothes with 'best' (24 epochs): affine 0.8689, a
# mirror left to right for half the images 0.8987, the mirror and a 1 px shift 0.8938, none 0.9030.
# A coat slanted or turned is not a coat as the test set shows coats, and a mirrored one is,
# but the mirror is one more thing to learn in the same epochs.
AUGMENTATIONS: dict[str, Augmentation | None] = {
    "none": None,
    "auto": None,  # resolved by ``augmentation``, with the dataset
    "affine": Augmentation(shift=2.0, rotation=12.0, scale=0.1, shear=0.15),
    "elastic": Augmentation(shift=2.0, rotation=12.0, scale=0.1, shear=0.15, elastic_alpha=34.0,
                            elastic_sigma=6.0),
}


def augmentation(name: str, digits: bool = True) -> Augmentation | None:
    """The named setting, "auto" being "affine" for a dataset of ``digits`` and none for any
    other; ConfigError naming the choices for an unknown name."""
    if name == "auto":
        name = "affine" if digits else "none"
    try:
        return AUGMENTATIONS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown augmentation {name!r}; "
                          f"choose one of {', '.join(AUGMENTATIONS)}") from None


# --- the benchmark ----------------------------------------------------------------------------


def _median_seconds(fn, repeats: int) -> float:
    import time
    fn()  # warm up: first-touch allocations, BLAS threads
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _benchmark(repeats: int = 200) -> None:
    """The median time of augmenting one batch of 'fast' (128 images) against one training step
    of 'fast' (backprop and Adam's step, as core.train does), side by side in one run."""
    from core.config import preset
    from core.data import one_hot
    from core.network import Network
    from core.optim import make_optimizer

    cfg = preset("fast")
    B = cfg.batch_size
    rng = np.random.default_rng(0)
    x = rng.random((B, SIDE * SIDE), dtype=np.float32)
    x[x < 0.8] = 0.0  # sparse ink, as MNIST's 19% of lit pixels
    labels = rng.integers(0, 10, B)
    net = Network.initialised(cfg.sizes, cfg.hidden, cfg.output, cfg.loss, seed=0)
    optimizer = make_optimizer(cfg.optimizer, cfg.weight_decay, cfg.momentum)
    params = [*net.W, *net.b]
    decay = [True] * len(net.W) + [False] * len(net.b)

    def step():
        y = one_hot(labels)
        _, nabla_W, nabla_b, _ = net.backprop(x, y)
        optimizer.step(params, nabla_W + nabla_b, cfg.lr, decay)

    noise = np.random.default_rng(1)
    rounds = {}
    for _ in range(3):  # interleaved, so a slow moment of the machine falls on all of them
        rounds.setdefault("step", []).append(_median_seconds(step, repeats))
        for name in ("affine", "elastic"):
            aug = AUGMENTATIONS[name]
            rounds.setdefault(name, []).append(_median_seconds(lambda: aug(x, noise), repeats))
    t_step = min(rounds["step"])
    print(f"batch size {B} ('fast': {'-'.join(map(str, cfg.sizes))} {cfg.hidden} {cfg.optimizer}), "
          f"median of {repeats}, best of 3 rounds")
    print(f"  training step (backprop + {cfg.optimizer})  {t_step * 1e3:7.3f} ms")
    for name in ("affine", "elastic"):
        t = min(rounds[name])
        print(f"  augment {name:8}                  {t * 1e3:7.3f} ms  = {t / t_step:5.1%} of a step")


def _benchmark_epochs(rounds: int = 5) -> None:
    """Whole epochs of 'fast' on MNIST: without augmentation, with 'affine' made batch by batch
    just before each trains, and with 'affine' made on a thread while the batch before trains
    (as ``core.train`` does), in turn, ``rounds`` times; the medians and what each adds."""
    import statistics
    import time

    import core.train
    from core.config import preset
    from core.data import load_dataset

    data = load_dataset("mnist")
    ahead = core.train._AugmentAhead.start

    def epoch(augment: str, in_turn: bool = False) -> float:
        core.train._AugmentAhead.start = (lambda self, images, indices: None) if in_turn else ahead
        try:
            trainer = core.train.Trainer(data, preset("fast").replace(augment=augment, epochs=1))
            start = time.perf_counter()
            for _ in trainer.run():
                pass
            return time.perf_counter() - start
        finally:
            core.train._AugmentAhead.start = ahead

    kinds = {"none": lambda: epoch("none"), "affine, in turn": lambda: epoch("affine", in_turn=True),
             "affine, ahead": lambda: epoch("affine")}
    times = {name: [] for name in kinds}
    for _ in range(rounds):  # interleaved, so a slow moment of the machine falls on all of them
        for name, run in kinds.items():
            times[name].append(run())
    base = statistics.median(times["none"])
    print(f"one epoch of 'fast' on MNIST ({len(data.x_train)} images), median of {rounds}")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"  {name:16} {median:6.2f} s  {(median - base) / base:+6.1%}")


def build_parser():
    from core.commandline import Parser, positive_int

    parser = Parser(prog="python -m core.augment",
                    description="Time augmenting one batch of 'fast' against one training step, "
                    "side by side; with --epochs, whole epochs of 'fast' on MNIST with and without "
                    "'affine' instead.")
    parser.add_argument("--epochs", action="store_true",
                        help="time whole epochs: none, affine in turn, affine on a thread ahead")
    parser.add_argument("--rounds", type=positive_int, default=5, metavar="N",
                        help="epochs of each timed with --epochs (default 5)")
    return parser


def main(argv: list[str] | None = None) -> int:
    from core.commandline import guarded

    args = build_parser().parse_args(argv)
    return guarded(lambda: (_benchmark_epochs(args.rounds) if args.epochs else _benchmark()) or 0)


if __name__ == "__main__":
    import sys

    sys.exit(main())
