"""core.model_io: brain.npz. A save -> load round trip is exact; a save that fails leaves the
previous file as it was and no temporary file behind; every kind of bad model file gets a
one-sentence ModelFileError naming the file, before anything large is allocated or any pickled
code can run.
"""
from __future__ import annotations

import errno
import json
import os
import pickle
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from core.errors import ModelFileError
from core.model_io import FORMAT_VERSION, load_model, save_model
from core.network import Network
from tests import hostile
from tests.hostile import PickleTrap, cheaply, drop, npy_member, poke, replace_array

ARCHITECTURES = [
    pytest.param((784, 10), "sigmoid", "sigmoid", "mse", id="784-10 sigmoid mse"),
    pytest.param((784, 32, 16, 10), "relu", "softmax", "ce", id="784-32-16-10 relu softmax ce"),
    pytest.param((784, 20, 20, 20, 10), "tanh", "sigmoid", "ce", id="784-20-20-20-10 tanh sigmoid ce"),
]
USER_META = {"epochs": 3, "test_accuracy": 0.9731, "note": "chiffres écrits à la main ✓",
             "config": {"sizes": [784, 32, 16, 10], "lr": 0.001, "optimizer": "adam"}}


# --- helpers ----------------------------------------------------------------------------------


def refused(path, *phrases: str, error=None):
    """hostile.refused, expecting a ModelFileError unless told otherwise."""
    return hostile.refused(path, *phrases, error=error or ModelFileError)


def network(sizes=(784, 8, 10), hidden="relu", output="softmax", loss="ce", seed=0) -> Network:
    """A seeded network with non-zero biases (initialised ones are zero, which would prove
    little about biases surviving a round trip)."""
    net = Network.initialised(sizes, hidden, output, loss, seed=seed)
    rng = np.random.default_rng(seed + 1)
    for b in net.b:
        b[:] = rng.standard_normal(b.shape)
    return net


def saved(path: Path, net: Network | None = None, meta: dict | None = None) -> Path:
    save_model(path, net or network(), meta)
    return path


def arrays_of(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def assert_same_network(a: Network, b: Network) -> None:
    assert a.sizes == b.sizes
    assert (a.hidden.name, a.output.name, a.loss.name) == (b.hidden.name, b.output.name, b.loss.name)
    for l in range(a.n_layers):
        for name, x, y in (("W", a.W[l], b.W[l]), ("b", a.b[l], b.b[l])):
            assert x.dtype == y.dtype == np.float32, f"{name}{l}"
            assert x.shape == y.shape, f"{name}{l}"
            assert x.tobytes() == y.tobytes(), f"{name}{l} is not bit-identical"


def with_member(source: Path, target: Path, name: str, member: bytes) -> Path:
    """A copy of the .npz ``source`` whose member ``name``.npy is replaced by ``member``."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            if info.filename != f"{name}.npy":
                dst.writestr(info, src.read(info))
        dst.writestr(f"{name}.npy", member)
    return target


# --- round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize("sizes, hidden, output, loss", ARCHITECTURES)
def test_save_then_load_gives_back_the_same_network_and_metadata(tmp_path, sizes, hidden, output, loss):
    net = network(sizes, hidden, output, loss)
    net.W[0][0, :3] = (np.float32(1e-45), np.float32(-0.0), np.finfo(np.float32).max)  # odd bits
    path = saved(tmp_path / "brain.npz", net, USER_META)
    loaded, meta = load_model(path)
    assert_same_network(loaded, net)
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict_proba(x), net.predict_proba(x))
    assert {k: meta[k] for k in USER_META} == USER_META
    assert meta["format"] == FORMAT_VERSION


def test_metadata_records_when_the_model_was_saved(tmp_path):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    _, meta = load_model(saved(tmp_path / "brain.npz"))
    after = datetime.now(timezone.utc)
    date = datetime.fromisoformat(meta["date"])
    assert date.tzinfo is not None, "the date must say its time zone"
    assert before - timedelta(seconds=1) <= date <= after


def test_loading_does_not_need_metadata(tmp_path):
    arrays = arrays_of(saved(tmp_path / "brain.npz"))
    del arrays["meta"]
    np.savez(tmp_path / "bare.npz", **arrays)
    net, meta = load_model(tmp_path / "bare.npz")
    assert meta == {}
    assert_same_network(net, network())


def test_saving_again_replaces_the_previous_model(tmp_path):
    path = saved(tmp_path / "brain.npz", network(seed=1))
    saved(path, network(seed=2), {"epochs": 2})
    net, meta = load_model(path)
    assert_same_network(net, network(seed=2))
    assert meta["epochs"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brain.npz"]


def test_saved_file_is_a_plain_numpy_archive_without_pickles(tmp_path):
    path = saved(tmp_path / "brain.npz", network((784, 16, 10), "tanh", "sigmoid", "mse"), USER_META)
    arrays = arrays_of(path)  # allow_pickle=False
    assert set(arrays) == {"sizes", "hidden", "output", "loss", "meta", "W0", "b0", "W1", "b1"}
    assert not any(a.dtype.hasobject for a in arrays.values())
    assert arrays["sizes"].tolist() == [784, 16, 10] and arrays["sizes"].dtype == np.int64
    assert [str(arrays[k]) for k in ("hidden", "output", "loss")] == ["tanh", "sigmoid", "mse"]
    assert arrays["W1"].dtype == np.float32 and arrays["W1"].shape == (16, 10)
    assert arrays["b0"].dtype == np.float32 and arrays["b0"].shape == (16,)
    assert json.loads(str(arrays["meta"]))["epochs"] == 3


def test_saved_file_has_the_permissions_of_any_new_file(tmp_path):
    """Not the owner-only 0600 of a temporary file: 0666 less the umask, like open() gives."""
    umask = os.umask(0o022)
    os.umask(umask)
    path = saved(tmp_path / "brain.npz")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# --- saving atomically ------------------------------------------------------------------------


def _half_written_savez(file, *args, **kwds):
    file.write(b"PK\x03\x04 the first bytes of an archive")
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _failing(code):
    def fail(*args, **kwds):
        raise OSError(code, os.strerror(code))
    return fail


SAVE_FAILURES = [
    pytest.param(np, "savez", _half_written_savez, os.strerror(errno.ENOSPC), id="disk full mid-write"),
    pytest.param(os, "fsync", _failing(errno.EIO), os.strerror(errno.EIO), id="fsync fails"),
    pytest.param(os, "replace", _failing(errno.EACCES), os.strerror(errno.EACCES), id="rename fails"),
]


@pytest.mark.parametrize("module, name, replacement, reason", SAVE_FAILURES)
def test_a_failed_save_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, monkeypatch,
                                                                       module, name, replacement, reason):
    path = saved(tmp_path / "brain.npz", network(seed=1))
    before = path.read_bytes()
    monkeypatch.setattr(module, name, replacement)
    with refused(path, "cannot save", reason):
        save_model(path, network(seed=2))
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brain.npz"]
    assert path.read_bytes() == before
    assert_same_network(load_model(path)[0], network(seed=1))


def test_a_failed_first_save_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(np, "savez", _half_written_savez)
    with refused(tmp_path / "brain.npz", "cannot save"):
        save_model(tmp_path / "brain.npz", network())
    assert list(tmp_path.iterdir()) == []


def test_an_unexpected_error_while_saving_still_removes_the_temporary(tmp_path, monkeypatch):
    """A bug (not an OSError) propagates as itself, but the folder is left as it was."""
    path = saved(tmp_path / "brain.npz")
    before = path.read_bytes()

    def broken_savez(file, *args, **kwds):
        file.write(b"partial")
        raise RuntimeError("a bug in the writer")
    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(RuntimeError, match="a bug in the writer"):
        save_model(path, network(seed=5))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brain.npz"]
    assert path.read_bytes() == before


def test_saving_to_a_folder_is_refused(tmp_path):
    folder = tmp_path / "brain.npz"
    folder.mkdir()
    with refused(folder, "cannot save", "folder"):
        save_model(folder, network())
    assert folder.is_dir() and list(folder.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] == ["brain.npz"]


def test_saving_into_a_missing_folder_is_refused(tmp_path):
    path = tmp_path / "no such folder" / "brain.npz"
    with refused(path, "cannot save", os.strerror(errno.ENOENT)):
        save_model(path, network())
    assert list(tmp_path.iterdir()) == []


# --- bad models -------------------------------------------------------------------------------


# The model they change is network(): sizes (784, 8, 10), relu, softmax, ce.
BAD_ARRAYS = [
    pytest.param(drop("sizes"), ["lacks sizes"], id="no sizes"),
    pytest.param(drop("hidden"), ["lacks hidden"], id="no hidden"),
    pytest.param(drop("loss"), ["lacks loss"], id="no loss"),
    pytest.param(drop("W1"), ["lacks W1", "2 layers"], id="no W1"),
    pytest.param(drop("b0"), ["lacks b0"], id="no b0"),
    pytest.param(replace_array("W1", lambda a: np.zeros((9, 10), np.float32)),
                 ["W1 has shape (9, 10)", "[784, 8, 10]", "(8, 10)"], id="W do not chain"),
    pytest.param(replace_array("b0", lambda a: np.zeros(9, np.float32)), ["b0 has shape (9,)", "(8,)"],
                 id="b0 does not fit"),
    pytest.param(replace_array("sizes", lambda a: np.array([784, 9, 10])), ["W0 has shape (784, 8)", "(784, 9)"],
                 id="sizes disagree with W"),
    pytest.param(replace_array("sizes", lambda a: np.array([784.0, 8.0, 10.0])), ["'sizes'", "positive"],
                 id="float sizes"),
    pytest.param(replace_array("sizes", lambda a: np.array([784])), ["'sizes'", "at least two"], id="one size"),
    pytest.param(replace_array("sizes", lambda a: np.array([784, 0, 10])), ["'sizes'", "positive"],
                 id="zero size"),
    pytest.param(poke("W0", (3, 4), np.nan), ["W0", "NaN or infinite"], id="NaN weight"),
    pytest.param(poke("b1", 2, np.inf), ["b1", "NaN or infinite"], id="inf bias"),
    pytest.param(poke("W1", (0, 0), -np.inf), ["W1", "NaN or infinite"], id="-inf weight"),
    pytest.param(replace_array("W0", lambda a: a["W0"].astype(np.int32)), ["W0", "floating-point", "int32"],
                 id="integer weights"),
    pytest.param(replace_array("hidden", lambda a: np.array("swish")),
                 ["'hidden' must be one of sigmoid, tanh, relu", "got 'swish'"], id="unknown hidden"),
    pytest.param(replace_array("output", lambda a: np.array("relu")),
                 ["'output' must be one of sigmoid, softmax", "got 'relu'"], id="unknown output"),
    pytest.param(replace_array("loss", lambda a: np.array("hinge")), ["'loss' must be one of mse, ce", "got 'hinge'"],
                 id="unknown loss"),
    pytest.param(replace_array("hidden", lambda a: np.array(b"relu")), ["'hidden' must be one of"],
                 id="hidden as bytes"),
    pytest.param(replace_array("meta", lambda a: np.array("{'epochs': 3")), ["metadata is not valid JSON"],
                 id="meta not JSON"),
    pytest.param(replace_array("meta", lambda a: np.array("[1, 2]")), ["metadata is not a JSON object"],
                 id="meta a JSON list"),
    pytest.param(replace_array("meta", lambda a: np.array("[" * 100_000 + "]" * 100_000)), ["metadata"],
                 id="meta nested too deep"),
]


@pytest.mark.parametrize("change, phrases", BAD_ARRAYS)
def test_a_model_with_bad_arrays_is_refused(tmp_path, change, phrases):
    arrays = arrays_of(saved(tmp_path / "good.npz"))
    change(arrays)
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with refused(path, *phrases):
        load_model(path)


@pytest.mark.parametrize("sizes, phrases", [
    pytest.param((100, 8, 10), ["maps 100 inputs to 10 outputs", "784 to 10"], id="100 inputs"),
    pytest.param((784, 8, 11), ["maps 784 inputs to 11 outputs", "784 to 10"], id="11 outputs"),
])
def test_a_model_that_is_not_for_mnist_is_refused(tmp_path, sizes, phrases):
    """A well-formed network of the wrong shape, as another program might save one."""
    path = saved(tmp_path / "brain.npz", network(sizes))
    with refused(path, *phrases):
        load_model(path)


def test_the_pickle_trap_is_armed(tmp_path):
    """PickleTrap really runs code when unpickled, so its absence below means something."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(PickleTrap(marker))).close()
    assert marker.exists()


def test_a_model_with_pickled_objects_is_refused_without_running_them(tmp_path):
    marker = tmp_path / "code-ran"
    arrays = arrays_of(saved(tmp_path / "good.npz"))
    arrays["W0"] = np.array([PickleTrap(marker)], dtype=object)
    path = tmp_path / "evil.npz"
    np.savez(path, allow_pickle=True, **arrays)
    with refused(path, "W0", "Python objects"):
        load_model(path)
    assert not marker.exists()


def test_a_member_claiming_an_enormous_shape_is_refused_before_allocating(tmp_path):
    """W0.npy says (100000, 100000) float32, 40 GB, and holds 16 bytes."""
    path = with_member(saved(tmp_path / "good.npz"), tmp_path / "huge.npz", "W0",
                       npy_member("<f4", (100_000, 100_000), b"\0" * 16))
    with cheaply(), refused(path, "W0", "(100000, 100000)"):
        load_model(path)


def test_a_member_claiming_more_than_it_holds_is_refused(tmp_path):
    path = with_member(saved(tmp_path / "good.npz"), tmp_path / "short.npz", "W0",
                       npy_member("<f4", (784, 8), b"\0" * 16))
    with refused(path, "W0", "damaged"):
        load_model(path)


def test_a_member_that_is_not_an_array_is_refused(tmp_path):
    path = with_member(saved(tmp_path / "good.npz"), tmp_path / "odd.npz", "b0", b"hello, world")
    with refused(path, "b0", "not a NumPy array"):
        load_model(path)


def _truncated(path: Path) -> None:
    saved(path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def _lone_npy(path: Path) -> None:
    with open(path, "wb") as f:
        np.save(f, np.zeros(3, np.float32))


@pytest.mark.parametrize("make, phrase", [
    pytest.param(lambda p: p.write_bytes(np.random.default_rng(0).bytes(4096)), "not a valid .npz file",
                 id="random bytes"),
    pytest.param(_truncated, "not a valid .npz file", id="truncated"),
    pytest.param(lambda p: p.write_bytes(b""), "not a valid .npz file", id="empty"),
    pytest.param(_lone_npy, "not a valid .npz file", id="a lone .npy"),
    pytest.param(lambda p: p.mkdir(), "folder", id="a folder"),
    pytest.param(lambda p: None, "no such file", id="missing"),
])
def test_a_file_that_is_not_a_model_is_refused(tmp_path, make, phrase):
    path = tmp_path / "brain.npz"
    make(path)
    with refused(path, phrase):
        load_model(path)


def test_an_archive_without_arrays_is_refused(tmp_path):
    path = tmp_path / "brain.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "no arrays here")
    with refused(path, "holds no arrays"):
        load_model(path)
