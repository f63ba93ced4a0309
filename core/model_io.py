"""brain.npz: a trained network and how it was trained, in one plain NumPy archive.

Arrays in the file (L weight layers, notation of ``core.network``):

    W0 ... W{L-1}    weights, float32, (n_l, n_{l+1})
    b0 ... b{L-1}    biases, float32, (n_{l+1},)
    sizes            int64, (L + 1,)
    hidden, output, loss     0-d unicode strings: the activations and the loss
    meta             0-d unicode string: JSON with the format version, the date, epochs trained,
                     test accuracy and the training settings; ``dataset_name`` and
                     ``class_names`` (ten short strings) say what the network was trained on
                     (a file without them is of MNIST, as every file was before they existed),
                     and ``dataset`` where that data was read from
    history_*        only in format 2: the run's history (batches, epoch reports, moments), as
                     ``core.history`` lays it out

Format 1 is a network alone (every file written before histories were saved); format 2 adds the
history. Either opens: ``load_run`` gives the history, or None for format 1.

No pickled objects: the file is read with ``allow_pickle=False`` and checked completely (keys,
names, shapes that chain, finite values, and the whole history if there is one) before a Network
is built from it. A file whose history is damaged is refused entirely, by ``load_model`` as by
``load_run``: the network beside a damaged history may be damaged too, and a file opens the same
way for every command and for the window.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np

from core.config import N_CLASSES, N_INPUTS
from core.data import DATASETS, DIGITS, MAX_CLASS_NAME, Dataset, title
from core.errors import ConfigError, ModelFileError, WrongDataset
from core.history import History, holds_history
from core.network import HIDDEN_ACTIVATIONS, LOSSES, OUTPUT_ACTIVATIONS, Network
from core.npzio import read_npz, write_npz_atomically

FORMAT_VERSION = 1  # a network alone
HISTORY_FORMAT_VERSION = 2  # a network and the history of its training
MAX_MODEL_BYTES = 1 << 30  # what load_run reads at most; save_model writes no more


def save_model(path, net: Network, meta: dict | None = None, history: History | None = None) -> None:
    """Write net, meta and (if given) the history of net's training to path atomically;
    ModelFileError with one sentence if it cannot. The format version in meta is set here:
    format 2 with a history, 1 without."""
    if history is not None and history.architecture != net.architecture:
        raise ValueError(f"the history is of a {history.architecture} network, not of this "
                         f"{net.architecture} one")
    meta = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), **(meta or {}),
            "format": FORMAT_VERSION if history is None else HISTORY_FORMAT_VERSION}
    arrays = {"sizes": np.array(net.sizes, dtype=np.int64),
              "hidden": np.array(net.hidden.name), "output": np.array(net.output.name),
              "loss": np.array(net.loss.name), "meta": np.array(json.dumps(meta))}
    for l, (W, b) in enumerate(zip(net.W, net.b)):
        arrays[f"W{l}"] = np.asarray(W, dtype=np.float32)
        arrays[f"b{l}"] = np.asarray(b, dtype=np.float32)
    if history is not None:
        arrays.update(history.to_arrays())
    total = sum(a.nbytes for a in arrays.values())
    if total > MAX_MODEL_BYTES:  # refused now rather than written and then refused on opening
        raise ModelFileError(f"cannot save the model to '{path}': with its history it would be "
                             f"{total / 2**20:.0f} MiB, more than the {MAX_MODEL_BYTES // 2**20} "
                             f"MiB a model file may hold")
    write_npz_atomically(path, arrays, "the model", error=ModelFileError)


def load_model(path) -> tuple[Network, dict]:
    """The network saved at path and its metadata, or ModelFileError naming the fault. A history
    in the file is checked too (a damaged one refuses the file) but not returned: ``load_run``."""
    net, meta, _ = load_run(path)
    return net, meta


def load_run(path) -> tuple[Network, dict, History | None]:
    """The network saved at path, its metadata and the history of its training (None in a file
    of format 1, which has none), or ModelFileError naming the fault."""
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
        fail(f"it maps {sizes[0]} inputs to {sizes[-1]} outputs, but MNIST's format needs "
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
        _trained_on(meta, fail)
    try:
        net = Network(sizes, names["hidden"], names["output"], names["loss"], W, b)
    except ConfigError as exc:
        fail(str(exc))
    if not holds_history(arrays):
        if meta.get("format") == HISTORY_FORMAT_VERSION:
            fail("its metadata says it holds a history, but the history's arrays are missing; "
                 "the file is cut short")
        return net, meta, None
    return net, meta, History.from_arrays(arrays, net.architecture, where)


# --- what a network was trained on ------------------------------------------------------------


def dataset_meta(data: Dataset) -> dict:
    """The entries of a model's metadata that say which dataset it is trained on: merge them into
    the meta given to ``save_model``."""
    return {"dataset_name": data.name, "class_names": list(data.class_names)}


def trained_on(meta: dict) -> tuple[str, tuple[str, ...]]:
    """The name of the dataset a loaded model was trained on and its class names: MNIST's for a
    file that does not say (every file saved before datasets had names)."""
    def fail(fault: str):
        raise ModelFileError(f"cannot use the model: {fault}")

    return _trained_on(meta, fail)


def _trained_on(meta: dict, fail) -> tuple[str, tuple[str, ...]]:
    name = meta.get("dataset_name", "mnist")
    if not (isinstance(name, str) and 0 < len(name) <= MAX_CLASS_NAME and name.isprintable()):
        fail(f"its metadata's dataset_name must be a short name like 'fashion', got {_shown(name)}")
    names = meta.get("class_names")
    if names is None:
        if name not in DATASETS:
            fail(f"its metadata names the dataset '{name}' but not its {N_CLASSES} class names")
        return name, DATASETS[name].class_names
    if not (isinstance(names, list) and len(names) == N_CLASSES and all(
            isinstance(n, str) and 0 < len(n) <= MAX_CLASS_NAME and n.isprintable() for n in names)):
        fail(f"its metadata's class_names must be a list of {N_CLASSES} names of 1 to "
             f"{MAX_CLASS_NAME} characters, got {_shown(names)}")
    return name, tuple(names)


def _shown(value, width: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= width else text[:width - 1] + "…"


def check_dataset(meta: dict, data: Dataset, model: str, remedy: str = "") -> None:
    """WrongDataset in one sentence if the model whose metadata is meta (loaded from ``model``)
    was trained on a dataset other than data: its answers would be names of other classes.
    ``remedy`` ends the sentence, after a semicolon (e.g. which flag to give)."""
    name, class_names = trained_on(meta)
    if name == data.name and class_names == data.class_names:
        return
    if name == data.name:
        trained = f"the classes {', '.join(class_names)}, not {', '.join(data.class_names)}"
    else:
        trained = f"{title(name)}, so it cannot be used on {data.title}"
    raise WrongDataset(f"model '{model}' was trained on {trained}" + (f"; {remedy}" if remedy else ""))


def digits_model(meta: dict) -> bool:
    """True if the model reads the digits 0-9 (trained on MNIST or a dataset of digits)."""
    return trained_on(meta)[1] == DIGITS
