"""MNIST and datasets of its format (Fashion-MNIST) as arrays: where each is looked for, how it is
checked, how it is scaled for the network, and what its ten classes are called.

A dataset of the format is 28x28 grey images of ten classes, labelled 0-9, in a Keras-style .npz
(x_train, y_train, x_test, y_test) or a folder of the four IDX files of LeCun's distribution,
gzipped or not. ``DATASETS`` names the ones this program knows; each is looked for in this order,
the first that exists wins (a file that exists but is broken is an error, not a reason to look
further):

    mnist:   1. the path given by the user (``--data``)
             2. assets/mnist.npz, shipped with the program (installed, it is
                core/assets/mnist.npz: see pyproject.toml)
             3. ~/.keras/datasets/mnist.npz, read as any .npz is here, by core.npzio (never
                through Keras, which deletes a cached file whose checksum it does not expect)
             4. tf.keras.datasets.mnist.load_data()
    fashion: 1. the path given by the user (``--data``)
             2. /usr/share/datasets/fashion-mnist, where Debian's package dataset-fashion-mnist
                puts its four gzipped IDX files
             3. ~/.keras/datasets/fashion-mnist, the folder where Keras keeps the same files
             4. tf.keras.datasets.fashion_mnist.load_data()

The last resort is the only place TensorFlow is imported, at that moment.

Every file is opened with ``core.npzio.open_regular``: a FIFO, a device or a socket given as a
dataset, or found in an IDX folder, is refused in one sentence instead of blocking or never
ending. Reads are bounded by what a header claims and by the bytes a file holds (``read_idx``),
and ``load_dataset(limit=N)`` reads only the first N images of each split where it can.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gzip
import math
import os
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import DataError
from core.npzio import (
    CHUNK,
    EXPANSION_FLOOR,
    MAX_EXPANSION,
    check_expansion,
    open_regular,
    read_exactly_into,
    read_npz_rows,
    skip,
)

CORE = Path(__file__).resolve().parent
# MNIST shipped with the program: in assets/ beside core/ in the checkout, in core/assets/ once
# installed (pyproject.toml puts it there, not in a folder as generic as site-packages/assets/)
ASSETS = CORE / "assets" if (CORE / "assets").is_dir() else CORE.parent / "assets"
KERAS_CACHE = Path.home() / ".keras" / "datasets"
SYSTEM_DATASETS = Path("/usr/share/datasets")  # Debian's dataset-* packages install here
IMAGE_SHAPE = (28, 28)
MAX_IMAGES = 1_000_000  # per split; a header claiming more is refused before reading
KEYS = ("x_train", "y_train", "x_test", "y_test")
IDX_FILES = {  # key -> the start of the file's name in LeCun's distribution
    "x_train": "train-images", "y_train": "train-labels",
    "x_test": "t10k-images", "y_test": "t10k-labels",
}


DIGITS = tuple(str(d) for d in range(10))  # MNIST's class names: label d is the digit d
N_CLASSES = len(DIGITS)
MAX_CLASS_NAME = 40  # characters; a class name is a caption, not a description


def reads_digits(class_names) -> bool:
    """True if the classes are the digits 0-9, label d the digit d: what the pad can read."""
    return tuple(class_names) == DIGITS


@dataclass(frozen=True)
class Spec:
    """A dataset this program knows: what it is called, its classes, and where it is looked for."""
    name: str  # as --dataset says it, and as brain.npz records it
    title: str  # as sentences say it
    class_names: tuple[str, ...]  # label k is class_names[k]
    places: tuple[tuple[str, str], ...]  # (root, file or folder): roots are load_dataset's arguments
    keras: str  # the module of tf.keras.datasets that downloads it, the last resort
    package: str | None = None  # the Debian package that installs it, for the message when absent

    @property
    def digits(self) -> bool:
        """Its classes are the digits 0-9, so the pad (drawn digits, photos of digits) applies."""
        return reads_digits(self.class_names)


DATASETS = {
    "mnist": Spec("mnist", "MNIST", DIGITS, (("assets", "mnist.npz"), ("keras", "mnist.npz")), "mnist"),
    "fashion": Spec("fashion", "Fashion-MNIST",
                    ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
                    (("system", "fashion-mnist"), ("keras", "fashion-mnist")), "fashion_mnist",
                    package="dataset-fashion-mnist"),
}


def spec(name: str) -> Spec:
    """The known dataset called name, or DataError naming the choices."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}") from None


def title(name: str) -> str:
    """How sentences name the dataset called name: 'Fashion-MNIST' for 'fashion'."""
    return DATASETS[name].title if name in DATASETS else f"'{name}'"


@dataclass(frozen=True)
class Dataset:
    """Images as rows of 784 floats in [0, 1] (float32) and labels 0-9 (uint8), with the name of
    the dataset and of its classes (MNIST's unless said: label d is the digit d)."""
    x_train: np.ndarray  # (N, 784)
    y_train: np.ndarray  # (N,)
    x_test: np.ndarray  # (M, 784)
    y_test: np.ndarray  # (M,)
    source: str  # where it was read from, for messages and for brain.npz
    name: str = "mnist"  # a key of DATASETS, or the name given to a dataset of the format
    class_names: tuple[str, ...] = DIGITS  # label k is class_names[k]

    @property
    def title(self) -> str:
        return title(self.name)

    @property
    def digits(self) -> bool:
        """Its classes are the digits 0-9, so the pad applies."""
        return reads_digits(self.class_names)

    def limit(self, n_train: int | None = None, n_test: int | None = None) -> "Dataset":
        """The first n_train training and n_test test samples (views, not copies)."""
        return Dataset(self.x_train[:n_train], self.y_train[:n_train],
                       self.x_test[:n_test], self.y_test[:n_test], self.source,
                       self.name, self.class_names)


def normalize(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, 28, 28) -> float32 rows (N, 784) in [0, 1]: what the network sees."""
    x = images.reshape(len(images), -1).astype(np.float32)
    x *= 1.0 / 255.0
    x.flags.writeable = False
    return x


def one_hot(labels: np.ndarray, n_classes: int = 10, dtype=np.float32) -> np.ndarray:
    """Digits (B,) -> target rows (B, 10) with a single 1."""
    y = np.zeros((len(labels), n_classes), dtype=dtype)
    y[np.arange(len(labels)), labels] = 1.0
    return y


def load_dataset(name: str = "mnist", path=None, *, assets: Path = ASSETS,
                 keras_cache: Path = KERAS_CACHE, system: Path = SYSTEM_DATASETS,
                 download: bool = True, limit: int | None = None) -> Dataset:
    """The dataset called name (a key of DATASETS) from path if given, else from the first of its
    places that has it (see the module's docstring); DataError naming every place tried if none.

    ``limit``: only the first ``limit`` training and test images (as ``Dataset.limit``), and
    only their bytes are read where the format allows (an IDX file, gzipped or not, and an .npz
    member stored in C order): a header claiming a million images costs what ``limit`` of
    them cost. The headers' counts are still checked in full."""
    known = spec(name)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise DataError(f"the limit must be a whole number of at least 1 images, got {limit!r}")
    if path is not None:
        path = Path(path).expanduser()
        _is_folder(path)  # DataError if it is not there or cannot be looked at
        return _named(read_dataset(path, limit=limit), known)
    roots = {"assets": assets, "keras": keras_cache, "system": system}
    tried = []
    for root, place in known.places:
        candidate = roots[root] / place
        if candidate.exists():
            return _named(read_dataset(candidate, limit=limit), known)
        install = f"; sudo apt-get install {known.package}" if root == "system" and known.package else ""
        tried.append(f"{candidate} (missing{install})")
    if download:
        try:
            data = _download_with_tensorflow(known.keras)
        except DataError as exc:
            tried.append(f"TensorFlow's download ({exc})")
        else:
            return _named(data.limit(limit, limit) if limit else data, known)
    raise DataError(f"no {known.title} found: tried --data (not given), " + ", ".join(tried))


def load_mnist(path=None, *, assets: Path = ASSETS, keras_cache: Path = KERAS_CACHE,
               download: bool = True, limit: int | None = None) -> Dataset:
    """MNIST from the first place that has it (see the module's docstring)."""
    return load_dataset("mnist", path, assets=assets, keras_cache=keras_cache, download=download,
                        limit=limit)


def _named(data: Dataset, known: Spec) -> Dataset:
    return dataclasses.replace(data, name=known.name, class_names=known.class_names)


def read_dataset(path: Path, *, limit: int | None = None) -> Dataset:
    """The dataset in the .npz or IDX folder at ``path`` (its first ``limit`` images of each
    split, if given), checked: DataError with one sentence naming the fault otherwise.

    Every read goes through ``core.npzio.open_regular``: a FIFO, a device (/dev/zero,
    /dev/urandom) or a socket, given as the file or linked into the folder, is refused by name
    and never opened for reading."""
    path = Path(path)
    if _is_folder(path):
        arrays, counts = {}, {}
        for key in KEYS:
            arrays[key], counts[key] = _read_idx(_find_idx(path, key), key, limit)
    else:
        max_bytes = 2 * MAX_IMAGES * (math.prod(IMAGE_SHAPE) + 8)
        rows = dict.fromkeys(KEYS, limit)
        arrays, shapes = read_npz_rows(path, "dataset", max_bytes, rows, error=DataError,
                                       max_expansion=MAX_EXPANSION)
        missing = [k for k in KEYS if k not in arrays]
        if missing:
            raise DataError(f"cannot read dataset '{path}': it lacks {', '.join(missing)} "
                            f"(a dataset needs {', '.join(KEYS)})")
        counts = {k: shapes[k][0] if shapes[k] else 0 for k in KEYS}
    return _checked(arrays, str(path), counts)


def _is_folder(path: Path) -> bool:
    """Whether path is a folder (else it is read as a file); DataError in one sentence if it is
    not there or the system refuses to look (a name too long, a loop of links)."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except FileNotFoundError:
        raise DataError(f"cannot read dataset '{path}': no such file or folder") from None
    except OSError as exc:
        raise DataError(f"cannot read dataset '{path}': {exc.strerror or exc}") from None


def _checked(arrays: dict, source: str, counts: dict | None = None) -> Dataset:
    """Check shapes, types and labels, then scale: a Dataset or one sentence naming the fault.
    ``counts``: how many items each array's file claims, where only the first ones were read."""
    where = f"dataset '{source}'"
    counts = counts or {k: len(a) if a.ndim else 0 for k, a in arrays.items()}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE or len(x) == 0:
            raise DataError(f"{where}: x_{split} must hold 28x28 images, shape (N, 28, 28), "
                            f"got {_shape(x.shape, counts[f'x_{split}'])}")
        if x.dtype != np.uint8:
            raise DataError(f"{where}: x_{split} must hold pixel values 0-255 as uint8, got {x.dtype}")
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"{where}: y_{split} must be a list of whole-number labels, got "
                            f"shape {_shape(y.shape, counts[f'y_{split}'])} of {y.dtype}")
        n_x, n_y = counts[f"x_{split}"], counts[f"y_{split}"]
        if n_y != n_x:
            raise DataError(f"{where}: x_{split} has {n_x} images but y_{split} has {n_y} labels")
        if len(y) and (y.min() < 0 or y.max() > 9):
            bad = y[(y < 0) | (y > 9)][0]
            raise DataError(f"{where}: y_{split} holds the label {bad}, but labels must be digits 0-9")
    return Dataset(normalize(arrays["x_train"]), _labels(arrays["y_train"]),
                   normalize(arrays["x_test"]), _labels(arrays["y_test"]), source)


def _shape(shape: tuple, count: int) -> str:
    """The shape a file claims for an array of which perhaps only the first rows were read."""
    if len(shape) > 4:
        return f"({', '.join(map(str, shape[:4]))}, … {len(shape)} dimensions)"
    return str((count, *shape[1:]) if shape else shape)


def _labels(y: np.ndarray) -> np.ndarray:
    y = y.astype(np.uint8)
    y.flags.writeable = False
    return y


def _find_idx(folder: Path, key: str) -> Path:
    stem = IDX_FILES[key]
    try:
        found = sorted(p for p in folder.iterdir() if p.name.startswith(stem) and "idx" in p.name)
    except OSError as exc:
        raise DataError(f"cannot read dataset '{folder}': {exc.strerror or exc}") from None
    if not found:
        raise DataError(f"cannot read dataset '{folder}': no {stem}-idx file in it (an IDX "
                        f"folder needs {', '.join(s + '-idx…' for s in IDX_FILES.values())})")
    return found[0]


def read_idx(path: Path, key: str, limit: int | None = None) -> np.ndarray:
    """One IDX file (LeCun's format), gzipped or not: images (N, 28, 28) or labels (N,), uint8;
    only the first ``limit`` items if given (the header's N is checked all the same).

    The header is a magic number 0x00 0x00 <type> <ndim> and ndim big-endian uint32 sizes. The
    sizes are checked before any data is read, and every read is bounded twice: by what the
    header claims (N at most MAX_IMAGES, or ``limit``), and by the bytes the file actually
    holds. A plain file must be exactly as long as its header says (known before reading). A
    gzipped one is decompressed a chunk at a time into one buffer no larger than its compressed
    bytes can plausibly expand to (``npzio.check_expansion``): data that ends early is
    "truncated", data that goes on past that bound is a decompression bomb (a 762 KB file of
    zeros claiming a million images is refused after 38 MB), and data that goes on past the
    header's claim is damaged; reaching its end verifies its checksum. With a ``limit``, only
    the first ``limit`` items are read: the rest of a gzipped file is not decompressed, so not
    checked. The file is opened with ``npzio.open_regular``: a FIFO or a device is refused."""
    return _read_idx(path, key, limit)[0]


def _read_idx(path: Path, key: str, limit: int | None) -> tuple[np.ndarray, int]:
    """``read_idx``, and how many items the header claims."""
    where = f"dataset file '{path}'"
    want_ndim = 3 if key.startswith("x") else 1
    try:
        with open_regular(path, "dataset file", DataError) as raw:
            stored = os.fstat(raw.fileno()).st_size
            gzipped = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            with (gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else contextlib.nullcontext(raw)) as f:
                magic = f.read(4)
                if len(magic) < 4 or magic[:2] != b"\0\0" or magic[2] != 0x08:
                    raise DataError(f"{where}: not an IDX file of bytes (magic {magic.hex() or 'missing'})")
                ndim = magic[3]
                if ndim != want_ndim:
                    raise DataError(f"{where}: expected {'images' if want_ndim == 3 else 'labels'} "
                                    f"with {want_ndim} dimensions, the header says {ndim}")
                header = f.read(4 * ndim)
                if len(header) != 4 * ndim:
                    raise DataError(f"{where}: the header is cut short")
                shape = tuple(int(d) for d in np.frombuffer(header, dtype=">u4"))
                if want_ndim == 3 and shape[1:] != IMAGE_SHAPE:
                    raise DataError(f"{where}: images must be 28x28, the header says {shape[1]}x{shape[2]}")
                if shape[0] > MAX_IMAGES:
                    raise DataError(f"{where}: the header claims {shape[0]:,} items, more than the "
                                    f"{MAX_IMAGES:,} accepted; the file is damaged or not of MNIST's format")
                claimed = math.prod(shape)
                head = 4 + 4 * ndim
                if not gzipped and stored != head + claimed:
                    raise DataError(_wrong_length(where, shape[0], claimed, stored - head))
                n = shape[0] if limit is None else min(limit, shape[0])
                needed = n * (claimed // shape[0]) if shape[0] else 0
                # what the bytes present can hold: exactly the file's length, or as much as
                # they can plausibly expand to (a claim of more is read that far, no further)
                plausible = max(EXPANSION_FLOOR, MAX_EXPANSION * stored) - head if gzipped else needed
                data = np.empty(min(needed, plausible), dtype=np.uint8)
                got = read_exactly_into(f, memoryview(data))
                if got < len(data) or (needed > len(data) and not f.read(1)):
                    raise DataError(_wrong_length(where, shape[0], claimed, got))
                if needed > len(data):  # the data goes on, so it is a bomb, not a short file
                    check_expansion(head + claimed, stored, where, DataError)
                if gzipped and n == shape[0] and skip(f, CHUNK):
                    # (reaching the end, gzip verifies its checksum)
                    raise DataError(f"{where}: the header claims {shape[0]:,} items of "
                                    f"{claimed // max(shape[0], 1):,} bytes but the file holds more "
                                    f"data after them; it is damaged")
                data = data.reshape((n, *shape[1:]))
    except DataError:
        raise
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DataError(f"{where}: the file is damaged ({exc})") from None
    return data, shape[0]


def _wrong_length(where: str, items: int, claimed: int, held: int) -> str:
    if held < claimed:
        return (f"{where}: the header claims {items:,} items but the file ends after "
                f"{held:,} of {claimed:,} bytes; it is truncated")
    return (f"{where}: the header claims {items:,} items in {claimed:,} bytes but the file "
            f"holds {held:,}; it is damaged or not of MNIST's format")


def _download_with_tensorflow(module: str = "mnist") -> Dataset:
    """The last resort: TensorFlow downloads tf.keras.datasets.<module> into ~/.keras/datasets."""
    try:
        import tensorflow as tf  # costly (seconds, hundreds of MB): imported only here
    except ImportError:
        raise DataError("TensorFlow is not installed") from None
    try:
        (x_train, y_train), (x_test, y_test) = getattr(tf.keras.datasets, module).load_data()
    except Exception as exc:  # network errors come in many types; all mean the same here
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DataError(f"failed: {first_line}") from None
    return _checked({"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test},
                    f"tf.keras.datasets.{module}")
