"""A multilayer perceptron and its backpropagation, written to be read next to the maths
(core/MATHS.md derives every equation used here, with the same names).

Notation, used by every module of ``core``:

    sizes      [n_0, n_1, ..., n_L]: n_0 = 784 inputs, n_L = 10 outputs, L weight layers
    B          the batch size; the batch dimension comes first in every array
    a[0]       the input batch                              (B, n_0)
    W[l]       the weights from layer l to layer l+1        (n_l, n_{l+1})
    b[l]       the biases of layer l+1                      (n_{l+1},)
    z[l+1]     = a[l] @ W[l] + b[l], the weighted input     (B, n_{l+1})
    a[l+1]     = f(z[l+1]): f is the hidden activation, or the output activation when l+1 = L
    y          the targets, one row of ten per sample       (B, n_L)
    C          the cost: the mean over the batch of the per-sample loss
    delta[l]   = dC_x/dz[l], the error of layer l for each sample x  (B, n_l)

Backpropagation (the four equations of Nielsen's chapter 2, vectorised over the batch):

    delta[L]   = loss.delta(a[L], y, output)                   (BP1; see ``Loss``)
    delta[l]   = (delta[l+1] @ W[l].T) * f'(z[l])               (BP2)
    dC/db[l]   = sum over the batch of delta[l+1] / B           (BP3)
    dC/dW[l]   = a[l].T @ delta[l+1] / B                        (BP4)

The code divides delta[L] by B once, right after BP1. BP2 is linear in delta, so every delta
below is scaled too, and the sums of BP3 and BP4 come out as the means they should be.

The derivatives f'(z) are computed from the stored outputs a = f(z) (sigmoid' = a (1 - a),
tanh' = 1 - a^2, relu' = [a > 0]), so the forward pass keeps only the activations.

Dropout (inverted, in training only; Srivastava et al. 2014): each hidden layer's output is
multiplied by a mask m[l] (B, n_l) whose entries are 0 with probability p and 1 / (1 - p)
otherwise, so E[m a] = a and the network that predicts, without masks, sees the activations it
was trained on on average. With d[l] = m[l] * a[l] the layer's dropped output:

    z[l+1]     = d[l] @ W[l] + b[l]
    delta[l]   = (delta[l+1] @ W[l].T) * m[l] * f'(z[l])        (BP2 through the mask)
    dC/dW[l]   = d[l].T @ delta[l+1] / B                         (BP4 sees what was passed on)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from core.errors import ConfigError

# --- activations ------------------------------------------------------------------------------
# Each works in place on z and returns it, now holding a = f(z). Each backward multiplies an
# incoming gradient g = dC/da by da/dz, in place on g, using only the outputs a.


def sigmoid(z: np.ndarray) -> np.ndarray:
    # sigmoid(z) = (1 + tanh(z / 2)) / 2: the same function, but it cannot overflow.
    np.multiply(z, 0.5, out=z)
    np.tanh(z, out=z)
    z += 1.0
    z *= 0.5
    return z


def sigmoid_backward(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    g *= a * (1.0 - a)  # sigmoid'(z) = a (1 - a)
    return g


def tanh(z: np.ndarray) -> np.ndarray:
    return np.tanh(z, out=z)


def tanh_backward(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    g *= 1.0 - a * a  # tanh'(z) = 1 - a^2
    return g


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0, out=z)


def relu_backward(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    # relu'(z) = 1 where z > 0, else 0 (0 at z = 0 by convention). Multiplying by the mask is
    # ten times faster than assigning through it.
    return np.multiply(g, a > 0.0, out=g)


def softmax(z: np.ndarray) -> np.ndarray:
    # Subtracting the row maximum changes nothing mathematically and keeps exp() finite.
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def softmax_backward(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    # Softmax mixes its outputs, so da/dz is a matrix: da_i/dz_j = a_i (1[i=j] - a_j).
    # Its product with g, row by row: dC/dz_j = a_j (g_j - sum_i g_i a_i).
    g -= (g * a).sum(axis=1, keepdims=True)
    g *= a
    return g


@dataclass(frozen=True)
class Activation:
    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray], np.ndarray]
    init: str  # "glorot" or "he": the initialisation that keeps this activation's signal alive


ACTIVATIONS = {
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_backward, "glorot"),
    "tanh": Activation("tanh", tanh, tanh_backward, "glorot"),
    "relu": Activation("relu", relu, relu_backward, "he"),
    "softmax": Activation("softmax", softmax, softmax_backward, "glorot"),
}
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu")
OUTPUT_ACTIVATIONS = ("sigmoid", "softmax")

# --- losses -----------------------------------------------------------------------------------
# Each loss is a small object, as in Nielsen's network2.py: ``fn`` is the cost of a batch (the
# mean of the per-sample losses) and ``delta`` is the output error delta[L] = dC_x/dz[L].


class MeanSquaredError:
    """C_x = 1/2 sum_j (a_j - y_j)^2, the loss of the original program."""

    name = "mse"

    @staticmethod
    def fn(a: np.ndarray, y: np.ndarray, output: Activation) -> float:
        return float(0.5 * np.square(a - y).sum() / len(a))

    @staticmethod
    def delta(a: np.ndarray, y: np.ndarray, output: Activation) -> np.ndarray:
        # dC_x/da = a - y, then through the output activation: (a - y) * f'(z) for sigmoid.
        return output.backward(a, a - y)


class CrossEntropy:
    """Softmax output: C_x = -sum_j y_j ln a_j. Sigmoid output: each output is its own
    yes/no question, C_x = -sum_j [y_j ln a_j + (1 - y_j) ln(1 - a_j)]."""

    name = "ce"

    @staticmethod
    def fn(a: np.ndarray, y: np.ndarray, output: Activation) -> float:
        tiny = np.finfo(a.dtype).tiny  # ln(0) would be -inf; a tiny floor keeps the cost finite
        cost = y * np.log(np.maximum(a, tiny))
        if output.name == "sigmoid":
            cost += (1.0 - y) * np.log(np.maximum(1.0 - a, tiny))
        return float(-cost.sum() / len(a))

    @staticmethod
    def delta(a: np.ndarray, y: np.ndarray, output: Activation) -> np.ndarray:
        # For softmax and for sigmoid alike, f'(z) cancels the 1/a of the logarithm's
        # derivative, leaving delta = a - y: no vanishing gradient when a saturates.
        return a - y


LOSSES = {"mse": MeanSquaredError, "ce": CrossEntropy}


# --- the network ------------------------------------------------------------------------------


class Network:
    """Weights ``W[l]`` (n_l, n_{l+1}) and biases ``b[l]`` (n_{l+1},), with the activations and
    the loss that give them meaning. float32 unless asked otherwise (the gradient check uses
    float64)."""

    def __init__(self, sizes, hidden="sigmoid", output="sigmoid", loss="mse",
                 W=None, b=None, dtype=np.float32, copy=True, forced=()):
        """``forced``: (layer, neuron, value) triples, hidden neurons whose output is forced to
        ``value`` whatever their input (0 switches one off): for looking at what a neuron
        does, not for training (its derivative is taken from the forced value)."""
        check_architecture(sizes, hidden, output, loss)
        self.sizes = tuple(int(n) for n in sizes)
        self.hidden = ACTIVATIONS[hidden]
        self.output = ACTIVATIONS[output]
        self.loss = LOSSES[loss]
        self.dtype = np.dtype(dtype)
        if W is None:
            W = [np.zeros((m, n)) for m, n in zip(self.sizes[:-1], self.sizes[1:])]
        if b is None:
            b = [np.zeros(n) for n in self.sizes[1:]]
        # Our own copies, unless copy=False asks to share arrays (read-only ones, for a
        # network that only ever runs forward: see Snapshot.network).
        self.W = [np.array(w, dtype=self.dtype, copy=copy or None) for w in W]
        self.b = [np.array(v, dtype=self.dtype, copy=copy or None) for v in b]
        for l, (w, v) in enumerate(zip(self.W, self.b)):
            expected = (self.sizes[l], self.sizes[l + 1])
            if w.shape != expected or v.shape != expected[1:]:
                raise ConfigError(f"layer {l + 1} expects weights {expected} and biases "
                                  f"{expected[1:]}, got {w.shape} and {v.shape}")
        self.forced = tuple((int(l), int(j), float(v)) for l, j, v in forced)
        self._forced: dict[int, tuple[list[int], list[float]]] = {}  # layer -> (neurons, values)
        for l, j, v in self.forced:
            if not (1 <= l < len(self.sizes) - 1 and 0 <= j < self.sizes[l]) or not np.isfinite(v):
                raise ConfigError(f"neuron {j} of layer {l} cannot be forced to {v}: only the "
                                  f"hidden layers 1 to {len(self.sizes) - 2} have neurons to force")
            neurons, values = self._forced.setdefault(l, ([], []))
            neurons.append(j)
            values.append(v)

    @classmethod
    def initialised(cls, sizes, hidden="sigmoid", output="sigmoid", loss="mse", seed=0,
                    dtype=np.float32) -> "Network":
        """Fresh weights from ``np.random.default_rng(seed)``: Glorot uniform before sigmoid,
        tanh and softmax, He normal before ReLU; biases zero."""
        net = cls(sizes, hidden, output, loss, dtype=dtype)
        rng = np.random.default_rng(seed)
        for l, (n_in, n_out) in enumerate(zip(net.sizes[:-1], net.sizes[1:])):
            if net.activation(l).init == "he":
                W = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
            else:
                limit = np.sqrt(6.0 / (n_in + n_out))
                W = rng.uniform(-limit, limit, size=(n_in, n_out))
            net.W[l] = W.astype(net.dtype)
        return net

    @property
    def architecture(self) -> tuple:
        """(sizes, hidden, output, loss), comparable with TrainConfig.architecture."""
        return self.sizes, self.hidden.name, self.output.name, self.loss.name

    @property
    def n_layers(self) -> int:
        return len(self.W)

    def activation(self, l: int) -> Activation:
        """The activation applied after weight layer ``l``."""
        return self.output if l == self.n_layers - 1 else self.hidden

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        """Every layer's activations [a[0], a[1], ..., a[L]] for a batch x of shape (B, 784)."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ConfigError(f"the network expects inputs of shape (B, {self.sizes[0]}), "
                              f"got {x.shape}")
        activations = [x]
        for l, (W, b) in enumerate(zip(self.W, self.b)):
            z = activations[-1] @ W  # (B, n_l) @ (n_l, n_{l+1}) -> (B, n_{l+1})
            z += b
            a = self.activation(l).forward(z)  # in place: z now holds a
            if l + 1 in self._forced:  # neurons switched off or clamped, whatever their input
                neurons, values = self._forced[l + 1]
                a[:, neurons] = values
            activations.append(a)
        return activations

    def predict_proba(self, x: np.ndarray, chunk: int = 8192) -> np.ndarray:
        """The output layer a[L] for x, computed in chunks so memory stays small."""
        x = np.asarray(x)
        if len(x) <= chunk:
            return self.forward(x)[-1]
        return np.concatenate([self.forward(x[i:i + chunk])[-1] for i in range(0, len(x), chunk)])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The predicted digit of each row of x."""
        return self.predict_proba(x).argmax(axis=1)

    def cost(self, x: np.ndarray, y: np.ndarray) -> float:
        return self.loss.fn(self.forward(x)[-1], y, self.output)

    def backprop(self, x: np.ndarray, y: np.ndarray, deltas: list | None = None,
                 masks: list | None = None):
        """The cost of the batch and its gradient: (C, dC/dW, dC/db, a[L]), with dC/dW[l] shaped
        like W[l] and dC/db[l] like b[l]. x is (B, 784), y is (B, 10). Given a list ``deltas``
        of L entries, it is filled with each layer's error as computed: deltas[l] is
        delta[l+1] / B, (B, n_{l+1}) (the gradient-flow record of ``core.train`` sizes them).
        Given dropout ``masks`` (``dropout_masks``: masks[l] (B, n_l) for each hidden layer l,
        masks[0] None), each hidden layer's output is multiplied by its mask, in the forward
        pass and in BP2 (see the module's docstring)."""
        if masks is None:
            activations = outputs = self.forward(x)
        else:
            activations, outputs = self._forward_dropped(x, masks)
        a_L = activations[-1]
        B = len(x)
        cost = self.loss.fn(a_L, y, self.output)
        nabla_W = [None] * self.n_layers
        nabla_b = [None] * self.n_layers
        delta = self.loss.delta(a_L, y, self.output)  # BP1, (B, n_L)
        delta /= B  # once here, for the 1/B of BP3 and BP4 in every layer
        for l in range(self.n_layers - 1, -1, -1):
            nabla_W[l] = activations[l].T @ delta  # BP4: (n_l, B) @ (B, n_{l+1}) -> (n_l, n_{l+1})
            nabla_b[l] = delta.sum(axis=0)  # BP3
            if deltas is not None:
                deltas[l] = delta  # not written again: BP2 makes a new array below
            if l > 0:  # the input layer has no error to pass on, so that product is skipped
                delta = delta @ self.W[l].T  # BP2: (B, n_{l+1}) @ (n_{l+1}, n_l) -> (B, n_l)
                if masks is not None:
                    delta *= masks[l]  # dC/da[l] = dC/dd[l] * m[l]
                self.hidden.backward(outputs[l], delta)  # f'(z[l]) from a[l], before its mask
        return cost, nabla_W, nabla_b, a_L

    def _forward_dropped(self, x: np.ndarray, masks: list) -> tuple[list, list]:
        """The forward pass of training with dropout: (passed on, outputs), the first
        [a[0], d[1], ..., d[L-1], a[L]] with d[l] = m[l] * a[l], the second the a[l] themselves
        (their derivatives need them). Forced neurons are not for training, so not here."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ConfigError(f"the network expects inputs of shape (B, {self.sizes[0]}), "
                              f"got {x.shape}")
        if len(masks) != self.n_layers:
            raise ValueError(f"dropout needs {self.n_layers} masks (None for the input), got {len(masks)}")
        passed, outputs = [x], [x]
        for l, (W, b) in enumerate(zip(self.W, self.b)):
            z = passed[-1] @ W  # (B, n_l) @ (n_l, n_{l+1}) -> (B, n_{l+1})
            z += b
            a = self.activation(l).forward(z)  # in place: z now holds a
            outputs.append(a)
            m = masks[l + 1] if l + 1 < self.n_layers else None
            passed.append(a if m is None else a * m)  # d[l+1] = m[l+1] * a[l+1], (B, n_{l+1})
        return passed, outputs

    def copy(self) -> "Network":
        return Network(self.sizes, self.hidden.name, self.output.name, self.loss.name,
                       self.W, self.b, self.dtype, forced=self.forced)

    def all_finite(self) -> bool:
        return all(np.isfinite(p).all() for p in (*self.W, *self.b))


def dropout_masks(sizes, batch: int, rate: float, rng: np.random.Generator,
                  dtype=np.float32) -> list:
    """Inverted-dropout masks for a batch of ``batch``: [None, m[1], ..., m[L-1]], m[l] of shape
    (batch, n_l) holding 0 with probability ``rate`` and 1 / (1 - rate) otherwise, so that
    E[m] = 1 (the input layer is never dropped). One ``rng.random`` draw per hidden layer."""
    keep = 1.0 - rate
    masks = [None]
    for n in sizes[1:-1]:
        u = rng.random((batch, n), dtype=np.float32)  # uniform in [0, 1)
        m = (u < keep).astype(dtype)  # 1 with probability 1 - p, else 0
        m *= 1.0 / keep
        masks.append(m)
    return masks


MAX_LAYER = 65_536  # neurons in one layer
MAX_WEIGHTS = 100_000_000  # 400 MB of float32, and as much again for the optimiser's state


def check_architecture(sizes, hidden: str, output: str, loss: str) -> None:
    """Raise ConfigError with one sentence if these cannot make a network."""
    if len(sizes) < 2:
        raise ConfigError(f"a network needs at least an input and an output layer, got sizes {list(sizes)}")
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"layer sizes must be positive whole numbers, got {list(sizes)}")
    if max(sizes) > MAX_LAYER:
        raise ConfigError(f"layer sizes must be at most {MAX_LAYER:,}, got {max(sizes):,}")
    weights = sum(m * n for m, n in zip(sizes[:-1], sizes[1:]))
    if weights > MAX_WEIGHTS:
        raise ConfigError(f"these layers need {weights:,} weights, more than the {MAX_WEIGHTS:,} "
                          f"this program trains")
    if hidden not in HIDDEN_ACTIVATIONS:
        raise ConfigError(f"unknown hidden activation {hidden!r}; choose one of {', '.join(HIDDEN_ACTIVATIONS)}")
    if output not in OUTPUT_ACTIVATIONS:
        raise ConfigError(f"unknown output activation {output!r}; choose one of {', '.join(OUTPUT_ACTIVATIONS)}")
    if loss not in LOSSES:
        raise ConfigError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
