"""core.data: MNIST from a Keras-style .npz or a folder of IDX files, the order in which places are
searched, and the one-sentence DataError that every kind of bad dataset gets.

Every dataset here is a tiny synthetic one written into tmp_path; the real assets/mnist.npz is read
once. TensorFlow is never imported for real: an autouse fixture makes ``import tensorflow`` fail,
and the download tests put a fake module in its place.
"""
from __future__ import annotations

import gzip
import io
import os
import struct
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.data import ASSETS, Dataset, load_mnist, normalize, one_hot
from core.errors import DataError
from tests import hostile
from tests.hostile import PickleTrap, cheaply, npy_member

# The names of the four files in LeCun's distribution, spelt out here rather than taken from
# core.data, so a typo there cannot hide from these tests.
IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte",
}
N_TRAIN, N_TEST = 12, 7


# --- helpers ----------------------------------------------------------------------------------


def refused(path, *phrases: str, error=None):
    """hostile.refused, expecting a DataError unless told otherwise."""
    return hostile.refused(path, *phrases, error=error or DataError)


def mnist_arrays(n_train: int = N_TRAIN, n_test: int = N_TEST, seed: int = 0) -> dict[str, np.ndarray]:
    """A tiny raw MNIST as Keras returns it: uint8 images (N, 28, 28) and uint8 digits (N,).
    The first training image holds both extremes, 0 and 255."""
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
    x_train[0, 0, :2] = (0, 255)
    return {
        "x_train": x_train,
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": ((np.arange(n_test) * 3) % 10).astype(np.uint8),
    }


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    np.savez(path, **arrays)
    return path


def idx_bytes(array: np.ndarray, type_code: int = 0x08, shape=None) -> bytes:
    """array in LeCun's IDX format: 0x00 0x00 <type> <ndim>, ndim big-endian uint32 sizes, data.
    ``shape`` overrides the sizes written in the header (to make it lie)."""
    shape = array.shape if shape is None else shape
    return (bytes([0, 0, type_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
            + array.tobytes())


def write_idx_folder(folder: Path, arrays: dict[str, np.ndarray], gz: bool) -> Path:
    """The four IDX files of ``arrays`` in ``folder``, each gzipped (name + .gz) or plain."""
    folder.mkdir(exist_ok=True)
    for key, name in IDX_NAMES.items():
        data = idx_bytes(arrays[key])
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data, mtime=0))
        else:
            (folder / name).write_bytes(data)
    return folder


def idx_folder_with(folder: Path, key: str, data: bytes, gz: bool = False) -> Path:
    """A good plain IDX folder whose ``key`` file is replaced by ``data`` (gzipped if ``gz``);
    returns the path of that file."""
    write_idx_folder(folder, mnist_arrays(), gz=False)
    plain = folder / IDX_NAMES[key]
    plain.unlink()
    target = folder / f"{IDX_NAMES[key]}.gz" if gz else plain
    target.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return target


def npz_with_member(path: Path, arrays: dict[str, np.ndarray], name: str, member: bytes) -> Path:
    """An .npz of ``arrays`` plus (or instead of) a raw member ``name``.npy holding ``member``."""
    with zipfile.ZipFile(path, "w") as archive:
        for key, value in arrays.items():
            if key != name:
                out = io.BytesIO()
                np.lib.format.write_array(out, value, allow_pickle=False)
                archive.writestr(f"{key}.npy", out.getvalue())
        archive.writestr(f"{name}.npy", member)
    return path


def fake_tensorflow(load_data) -> types.SimpleNamespace:
    """Just enough of TensorFlow for ``tf.keras.datasets.mnist.load_data()``."""
    mnist = types.SimpleNamespace(load_data=load_data)
    return types.SimpleNamespace(keras=types.SimpleNamespace(datasets=types.SimpleNamespace(mnist=mnist)))


def assert_same_dataset(a: Dataset, b: Dataset) -> None:
    for key in ("x_train", "y_train", "x_test", "y_test"):
        x, y = getattr(a, key), getattr(b, key)
        assert x.dtype == y.dtype and x.shape == y.shape, key
        np.testing.assert_array_equal(x, y, err_msg=key)


@pytest.fixture(autouse=True)
def no_real_tensorflow(monkeypatch):
    """``import tensorflow`` fails unless a test installs a fake: nothing here may download."""
    monkeypatch.setitem(sys.modules, "tensorflow", None)


@pytest.fixture
def places(tmp_path):
    """Empty stand-ins for assets/ and ~/.keras/datasets/."""
    assets, keras = tmp_path / "assets", tmp_path / "keras"
    assets.mkdir()
    keras.mkdir()
    return types.SimpleNamespace(assets=assets, keras=keras)


def search(places, download: bool = False) -> Dataset:
    return load_mnist(assets=places.assets, keras_cache=places.keras, download=download)


# --- normalize, one_hot, Dataset.limit --------------------------------------------------------


def test_normalize_gives_read_only_float32_rows_in_unit_range():
    images = mnist_arrays()["x_train"]
    before = images.copy()
    x = normalize(images)
    assert x.dtype == np.float32 and x.shape == (N_TRAIN, 784)
    assert not x.flags.writeable
    assert x[0, 0] == 0.0 and x[0, 1] == 1.0  # the extremes land exactly on 0 and 1
    assert x.min() >= 0.0 and x.max() <= 1.0
    # pixel (row r, column c) of image i becomes x[i, 28 r + c]
    np.testing.assert_allclose(x, images.reshape(N_TRAIN, 784) / 255.0, rtol=1e-6)
    assert x[3, 28 * 5 + 7] == pytest.approx(images[3, 5, 7] / 255.0, abs=1e-7)
    np.testing.assert_array_equal(images, before)  # the input is left alone


def test_one_hot_puts_a_single_one_at_each_label():
    labels = np.array([3, 0, 9, 3], dtype=np.uint8)
    y = one_hot(labels)
    assert y.shape == (4, 10) and y.dtype == np.float32
    np.testing.assert_array_equal(y.sum(axis=1), 1.0)
    np.testing.assert_array_equal(y.argmax(axis=1), labels)
    assert set(np.unique(y)) == {0.0, 1.0}


def test_one_hot_honours_class_count_and_dtype():
    y = one_hot(np.array([0, 2]), n_classes=3, dtype=np.float64)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, [[1, 0, 0], [0, 0, 1]])


def test_limit_takes_the_leading_samples_as_read_only_views(tmp_path):
    data = load_mnist(write_npz(tmp_path / "d.npz", mnist_arrays()))
    small = data.limit(5, 2)
    assert small.x_train.shape == (5, 784) and small.y_train.shape == (5,)
    assert small.x_test.shape == (2, 784) and small.y_test.shape == (2,)
    np.testing.assert_array_equal(small.y_train, data.y_train[:5])
    np.testing.assert_array_equal(small.x_test, data.x_test[:2])
    assert np.shares_memory(small.x_train, data.x_train)  # views, not copies
    assert not small.x_train.flags.writeable
    assert small.source == data.source
    everything = data.limit()
    assert len(everything.x_train) == N_TRAIN and len(everything.x_test) == N_TEST


# --- reading a good dataset -------------------------------------------------------------------


@pytest.mark.parametrize("savez", [np.savez, np.savez_compressed], ids=["stored", "compressed"])
def test_keras_style_npz_loads_normalised_and_read_only(tmp_path, savez):
    raw = mnist_arrays()
    path = tmp_path / "mnist.npz"
    savez(path, **raw)
    data = load_mnist(path)
    assert data.source == str(path)
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        assert x.shape == (n, 784) and x.dtype == np.float32
        assert y.shape == (n,) and y.dtype == np.uint8
        assert not x.flags.writeable and not y.flags.writeable
        assert 0.0 <= x.min() and x.max() <= 1.0
        np.testing.assert_allclose(x, raw[f"x_{split}"].reshape(n, 784) / 255.0, rtol=1e-6)
        np.testing.assert_array_equal(y, raw[f"y_{split}"])
    assert data.x_train.max() == 1.0


def test_wider_integer_labels_are_accepted_as_uint8(tmp_path):
    raw = mnist_arrays()
    raw["y_train"] = raw["y_train"].astype(np.int64)
    data = load_mnist(write_npz(tmp_path / "d.npz", raw))
    assert data.y_train.dtype == np.uint8
    np.testing.assert_array_equal(data.y_train, raw["y_train"])


def test_tilde_in_the_path_means_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    write_npz(tmp_path / "mine.npz", mnist_arrays())
    assert load_mnist("~/mine.npz").source == str(tmp_path / "mine.npz")


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzipped"])
def test_idx_folder_gives_exactly_the_arrays_of_the_npz(tmp_path, gz):
    raw = mnist_arrays()
    from_npz = load_mnist(write_npz(tmp_path / "mnist.npz", raw))
    folder = write_idx_folder(tmp_path / "idx", raw, gz=gz)
    from_idx = load_mnist(folder)
    assert_same_dataset(from_idx, from_npz)
    assert from_idx.source == str(folder)
    assert not from_idx.x_train.flags.writeable and not from_idx.y_test.flags.writeable


def test_bundled_mnist_is_the_real_one(tmp_path):
    """assets/mnist.npz (read once here) is the genuine 60,000 + 10,000 images."""
    data = load_mnist(keras_cache=tmp_path, download=False)  # default assets
    assert data.source == str(ASSETS / "mnist.npz")
    assert data.x_train.shape == (60000, 784) and data.x_test.shape == (10000, 784)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.uint8
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    assert data.y_train[0] == 5 and data.y_test[0] == 7  # the famous first digits
    assert set(np.unique(data.y_train)) == set(range(10))
    assert 5000 < np.bincount(data.y_train).min()  # every digit is well represented


# --- where MNIST is looked for ------------------------------------------------------------------


def test_assets_come_before_the_keras_cache(places):
    write_npz(places.assets / "mnist.npz", mnist_arrays(seed=1))
    write_npz(places.keras / "mnist.npz", mnist_arrays(seed=2))
    data = search(places)
    assert data.source == str(places.assets / "mnist.npz")
    assert_same_dataset(data, load_mnist(places.assets / "mnist.npz"))


def test_keras_cache_is_used_when_assets_lack_mnist(places):
    write_npz(places.keras / "mnist.npz", mnist_arrays(seed=2))
    data = search(places)
    assert data.source == str(places.keras / "mnist.npz")
    assert_same_dataset(data, load_mnist(places.keras / "mnist.npz"))


def test_a_broken_file_in_assets_is_an_error_not_skipped(places):
    """A damaged assets/mnist.npz is reported, even though the Keras cache holds a good one."""
    broken = places.assets / "mnist.npz"
    broken.write_bytes(b"not a zip file at all")
    write_npz(places.keras / "mnist.npz", mnist_arrays())
    with refused(broken, "not a valid .npz file"):
        search(places)


def test_nothing_found_without_download_names_every_place_tried(places):
    with refused(places.assets / "mnist.npz", "no MNIST found", str(places.keras / "mnist.npz"),
                 "missing"):
        search(places, download=False)


def test_tensorflow_is_not_consulted_when_a_file_is_found(places, monkeypatch):
    calls = []
    monkeypatch.setitem(sys.modules, "tensorflow", fake_tensorflow(lambda: calls.append(1)))
    write_npz(places.keras / "mnist.npz", mnist_arrays())
    search(places, download=True)
    assert calls == []


def test_download_through_tensorflow_when_nothing_is_cached(places, monkeypatch):
    raw = mnist_arrays(seed=3)
    fake = fake_tensorflow(lambda: ((raw["x_train"], raw["y_train"]), (raw["x_test"], raw["y_test"])))
    monkeypatch.setitem(sys.modules, "tensorflow", fake)
    data = search(places, download=True)
    assert data.source == "tf.keras.datasets.mnist"
    assert data.x_train.dtype == np.float32 and data.x_train.shape == (N_TRAIN, 784)
    np.testing.assert_allclose(data.x_test, raw["x_test"].reshape(N_TEST, 784) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data.y_train, raw["y_train"])


def _raise(exc):
    def load_data():
        raise exc
    return load_data


@pytest.mark.parametrize("tensorflow, phrase", [
    pytest.param(None, "TensorFlow is not installed", id="not installed"),
    pytest.param(fake_tensorflow(_raise(OSError(
        "URL fetch failure on https://storage.googleapis.com/mnist.npz: None -- [Errno -3] "
        "Temporary failure in name resolution\nsecond line of a long report"))),
        "URL fetch failure on https://storage.googleapis.com/mnist.npz", id="no network"),
    pytest.param(fake_tensorflow(_raise(ConnectionResetError())), "ConnectionResetError",
                 id="silent exception"),
    pytest.param(fake_tensorflow(lambda: ((np.zeros((3, 28, 28)), np.zeros(3, np.uint8)),) * 2),
                 "uint8", id="bad arrays"),
])
def test_a_failed_download_is_reported_with_every_place_tried(places, monkeypatch, tensorflow, phrase):
    """One line: both files tried, then what went wrong with TensorFlow (its first line only)."""
    monkeypatch.setitem(sys.modules, "tensorflow", tensorflow)
    with refused(places.assets / "mnist.npz", str(places.keras / "mnist.npz"), "TensorFlow",
                 phrase) as info:
        search(places, download=True)
    assert "second line" not in str(info.value)


# --- bad .npz datasets --------------------------------------------------------------------------


def _set(key, value_of):
    """A change to the raw arrays: ``key`` becomes ``value_of(arrays)``."""
    def change(arrays):
        arrays[key] = value_of(arrays)
    return change


def _drop(*keys):
    def change(arrays):
        for key in keys:
            del arrays[key]
    return change


def _with_label(key, label, dtype):
    def value_of(arrays):
        y = arrays[key].astype(dtype)
        y[-1] = label
        return y
    return _set(key, value_of)


BAD_ARRAYS = [
    pytest.param(_set("x_train", lambda a: a["x_train"][:, :, :27].copy()),
                 ["x_train", "(N, 28, 28)", "(12, 28, 27)"], id="images 28x27"),
    pytest.param(_set("x_test", lambda a: a["x_test"].reshape(N_TEST, 784)),
                 ["x_test", "(N, 28, 28)", "(7, 784)"], id="flat images"),
    pytest.param(_set("x_train", lambda a: a["x_train"][:0]), ["x_train", "(0, 28, 28)"],
                 id="no images"),
    pytest.param(_set("x_train", lambda a: a["x_train"] / 255.0), ["x_train", "uint8", "float64"],
                 id="float64 images"),
    pytest.param(_with_label("y_train", 10, np.uint8), ["y_train", "label 10", "0-9"], id="label 10"),
    pytest.param(_with_label("y_test", -1, np.int64), ["y_test", "label -1", "0-9"], id="label -1"),
    pytest.param(_set("y_train", lambda a: a["y_train"].astype(np.float32)),
                 ["y_train", "whole-number labels", "float32"], id="float labels"),
    pytest.param(_set("y_train", lambda a: a["y_train"][:, None]),
                 ["y_train", "whole-number labels", "(12, 1)"], id="labels as a column"),
    pytest.param(_set("y_train", lambda a: a["y_train"][:-1]),
                 ["x_train has 12 images but y_train has 11 labels"], id="count mismatch"),
    pytest.param(_drop("y_test"), ["lacks y_test", "x_train, y_train, x_test, y_test"],
                 id="missing key"),
    pytest.param(_drop("x_test", "y_test"), ["lacks x_test, y_test"], id="missing keys"),
]


@pytest.mark.parametrize("change, phrases", BAD_ARRAYS)
def test_bad_arrays_in_an_npz_are_refused(tmp_path, change, phrases):
    arrays = mnist_arrays()
    change(arrays)
    path = write_npz(tmp_path / "bad.npz", arrays)
    with refused(path, *phrases):
        load_mnist(path)


def test_bad_arrays_in_an_idx_folder_are_refused(tmp_path):
    arrays = mnist_arrays()
    arrays["y_train"] = arrays["y_train"][:-1]
    folder = write_idx_folder(tmp_path / "idx", arrays, gz=True)
    with refused(folder, "x_train has 12 images but y_train has 11 labels"):
        load_mnist(folder)


def _random_bytes(path: Path) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(4096))


def _truncated(path: Path) -> None:
    write_npz(path, mnist_arrays())
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


@pytest.mark.parametrize("make, phrase", [
    pytest.param(_random_bytes, "not a valid .npz file", id="random bytes"),
    pytest.param(_truncated, "not a valid .npz file", id="truncated"),
    pytest.param(lambda p: p.write_bytes(b""), "not a valid .npz file", id="empty"),
])
def test_a_file_that_is_not_an_npz_is_refused(tmp_path, make, phrase):
    path = tmp_path / "mnist.npz"
    make(path)
    with refused(path, phrase):
        load_mnist(path)


def test_an_npz_with_pickled_objects_is_refused_without_running_them(tmp_path):
    marker = tmp_path / "code-ran"
    objects = np.empty(N_TRAIN, dtype=object)
    objects[:] = [PickleTrap(marker) for _ in range(N_TRAIN)]
    arrays = mnist_arrays()
    arrays["x_train"] = objects
    path = tmp_path / "evil.npz"
    np.savez(path, allow_pickle=True, **arrays)
    with refused(path, "x_train", "Python objects"):
        load_mnist(path)
    assert not marker.exists()


def test_an_npz_header_claiming_a_huge_array_is_refused_before_allocating(tmp_path):
    path = npz_with_member(tmp_path / "huge.npz", mnist_arrays(), "x_train",
                           npy_member("|u1", (1_000_000_000, 28, 28), b"\0" * 64))
    with cheaply(), refused(path, "x_train", "(1000000000, 28, 28)"):
        load_mnist(path)


def test_an_npz_header_claiming_more_than_it_holds_is_refused(tmp_path):
    path = npz_with_member(tmp_path / "short.npz", mnist_arrays(), "x_train",
                           npy_member("|u1", (N_TRAIN, 28, 28), b"\0" * 100))
    with refused(path, "x_train", "damaged"):
        load_mnist(path)


# --- bad places ---------------------------------------------------------------------------------


def test_a_path_that_does_not_exist_is_refused(tmp_path):
    path = tmp_path / "nowhere" / "mnist.npz"
    with refused(path, "no such file or folder"):
        load_mnist(path)


@pytest.mark.skipif(getattr(os, "geteuid", lambda: -1)() == 0,
                    reason="root reads files whatever their permission bits say")
def test_a_file_without_read_permission_is_refused(tmp_path):
    path = write_npz(tmp_path / "locked.npz", mnist_arrays())
    path.chmod(0)
    try:
        with refused(path, "permission denied"):
            load_mnist(path)
    finally:
        path.chmod(0o600)


def test_a_folder_without_read_permission_is_refused(tmp_path, monkeypatch):
    """Listing an unreadable folder fails as the OS makes it fail for a non-root user."""
    folder = write_idx_folder(tmp_path / "idx", mnist_arrays(), gz=False)

    def iterdir(self):
        raise PermissionError(13, "Permission denied", str(self))
    monkeypatch.setattr(Path, "iterdir", iterdir)
    with refused(folder, "ermission denied"):
        load_mnist(folder)


@pytest.mark.parametrize("missing", ["x_test", "y_train"])
def test_an_idx_folder_missing_a_file_is_refused(tmp_path, missing):
    folder = write_idx_folder(tmp_path / "idx", mnist_arrays(), gz=False)
    (folder / IDX_NAMES[missing]).unlink()
    stem = IDX_NAMES[missing].split("-idx")[0]
    with refused(folder, f"no {stem}-idx file"):
        load_mnist(folder)


def test_an_empty_folder_is_refused(tmp_path):
    with refused(tmp_path, "no train-images-idx file"):
        load_mnist(tmp_path)


# --- bad IDX files ------------------------------------------------------------------------------

_IMAGES = mnist_arrays()["x_train"]  # only read, to build the bad files below
_LABELS = mnist_arrays()["y_train"]

BAD_IDX = [
    pytest.param("x_train", idx_bytes(_IMAGES, type_code=0x0D), "not an IDX file of bytes",
                 id="float type code"),
    pytest.param("y_train", b"PK\x03\x04" + bytes(40), "not an IDX file", id="wrong magic"),
    pytest.param("y_test", b"", "magic missing", id="empty"),
    pytest.param("y_train", idx_bytes(_IMAGES[:N_TRAIN]), "expected labels with 1 dimensions",
                 id="images as labels"),
    pytest.param("x_train", idx_bytes(_IMAGES[:, :, :27]), "must be 28x28", id="28x27 images"),
    pytest.param("x_train", idx_bytes(_IMAGES, shape=(N_TRAIN, 1_000_000, 28)), "must be 28x28",
                 id="absurd rows"),
    pytest.param("x_train", idx_bytes(_IMAGES)[:4 + 4], "cut short", id="header cut after a size"),
    pytest.param("x_train", idx_bytes(_IMAGES)[:4 + 6], "cut short", id="header cut inside a size"),
    pytest.param("x_test", idx_bytes(_IMAGES)[:16 + 784 * 3 + 5], "truncated",
                 id="data cut short"),
]


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzipped"])
@pytest.mark.parametrize("key, data, phrase", BAD_IDX)
def test_a_bad_idx_file_is_refused_naming_it(tmp_path, key, data, phrase, gz):
    bad = idx_folder_with(tmp_path, key, data, gz=gz)
    with refused(bad, phrase):
        load_mnist(tmp_path)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzipped"])
@pytest.mark.parametrize("key, data, phrase", [
    pytest.param("x_train", idx_bytes(_IMAGES, shape=(4_000_000_000, 28, 28)), "4,000,000,000 items",
                 id="4e9 images"),
    pytest.param("y_test", idx_bytes(_LABELS, shape=(4_000_000_000,)), "4,000,000,000 items",
                 id="4e9 labels"),
    # 1,000,000 images is allowed (784 MB), but only three are there: read no more than exist.
    pytest.param("x_train", idx_bytes(_IMAGES[:3], shape=(1_000_000, 28, 28)), "truncated",
                 id="1e6 claimed, 3 present"),
])
def test_an_idx_header_claiming_absurd_sizes_is_refused_before_allocating(tmp_path, key, data,
                                                                         phrase, gz):
    bad = idx_folder_with(tmp_path, key, data, gz=gz)
    with cheaply(), refused(bad, phrase):
        load_mnist(tmp_path)


def _gzip_damaged(how: str) -> bytes:
    data = bytearray(gzip.compress(idx_bytes(_IMAGES), mtime=0))
    if how == "truncated":
        return bytes(data[:len(data) // 2])
    if how == "corrupt":
        data[10] = 0xFF  # the first deflate block now has the reserved type 11: invalid
    elif how == "bad checksum":
        data[-8] ^= 0xFF  # the CRC-32 of the uncompressed data, checked at the end of the stream
    return bytes(data)


@pytest.mark.parametrize("how", ["truncated", "corrupt", "bad checksum"])
def test_a_damaged_gzip_stream_is_refused(tmp_path, how):
    """The gzip layer's own faults: a stream cut short, an undecodable stream, and a stream whose
    CRC-32 shows the data changed. Each is DataError 'damaged', never a traceback or bad data."""
    folder = write_idx_folder(tmp_path, mnist_arrays(), gz=False)
    (folder / IDX_NAMES["x_train"]).unlink()
    bad = folder / f"{IDX_NAMES['x_train']}.gz"
    bad.write_bytes(_gzip_damaged(how))
    with refused(bad, "damaged"):
        load_mnist(folder)
