"""What the window shows about a network, computed here so the window only draws it.

Layers are counted as in ``core.network``: layer 0 is the input, layer l >= 1 is computed by
W[l-1], so "neuron j of layer l" has incoming weights W[l-1][:, j] and bias b[l-1][j].
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from core.network import Network

SIDE = 28  # an MNIST image is SIDE x SIDE pixels


def grid_shape(n: int) -> tuple[int, int]:
    """Rows and columns of a near-square grid of n tiles: 20 -> (4, 5), 256 -> (16, 16)."""
    rows = max(1, math.isqrt(n))
    return rows, math.ceil(n / rows)


def tile(images: np.ndarray, cols: int, gap: int = 1, rows: int | None = None) -> np.ndarray:
    """Images (n, h, w) laid out row by row in a grid ``cols`` wide and ``rows`` high (by default
    as many rows as they fill), ``gap`` pixels of NaN between them (drawn as background), NaN
    where a cell has no image: shape (rows*(h+gap)-gap, cols*(w+gap)-gap). No loop over the
    images: it runs for every frame of the weights panel."""
    n, h, w = images.shape
    rows = math.ceil(n / cols) if rows is None else rows
    if n > rows * cols:
        raise ValueError(f"{n} images do not fit a grid of {rows} rows and {cols} columns")
    cells = np.full((rows, h + gap, cols, w + gap), np.nan, dtype=np.float32)
    full, rest = divmod(n, cols)  # full rows of images, and the images of the last, short row
    cells[:full, :h, :, :w] = images[:full * cols].reshape(full, cols, h, w).transpose(0, 2, 1, 3)
    if rest:
        cells[full, :h, :rest, :w] = images[full * cols:].transpose(1, 0, 2)  # (rest, h, w) -> (h, rest, w)
    grid = cells.reshape(rows * (h + gap), cols * (w + gap))
    return np.ascontiguousarray(grid[:max(rows * (h + gap) - gap, 0), :cols * (w + gap) - gap])


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


def page_shape(n: int, width: float, height: float, least: float, gap: int = 1,
               padding: float = 0.02, h: int = SIDE, w: int = SIDE) -> tuple[int, int]:
    """Rows and columns of a page of ``tile``'s grid that shows h x w tiles at least ``least``
    screen pixels wide and high in a view of width x height pixels that leaves ``padding`` of
    the grid's size free on each side. If all n tiles fit, the one page that draws them
    largest (fewest empty cells among equals); otherwise as many as fit, in at least 1 x 1."""
    def fits(pixels: float, side: int) -> int:  # most tiles of `side` pixels across `pixels`
        # a grid of k tiles is k*(side+gap)-gap pixels of the image, each drawn least/side wide
        return max(1, int((pixels / (1 + 2 * padding) * side / least + gap) // (side + gap)))

    most_rows, most_cols = fits(height, h), fits(width, w)
    if n > most_rows * most_cols:
        return most_rows, most_cols

    def drawn(shape):  # (size of a tile on screen, -empty cells) of a grid shape, to maximise
        r, c = shape
        scale = min(width / (c * (w + gap) - gap), height / (r * (h + gap) - gap))
        return scale, -(r * c - n)

    shapes = [(r, math.ceil(n / r)) for r in range(1, most_rows + 1) if math.ceil(n / r) <= most_cols]
    return max(shapes, key=drawn)


def first_layer_tiles(W0: np.ndarray) -> np.ndarray:
    """Each first-hidden-layer neuron's 784 incoming weights as a 28x28 picture: (n_1, 28, 28)."""
    return W0.T.reshape(-1, SIDE, SIDE)  # (784, n_1) -> (n_1, 784) -> (n_1, 28, 28)


def per_tile_contrast(tiles: np.ndarray) -> np.ndarray:
    """Each tile (n, h, w) divided by its own largest |weight|, w / max|w|, so that each fills the
    colour scale -1..1 whatever its size; a tile of zeros stays zero."""
    m = np.abs(tiles).max(axis=(1, 2), keepdims=True)  # (n, 1, 1)
    return tiles / np.where(m > 0, m, 1.0)


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


def pre_activations(net: Network, x: np.ndarray, layer: int, neuron: int,
                    chunk: int = 4096) -> np.ndarray:
    """(N,) the neuron's weighted input z = a[layer-1] @ W[layer-1][:, neuron] + b[layer-1][neuron]
    for each of the N inputs x (N, 784). Only the layers before ``layer`` are computed whole;
    of ``layer`` itself, only the neuron's column (a twentieth of the work for 'fast')."""
    check_neuron(net.W, layer, neuron)
    z = np.empty(len(x), dtype=np.float32)
    last = layer - 1
    for start in range(0, len(x), chunk):
        a = np.asarray(x[start:start + chunk], dtype=net.dtype)
        for l in range(last):
            h = a @ net.W[l]  # (B, n_l) @ (n_l, n_{l+1}) -> (B, n_{l+1})
            h += net.b[l]
            a = net.activation(l).forward(h)
        column = a @ net.W[last][:, neuron:neuron + 1]  # (B, n) @ (n, 1) -> (B, 1)
        z[start:start + chunk] = column[:, 0] + net.b[last][neuron]
    return z


def top_exciting(net: Network, x: np.ndarray, layer: int, neuron: int, k: int = 8,
                 chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Indices into x of the k inputs that drive the neuron hardest, strongest first, with the
    neuron's weighted input z for each (``pre_activations``), not its activation.

    Ranked by z because activations saturate. After one epoch on 20,000 digits, each of the 20
    first-layer sigmoid neurons of 'classic' has its eight most exciting test digits at 1.00 to
    two decimals (z from 13.2 to 15.0, medians over the neurons), and so have 9 of the 10
    softmax outputs of 'fast' (z from 13.9 to 15.2); a ReLU neuron that never fires reads eight
    zeros where z still says which digits come nearest. Sigmoid, tanh and ReLU increase with z,
    so where they do not saturate the order is theirs; for a softmax output z is the digit's
    logit, its evidence before it is weighed against the other digits'."""
    z = pre_activations(net, x, layer, neuron, chunk)
    k = min(k, len(x))
    best = np.argpartition(-z, k - 1)[:k] if k else np.empty(0, dtype=np.intp)
    best = best[np.argsort(-z[best], kind="stable")]
    return best, z[best]


def check_neuron(W: Sequence[np.ndarray], layer: int, neuron: int) -> None:
    if not 1 <= layer <= len(W):
        raise ValueError(f"layer must be 1 to {len(W)}, got {layer}")
    if not 0 <= neuron < W[layer - 1].shape[1]:
        raise ValueError(f"layer {layer} has {W[layer - 1].shape[1]} neurons, got neuron {neuron}")
