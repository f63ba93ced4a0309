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
             3. ~/.keras/datasets/mnist.npz, read with np.load (never through Keras, which
                deletes a cached file whose checksum it does not expect)
             4. tf.keras.datasets.mnist.load_data()
    fashion: 1. the path given by the user (``--data``)
             2. /usr/share/datasets/fashion-mnist, where Debian's package dataset-fashion-mnist
                puts its four gzipped IDX files
             3. ~/.keras/datasets/fashion-mnist, the folder where Keras keeps the same files
             4. tf.keras.datasets.fashion_mnist.load_data()

The last resort is the only place TensorFlow is imported, at that moment.
"""
from __future__ import annotations

import dataclasses
import gzip
import math
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import DataError
from core.npzio import check_readable_file, read_npz

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
                 download: bool = True) -> Dataset:
    """The dataset called name (a key of DATASETS) from path if given, else from the first of its
    places that has it (see the module's docstring); DataError naming every place tried if none."""
    known = spec(name)
    if path is not None:
        path = Path(path).expanduser()
        if not path.exists():
            raise DataError(f"cannot read dataset '{path}': no such file or folder")
        return _named(read_dataset(path), known)
    roots = {"assets": assets, "keras": keras_cache, "system": system}
    tried = []
    for root, place in known.places:
        candidate = roots[root] / place
        if candidate.exists():
            return _named(read_dataset(candidate), known)
        install = f"; sudo apt-get install {known.package}" if root == "system" and known.package else ""
        tried.append(f"{candidate} (missing{install})")
    if download:
        try:
            return _named(_download_with_tensorflow(known.keras), known)
        except DataError as exc:
            tried.append(f"TensorFlow's download ({exc})")
    raise DataError(f"no {known.title} found: tried --data (not given), " + ", ".join(tried))


def load_mnist(path=None, *, assets: Path = ASSETS, keras_cache: Path = KERAS_CACHE,
               download: bool = True) -> Dataset:
    """MNIST from the first place that has it (see the module's docstring)."""
    return load_dataset("mnist", path, assets=assets, keras_cache=keras_cache, download=download)


def _named(data: Dataset, known: Spec) -> Dataset:
    return dataclasses.replace(data, name=known.name, class_names=known.class_names)


def read_dataset(path: Path) -> Dataset:
    path = Path(path)
    if path.is_dir():
        arrays = {key: read_idx(_find_idx(path, key), key) for key in KEYS}
    else:
        limit = 2 * MAX_IMAGES * (math.prod(IMAGE_SHAPE) + 8)
        arrays = read_npz(path, "dataset", max_bytes=limit, error=DataError)
        missing = [k for k in KEYS if k not in arrays]
        if missing:
            raise DataError(f"cannot read dataset '{path}': it lacks {', '.join(missing)} "
                            f"(a dataset needs {', '.join(KEYS)})")
    return _checked(arrays, str(path))


def _checked(arrays: dict, source: str) -> Dataset:
    """Check shapes, types and labels, then scale: a Dataset or one sentence naming the fault."""
    where = f"dataset '{source}'"
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE or len(x) == 0:
            raise DataError(f"{where}: x_{split} must hold 28x28 images, shape (N, 28, 28), "
                            f"got {x.shape}")
        if x.dtype != np.uint8:
            raise DataError(f"{where}: x_{split} must hold pixel values 0-255 as uint8, got {x.dtype}")
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"{where}: y_{split} must be a list of whole-number labels, got "
                            f"shape {y.shape} of {y.dtype}")
        if len(y) != len(x):
            raise DataError(f"{where}: x_{split} has {len(x)} images but y_{split} has {len(y)} labels")
        if y.min() < 0 or y.max() > 9:
            bad = y[(y < 0) | (y > 9)][0]
            raise DataError(f"{where}: y_{split} holds the label {bad}, but labels must be digits 0-9")
    return Dataset(normalize(arrays["x_train"]), _labels(arrays["y_train"]),
                   normalize(arrays["x_test"]), _labels(arrays["y_test"]), source)


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


def read_idx(path: Path, key: str) -> np.ndarray:
    """One IDX file (LeCun's format), gzipped or not: images (N, 28, 28) or labels (N,), uint8.

    The header is a magic number 0x00 0x00 <type> <ndim> and ndim big-endian uint32 sizes. The
    sizes are checked before any data is read, and no more data is read than they claim."""
    check_readable_file(path, "dataset file", DataError)
    where = f"dataset file '{path}'"
    want_ndim = 3 if key.startswith("x") else 1
    try:
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
        opener = gzip.open if gzipped else open
        with opener(path, "rb") as f:
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
            n_bytes = math.prod(shape)
            data = _read_exactly(f, n_bytes)
            if len(data) < n_bytes:
                raise DataError(f"{where}: the header claims {shape[0]:,} items but the file "
                                f"ends after {len(data):,} of {n_bytes:,} bytes; it is truncated")
            if gzipped:
                f.read(1)  # reaching the end of the stream makes gzip verify its checksum
    except DataError:
        raise
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DataError(f"{where}: the file is damaged ({exc})") from None
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def _read_exactly(f, n: int, chunk: int = 1 << 24) -> bytes:
    """Up to n bytes, read in chunks so a header that lies about n allocates nothing large."""
    parts, have = [], 0
    while have < n:
        part = f.read(min(chunk, n - have))
        if not part:
            break
        parts.append(part)
        have += len(part)
    return b"".join(parts)


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
