"""Neuron health: which hidden units have stopped learning, and how the weights and their
gradients are spread, at every moment of a run's history.

Notation as in ``core.network``; layers are counted as in ``core.inspect``: layer 0 is the
input, hidden layer l = 1 .. L-1 is computed by W[l-1], and layer L is the output. Weight
layers are indexed as ``W[l]``, l = 0 .. L-1 (W[l] feeds layer l+1).

    x          the fixed sample of test digits (N, 784): ``fixed_sample`` chooses it
    a[l]       its activations in hidden layer l                   (N, n_l)
    f'(z[l])   their derivatives, from the outputs a[l] as ``core.network`` computes them:
               sigmoid' = a (1 - a), tanh' = 1 - a^2

Dead ReLU. Unit j of hidden layer l is dead on the sample when a[l][:, j] = 0 on every row: its
z is <= 0 for every digit, so relu'(z) = 0, BP2 hands it no error and BP4 gives its incoming
weights a zero gradient; no digit of the sample can bring it back. Defined for ReLU networks
only: NaN for sigmoid and tanh, whose outputs are never exactly 0.

Saturated sigmoid or tanh. Unit j is saturated on a digit when f'(z) is below 1% of its maximum
(sigmoid' <= 1/4 and tanh' <= 1, both at z = 0): sigmoid' < 0.0025, which is |z| > 5.99, or
tanh' < 0.01, which is |z| > 2.99. It is saturated on the sample when that holds on more than
half of the rows: BP2 then passes on less than 1% of its error for most digits. NaN for ReLU,
whose derivative is 0 or 1.

Histograms over time, the same bin edges for every moment so they stack into an image (M, bins)
as TensorBoard's distributions do:

- weights: W[l]'s values in ``WEIGHT_BINS`` equal bins over [-m, m], where m is the largest
  |W[l]| of any moment rounded up to 1, 2 or 5 times a power of ten (``weight_limit``), so the
  edges move now and then, not with every new moment.
- gradients: g = dC/dW[l] of each moment, from ``Network.backprop`` on a fixed sample of test
  digits and their one-hot labels. Gradients span orders of magnitude (``fast``'s W[0], on the
  cache's 250 digits, holds |g| from 1e-12 to 1e-2 at once, its median falling from 1e-3.1 to
  1e-3.8 in 4 epochs of 20,000 digits), so what is binned is log10|g|, in bins of a tenth of a
  decade. Each moment is binned once on a fixed grid of tenths of decades (``GRID_LO`` ..
  ``GRID_HI``, all of float32) and the edges shown are a window of it, whole decades: the top
  above the largest |g| of any moment, the bottom the highest decade with at most ``TAIL``
  (0.1%) of all moments' nonzero |g| below it (for that run 1e-10 .. 1e-1 for W[0], whose
  smallest reach 1e-12.3, and 1e-8 .. 1e-1 for W[1]). Below the window a moment's values are
  counted in ``below``. Exact zeros have no logarithm and are counted in ``zeros``: in W[0] the
  rows of pixels blank in every digit of the sample (34% of ``fast``'s W[0]), and the columns
  of dead units.

Non-finite values (weights that overflowed near divergence) are left out of every count.

Everything is computed from the moments' stored weights (``History.snapshot(i).network()``), so
it follows any moment of the timeline and nothing is recorded during training. ``HealthCache``
computes each moment once (moments are immutable) and can be fed a few moments at a time; the
functions ``health_over``, ``weight_histograms`` and ``gradient_histograms`` compute everything
at once. Cost, for ``fast`` (784-256-128-10 relu/softmax/ce) on one thread
(OPENBLAS_NUM_THREADS=1, medians, ``python -m core.health``): a moment is 13 ms, of which the
forward pass of the 1,000 digits is 5.4 ms, backprop on the 250 of the gradient sample 3.0 ms
(on all 1,000: 12.8 ms), binning the gradients and the weights of all layers 1.7 ms each, and
max |W| 0.5 ms; 120 moments take 1.6 s. Once computed, reading a whole history back (the
health, or one layer's histograms) takes 0.1-0.2 ms.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.data import one_hot
from core.history import History, Moment
from core.network import Network
from core.projection import sample

HEALTH_SAMPLE = 1_000  # test digits, 100 of each: a unit dead on all of them is dead indeed
GRADIENT_SAMPLE = 250  # of those, 25 of each, for the gradients: about two of 'fast''s batches
SATURATION = 0.01  # f'(z) below this share of its maximum is saturated
MAX_DERIVATIVE = {"sigmoid": 0.25, "tanh": 1.0}  # the largest f'(z), at z = 0
WEIGHT_BINS = 100
PER_DECADE = 10  # gradient bins per decade of |g|
GRID_LO, GRID_HI = -46, 39  # decades of the gradients' grid: float32's 1.4e-45 .. 3.4e38
GRID_BINS = (GRID_HI - GRID_LO) * PER_DECADE
GRID_EDGES = np.histogram_bin_edges(np.empty(0), GRID_BINS, (GRID_LO, GRID_HI))  # (GRID_BINS + 1,)
TAIL = 0.001  # at most this share of the nonzero gradients falls below the window shown


def fixed_sample(labels: np.ndarray, n: int = HEALTH_SAMPLE) -> np.ndarray:
    """Indices (sorted) of ``n`` test digits, as many of each class as can be, the same in every
    run (``core.projection.sample``: the layer map's sample, smaller)."""
    return sample(labels, n)


# --- one network --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    """One network's hidden layers on a sample: entry l-1 is hidden layer l (core.inspect)."""
    dead: np.ndarray  # (L-1,) float64: the share of dead ReLU units; NaN unless ReLU
    saturated: np.ndarray  # (L-1,) float64: the share of saturated units; NaN for ReLU


def health(net: Network, x: np.ndarray) -> Health:
    """The share of dead and of saturated units in each hidden layer of ``net`` on the inputs
    x (N, 784) (see the module's docstring for the definitions)."""
    hidden = net.forward(x)[1:-1]  # [a[1], ..., a[L-1]], each (N, n_l)
    N, name = len(x), net.hidden.name
    dead = np.full(len(hidden), np.nan)
    saturated = np.full(len(hidden), np.nan)
    for i, a in enumerate(hidden):
        if name == "relu":
            dead[i] = np.mean((a == 0.0).all(axis=0))  # (n_l,): 0 on every row
        else:
            derivative = net.hidden.backward(a, np.ones_like(a))  # f'(z) from a, (N, n_l)
            low = (derivative < SATURATION * MAX_DERIVATIVE[name]).sum(axis=0)  # (n_l,) rows
            saturated[i] = np.mean(2 * low > N)  # on more than half of the rows
    return Health(dead, saturated)


def weight_limit(largest: float) -> float:
    """The edge m of the weights' range [-m, m]: ``largest`` |W| rounded up to 1, 2 or 5 times
    a power of ten; 1 for 0 or NaN."""
    if not (math.isfinite(largest) and largest > 0):
        return 1.0
    power = 10.0 ** math.floor(math.log10(largest))
    return min(k * p for k in (1, 2, 5) for p in (power / 10, power, power * 10)
               if k * p >= largest)


def largest_weight(w: np.ndarray) -> float:
    """max |w| over its finite values (0 if none)."""
    largest = float(np.abs(w).max(initial=0.0))
    if math.isfinite(largest):
        return largest
    return float(np.max(np.abs(w), initial=0.0, where=np.isfinite(w)))  # 3 times slower


def weight_counts(w: np.ndarray, limit: float, bins: int = WEIGHT_BINS) -> np.ndarray:
    """(bins,) int64: the values of w in equal bins over [-limit, limit] (NaN left out)."""
    return np.histogram(np.asarray(w, np.float64), bins=bins, range=(-limit, limit))[0]


def weight_edges(limit: float, bins: int = WEIGHT_BINS) -> np.ndarray:
    """(bins + 1,) the edges ``weight_counts`` bins into."""
    return np.histogram_bin_edges(np.empty(0), bins=bins, range=(-limit, limit))


def log_gradient_counts(g: np.ndarray) -> tuple[np.ndarray, int, int]:
    """log10|g| of a gradient on the fixed grid: (counts (GRID_BINS,) int64, how many are
    nonzero and finite, how many are exactly 0). Values below the grid are nonzero but not in
    the counts; above it (beyond float32) they go in its top bin."""
    magnitude = np.abs(g)
    kept = magnitude[(magnitude > 0) & np.isfinite(magnitude)]
    logs = np.minimum(np.log10(kept, dtype=np.float64), GRID_HI)
    counts = np.histogram(logs, bins=GRID_BINS, range=(GRID_LO, GRID_HI))[0]
    return counts, len(kept), int(np.count_nonzero(magnitude == 0))


def gradient_window(counts: np.ndarray) -> tuple[int, int]:
    """The grid bins [lo, hi) to show, whole decades, for the log10|g| counts (M, GRID_BINS) of
    all moments: hi above every value, lo the highest decade with at most TAIL of them below."""
    pooled = counts.sum(axis=0)  # (GRID_BINS,)
    filled = np.flatnonzero(pooled)
    if filled.size == 0:  # no nonzero gradient anywhere: show 1e-10 .. 1
        return (-10 - GRID_LO) * PER_DECADE, -GRID_LO * PER_DECADE
    hi = -(-(filled[-1] + 1) // PER_DECADE) * PER_DECADE  # the decade above the largest
    below = np.concatenate([[0], np.cumsum(pooled)])  # below[k]: values in bins < k
    decades = np.arange(0, hi, PER_DECADE)
    lo = int(decades[below[decades] <= TAIL * below[-1]].max())
    return lo, int(hi)


# --- over a history -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthOverTime:
    """The health of every moment of a history: row i is moment i, column l-1 hidden layer l."""
    positions: np.ndarray  # (M,) float64: each moment's point of training, in epochs
    dead: np.ndarray  # (M, L-1) float64, NaN unless ReLU (or where not yet computed)
    saturated: np.ndarray  # (M, L-1) float64, NaN for ReLU (or where not yet computed)


@dataclass(frozen=True)
class Histograms:
    """One weight layer's values at every moment, in the same bins: counts[i, k] values of
    moment i lie in [edges[k], edges[k+1]) (the last bin closed). For the weights every finite
    value is counted; for the gradients the edges are of log10|g|, and a moment's exact zeros
    and its values below edges[0] are counted apart, so counts[i].sum() + zeros[i] + below[i]
    is the number of finite gradients."""
    positions: np.ndarray  # (M,) float64, in epochs
    counts: np.ndarray  # (M, bins) int64
    edges: np.ndarray  # (bins + 1,) float64: values, or log10|g|
    log: bool  # the edges are of log10|g|
    zeros: np.ndarray  # (M,) int64: values exactly 0 (gradients; 0 for weights)
    below: np.ndarray  # (M,) int64: nonzero values below edges[0] (gradients; 0 for weights)


def health_over(history: History, x: np.ndarray) -> HealthOverTime:
    """``health`` of every moment of ``history`` on x (N, 784): one forward pass each."""
    rows = [health(history.snapshot(i).network(), x) for i in range(len(history.moments))]
    return _health_over_time(history, rows)


def weight_histograms(history: History, l: int, bins: int = WEIGHT_BINS) -> Histograms:
    """W[l]'s values at every moment of ``history``, in ``bins`` equal bins over [-m, m]
    (m: ``weight_limit`` of the largest |W[l]| of any moment)."""
    W = [m.W[_checked(history, l)] for m in history.moments]
    limit = weight_limit(max((largest_weight(w) for w in W), default=0.0))
    counts = np.array([weight_counts(w, limit, bins) for w in W], np.int64).reshape(len(W), bins)
    none = np.zeros(len(W), np.int64)
    return Histograms(_positions(history), counts, weight_edges(limit, bins), False, none, none)


def gradient_histograms(history: History, l: int, x: np.ndarray, labels: np.ndarray) -> Histograms:
    """log10|dC/dW[l]| at every moment of ``history``, the gradient ``Network.backprop`` gives
    on x (G, 784) and the one-hot rows of their digits ``labels`` (G,)."""
    _checked(history, l)
    y = one_hot(labels, history.architecture[0][-1])
    rows = []
    for i in range(len(history.moments)):
        _, nabla_W, _, _ = history.snapshot(i).network().backprop(x, y)
        rows.append(log_gradient_counts(nabla_W[l]))
    return _gradient_histograms(history, rows)


def _health_over_time(history: History, rows: list[Health | None]) -> HealthOverTime:
    """Rows of ``Health`` (None: not computed, NaN) stacked (M, L-1)."""
    M, hidden = len(rows), len(history.architecture[0]) - 2
    dead, saturated = np.full((M, hidden), np.nan), np.full((M, hidden), np.nan)
    for i, h in enumerate(rows):
        if h is not None:
            dead[i], saturated[i] = h.dead, h.saturated
    return HealthOverTime(_positions(history), dead, saturated)


def _gradient_histograms(history: History, rows: list) -> Histograms:
    """Moments' (grid counts, nonzero, zeros), or None where not computed (zero counts)."""
    M = len(rows)
    grid = np.zeros((M, GRID_BINS), np.int64)
    nonzero, zeros = np.zeros(M, np.int64), np.zeros(M, np.int64)
    for i, row in enumerate(rows):
        if row is not None:
            grid[i], nonzero[i], zeros[i] = row
    lo, hi = gradient_window(grid)
    counts = np.ascontiguousarray(grid[:, lo:hi])  # nothing lies above hi
    return Histograms(_positions(history), counts, GRID_EDGES[lo:hi + 1].copy(), True, zeros,
                      nonzero - counts.sum(axis=1))


def _positions(history: History) -> np.ndarray:
    return np.array([m.position for m in history.moments], np.float64)


def _checked(history: History, l: int) -> int:
    L = len(history.architecture[0]) - 1
    if not 0 <= l < L:
        raise ValueError(f"weight layer l must be 0 to {L - 1}, got {l}")
    return l


# --- computed once per moment -------------------------------------------------------------------


@dataclass
class _Examined:
    """What one moment showed: kept while the moment is in the history."""
    moment: Moment  # itself: its step could be reused only by another history
    health: Health
    largest: np.ndarray  # (L,) max |W[l]|
    gradients: list  # L of (grid counts, nonzero, zeros), as log_gradient_counts
    weights: dict = field(default_factory=dict)  # l -> (limit, counts (WEIGHT_BINS,))


class HealthCache:
    """Everything above for the moments of one history on one fixed sample, each moment
    computed once: one forward pass for its health, one backprop for its gradients, and its
    weights binned. ``update`` does the work, a little at a time if asked; the readers return
    what is computed so far (NaN health, zero counts for moments still to come).

    ``x`` (N, 784) and ``labels`` (N,) are the fixed sample (``fixed_sample``); its gradients
    are taken on ``GRADIENT_SAMPLE`` of them, as many of each class as can be."""

    def __init__(self, x: np.ndarray, labels: np.ndarray):
        labels = np.asarray(labels)
        if len(x) != len(labels):
            raise ValueError(f"the sample has {len(x)} digits but {len(labels)} labels")
        self.x = x
        chosen = sample(labels, GRADIENT_SAMPLE)
        self.x_gradient, self.labels_gradient = x[chosen], labels[chosen]
        self._history = None
        self._examined: dict[int, _Examined] = {}  # by the moment's step

    # --- the work ------------------------------------------------------------------------------

    def pending(self, history: History) -> int:
        """Pieces of work still to do for ``history``: moments to examine, and moments whose
        weights are binned for a range that has since changed."""
        self._follow(history)
        limits = self._limits(history)
        todo = 0
        for m in history.moments:
            entry = self._entry(m)
            todo += entry is None or any(entry.weights[l][0] != limit for l, limit in enumerate(limits))
        return todo

    def update(self, history: History, limit: int | None = None) -> int:
        """Do up to ``limit`` pieces of work (None: all) and return how many are left. The
        newest moment is examined first (training grows the weights, so it usually sets their
        range for all the others), then the others from the oldest."""
        self._follow(history)
        moments = history.moments
        done = 0
        for i in [len(moments) - 1, *range(len(moments) - 1)]:
            if limit is not None and done >= limit:
                break
            if self._entry(moments[i]) is None:
                self._examine(history, i)
                done += 1
        limits = self._limits(history)
        for m in moments:
            if limit is not None and done >= limit:
                break
            entry = self._entry(m)
            if entry is None:
                continue
            stale = [l for l, lim in enumerate(limits) if entry.weights[l][0] != lim]
            for l in stale:
                entry.weights[l] = (limits[l], weight_counts(m.W[l], limits[l]))
            done += bool(stale)
        return self.pending(history) if limit is not None else 0

    def is_examined(self, history: History, i: int) -> bool:
        """Is moment ``i`` computed?"""
        self._follow(history)
        return self._entry(history.moments[i]) is not None

    def moment_health(self, history: History, i: int) -> Health:
        """Moment ``i``'s health, examined now if it is not yet."""
        self._follow(history)
        entry = self._entry(history.moments[i]) or self._examine(history, i)
        return entry.health

    # --- the readers ---------------------------------------------------------------------------

    def health_over(self, history: History) -> HealthOverTime:
        self._follow(history)
        return _health_over_time(history, [self._health_of(m) for m in history.moments])

    def weight_histograms(self, history: History, l: int) -> Histograms:
        self._follow(history)
        _checked(history, l)
        limit = self._limits(history)[l]
        M = len(history.moments)
        counts = np.zeros((M, WEIGHT_BINS), np.int64)
        for i, m in enumerate(history.moments):
            entry = self._entry(m)
            if entry is not None and entry.weights[l][0] == limit:
                counts[i] = entry.weights[l][1]
        none = np.zeros(M, np.int64)
        return Histograms(_positions(history), counts, weight_edges(limit), False, none, none)

    def gradient_histograms(self, history: History, l: int) -> Histograms:
        self._follow(history)
        _checked(history, l)
        rows = []
        for m in history.moments:
            entry = self._entry(m)
            rows.append(None if entry is None else entry.gradients[l])
        return _gradient_histograms(history, rows)

    # --- inside --------------------------------------------------------------------------------

    def _follow(self, history: History) -> None:
        """Forget another history's moments, and this one's that it let go."""
        if history is not self._history:
            self._history, self._examined = history, {}
            return
        kept = {m.step for m in history.moments}
        if any(step not in kept for step in self._examined):
            self._examined = {s: e for s, e in self._examined.items() if s in kept}

    def _entry(self, moment: Moment) -> _Examined | None:
        entry = self._examined.get(moment.step)
        return entry if entry is not None and entry.moment is moment else None

    def _health_of(self, moment: Moment) -> Health | None:
        entry = self._entry(moment)
        return None if entry is None else entry.health

    def _limits(self, history: History) -> list[float]:
        """Each weight layer's range m, from the moments examined so far."""
        L = len(history.architecture[0]) - 1
        largest = [e.largest for e in self._examined.values()]
        top = np.max(largest, axis=0) if largest else np.zeros(L)
        return [weight_limit(float(v)) for v in top]

    def _examine(self, history: History, i: int) -> _Examined:
        m = history.moments[i]
        net = history.snapshot(i).network()
        with np.errstate(over="ignore", invalid="ignore"):  # near divergence: count, don't warn
            state = health(net, self.x)
            y = one_hot(self.labels_gradient, net.sizes[-1])
            _, nabla_W, _, _ = net.backprop(self.x_gradient, y)
        entry = _Examined(m, state, np.array([largest_weight(w) for w in m.W]),
                          [log_gradient_counts(g) for g in nabla_W])
        self._examined[m.step] = entry
        for l, limit in enumerate(self._limits(history)):
            entry.weights[l] = (limit, weight_counts(m.W[l], limit))
        return entry


def _benchmark(moments: int = 120) -> None:
    """Times the cache on 'fast' with ``moments`` moments (the weights of a fresh network and of
    one trained for an epoch on 10,000 digits, alternating), one thread."""
    import time

    from core.config import preset
    from core.data import load_mnist
    from core.train import Trainer

    data = load_mnist().limit(10_000, 10_000)
    config = preset("fast").replace(epochs=1)
    trainer = Trainer(data, config)
    fresh = trainer.net.copy()
    for _ in trainer.run():
        pass
    history = History(config.architecture, data.y_test)
    probabilities = np.full((len(data.y_test), 10), 0.1, np.float32)
    for k in range(moments):
        net = trainer.net if k % 2 else fresh
        history.add_moment(Moment.of(net, k, k / 10, k // 10, probabilities))
    chosen = fixed_sample(data.y_test)
    cache = HealthCache(data.x_test[chosen], data.y_test[chosen])
    ticks = []
    start = time.perf_counter()
    while True:
        t = time.perf_counter()
        left = cache.update(history, limit=1)
        ticks.append(time.perf_counter() - t)
        if left == 0:
            break
    total = time.perf_counter() - start
    print(f"{moments} moments of 'fast', {len(chosen)} digits ({GRADIENT_SAMPLE} for gradients): "
          f"{len(ticks)} updates of one piece, {total:.2f} s in all; one piece: median "
          f"{np.median(ticks) * 1e3:.1f} ms, max {max(ticks) * 1e3:.1f} ms")
    for name, read in (("health_over", lambda: cache.health_over(history)),
                       ("weight_histograms(0)", lambda: cache.weight_histograms(history, 0)),
                       ("gradient_histograms(0)", lambda: cache.gradient_histograms(history, 0)),
                       ("pending", lambda: cache.pending(history))):
        times = []
        for _ in range(20):
            t = time.perf_counter()
            read()
            times.append(time.perf_counter() - t)
        print(f"  {name} once computed: median {np.median(times) * 1e3:.2f} ms")
    history.add_moment(Moment.of(trainer.net, moments, moments / 10, moments // 10, probabilities))
    t = time.perf_counter()
    cache.update(history)
    print(f"  one new moment: {(time.perf_counter() - t) * 1e3:.1f} ms")


if __name__ == "__main__":
    _benchmark()
