"""brain.npz: a trained network and how it was trained, in one plain NumPy archive.

Arrays in the file (L weight layers, notation of ``core.network``):

    W0 ... W{L-1}    weights, float32, (n_l, n_{l+1})
    b0 ... b{L-1}    biases, float32, (n_{l+1},)
    sizes            int64, (L + 1,)
    hidden, output, loss     0-d unicode strings: the activations and the loss
    meta             0-d unicode string: JSON with the format version, the date, epochs trained,
                     test accuracy and the training settings

No pickled objects: the file is read with ``allow_pickle=False`` and checked completely (keys,
names, shapes that chain, finite values) before a Network is built from it.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np

from core.config import N_CLASSES, N_INPUTS
from core.errors import ConfigError, ModelFileError
from core.network import HIDDEN_ACTIVATIONS, LOSSES, OUTPUT_ACTIVATIONS, Network
from core.npzio import read_npz, write_npz_atomically

FORMAT_VERSION = 1
MAX_MODEL_BYTES = 1 << 30


def save_model(path, net: Network, meta: dict | None = None) -> None:
    """Write net and meta to path atomically; ModelFileError with one sentence if it cannot."""
    meta = {"format": FORMAT_VERSION,
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), **(meta or {})}
    arrays = {"sizes": np.array(net.sizes, dtype=np.int64),
              "hidden": np.array(net.hidden.name), "output": np.array(net.output.name),
              "loss": np.array(net.loss.name), "meta": np.array(json.dumps(meta))}
    for l, (W, b) in enumerate(zip(net.W, net.b)):
        arrays[f"W{l}"] = np.asarray(W, dtype=np.float32)
        arrays[f"b{l}"] = np.asarray(b, dtype=np.float32)
    write_npz_atomically(path, arrays, "the model", error=ModelFileError)


def load_model(path) -> tuple[Network, dict]:
    """The network saved at path and its metadata, or ModelFileError naming the fault."""
    arrays = read_npz(path, "model", max_bytes=MAX_MODEL_BYTES, error=ModelFileError)
    where = f"model '{path}'"

    def fail(fault: str):
        raise ModelFileError(f"cannot use {where}: {fault}")

    missing = [k for k in ("sizes", "hidden", "output", "loss") if k not in arrays]
    if missing:
        fail(f"it lacks {', '.join(missing)}; is it a brain.npz saved by this program?")
    sizes = arrays["sizes"]
    if sizes.ndim != 1 or len(sizes) < 2 or not np.issubdtype(sizes.dtype, np.integer) or (sizes < 1).any():
        fail(f"'sizes' must list at least two positive layer sizes, got {sizes.tolist()}")
    sizes = [int(n) for n in sizes]
    if sizes[0] != N_INPUTS or sizes[-1] != N_CLASSES:
        fail(f"it maps {sizes[0]} inputs to {sizes[-1]} outputs, but MNIST needs "
             f"{N_INPUTS} to {N_CLASSES}")
    names = {}
    for key, allowed in (("hidden", HIDDEN_ACTIVATIONS), ("output", OUTPUT_ACTIVATIONS), ("loss", tuple(LOSSES))):
        value = arrays[key]
        if value.ndim != 0 or value.dtype.kind != "U" or str(value) not in allowed:
            shown = repr(str(value)) if value.ndim == 0 and value.dtype.kind == "U" else repr(value)
            fail(f"'{key}' must be one of {', '.join(allowed)}, got {shown}")
        names[key] = str(value)
    W, b = [], []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        for key, shape, into in ((f"W{l}", (n_in, n_out), W), (f"b{l}", (n_out,), b)):
            if key not in arrays:
                fail(f"it lacks {key} for {len(sizes) - 1} layers")
            value = arrays[key]
            if value.dtype.kind != "f":
                fail(f"{key} must hold floating-point numbers, got {value.dtype}")
            if value.shape != shape:
                fail(f"{key} has shape {value.shape}, but sizes {sizes} need {shape}")
            if not np.isfinite(value).all():
                fail(f"{key} holds NaN or infinite values")
            into.append(value)
    meta = {}
    if "meta" in arrays:
        try:
            meta = json.loads(str(arrays["meta"]))
        except (json.JSONDecodeError, RecursionError):
            fail("its metadata is not valid JSON")
        if not isinstance(meta, dict):
            fail("its metadata is not a JSON object")
    try:
        net = Network(sizes, names["hidden"], names["output"], names["loss"], W, b)
    except ConfigError as exc:
        fail(str(exc))
    return net, meta
