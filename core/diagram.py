"""What the network diagram draws, chosen here so the panel only draws it: which neurons of a
layer too wide to draw are shown, and which edges between the shown neurons are the strongest.

An edge from neuron i of layer l-1 to neuron j of layer l carries the *contribution*

    c_ij = a[l-1]_i * W[l-1]_ij        (the term of z[l]_j = sum_i a[l-1]_i W[l-1]_ij + b_j)

so its sign says whether it pushes j up or down for this input, and |c_ij| how hard. An
inactive neuron (a = 0) sends nothing, whatever its weights. Layers are counted as in
``core.network`` and ``core.inspect``: layer 0 is the input, layer L the output.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Edges:
    """Edges (source[k] -> target[k]) and their contributions, strongest first per target.
    Sources and targets are neuron indices of their layers (not positions in a column)."""
    source: np.ndarray  # (E,) int
    target: np.ndarray  # (E,) int
    contribution: np.ndarray  # (E,) float

    def __len__(self) -> int:
        return len(self.source)


def most_active(a: np.ndarray, k: int, keep: int | None = None) -> np.ndarray:
    """The indices of the ``k`` largest activations of ``a`` (n,), in increasing index order;
    ties go to the smaller index, and NaN counts as the least active. ``keep`` (a neuron the
    user selected) is always among them, in place of the least active. All n if k >= n."""
    n = len(a)
    if k >= n:
        return np.arange(n)
    if k <= 0:
        return np.arange(0)
    key = np.where(np.isnan(a), -np.inf, a)
    order = np.argsort(-key, kind="stable")  # most active first; equal ones by index
    chosen = order[:k]
    if keep is not None and 0 <= keep < n and keep not in chosen:
        chosen = np.append(chosen[:k - 1], keep)
    return np.sort(chosen)


def strongest_edges(a_in: np.ndarray, W: np.ndarray, sources: np.ndarray, targets: np.ndarray,
                    per_target: int) -> Edges:
    """For each neuron j of ``targets``, the ``per_target`` edges from ``sources`` with the
    largest |a_in[i] * W[i, j]| (ties: the smaller source index first), leaving out edges that
    contribute nothing (or NaN). ``a_in`` (n_in,) is the incoming layer's activations, ``W``
    (n_in, n_out) the weights between the two layers."""
    sources = np.asarray(sources, dtype=np.intp)
    targets = np.asarray(targets, dtype=np.intp)
    k = min(per_target, len(sources))
    if k <= 0 or len(targets) == 0:
        empty = np.arange(0)
        return Edges(empty, empty, np.zeros(0, dtype=W.dtype))
    c = a_in[sources, None] * W[np.ix_(sources, targets)]  # (S,) -> (S, T) contributions
    size = np.abs(c)
    size[np.isnan(size)] = -1.0  # NaN: never among the strongest, and dropped below
    rank = np.argsort(-size, axis=0, kind="stable")[:k]  # (k, T): rows of the k strongest
    columns = np.broadcast_to(np.arange(len(targets)), rank.shape)
    rank, columns = rank.T.ravel(), columns.T.ravel()  # target by target, strongest first
    value = c[rank, columns]
    real = size[rank, columns] > 0
    return Edges(sources[rank[real]], targets[columns[real]], value[real])


def outgoing(a: float, W_row: np.ndarray, neuron: int, targets: np.ndarray) -> Edges:
    """Every edge from ``neuron`` (activation ``a``, weights ``W_row`` = W[l][neuron, :]) to
    ``targets`` that contributes something: the selected neuron's outgoing edges."""
    targets = np.asarray(targets, dtype=np.intp)
    c = a * W_row[targets]
    real = np.abs(c) > 0  # False for NaN too
    return Edges(np.full(int(real.sum()), neuron, dtype=np.intp), targets[real], c[real])
