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
             decay: list[bool]) -> None:
        for i, (p, g) in enumerate(zip(params, grads)):
            if decay[i] and self.weight_decay:
                g += self.weight_decay * p
            self._update(i, p, g, lr)

    def _update(self, i, p, g, lr):
        g *= lr
        p -= g  # p <- p - eta g


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
        super().step(params, grads, lr, decay)

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


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(name: str, weight_decay: float = 0.0, momentum: float = 0.9):
    if name == "momentum":
        return Momentum(weight_decay, mu=momentum)
    return OPTIMIZERS[name](weight_decay)
