"""What the window shows about a network, computed here so the window only draws it.

Layers are counted as in ``core.network``: layer 0 is the input, layer l >= 1 is computed by
W[l-1], so "neuron j of layer l" has incoming weights W[l-1][:, j] and bias b[l-1][j].
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from core.network import Network

SIDE = 28  # an MNIST image is SIDE x SIDE pixels


def grid_shape(n: int) -> tuple[int, int]:
    """Rows and columns of a near-square grid of n tiles: 20 -> (4, 5), 256 -> (16, 16)."""
    rows = max(1, math.isqrt(n))
    return rows, math.ceil(n / rows)


def tile(images: np.ndarray, cols: int, gap: int = 1) -> np.ndarray:
    """Images (n, h, w) laid out row by row in a grid ``cols`` wide, ``gap`` pixels of NaN
    between them (drawn as background): shape (rows*(h+gap)-gap, cols*(w+gap)-gap)."""
    n, h, w = images.shape
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, dtype=np.float32)
    for k in range(n):
        r, c = divmod(k, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = images[k]
    return out


def tile_at(row: float, col: float, cols: int, n: int, h: int = SIDE, w: int = SIDE, gap: int = 1) -> int | None:
    """The index of the tile under pixel (row, col) of a ``tile`` grid, or None on a gap or outside."""
    if row < 0 or col < 0:
        return None
    r, dr = divmod(int(row), h + gap)
    c, dc = divmod(int(col), w + gap)
    k = r * cols + c
    if dr >= h or dc >= w or c >= cols or k >= n:
        return None
    return k


def first_layer_tiles(W0: np.ndarray) -> np.ndarray:
    """Each first-hidden-layer neuron's 784 incoming weights as a 28x28 picture: (n_1, 28, 28)."""
    return W0.T.reshape(-1, SIDE, SIDE)  # (784, n_1) -> (n_1, 784) -> (n_1, 28, 28)


def incoming(W: Sequence[np.ndarray], b: Sequence[np.ndarray], layer: int, neuron: int):
    """(incoming weights over layer-1's neurons, bias) of ``neuron`` in ``layer``."""
    check_neuron(W, layer, neuron)
    return W[layer - 1][:, neuron], float(b[layer - 1][neuron])


def projected_weights(W: Sequence[np.ndarray], layer: int, neuron: int) -> np.ndarray:
    """The incoming weights of a neuron carried back to the 784 input pixels through the earlier
    layers' weights, as if those layers were linear: W[0] @ W[1] @ ... @ W[layer-1][:, neuron].
    For layer 1 these are exactly its weights; deeper, a picture of what it looks for."""
    check_neuron(W, layer, neuron)
    v = W[layer - 1][:, neuron]  # (n_{layer-1},)
    for l in range(layer - 2, -1, -1):
        v = W[l] @ v  # (n_l, n_{l+1}) @ (n_{l+1},) -> (n_l,)
    return v


def top_exciting(net: Network, x: np.ndarray, layer: int, neuron: int, k: int = 8,
                 chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Indices into x of the k inputs that activate the neuron most, strongest first, with those
    activations. Only the layers before ``layer`` are computed whole; of ``layer`` itself, only
    the neuron's column (unless it is a softmax, which needs all of them)."""
    check_neuron(net.W, layer, neuron)
    values = np.empty(len(x), dtype=np.float32)
    last = layer - 1
    for start in range(0, len(x), chunk):
        a = np.asarray(x[start:start + chunk], dtype=net.dtype)
        for l in range(last):
            z = a @ net.W[l]
            z += net.b[l]
            a = net.activation(l).forward(z)
        if net.activation(last).name == "softmax":  # needs every output of the layer
            z = a @ net.W[last] + net.b[last]
            values[start:start + chunk] = net.activation(last).forward(z)[:, neuron]
        else:  # element-wise: the neuron's own column is enough, a twentieth of the work for 'fast'
            z = a @ net.W[last][:, neuron:neuron + 1] + net.b[last][neuron]  # (B, n) @ (n, 1) -> (B, 1)
            values[start:start + chunk] = net.activation(last).forward(z)[:, 0]
    k = min(k, len(x))
    best = np.argpartition(-values, k - 1)[:k] if k else np.empty(0, dtype=np.intp)
    best = best[np.argsort(-values[best], kind="stable")]
    return best, values[best]


def check_neuron(W: Sequence[np.ndarray], layer: int, neuron: int) -> None:
    if not 1 <= layer <= len(W):
        raise ValueError(f"layer must be 1 to {len(W)}, got {layer}")
    if not 0 <= neuron < W[layer - 1].shape[1]:
        raise ValueError(f"layer {layer} has {W[layer - 1].shape[1]} neurons, got neuron {neuron}")
