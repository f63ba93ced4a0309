"""The loss along the way: a one-dimensional slice of the loss landscape.

The cost on the straight line from the initial weights theta_0 to the weights theta_1 of a
moment of training,

    C(alpha) = C(theta_0 + alpha (theta_1 - theta_0)),   every W[l] and b[l] alike,

for alpha from a little before 0 (the initial network) to a little past 1 (the moment). Training
did not walk this line, but the line says how far the start was from the end, and whether
anything stood in between: Goodfellow, Vinyals and Saxe (2015, "Qualitatively characterizing
neural network optimization problems") found it falls smoothly and without bumps for networks
like these. Past alpha = 1 it goes on falling for a network still far from its minimum (the
first epochs), and turns up for one that has settled.

The initial weights come from the history's first moment, stored in float16 (``core.history``),
so C(0) is the initial network's cost to about three decimal places.
"""
from __future__ import annotations

import numpy as np

from core.network import Network

# From a fifth before the start to three tenths past the end, in steps of 0.05: the minimum
# near 1 and the rise past it both show, and 31 forward passes of 2,000 digits through 'fast'
# take about 0.15 s.
ALPHAS = np.round(np.arange(-0.2, 1.3 + 1e-9, 0.05), 10)


def along(start: Network, end: Network, x: np.ndarray, y: np.ndarray,
          alphas: np.ndarray = ALPHAS) -> np.ndarray:
    """C(alpha) for each alpha (K,): the cost, with the networks' loss, of inputs x (N, 784)
    against one-hot targets y (N, 10) at theta_0 + alpha (theta_1 - theta_0)."""
    if start.architecture != end.architecture:
        raise ValueError(f"the two networks differ: {start.architecture} and {end.architecture}")
    sizes, hidden, output, loss = end.architecture
    dW = [w1 - w0 for w0, w1 in zip(start.W, end.W)]
    db = [v1 - v0 for v0, v1 in zip(start.b, end.b)]
    costs = np.empty(len(alphas))
    with np.errstate(over="ignore", invalid="ignore"):  # far past the end weights can overflow
        for k, alpha in enumerate(alphas):
            W = [w0 + alpha * d for w0, d in zip(start.W, dW)]
            b = [v0 + alpha * d for v0, d in zip(start.b, db)]
            costs[k] = Network(sizes, hidden, output, loss, W, b, copy=False).cost(x, y)
    return costs
