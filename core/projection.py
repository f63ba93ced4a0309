"""What a layer sees: a fixed sample of test digits as points in one layer's activation space,
projected to two dimensions by principal component analysis, in one frame kept across moments.

Notation as in ``core.network``, and for one layer l of n = n_l neurons:

    a          the sample's activations a[l]                          (N, n)
    mu         their mean over the sample                             (n,)
    C          = (a - mu).T @ (a - mu), the scatter matrix            (n, n)
    V          its eigenvectors of the two largest eigenvalues, as columns: the principal axes
                                                                      (n, 2)
    y          = (a - mu) @ V, the sample's coordinates in the plane  (N, 2)

PCA. C = V Lambda V.T is the eigen-decomposition of the scatter matrix; the singular value
decomposition of the centred data, a - mu = U S Vt, gives the same axes (C = Vt.T S^2 Vt), so
the two agree up to the sign of each axis (the test's oracle is NumPy's SVD). The eigen route is
the fast one here: for ``fast``'s layer 1 (N = 2,000, n = 256) C takes 1.1 ms and ``eigh`` of it
4.2 ms in float32 (8.5 ms in float64), where the SVD of the (2,000, 256) centred data takes
84 ms (medians of 50, one thread: OPENBLAS_NUM_THREADS=1). float32 is enough: the second axis
is (lambda_2 - lambda_3) / lambda_1 = 0.19 of the spectrum away from the third, so float32's
rounding (1e-7 of lambda_1) moves it by about 1e-6.

One frame across moments. Each moment has its own principal axes, and they are defined only up
to sign and, where two eigenvalues come close, up to a rotation in their plane: a picture made
from each moment's own axes flips and spins as the scrubber moves. Measured on ``fast`` and
``classic`` after 3 epochs on 10,000 images (every moment of the history, every layer), as the
RMS displacement of the 2,000 points between consecutive moments in units of the picture's RMS
radius: each moment's own axes, even turned (orthogonal Procrustes) onto the last moment's
picture, jump by 0.75-0.94 where eigenvalues cross (``fast``'s output at epochs 1, 2, 3: 0.85,
0.58, 0.86); the last moment's axes used for every moment move 0.11, 0.14, 0.16 there, since a
fixed linear map of the activations moves only as the activations do. In one frame the classes
pull apart steadily (the share of digits nearer their own class's centre than any other's, in
the plane: ``fast``'s output 0.24 -> 0.89, ``classic``'s layer 2 0.28 -> 0.85).

So a ``Frame`` is one set of axes, those of the reference: the most trained network seen (the
largest step). Earlier moments are drawn in its axes, so scrubbing back shows where each digit
came from, and a moment's picture depends on that moment and the reference only, never on the
path the scrubber took. When a more trained network comes (live training; a later moment scrubbed
to for the first time) the axes are kept while they still show KEEP = 90% of the variance its own
principal axes would (``Frame.refreshed``); only below that are they fitted again, and turned
within their plane (orthogonal Procrustes) to match what the old axes showed of the new network,
so a new frame never flips the picture, whatever signs ``eigh`` returns. Fed every moment in
order, as during training: never refitting (the initial network's axes forever) leaves the
trained network's picture with 19-62% of its best plane's variance; refitting at every moment
turns 'fast''s output picture from a star into an L between epochs; KEEP = 0.9 shows 92-100% at
the end, and its largest step between consecutive moments is 0.20, 0.53, 0.75 of the radius
for 'fast''s layers 1, 2 and output (0.09, 0.23, 0.49 never refitting, whose steps are the
network's own motion), within 0.1 of those for 'classic''s.

Each moment's points are centred on their own mean and divided by their own RMS radius, so the
picture fills a fixed view while the activations grow: in these runs the radius in the frame grows
from 0.04 to 0.44 (``fast``'s output), from 0.14 to 1.10 (``classic``'s layer 1). ``Picture.spread``
keeps the radius, for the panel to say.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.network import Network

SAMPLE_SIZE = 2_000  # test digits drawn as points: enough for ten clouds, cheap to redraw
SAMPLE_SEED = 0  # the sample is the same in every run and every window
KEEP = 0.9  # a frame's axes are kept while they show this share of the best axes' variance


def sample(labels: np.ndarray, n: int = SAMPLE_SIZE, seed: int = SAMPLE_SEED) -> np.ndarray:
    """Indices (sorted) of ``n`` digits of ``labels`` (N,), as many of each class as can be: 200
    of each of MNIST's ten digits. Within a class they are chosen at random (``default_rng(seed)``),
    from the whole test set: the first 2,000 of MNIST's test set hold 175 to 234 of a digit and are
    all from its first half, which MNIST's authors describe as the cleaner, easier one. A class
    with fewer digits than its share gives all it has and the others share the rest. All of them
    if N <= n.

    The classes take turns: each digit's rank is its place in a random order within its class,
    and the n of lowest rank are kept (ties broken by the random order)."""
    labels = np.asarray(labels)
    N = len(labels)
    if N <= n:
        return np.arange(N)
    order = np.random.default_rng(seed).permutation(N)  # (N,) a random order of the digits
    shuffled = labels[order]
    by_class = np.argsort(shuffled, kind="stable")  # positions in `order`, class by class
    first = np.searchsorted(shuffled[by_class], shuffled[by_class])  # where each one's class begins
    rank = np.empty(N, dtype=np.intp)
    rank[by_class] = np.arange(N) - first  # each digit's place within its class
    kept = np.argsort(rank, kind="stable")[:n]  # lowest ranks first, random order among equals
    return np.sort(order[kept])


def layer_activations(net: Network, x: np.ndarray, layer: int) -> np.ndarray:
    """a[layer] (N, n_layer) for the inputs x (N, 784): layer 0 is the input, L the output.
    ``Network.forward`` computes them all; the layers after ``layer`` cost 15% more for
    ``fast``'s layer 1 and N = 2,000 (7 ms in all), not worth a second forward pass to keep."""
    if not 0 <= layer <= net.n_layers:
        raise ValueError(f"layer must be 0 to {net.n_layers}, got {layer}")
    return net.forward(x)[layer]


def principal_axes(a: np.ndarray, k: int = 2) -> np.ndarray:
    """The k principal axes of the rows of a (N, n), largest variance first: (n, k), orthonormal
    columns. Each axis points the way its loadings sum positive (for ReLU and sigmoid layers:
    towards more activity), so that the same data gives the same axes whatever LAPACK returns."""
    n = a.shape[1]
    if not 1 <= k <= n:
        raise ValueError(f"a layer of {n} neurons has 1 to {n} principal axes, got {k}")
    centred = a - a.mean(axis=0)  # (N, n)
    C = centred.T @ centred  # (n, N) @ (N, n) -> (n, n)
    _, V = np.linalg.eigh(C)  # eigenvalues ascending, eigenvectors as columns
    V = np.ascontiguousarray(V[:, ::-1][:, :k])  # (n, k) the largest k, largest first
    V *= np.where(V.sum(axis=0) < 0, -1.0, 1.0).astype(V.dtype)
    return V


def aligned(axes: np.ndarray, previous: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``axes`` (n, 2) turned (or mirrored) within their plane to show a (N, n) as nearly as they
    can as ``previous`` (n, 2) did: axes @ R, for the orthogonal R that minimises
    ||(a - mu) @ axes @ R - (a - mu) @ previous|| (orthogonal Procrustes: R = U Wt, where
    U S Wt = M is the SVD of M = ((a - mu) @ axes).T @ ((a - mu) @ previous), a 2 x 2 matrix).
    A sign flip of ``axes`` is undone: axes D gives M' = D M, R' = D R and axes D R' = axes R."""
    centred = a - a.mean(axis=0)
    M = (centred @ axes).T @ (centred @ previous)  # (2, N) @ (N, 2) -> (2, 2)
    U, _, Wt = np.linalg.svd(M.astype(np.float64))
    return (axes @ (U @ Wt)).astype(axes.dtype)


@dataclass(frozen=True)
class Picture:
    """One moment of one layer in a frame: the sample's points and what places any other."""
    layer: int
    step: int  # of the network drawn
    axes_step: int  # of the network whose principal axes these are
    points: np.ndarray  # (N, 2) float32, read-only: centred, in units of `spread`
    mean: np.ndarray  # (n,) the sample's mean activation at this moment
    axes: np.ndarray  # (n, 2)
    spread: float  # RMS distance of the points from their centre in the plane, in activation units
    finite: bool  # False when the activations overflowed (near divergence): points are NaN

    def place(self, a: np.ndarray) -> np.ndarray:
        """Other inputs' activations (M, n) of this layer and moment as points (M, 2) of this
        picture (a digit outside the sample, to mark it)."""
        return (((a - self.mean) @ self.axes) / self._unit).astype(np.float32)

    @property
    def _unit(self) -> float:
        return self.spread if self.spread > 0 else 1.0


@dataclass(frozen=True)
class Frame:
    """The principal axes of one layer, fitted on the network at step ``fitted`` and kept for
    the reference at ``step`` (see ``Frame.refreshed``)."""
    layer: int
    step: int  # of the reference network these axes serve
    fitted: int  # of the network they are the principal axes of
    axes: np.ndarray  # (n, 2), read-only

    @classmethod
    def fitted_on(cls, a: np.ndarray, layer: int, step: int, previous: "Frame | None" = None) -> "Frame":
        """The principal axes of a (N, n), turned to match ``previous`` if there is one."""
        n = a.shape[1]
        if n < 2:  # a layer of one neuron: that neuron, and nothing across
            axes = np.eye(n, 2, dtype=a.dtype)
        else:
            axes = principal_axes(a)
            if previous is not None and previous.axes.shape == axes.shape:
                axes = aligned(axes, previous.axes, a)
        axes.flags.writeable = False
        return cls(layer, step, step, axes)

    def refreshed(self, a: np.ndarray, step: int) -> "Frame":
        """This frame for a new reference a (N, n) at ``step``: the same axes if they show at
        least KEEP of the variance a's own principal axes would, else a's own, turned to match.

        Principal axes can turn a long way while the variance they show hardly changes: where
        eigenvalues lie close, as the ten outputs' do (one class each), the plane of the two
        largest wanders among nearly equal ones. Between 'fast''s epochs 1, 2 and 3 the output
        layer's axes of the epoch before still show 0.93-0.95 of its own axes' variance, yet
        their pictures differ as a star and an L; refitted at every epoch, the output's points
        jumped (RMS 0.58 and 0.86 of the picture's radius). Where the network really changes
        the old axes fall well short: 0.77 for 'fast''s output after its first batch, 0.47 and
        0.74 for 'classic''s at steps 512 and 1,000 (ratios for consecutive moments, 3 epochs
        on 10,000 images)."""
        if a.shape[1] < 2:
            return Frame(self.layer, step, self.fitted, self.axes)
        best = principal_axes(a)
        centred = a - a.mean(axis=0)
        shown = float(np.square(centred @ self.axes, dtype=np.float64).sum())
        most = float(np.square(centred @ best, dtype=np.float64).sum())
        if shown >= KEEP * most:
            return Frame(self.layer, step, self.fitted, self.axes)
        axes = aligned(best, self.axes, a)
        axes.flags.writeable = False
        return Frame(self.layer, step, step, axes)

    def picture(self, a: np.ndarray, step: int) -> Picture:
        """The sample's activations a (N, n) at ``step`` in this frame."""
        mean = a.mean(axis=0)  # (n,)
        y = (a - mean) @ self.axes  # (N, n) @ (n, 2) -> (N, 2)
        finite = bool(np.isfinite(y).all())
        spread = float(np.sqrt(np.mean(np.sum(np.square(y, dtype=np.float64), axis=1)))) if finite else 0.0
        points = (y / spread if spread > 0 else y).astype(np.float32)
        if not finite:
            points[:] = np.nan
        points.flags.writeable = False
        return Picture(self.layer, step, self.fitted, points, mean, self.axes, spread, finite)


class LayerMap:
    """The pictures of one fixed sample x (N, 784) in any layer at any moment, in one frame per
    layer fitted on the most trained network seen so far (see the module's docstring).

    ``picture(net, step, layer)`` is all a window needs. The networks must share an architecture
    and a run: ``forget()`` when the run is replaced (Reset, Open), or a new run's moments are
    drawn in the old run's axes. A network of another architecture forgets by itself."""

    def __init__(self, x: np.ndarray):
        self.x = x
        self.forget()

    def forget(self) -> None:
        """No reference and no frames: the next network seen becomes the reference."""
        self._reference: tuple[int, Network] | None = None
        self._architecture = None
        self._frames: dict[int, Frame] = {}

    @property
    def reference_step(self) -> int | None:
        return None if self._reference is None else self._reference[0]

    def picture(self, net: Network, step: int, layer: int) -> Picture:
        """The sample in ``layer`` (1 .. L) of ``net`` (trained ``step`` batches), in the frame
        of the most trained network seen: this one if its step is the largest yet."""
        if not 1 <= layer <= net.n_layers:
            raise ValueError(f"layer must be 1 to {net.n_layers}, got {layer}")
        if net.architecture != self._architecture:
            self.forget()
            self._architecture = net.architecture
        with np.errstate(over="ignore", invalid="ignore"):  # near divergence: draw NaN, don't warn
            a = layer_activations(net, self.x, layer)
            if self._reference is None or step > self._reference[0]:
                self._reference = (step, net)
            frame = self._frames.get(layer)
            ref_step, ref_net = self._reference
            if frame is None or frame.step != ref_step:
                a_ref = a if ref_net is net else layer_activations(ref_net, self.x, layer)
                kept = Frame(layer, ref_step, ref_step, _first_two(a.shape[1], a.dtype)) \
                    if frame is None else Frame(layer, ref_step, frame.fitted, frame.axes)
                try:
                    if not np.isfinite(a_ref).all():  # a reference that diverged: keep the axes
                        frame = kept
                    elif frame is None:
                        frame = Frame.fitted_on(a_ref, layer, ref_step)
                    else:
                        frame = frame.refreshed(a_ref, ref_step)
                except np.linalg.LinAlgError:  # finite but so large that its scatter overflows
                    frame = kept
                self._frames[layer] = frame
            return frame.picture(a, step)


def _first_two(n: int, dtype) -> np.ndarray:
    """The first two neurons as axes: a frame for activations that have none of their own."""
    axes = np.eye(n, 2, dtype=dtype)
    axes.flags.writeable = False
    return axes
