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

No pickled objects: the file is read by ``core.npzio`` (no pickles, regular files only) and
checked completely (keys, names, shapes that chain, values finite in float32, a forward pass
that stays finite, every metadata field by its type, and the whole history if there is one)
before a Network is built from it; see ``load_run`` and ``checked_meta``. A file whose history is damaged is refused entirely, by ``load_model`` as by
``load_run``: the network beside a damaged history may be damaged too, and a file opens the same
way for every command and for the window.
"""
from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime, timezone

import numpy as np

from core.config import N_CLASSES, N_INPUTS, TrainConfig, finite_number
from core.data import DATASETS, DIGITS, MAX_CLASS_NAME, Dataset, title
from core.errors import ConfigError, ModelFileError, WrongDataset, one_sentence
from core.history import History, holds_history
from core.network import (
    HIDDEN_ACTIVATIONS,
    LOSSES,
    MAX_LAYER,
    OUTPUT_ACTIVATIONS,
    Network,
)
from core.npzio import MAX_EXPANSION, read_npz, write_npz_atomically

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
    of format 1, which has none), or ModelFileError naming the fault.

    Every array is checked before it is used and no value from the file reaches a message
    unbounded: ``sizes`` by its length, dtype and values before it is ever formatted (a
    sizes of a million entries is named by its length); weights must be finite as stored
    *and* as the float32 the network computes in (1e300 in float64 passes the first test and
    becomes inf), and the network's forward pass on ``_probe()`` (a blank, an all-ones and two
    fixed random images) must be finite at every layer, else "its weights overflow". A
    compressed member may not expand beyond ``npzio.check_expansion``'s bound. The metadata
    is checked field by field (``checked_meta``)."""
    # save_model stores members uncompressed; a compressed one (np.savez_compressed) may not
    # expand beyond what real weights and histories can (a small file claiming a gigabyte of
    # zeros would cost that gigabyte)
    arrays = read_npz(path, "model", max_bytes=MAX_MODEL_BYTES, error=ModelFileError,
                      max_expansion=MAX_EXPANSION)
    where = f"model '{path}'"

    def fail(fault: str):
        raise ModelFileError(f"cannot use {where}: {fault}")

    missing = [k for k in ("sizes", "hidden", "output", "loss") if k not in arrays]
    if missing:
        fail(f"it lacks {', '.join(missing)}; is it a brain.npz saved by this program?")
    sizes = arrays["sizes"]
    if (sizes.ndim != 1 or sizes.dtype.kind not in "iu" or not 2 <= len(sizes) <= MAX_SIZES
            or (sizes < 1).any() or (sizes > MAX_LAYER).any()):
        fail(f"'sizes' must list at least two positive layer sizes (whole numbers of at most "
             f"{MAX_LAYER:,}, {MAX_SIZES:,} layers at most), got {_array_shown(sizes)}")
    sizes = [int(n) for n in sizes]
    if sizes[0] != N_INPUTS or sizes[-1] != N_CLASSES:
        fail(f"it maps {sizes[0]} inputs to {sizes[-1]} outputs, but MNIST's format needs "
             f"{N_INPUTS} to {N_CLASSES}")
    names = {}
    for key, allowed in (("hidden", HIDDEN_ACTIVATIONS), ("output", OUTPUT_ACTIVATIONS), ("loss", tuple(LOSSES))):
        value = arrays[key]
        if value.ndim != 0 or value.dtype.kind != "U" or str(value) not in allowed:
            fail(f"'{key}' must be one of {', '.join(allowed)}, got {_array_shown(value)}")
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
                fail(f"{key} has shape {_shape(value.shape)}, but sizes {_listed(sizes)} need {shape}")
            if not np.isfinite(value).all():
                fail(f"{key} holds NaN or infinite values")
            with np.errstate(over="ignore", invalid="ignore"):  # checked just below
                value = value.astype(np.float32, copy=False)
            if not np.isfinite(value).all():
                fail(f"{key} holds values beyond float32's range (±3.4e38), which would be "
                     f"infinite in the network")
            into.append(value)
    meta = {}
    if "meta" in arrays:
        meta = checked_meta(arrays["meta"], fail)
    try:
        net = Network(sizes, names["hidden"], names["output"], names["loss"], W, b)
    except ConfigError as exc:
        fail(str(exc))
    overflow = _overflow(net)
    if overflow:
        fail(f"its weights overflow: {overflow}")
    if not holds_history(arrays):
        if meta.get("format") == HISTORY_FORMAT_VERSION:
            fail("its metadata says it holds a history, but the history's arrays are missing; "
                 "the file is cut short")
        return net, meta, None
    return net, meta, History.from_arrays(arrays, net.architecture, where)


MAX_SIZES = 1001  # entries of 'sizes': 1,000 weight layers, far more than anything trains here
# The images a loaded network is run on once: the inputs are in [0, 1], so a blank and a full
# image are the extremes, and two fixed random ones mix them. A network whose activations are
# not finite on these would answer NaN.
PROBE_NAMES = ("a blank image", "an all-ones image", "a random image", "a random image")


def _probe() -> np.ndarray:
    """(4, 784) float32: PROBE_NAMES' images."""
    rng = np.random.default_rng(0)
    return np.vstack([np.zeros(N_INPUTS), np.ones(N_INPUTS),
                      rng.random((2, N_INPUTS))]).astype(np.float32)


def _overflow(net: Network) -> str:
    """'' if net's forward pass on the probe is finite at every layer, else what overflowed."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        activations = net.forward(_probe())
    for l, a in enumerate(activations[1:], start=1):
        finite = np.isfinite(a).all(axis=1)
        if not finite.all():
            layer = "its outputs" if l == net.n_layers else f"the activations of layer {l}"
            return (f"on {PROBE_NAMES[int(np.argmin(finite))]} {layer} are not finite "
                    f"(weights of {np.max([np.abs(w).max() for w in net.W]):.3g} at most)")
    return ""


def _listed(sizes) -> str:
    """Layer sizes for a message: the list, or its ends and how many there are."""
    sizes = [int(n) for n in sizes[:8]] + (["…", int(sizes[-1])] if len(sizes) > 9 else
                                           [int(n) for n in sizes[8:]])
    return "[" + ", ".join(map(str, sizes)) + "]"


def _array_shown(a: np.ndarray) -> str:
    """An array from the file for a message, without formatting more of it than a line holds."""
    if a.ndim == 0 and a.dtype.kind == "U":
        return repr(one_sentence(str(a)[:MAX_SHOWN], MAX_SHOWN))
    if a.ndim == 1 and a.dtype.kind in "iu" and len(a) and len(a) <= MAX_SIZES:
        listed = _listed(a)
        return listed if len(a) <= 9 else f"{listed} ({len(a):,} sizes)"
    if a.ndim == 1 and a.dtype.kind in "iufb" and len(a) <= 9:
        return str(a.tolist())
    return f"an array of shape {_shape(a.shape)} of {a.dtype}"


def _shape(shape: tuple) -> str:
    return str(shape) if len(shape) <= 8 else f"({', '.join(map(str, shape[:8]))}, …)"


# --- the metadata -----------------------------------------------------------------------------

MAX_META = 1_000_000  # characters of JSON; this program writes about a thousand
MAX_TEXT = 300  # characters kept of a string from the metadata (a path, a date, a note)
MAX_SHOWN = 60  # characters of a value from the file quoted in a message
MAX_DIGITS = 100  # of an integer in the metadata; a longer one reads as NaN (and is dropped)
MAX_COUNT = 10**15  # epochs, steps, images: more is no count this program made


def checked_meta(stored: np.ndarray, fail) -> dict:
    """The metadata stored in a model file (the 0-d string ``stored``), checked field by field.

    Refused with one sentence (``fail``), as they change what the file means:
      - ``stored`` not one JSON string of at most MAX_META characters, not valid JSON, not an
        object, or nested too deep;
      - ``format`` other than 1 or 2 (a file of a newer program);
      - ``dataset_name`` and ``class_names`` that are not short printable names
        (``_trained_on``), since they say what each output of the network means.
    Dropped, as they are only informative (the program goes on as if the file did not say;
    each has a safe default where it is read):
      - ``date`` and ``dataset`` unless strings, and any field this program does not know
        unless a string, a finite number or a bool; a string is kept as one printable line of
        at most MAX_TEXT characters (``one_sentence``: control characters, terminal escape
        sequences and lone surrogates escaped, the middle of a long one cut out);
      - ``epochs``, ``step``, ``train_images`` unless whole numbers from 0 to MAX_COUNT (not
        bool, float, NaN, null or anything else), ``test_accuracy`` unless a number in [0, 1],
        ``seconds`` unless a finite number of at least 0;
      - ``config`` unless an object, and within it each TrainConfig setting not of its type
        (sizes a list of whole numbers, names short printable strings, rates finite numbers,
        counts and the seed whole numbers of at least 0, any size: a seed above 2**31 stays),
        and every key TrainConfig does not have.
    An integer of more than MAX_DIGITS digits (json would refuse one of over 4,300 with a
    ValueError) is read as NaN, so it is dropped or refused as the field it is in says."""
    if stored.ndim != 0 or stored.dtype.kind != "U":
        fail(f"its metadata must be one JSON string, got {_array_shown(stored)}")
    text = str(stored)
    if len(text) > MAX_META:
        fail(f"its metadata is {len(text):,} characters long, more than the {MAX_META:,} a "
             f"model file's may be")
    try:
        raw = json.loads(text, parse_int=_parse_int)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        fail("its metadata is not valid JSON")
    if not isinstance(raw, dict):
        fail("its metadata is not a JSON object")
    meta = {}
    for key, value in raw.items():
        key = one_sentence(key, MAX_SHOWN)
        if key == "format":
            if not (_whole(value) and value in (FORMAT_VERSION, HISTORY_FORMAT_VERSION)):
                fail(f"its metadata's format must be {FORMAT_VERSION} or {HISTORY_FORMAT_VERSION}, "
                     f"got {_shown(value)}; was it saved by a newer version of this program?")
            meta[key] = value
        elif key in ("dataset_name", "class_names"):
            meta[key] = value  # checked by _trained_on below, and refused if wrong
        elif key in ("date", "dataset"):
            if isinstance(value, str):
                meta[key] = one_sentence(value, MAX_TEXT)
        elif key in ("epochs", "step", "train_images"):
            if _whole(value) and value <= MAX_COUNT:
                meta[key] = value
        elif key == "test_accuracy":
            if finite_number(value) and 0.0 <= value <= 1.0:
                meta[key] = value
        elif key == "seconds":
            if finite_number(value) and value >= 0.0:
                meta[key] = value
        elif key == "config":
            if isinstance(value, dict):
                meta[key] = _checked_config(value)
        elif isinstance(value, str):
            meta[key] = one_sentence(value, MAX_TEXT)
        elif isinstance(value, bool) or finite_number(value):
            meta[key] = value
    _trained_on(meta, fail)
    return meta


def _parse_int(digits: str):
    return int(digits) if len(digits) <= MAX_DIGITS else math.nan


def _whole(value) -> bool:
    """A whole number of at least 0 (not a bool, which JSON's true would give)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# TrainConfig's settings by the type its annotation gives them: what a saved config's entries
# must be to be kept (TrainConfig checks their values when the window builds one from them)
_SETTING_TYPES = {f.name: str(f.type) for f in dataclasses.fields(TrainConfig)}


def _checked_config(config: dict) -> dict:
    kept = {}
    for key, value in config.items():
        kind = _SETTING_TYPES.get(key)
        if kind == "str":
            ok = isinstance(value, str) and 0 < len(value) <= MAX_CLASS_NAME and value.isprintable()
        elif kind == "float":
            ok = finite_number(value)
        elif kind == "int":
            ok = _whole(value)
        elif kind == "tuple[int, ...]":
            ok = (isinstance(value, list) and 2 <= len(value) <= MAX_SIZES
                  and all(_whole(n) and 1 <= n <= MAX_LAYER for n in value))
        else:
            ok = False
        if ok:
            kept[key] = value
    return kept


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
