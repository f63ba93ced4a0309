"""Fuzzing with hypothesis (issue 6, item 5; issue 16 added the metadata of model files): the
loaders, the command line and the preprocessing, fed random input, raise nothing but the
program's own clear errors.

The contract of every test here: a UserError subclass with a one-line message naming the file,
or a valid result; any other exception is a bug. Runs are derandomized and database-free, so
CI sees the same examples every time.
"""
import contextlib
import gzip
import io
import json
import math
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from app import cli
from core.config import TrainConfig
from core.data import Dataset, read_dataset, read_idx
from core.errors import (
    MAX_MESSAGE,
    ConfigError,
    DataError,
    ModelFileError,
    UserError,
    WrongDataset,
)
from core.model_io import check_dataset, load_model, save_model, trained_on
from core.network import Network
from core.preprocess import SIDE, ink_from_image, preprocess
from tests.hostile import cheaply, npy_member

FUZZ = settings(derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@contextlib.contextmanager
def scratch_file(name: str, content: bytes):
    """A file holding ``content`` in a fresh folder (tmp_path is per test, not per example)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        yield path


def assert_clear(exc: UserError, path) -> None:
    message = str(exc)
    assert "\n" not in message, f"not one sentence: {message!r}"
    assert str(path) in message, f"{message!r} does not name {path}"


def load_both(path) -> None:
    """load_model and read_dataset on ``path``: each succeeds or raises its own error."""
    for load, error in ((load_model, ModelFileError), (read_dataset, DataError)):
        try:
            load(path)
        except error as exc:
            assert_clear(exc, path)


# --- loaders: random bytes ---------------------------------------------------------------------


@settings(FUZZ, max_examples=150)
@given(st.one_of(st.binary(max_size=2000),
                 st.binary(max_size=500).map(lambda b: b"PK\x03\x04" + b),  # looks like a zip
                 st.binary(max_size=500).map(lambda b: b"\x93NUMPY" + b)))  # looks like .npy
def test_random_bytes_as_npz(content):
    with scratch_file("random.npz", content) as path:
        load_both(path)


# --- loaders: structured-random .npz -----------------------------------------------------------

DESCRS = ["<f4", ">f8", "<f2", "|u1", "<i8", ">i4", "|b1", "<c16", "<U5", "|S0", "<U0", "|V8",
          "|O", "<M8[s]", "bogus", [("a", "<i4")], [("a", "|O")]]
DIMS = st.one_of(st.integers(0, 12), st.sampled_from([784, 10, 28, 2**31 - 1, 2**63, 10**30]),
                 st.integers(-5, -1))


@st.composite
def npy_members(draw) -> bytes:
    """A .npy member: a header (valid, absurd or garbled) and data that fits it, is cut short,
    overruns or is random."""
    kind = draw(st.sampled_from(["valid", "raw-header", "random"]))
    if kind == "random":
        return draw(st.binary(max_size=300))
    shape = tuple(draw(st.lists(DIMS, max_size=3)))
    descr = draw(st.sampled_from(DESCRS))
    if kind == "raw-header":  # a header that numpy's own writer would not make
        version = draw(st.sampled_from([b"\x01\x00", b"\x02\x00", b"\x03\x00", b"\x07\x09"]))
        text = draw(st.sampled_from([
            repr({"descr": descr, "fortran_order": draw(st.booleans()), "shape": shape}),
            "{'descr': '<f4', 'shape': (3,)}", "{}", "[1, 2]", "__import__('os')",
            "{'descr': '<f4', 'fortran_order': 'yes', 'shape': 3}",
        ])).encode("latin1") + b"\n"
        length = len(text).to_bytes(2 if version == b"\x01\x00" else 4, "little")
        header = b"\x93NUMPY" + version + length + text
    else:
        out = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            out, {"descr": descr, "fortran_order": draw(st.booleans()), "shape": shape})
        header = out.getvalue()
    try:
        claimed = math.prod(shape) * np.dtype(descr).itemsize
    except TypeError:
        claimed = 0
    size = draw(st.sampled_from(["exact", "short", "long", "random"]))
    if size == "exact" and 0 <= claimed <= 4096:
        payload = draw(st.binary(min_size=claimed, max_size=claimed))
    elif size == "short" and 0 < claimed <= 4096:
        payload = bytes(draw(st.integers(0, claimed - 1)))
    elif size == "long" and 0 <= claimed <= 4096:
        payload = bytes(claimed + draw(st.integers(1, 16)))
    else:
        payload = draw(st.binary(max_size=64))
    return header + payload


KEYS = st.one_of(st.sampled_from(["sizes", "hidden", "output", "loss", "meta", "W0", "b0",
                                  "x_train", "y_train", "x_test", "y_test"]),
                 st.text(min_size=0, max_size=8))


@st.composite
def npz_archives(draw) -> bytes:
    """A zip of .npy (and other) members, stored or compressed, sometimes with odd flags, then
    perhaps with a few bytes flipped."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": wanted here
        for _ in range(draw(st.integers(0, 5))):
            key = draw(KEYS)
            name = key + draw(st.sampled_from([".npy", ".npy", "", ".txt"]))
            info = zipfile.ZipInfo(name)
            info.compress_type = draw(st.sampled_from(
                [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
            if draw(st.integers(0, 9)) == 0:
                info.flag_bits |= 0x1  # "encrypted"
            archive.writestr(info, draw(npy_members()))
    content = bytearray(out.getvalue())
    for _ in range(draw(st.integers(0, 3))):
        if content:
            content[draw(st.integers(0, len(content) - 1))] ^= draw(st.integers(1, 255))
    if draw(st.booleans()) and content:
        del content[draw(st.integers(0, len(content))):]  # cut short
    return bytes(content)


@settings(FUZZ, max_examples=300)
@given(npz_archives())
def test_structured_random_npz(content):
    with scratch_file("archive.npz", content) as path, cheaply(max_seconds=5.0):
        load_both(path)


def zip_of(members: dict, encrypt: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            if encrypt:
                info.flag_bits |= 0x1
            archive.writestr(info, data)
    return out.getvalue()


def test_regression_an_encrypted_member_is_refused(tmp_path):
    """Found by fuzzing: zipfile raised RuntimeError ("password required") for a member whose
    encryption flag is set."""
    path = tmp_path / "locked.npz"
    path.write_bytes(zip_of({"sizes.npy": npy_member("<i8", (2,), bytes(16))}, encrypt=True))
    for load, error in ((load_model, ModelFileError), (read_dataset, DataError)):
        with pytest.raises(error, match="encrypted") as info:
            load(path)
        assert_clear(info.value, path)


def test_regression_a_member_without_npy_suffix_does_not_shadow_the_checked_one(tmp_path):
    """Found by fuzzing: np.load's npz['sizes'] reads a member named 'sizes' if there is one,
    not the 'sizes.npy' whose header was checked, so random bytes came back as bytes
    (AttributeError) and an unchecked header could claim any shape."""
    path = tmp_path / "brain.npz"
    net = Network.initialised((784, 3, 10))
    save_model(path, net)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("sizes", b"not an array")
        archive.writestr("W0", npy_member("<f4", (2**40,), b""))  # unchecked, it would allocate 4 TiB
    loaded, _ = load_model(path)
    assert loaded.sizes == (784, 3, 10)
    np.testing.assert_array_equal(loaded.W[0], net.W[0])


def test_regression_a_member_name_with_a_newline_stays_one_line(tmp_path):
    """Found by fuzzing: a member named '\\n.npy' put a line break into the message."""
    path = tmp_path / "odd.npz"
    path.write_bytes(zip_of({"\n.npy": npy_member("|O", (), b"")}))
    for load, error in ((load_model, ModelFileError), (read_dataset, DataError)):
        with pytest.raises(error, match=r"array '\\n' holds Python objects") as info:
            load(path)
        assert_clear(info.value, path)


# --- loaders: IDX ------------------------------------------------------------------------------


@st.composite
def idx_files(draw) -> tuple[bytes, str]:
    key = draw(st.sampled_from(["x_train", "y_test"]))
    if draw(st.integers(0, 3)) == 0:
        magic = draw(st.binary(min_size=0, max_size=4))
    else:
        ndim = draw(st.one_of(st.just(3 if key.startswith("x") else 1), st.integers(0, 255)))
        magic = bytes([0, 0, draw(st.sampled_from([8, 8, 8, 9, 0x0D])), ndim])
    n_dims = magic[3] if len(magic) == 4 else 0
    dims = [draw(st.one_of(st.integers(0, 4), st.just(28),
                           st.sampled_from([1_000_000, 1_000_001, 2**32 - 1])))
            for _ in range(min(n_dims, 4))]
    header = magic + np.array(dims, dtype=">u4").tobytes()
    if draw(st.booleans()):  # perhaps cut the header short
        header = header[:draw(st.integers(0, len(header)))]
    claimed = math.prod(dims) if dims else 0
    data = bytes(draw(st.integers(0, min(claimed, 3 * 784) + 8)))
    content = header + data
    if draw(st.booleans()):
        content = gzip.compress(content)
        if draw(st.booleans()):
            content = content[:draw(st.integers(0, len(content)))]
        elif draw(st.booleans()) and len(content) > 12:
            flip = bytearray(content)
            flip[draw(st.integers(10, len(content) - 1))] ^= 0xFF
            content = bytes(flip)
    return content, key


@settings(FUZZ, max_examples=300)
@given(idx_files())
def test_random_idx_files(file):
    content, key = file
    with scratch_file(f"{key}-idx", content) as path, cheaply(max_seconds=5.0):
        try:
            images = read_idx(path, key)
        except DataError as exc:
            assert_clear(exc, path)
            return
    assert images.dtype == np.uint8
    if key.startswith("x"):
        assert images.ndim == 3 and images.shape[1:] == (28, 28)
    else:
        assert images.ndim == 1


# --- loaders: a real model, damaged ------------------------------------------------------------


@settings(FUZZ, max_examples=100)
@given(hidden=st.lists(st.integers(1, 50), min_size=0, max_size=3),
       flips=st.lists(st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.integers(1, 255)),
                      min_size=0, max_size=4),
       activation=st.sampled_from(["sigmoid", "relu", "tanh"]))
def test_a_saved_model_with_flipped_bytes(hidden, flips, activation):
    """Save a network, flip a few bytes: the load gives a finite network of MNIST's shape, or
    ModelFileError. (The CRC of a stored zip member catches most flips in the data.)"""
    net = Network.initialised((784, *hidden, 10), activation, "softmax", "ce")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "brain.npz"
        save_model(path, net, {"epochs": 3})
        content = bytearray(path.read_bytes())
        for where, xor in flips:
            content[int(where * len(content))] ^= xor
        path.write_bytes(bytes(content))
        try:
            loaded, meta = load_model(path)
        except ModelFileError as exc:
            assert_clear(exc, path)
            return
    assert loaded.sizes[0] == 784 and loaded.sizes[-1] == 10 and isinstance(meta, dict)
    assert all(np.isfinite(W).all() for W in loaded.W) and all(np.isfinite(b).all() for b in loaded.b)
    if not flips:
        assert loaded.sizes == net.sizes


# --- loaders: a real model, its metadata any JSON -----------------------------------------------

ODD_TEXT = st.sampled_from(["\x1b[2J\x1b[31m", "\x1b]0;title\x07", "two\nlines\r", "\ud800",
                            "\udfff\ud83d", "\u202eevil", "\x00", "", "x" * 10_000, "é✓", "\t"])
TEXT = st.one_of(st.text(max_size=20), ODD_TEXT, st.text(max_size=3).map(lambda t: t * 4000))
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT,
              st.sampled_from([2**31, 3_000_000_000, 2**63, 10**400, -1, 0, 1, 2, 0.5])),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12)
META_KEYS = st.one_of(st.sampled_from(["date", "format", "epochs", "step", "seconds", "seed",
                                       "test_accuracy", "train_images", "dataset", "dataset_name",
                                       "class_names", "config"]), TEXT)
CONFIG = st.dictionaries(st.sampled_from(["sizes", "hidden", "lr", "epochs", "seed", "batch_size",
                                          "dropout", "optimizer", "augment"]) | TEXT, JSON, max_size=5)
RAW_JSON = st.sampled_from(["9" * 5000, "-" + "1" * 4301, "NaN", "Infinity", "-Infinity", "1e999",
                            "[" * 5000 + "]" * 5000, '"\\ud800"', '"\\u001b[2J"'])


@st.composite
def meta_texts(draw) -> str:
    """The JSON of a model's metadata: an object whose fields (known ones and others) hold any
    JSON value, odd strings, ten odd class names, perhaps a raw token json.dumps cannot write
    (an integer of 5,000 digits); or, now and then, any JSON at all."""
    if draw(st.integers(0, 9)) == 0:
        return json.dumps(draw(JSON), ensure_ascii=draw(st.booleans()))
    meta = draw(st.dictionaries(META_KEYS, JSON, max_size=6))
    if draw(st.booleans()):
        meta["config"] = draw(CONFIG)
    if draw(st.integers(0, 3)) == 0:
        meta["class_names"] = draw(st.lists(TEXT, min_size=10, max_size=10))
    text = json.dumps(meta, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):
        key = json.dumps(draw(META_KEYS))
        text = "{" + f"{key}: {draw(RAW_JSON)}" + (", " + text[1:] if len(text) > 2 else "}")
    return text


@pytest.fixture(scope="module")
def model_members():
    """The arrays of a small saved model, to which each example gives its own metadata."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "brain.npz"
        save_model(path, Network.initialised((784, 4, 10), "relu", "softmax", "ce"))
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}


@settings(FUZZ, max_examples=250)
@given(text=meta_texts())
def test_any_metadata_loads_checked_or_is_refused_in_one_printable_line(model_members, text):
    """Metadata of every JSON type and odd strings: the model loads with metadata whose every
    string is printable and whose counts are whole numbers, or ModelFileError in one printable
    line of at most 1,000 characters naming the file; never anything else. What the programs
    print of it (the epochs, the date, the dataset's names) can be formatted."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "brain.npz"
        np.savez(path, **{**model_members, "meta": np.array(text)})
        try:
            _, meta = load_model(path)
        except ModelFileError as exc:
            message = str(exc)
            assert message.isprintable() and len(message) <= MAX_MESSAGE, repr(message[:200])
            assert str(path) in message
            return
    assert isinstance(meta, dict)
    for value in _strings(meta):
        assert value.isprintable() and len(value) <= 300, repr(value[:200])
    for key in ("epochs", "step", "train_images"):
        assert key not in meta or (type(meta[key]) is int and meta[key] >= 0)
    assert "date" not in meta or isinstance(meta["date"], str)
    assert isinstance(meta.get("config", {}), dict)
    name, class_names = trained_on(meta)
    assert f"{name} {class_names} {meta.get('epochs')} {meta.get('date', '')[:10]} {meta}".isprintable()
    data = Dataset(np.zeros((1, 784), np.float32), np.zeros(1, np.uint8),
                   np.zeros((1, 784), np.float32), np.zeros(1, np.uint8), "fuzz")
    try:
        check_dataset(meta, data, str(path))
    except WrongDataset as exc:
        assert str(exc).isprintable()


def _strings(value):
    """Every string in a parsed JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)


# --- the command line --------------------------------------------------------------------------

WORDS = ["train", "evaluate", "predict", "--preset", "--layers", "--lr", "--batch-size",
         "--epochs", "--seed", "--limit", "--data", "--out", "--activation", "--output", "--loss",
         "--optimizer", "--momentum", "--weight-decay", "--lr-decay", "-h", "--help", "--",
         "fast", "classic", "relu", "sigmoid", "tanh", "softmax", "ce", "mse", "sgd", "momentum",
         "adam", "784,256,10", "784,10", "784", "784,0,10", "784,-3,10", "784,,10", "10,784",
         "784,99999999999999999999,10", "nan", "-nan", "inf", "-inf", "1e999", "0", "-1", "1",
         "0.5", "1.0", "3", "-0.0", "2**31", "99999999999999999999", "1_000", "0x10", " 7 ",
         "brain.npz", "/nonexistent/x.npz", ""]
ARGS = st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(WORDS), st.text(max_size=10),
                          st.integers().map(str), st.floats().map(str)), max_size=10)


def parse(args):
    """Parse args as main.py would, quietly: the namespace, or the exit code it asked for."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        try:
            return cli.build_parser().parse_args(args), None
        except SystemExit as exc:
            assert exc.code in (0, 2), f"exit code {exc.code!r} for {args}"
            if exc.code == 2:
                assert err.getvalue().count("\n") == 1, f"not one line: {err.getvalue()!r}"
            return None, exc.code


@settings(FUZZ, max_examples=600)
@given(ARGS)
def test_random_arguments_parse_or_exit_cleanly(args):
    """Any argument list: a namespace, help (exit 0) or one line and exit 2; for train, a
    checked TrainConfig or ConfigError."""
    namespace, _ = parse(args)
    if namespace is not None and namespace.command == "train":
        try:
            config = cli.config_from_args(namespace)
        except ConfigError as exc:
            assert "\n" not in str(exc)
        else:
            assert isinstance(config, TrainConfig)
            assert math.isfinite(config.lr) and config.lr > 0 and config.batch_size >= 1


@settings(FUZZ, max_examples=200)
@given(st.sampled_from(["train", "evaluate", "predict", None]), ARGS)
def test_main_with_arguments_that_fail_fast(command, rest):
    """app.cli.main end to end, for argument lists that fail before any training or data
    loading: a bad train config, or evaluate/predict of a model file that is not there or is
    not a model. The exit code is 0 (help) or 2, and nothing else escapes."""
    args = ([command] if command else []) + rest
    namespace, _ = parse(args)
    if namespace is not None and namespace.command == "train":
        try:
            cli.config_from_args(namespace)
            return  # a valid config: main would load MNIST and train
        except ConfigError:
            pass
    with tempfile.TemporaryDirectory() as folder:
        garbage = Path(folder) / "garbage.npz"
        garbage.write_bytes(b"not a zip")
        if namespace is not None and namespace.command in ("evaluate", "predict"):
            model = str(garbage) if len(rest) % 2 else str(Path(folder) / "missing.npz")
            args = [namespace.command, model] + (["x.png"] if namespace.command == "predict" else [])
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()) as err:
            try:
                return_code = cli.main(args)
            except SystemExit as exc:
                return_code = exc.code
    assert return_code in (0, 2), f"{args} -> {return_code!r}"
    if return_code == 2:
        assert err.getvalue().count("\n") == 1, f"not one line: {err.getvalue()!r}"


# --- preprocessing: what tests/test_preprocess.py does not fuzz --------------------------------
# There: sizes 1-300 of uint8/float32/float64 in [0, 1]. Here: every integer and float type,
# bool, values out of range (negative, above 1, NaN, infinities), and shapes that are not 2-D.

DTYPES = [np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32, np.int64,
          np.bool_, np.float16, np.float32, np.float64]


@settings(FUZZ, max_examples=300)
@given(st.sampled_from(DTYPES).flatmap(
    lambda dtype: arrays(dtype, st.tuples(st.integers(0, 40), st.integers(0, 40)))))
def test_any_dtype_and_any_values(canvas):
    """Out-of-range values are clipped, NaN is paper and +-inf the extremes: preprocess gives None
    or a valid input, ink_from_image ink in [0, 1] of the canvas's shape."""
    with np.errstate(over="ignore", invalid="ignore"):  # float64 beyond float32 becomes inf
        stages = preprocess(canvas)
        ink = ink_from_image(canvas)
    if stages is not None:
        assert stages.x.shape == (SIDE * SIDE,) and stages.x.dtype == np.float32
        assert np.isfinite(stages.x).all() and stages.x.min() >= 0.0 and stages.x.max() <= 1.0
        assert stages.x.max() > 0.0 and not stages.x.flags.writeable
    assert ink.shape == canvas.shape and ink.dtype == np.float32
    assert np.isfinite(ink).all()
    if ink.size:
        assert ink.min() >= 0.0 and ink.max() <= 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        again = preprocess(ink)
    if again is not None:
        assert np.isfinite(again.x).all()


@settings(FUZZ, max_examples=100)
@given(arrays(st.sampled_from([np.uint8, np.float32]),
              st.one_of(st.just(()), st.tuples(st.integers(0, 5)),
                        st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(1, 4)))))
def test_a_canvas_that_is_not_two_dimensional_is_refused(canvas):
    """Not (H, W): a ValueError naming the shape, from both (a programming error, never the
    user's: the image readers and the pad always hand over (H, W))."""
    for function in (preprocess, ink_from_image):
        with pytest.raises(ValueError, match=r"shape \(H, W\), got shape"):
            function(canvas)
