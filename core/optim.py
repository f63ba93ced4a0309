"""Optimisers: how a gradient becomes a change of the weights.

Each works in place on the parameters it is given (the weights W[l] and biases b[l], in the
notation of ``core.network``), with eta the learning rate and g = dC/dp the gradient:

    sgd        p <- p - eta g
    momentum   v <- mu v - eta g ;  p <- p + v
    adam       m <- beta1 m + (1 - beta1) g ;  v <- beta2 v + (1 - beta2) g^2
               p <- p - eta_t m / (sqrt(v) + eps),  eta_t = eta sqrt(1 - beta2^t) / (1 - beta1^t)
               (the efficient form at the end of section 2 of Kingma & Ba, which Keras uses too)

L2 weight decay adds lambda/2 sum W^2 to the cost that is minimised, so lambda W to the
weights' gradient (the biases are not decayed); the cost the trainer reports is the data term
alone, comparable between runs with and without decay. The learning rate is an argument of ``step``, so it can change between
any two batches.

``state`` and ``load_state`` hand an optimiser's memory (velocities, moments, Adam's step count)
over as named arrays and numbers, so a run can go on in another process exactly as it would
have here (``core.train.Trainer.state``).
"""
from __future__ import annotations

import numpy as np


class SGD:
    """Each optimiser updates in place and may use the gradient arrays as scratch space: they
    belong to this batch alone. Its state (velocities, moments) is allocated once."""
    name = "sgd"

    def __init__(self, weight_decay: float = 0.0):
        self.weight_decay = weight_decay

    def step(self, params: list[np.ndarray], grads: list[np.ndarray], lr: float,
             decay: list[bool]) -> list[np.ndarray]:
        """Update ``params`` in place; return the step each one took, the change of p up to its
        sign, in scratch arrays that the next step overwrites (the trainer takes their sizes)."""
        changes = []
        for i, (p, g) in enumerate(zip(params, grads)):
            if decay[i] and self.weight_decay:
                g += self.weight_decay * p
            changes.append(self._update(i, p, g, lr))
        return changes

    def _update(self, i, p, g, lr) -> np.ndarray:
        g *= lr
        p -= g  # p <- p - eta g
        return g

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(numbers, named arrays): the optimiser's memory. Plain SGD has none."""
        return {}, {}

    def load_state(self, fields: dict, arrays: dict[str, np.ndarray],
                   shapes: list[tuple[int, ...]]) -> None:
        """Take over ``state()`` of an optimiser of the same kind for parameters of these
        ``shapes``; raises ValueError if anything is missing or of the wrong shape."""
        self._load(fields, _checked(arrays, self._buffers(fields), shapes))

    def _buffers(self, fields) -> tuple[str, ...]:
        """The names of the per-parameter arrays of ``state()`` (index appended)."""
        return ()

    def _load(self, fields, arrays) -> None:
        pass


def _checked(arrays: dict[str, np.ndarray], buffers: tuple[str, ...],
             shapes: list[tuple[int, ...]]) -> dict[str, dict[int, np.ndarray]]:
    """{buffer: {parameter index: a float32 copy of its own}} from ``arrays``, every one of the
    shape of its parameter; a parameter the optimiser has not touched yet may be absent."""
    wanted = {f"{name}{i}": (name, i) for name in buffers for i in range(len(shapes))}
    unknown = sorted(set(arrays) - set(wanted))
    if unknown:
        raise ValueError(f"unknown optimiser arrays {', '.join(unknown)}")
    out: dict[str, dict[int, np.ndarray]] = {name: {} for name in buffers}
    for key, a in arrays.items():
        name, i = wanted[key]
        if a.shape != tuple(shapes[i]):
            raise ValueError(f"optimiser array {key} has shape {a.shape}, expected {tuple(shapes[i])}")
        out[name][i] = np.array(a, dtype=np.float32)
    if len({frozenset(d) for d in out.values()}) > 1:
        raise ValueError("the optimiser's arrays do not cover the same parameters")
    return out


class Momentum(SGD):
    name = "momentum"

    def __init__(self, weight_decay: float = 0.0, mu: float = 0.9):
        super().__init__(weight_decay)
        self.mu = mu
        self.velocity: dict[int, np.ndarray] = {}

    def _update(self, i, p, g, lr):
        if i not in self.velocity:
            self.velocity[i] = np.zeros_like(p)
        v = self.velocity[i]
        v *= self.mu
        g *= lr
        v -= g  # v <- mu v - eta g
        p += v
        return v

    def state(self):
        return {}, {f"velocity{i}": v for i, v in self.velocity.items()}

    def _buffers(self, fields):
        return ("velocity",)

    def _load(self, fields, arrays):
        self.velocity = arrays["velocity"]


class Adam(SGD):
    name = "adam"

    def __init__(self, weight_decay: float = 0.0, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-7):
        super().__init__(weight_decay)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m: dict[int, np.ndarray] = {}
        self.v: dict[int, np.ndarray] = {}
        self.scratch: dict[int, np.ndarray] = {}
        self.t = 0

    def step(self, params, grads, lr, decay):
        self.t += 1
        return super().step(params, grads, lr, decay)

    def _update(self, i, p, g, lr):
        if i not in self.m:
            self.m[i], self.v[i], self.scratch[i] = (np.zeros_like(p) for _ in range(3))
        m, v, s = self.m[i], self.v[i], self.scratch[i]
        np.subtract(g, m, out=s)
        s *= 1.0 - self.beta1
        m += s  # m <- m + (1 - beta1)(g - m), the same as beta1 m + (1 - beta1) g
        np.square(g, out=g)
        g -= v
        g *= 1.0 - self.beta2
        v += g  # v <- v + (1 - beta2)(g^2 - v)
        lr_t = lr * (1.0 - self.beta2 ** self.t) ** 0.5 / (1.0 - self.beta1 ** self.t)  # a Python float keeps float32
        np.sqrt(v, out=s)
        s += self.eps
        np.divide(m, s, out=s)
        s *= lr_t
        p -= s  # p <- p - eta_t m / (sqrt(v) + eps)
        return s

    def state(self):
        return {"t": self.t}, {**{f"m{i}": m for i, m in self.m.items()},
                               **{f"v{i}": v for i, v in self.v.items()}}

    def _buffers(self, fields):
        return ("m", "v")

    def _load(self, fields, arrays):
        t = fields.get("t")
        if not (isinstance(t, int) and not isinstance(t, bool) and t >= 0):
            raise ValueError(f"Adam's step count must be a whole number of at least 0, got {t!r}")
        self.t, self.m, self.v = t, arrays["m"], arrays["v"]
        self.scratch = {i: np.zeros_like(m) for i, m in self.m.items()}


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(name: str, weight_decay: float = 0.0, momentum: float = 0.9):
    if name == "momentum":
        return Momentum(weight_decay, mu=momentum)
    return OPTIMIZERS[name](weight_decay)
