"""Issue 16, round two, in the core's file reading: each class of hostile input, with cases
made here, gets one printable sentence, cheaply.

1. Files that are not regular (a FIFO, /dev/zero, /dev/urandom; given, or linked into an IDX
   folder) are refused without blocking or reading: the FIFO cases run in a child process with
   a timeout, so a regression fails instead of hanging the suite.
2. Bombs within the caps (a header claiming a million images in a small file): the memory
   allocated is bounded by what ``--limit`` needs and by the bytes present, measured with
   tracemalloc (``tests.hostile.cheaply``), not with a clock.
3. Model metadata of every JSON type, refused in a sentence naming the file and the field or
   dropped to a safe default, and never an unprintable string; a seed above 2**31 loads.
4. Weights finite in float64 but not in float32, and float32 weights whose forward pass
   overflows, are refused.
"""
from __future__ import annotations

import ast
import gzip
import io
import json
import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.data import Dataset, load_dataset, read_idx
from core.errors import MAX_MESSAGE, DataError, ModelFileError
from core.model_io import load_model, load_run, save_model, trained_on
from core.network import Network
from tests.hostile import cheaply, refused

ROOT = Path(__file__).resolve().parent.parent
MNIST_NPZ = ROOT / "assets" / "mnist.npz"
STEMS = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
         "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}


def one_line(message: str) -> None:
    assert message.isprintable(), f"not one printable line: {message!r}"
    assert len(message) <= MAX_MESSAGE


def idx_bytes(shape: tuple, data: bytes | None = None) -> bytes:
    header = bytes([0, 0, 8, len(shape)]) + np.array(shape, ">u4").tobytes()
    return header + (bytes(int(np.prod(shape))) if data is None else data)


def idx_folder(folder: Path, n: int = 3, gz: bool = False) -> Path:
    """A valid IDX folder of n blank images and labels 0 per split."""
    folder.mkdir(exist_ok=True)
    for key, stem in STEMS.items():
        content = idx_bytes((n, 28, 28) if key.startswith("x") else (n,))
        if gz:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(content))
        else:
            (folder / stem).write_bytes(content)
    return folder


def model_file(path: Path, net: Network | None = None, meta_text: str | None = None, **arrays) -> Path:
    """A model file: net saved by save_model, then members replaced (meta by ``meta_text``)."""
    save_model(path, net or Network.initialised((784, 8, 10), "relu", "softmax", "ce"), {"epochs": 1})
    with np.load(path, allow_pickle=False) as npz:
        members = {k: npz[k] for k in npz.files}
    if meta_text is not None:
        members["meta"] = np.array(meta_text)
    members.update(arrays)
    np.savez(path, **members)
    return path


# --- 1. files that are not regular ------------------------------------------------------------

CHILD = r"""
import json, os, sys
from pathlib import Path
from core.data import load_dataset
from core.model_io import load_model
from core.errors import UserError
folder, fifo = Path(sys.argv[1]), Path(sys.argv[2])
cases = {"model": lambda: load_model(fifo), "dataset": lambda: load_dataset("mnist", fifo),
         "idx": lambda: load_dataset("mnist", folder)}
out = {}
for name, call in cases.items():
    try:
        call()
        out[name] = "loaded"
    except UserError as exc:
        out[name] = str(exc)
print(json.dumps(out))
"""


def test_a_fifo_as_a_model_a_dataset_or_an_idx_file_is_refused_without_blocking(tmp_path):
    """Opening a FIFO that no one writes to blocks forever, so the calls run in a child process
    that must answer within the timeout: a regression fails here, it does not hang."""
    fifo = tmp_path / "brain.npz"
    os.mkfifo(fifo)
    folder = idx_folder(tmp_path / "idx")
    (folder / STEMS["x_train"]).unlink()
    os.mkfifo(folder / STEMS["x_train"])  # a FIFO where the training images should be
    result = subprocess.run([sys.executable, "-c", CHILD, str(folder), str(fifo)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False,
                            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    messages = json.loads(result.stdout)
    for name, message in messages.items():
        one_line(message)
        assert "it is a FIFO (a named pipe), not a regular file" in message, (name, message)
    assert str(fifo) in messages["model"] and str(fifo) in messages["dataset"]
    assert str(folder / STEMS["x_train"]) in messages["idx"]


SAVE_BESIDE_A_FIFO = """
import sys
import numpy as np
from core.npzio import write_npz_atomically
write_npz_atomically(sys.argv[1], {"a": np.zeros(3)}, "the model")
print("saved")
"""


def test_a_fifo_named_as_a_killed_save_s_leftover_does_not_hold_the_next_save(tmp_path):
    """Tidying up before a save opens each leftover temporary file to see whether a saver holds
    it; a FIFO of such a name would block that open forever (in a child: a regression fails)."""
    target = tmp_path / "brain.npz"
    os.mkfifo(tmp_path / ".brain.npz.abcdefgh.tmp")
    result = subprocess.run([sys.executable, "-c", SAVE_BESIDE_A_FIFO, str(target)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "saved", result.stderr
    assert target.is_file() and (tmp_path / ".brain.npz.abcdefgh.tmp").exists()  # not ours to remove


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_a_model_or_a_dataset_is_refused_unread(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    with cheaply(max_bytes=4 * 2**20), refused(device, "character device", error=ModelFileError):
        load_model(device)
    with cheaply(max_bytes=4 * 2**20), refused(device, "character device", error=DataError):
        load_dataset("mnist", device)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize("key", ["x_train", "y_test"])
def test_a_device_linked_into_an_idx_folder_is_refused_unread(tmp_path, device, key):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    folder = idx_folder(tmp_path / "idx")
    (folder / STEMS[key]).unlink()
    (folder / STEMS[key]).symlink_to(device)
    with cheaply(max_bytes=4 * 2**20), refused(folder / STEMS[key], "character device", error=DataError):
        load_dataset("mnist", folder)


OWN = ["core/data.py", "core/model_io.py", "core/fidelity.py", "core/npzio.py"]


@pytest.mark.parametrize("module", OWN)
def test_no_file_is_opened_but_through_open_regular(module):
    """The reading modules call no open(), gzip.open, np.load, Path.open/read_bytes/read_text:
    every read goes through core.npzio.open_regular (which itself uses os.open without blocking;
    zip members are opened with ZipFile.open, the writer's temporary file with os.fdopen)."""
    tree = ast.parse((ROOT / module).read_text())
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id in ("open", "fromfile"):
            found.append(f"{f.id}() at line {node.lineno}")
        elif isinstance(f, ast.Attribute):
            owner = f.value.id if isinstance(f.value, ast.Name) else ""
            if f.attr in ("read_bytes", "read_text", "fromfile", "memmap") or \
                    (f.attr == "load" and owner in ("np", "numpy")) or \
                    (f.attr == "open" and owner not in ("os", "archive")):
                found.append(f"{owner}.{f.attr}() at line {node.lineno}")
    assert not found, f"{module} opens files directly: {', '.join(found)}"


# --- 2. bombs within the caps -----------------------------------------------------------------

ZEROS_MEMBER = gzip.compress(bytes(1 << 20), mtime=0)  # 1 MiB of zeros, about a kilobyte


def zeros_gzip(header: bytes, n_zeros: int) -> bytes:
    """A gzip stream of ``header`` then ``n_zeros`` zero bytes, cheap to make at any size: one
    member for the header, then as many 1-MiB members of zeros as it takes (gzip readers read
    concatenated members as one stream), the last one cut to size."""
    whole, rest = divmod(n_zeros, 1 << 20)
    return (gzip.compress(header, mtime=0) + ZEROS_MEMBER * whole
            + (gzip.compress(bytes(rest), mtime=0) if rest else b""))


def bomb_folder(folder: Path, n: int = 1_000_000) -> Path:
    """About 1.5 MB of gzipped IDX files whose headers claim, honestly, a million blank images
    per split (784 MB each once decompressed; read as floats, 3 GB each)."""
    folder.mkdir()
    for key, stem in STEMS.items():
        shape = (n, 28, 28) if key.startswith("x") else (n,)
        header = idx_bytes(shape, b"")
        (folder / f"{stem}.gz").write_bytes(zeros_gzip(header, int(np.prod(shape))))
    return folder


def test_a_gzip_bomb_folder_is_refused_after_reading_what_its_bytes_can_hold(tmp_path):
    """Without a limit, a million images claimed in a 770 KB file are decompressed only as far
    as 50 times the file's bytes, then refused as a bomb (before: 7.5 GB and 26 s)."""
    folder = bomb_folder(tmp_path / "bomb")
    assert sum(p.stat().st_size for p in folder.iterdir()) < 2_000_000
    with cheaply(max_bytes=64 * 2**20, max_seconds=30), \
            refused(folder / f"{STEMS['x_train']}.gz", "decompression bomb", error=DataError):
        load_dataset("mnist", folder)


def test_a_limit_reads_only_the_images_it_keeps(tmp_path):
    """With limit=100, only 100 images of each split are decompressed and scaled: well under
    a megabyte allocated (before: the limit was applied after 4 GB had been read and scaled)."""
    folder = bomb_folder(tmp_path / "bomb")
    with cheaply(max_bytes=2 * 2**20, max_seconds=30):
        data = load_dataset("mnist", folder, limit=100)
    assert data.x_train.shape == (100, 784) and data.x_test.shape == (100, 784)
    assert data.x_train.dtype == np.float32 and not data.x_train.any()


def test_a_limit_reads_only_the_rows_of_an_npz_it_keeps():
    """MNIST's own .npz (compressed members), limit=100: the first 100 rows of each member are
    decompressed, not 60,000, and they are the same as the whole file's first 100."""
    with cheaply(max_bytes=4 * 2**20, max_seconds=30):
        data = load_dataset("mnist", MNIST_NPZ, limit=100)
    whole = load_dataset("mnist", MNIST_NPZ)
    assert len(data.x_train) == len(data.y_train) == len(data.x_test) == 100
    np.testing.assert_array_equal(data.x_train, whole.x_train[:100])
    np.testing.assert_array_equal(data.y_test, whole.y_test[:100])


def test_a_limit_still_checks_the_counts_the_headers_claim(tmp_path):
    folder = idx_folder(tmp_path / "idx", n=5)
    (folder / STEMS["y_train"]).write_bytes(idx_bytes((4,)))
    with refused(folder, "x_train has 5 images but y_train has 4 labels", error=DataError):
        load_dataset("mnist", folder, limit=2)
    npz = tmp_path / "d.npz"
    x, y = np.zeros((5, 28, 28), np.uint8), np.zeros(5, np.uint8)
    np.savez(npz, x_train=x, y_train=y[:4], x_test=x, y_test=y)
    with refused(npz, "x_train has 5 images but y_train has 4 labels", error=DataError):
        load_dataset("mnist", npz, limit=2)


@pytest.mark.parametrize("limit", [None, 100])
def test_a_plain_idx_file_shorter_than_its_header_claims_is_refused_unread(tmp_path, limit):
    """1.5 MB of a million images claimed: the file's length is known, so nothing is read."""
    folder = idx_folder(tmp_path / "idx")
    path = folder / STEMS["x_train"]
    path.write_bytes(idx_bytes((1_000_000, 28, 28), bytes(1_500_000)))
    with cheaply(max_bytes=2 * 2**20), refused(path, "truncated", error=DataError):
        load_dataset("mnist", folder, limit=limit)


def test_idx_data_going_on_past_the_header_is_refused(tmp_path):
    for gz in (False, True):
        folder = idx_folder(tmp_path / f"idx{gz}", gz=gz)
        path = next(folder.glob(STEMS["x_test"] + "*"))
        content = idx_bytes((3, 28, 28)) + bytes(784)
        path.write_bytes(gzip.compress(content) if gz else content)
        with refused(path, "holds", error=DataError):
            load_dataset("mnist", folder)


def test_a_compressed_npz_member_of_zeros_is_refused_as_a_bomb(tmp_path):
    """20,000 blank images deflated 1,000 times: refused from the zip's directory, unread."""
    path = tmp_path / "bomb.npz"
    x = np.lib.format.header_data_from_array_1_0(np.zeros((20_000, 28, 28), np.uint8))
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, x)
    small = io.BytesIO()
    np.save(small, np.zeros((3, 28, 28), np.uint8))
    labels = io.BytesIO()
    np.save(labels, np.zeros(3, np.uint8))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("x_train.npy", "w") as member:
            member.write(header.getvalue())
            for _ in range(20):
                member.write(bytes(784_000))
        archive.writestr("y_train.npy", labels.getvalue())
        archive.writestr("x_test.npy", small.getvalue())
        archive.writestr("y_test.npy", labels.getvalue())
    assert path.stat().st_size < 100_000
    with cheaply(max_bytes=2 * 2**20), refused(path, "x_train", "decompression bomb", error=DataError):
        load_dataset("mnist", path)


def test_a_compressed_model_of_zeros_is_refused_as_a_bomb(tmp_path):
    """A 784-2048-10 network of zero weights, deflated: 6.4 MB in 6 KB, refused unread; the
    same network's real (random) weights, deflated, load."""
    net = Network.initialised((784, 2048, 10), "relu", "softmax", "ce")
    path = model_file(tmp_path / "real.npz", net)
    with np.load(path, allow_pickle=False) as npz:
        members = {k: npz[k] for k in npz.files}
    np.savez_compressed(path, **members)
    assert load_model(path)[0].sizes == (784, 2048, 10)
    np.savez_compressed(tmp_path / "zeros.npz", **{**members, "W0": np.zeros((784, 2048), np.float32)})
    with cheaply(max_bytes=8 * 2**20), refused(tmp_path / "zeros.npz", "W0", "decompression bomb",
                                                error=ModelFileError):
        load_model(tmp_path / "zeros.npz")


def test_a_huge_sizes_member_gives_a_short_sentence(tmp_path):
    """Two million layer sizes: named by their count, not listed (before: a 6 MB sentence)."""
    path = model_file(tmp_path / "sizes.npz", sizes=np.array([784] + [1] * 2_000_000 + [10]))
    with refused(path, "'sizes'", "(2000002,)", error=ModelFileError) as info:
        load_model(path)
    assert len(str(info.value)) < 300
    path = model_file(tmp_path / "neg.npz", sizes=np.full(2_000_000, -7, np.int64))
    with refused(path, "'sizes'", error=ModelFileError) as info:
        load_model(path)
    assert len(str(info.value)) < 300


# --- 3. model metadata ------------------------------------------------------------------------

ODD = ["\x1b[2J\x1b[31mred", "two\nlines", "\ud800", "\u202eevil", "x" * 10_000, "\x00", ""]
JSON_VALUES = [True, False, None, 1.5, -1, 0, 3, 10**40, [], [1, "a"], {}, {"a": 1}, "text",
               *ODD]
RAW_VALUES = ["NaN", "Infinity", "-Infinity", "1e999", "9" * 5000, "-" + "9" * 5000]
INFORMATIVE = ["date", "epochs", "step", "test_accuracy", "seconds", "train_images", "dataset",
               "config", "note"]


def meta_text(field: str, raw: str) -> str:
    return f'{{"{field}": {raw}}}'


def load_ok(path) -> dict:
    _, meta = load_model(path)
    for key, value in meta.items():  # whatever stayed is printable and of its field's type
        assert key.isprintable()
        if isinstance(value, str):
            one_line(value)
            assert len(value) <= 300
    for key in ("epochs", "step", "train_images"):
        if key in meta:
            assert type(meta[key]) is int and 0 <= meta[key] <= 10**15
            str(meta[key])  # no int too long to print
    for key in ("date", "dataset"):
        assert key not in meta or isinstance(meta[key], str)
    if "test_accuracy" in meta:
        assert 0.0 <= meta["test_accuracy"] <= 1.0
    assert isinstance(meta.get("config", {}), dict)
    return meta


@pytest.mark.parametrize("field", INFORMATIVE)
def test_informative_metadata_of_any_type_is_kept_checked_or_dropped(tmp_path, field):
    raws = [json.dumps(v) for v in JSON_VALUES] + RAW_VALUES
    for i, raw in enumerate(raws):
        path = model_file(tmp_path / f"{field}{i}.npz", meta_text=meta_text(field, raw))
        meta = load_ok(path)
        value = json.loads(raw, parse_int=lambda s: int(s) if len(s) < 100 else None)
        if field in ("epochs", "step", "train_images") and type(value) is int and 0 <= value <= 10**15:
            assert meta[field] == value
        if field in ("date", "dataset", "note") and isinstance(value, str):
            assert meta[field] == value or not value.isprintable() or len(value) > 300


@pytest.mark.parametrize("setting", ["seed", "epochs", "batch_size", "lr", "hidden", "sizes"])
def test_config_settings_of_the_wrong_type_are_dropped(tmp_path, setting):
    raws = [json.dumps(v) for v in JSON_VALUES] + RAW_VALUES
    for i, raw in enumerate(raws):
        path = model_file(tmp_path / f"{setting}{i}.npz",
                          meta_text=f'{{"config": {{"{setting}": {raw}, "optimizer": "adam"}}}}')
        config = load_ok(path)["config"]
        assert config["optimizer"] == "adam"
        if setting in config:
            value = config[setting]
            assert not isinstance(value, bool)
            if setting in ("seed", "epochs", "batch_size"):
                assert type(value) is int and value >= 0
            elif setting == "lr":
                assert isinstance(value, (int, float)) and math.isfinite(value)
            elif setting == "hidden":
                assert isinstance(value, str) and value.isprintable() and len(value) <= 40
            else:
                assert isinstance(value, list) and all(type(n) is int and n >= 1 for n in value)


@pytest.mark.parametrize("field, raw, phrase", [
    ("format", "3", "format must be 1 or 2, got 3"),
    ("format", "true", "format must be 1 or 2, got true"),
    ("format", '"2"', "format must be 1 or 2"),
    ("format", "9" * 5000, "format must be 1 or 2, got NaN"),
    ("dataset_name", "null", "dataset_name must be a short name"),
    ("dataset_name", json.dumps("\x1b[2J"), "dataset_name must be a short name"),
    ("dataset_name", json.dumps("x" * 10_000), "dataset_name must be a short name"),
    ("class_names", json.dumps(["\x1b[31m"] * 10), "class_names must be a list of 10 names"),
    ("class_names", json.dumps(["a\ud800"] * 10), "class_names must be a list of 10 names"),
    ("class_names", "[" + ",".join(["1"] * 10) + "]", "class_names must be a list of 10 names"),
    ("class_names", json.dumps({"a": 1}), "class_names must be a list of 10 names"),
])
def test_metadata_that_changes_the_meaning_is_refused_naming_file_and_field(tmp_path, field, raw, phrase):
    path = model_file(tmp_path / "m.npz", meta_text=meta_text(field, raw))
    with refused(path, phrase, error=ModelFileError) as info:
        load_model(path)
    one_line(str(info.value))
    assert len(str(info.value)) < 300


@pytest.mark.parametrize("text, phrase", [
    ("{" * 10 + "}" * 10, "not valid JSON"),
    ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "not valid JSON"),
    ('{"epochs": 1, ' + '"x": 1, ' * 200_000 + '"y": 2}', "more than the 1,000,000"),
])
def test_metadata_that_is_not_json_or_too_long_is_refused(tmp_path, text, phrase):
    path = model_file(tmp_path / "m.npz", meta_text=text)
    with refused(path, phrase, error=ModelFileError):
        load_model(path)


def test_metadata_that_is_not_one_string_is_refused(tmp_path):
    path = model_file(tmp_path / "arr.npz", meta=np.array(["{}", "{}"]))
    with refused(path, "metadata must be one JSON string", error=ModelFileError):
        load_model(path)


def test_a_model_trained_with_a_seed_above_two_to_the_31_loads(tmp_path):
    """A network trained with seed 3,000,000,000 and saved with the metadata ``main.py train``
    writes (as it did before it capped --seed at 2**31 - 1: such files exist) loads, its seed
    kept; and the fidelity benchmark describes it in one line."""
    from app.cli import run_meta
    from core.config import preset
    from core.fidelity import build_parser, obtain_network
    from core.train import Trainer

    data = load_dataset("mnist", MNIST_NPZ, limit=100)
    config = preset("fast").replace(sizes=(784, 8, 10), epochs=1, batch_size=50)
    trainer = Trainer(data, config)
    for _ in trainer.run():
        pass
    out = tmp_path / "seed.npz"
    meta = run_meta(trainer, data)
    meta["config"]["seed"] = 3_000_000_000  # TrainConfig itself now refuses such a seed
    save_model(out, trainer.net, meta)
    _, meta, _ = load_run(out)
    assert meta["config"]["seed"] == 3_000_000_000 and meta["epochs"] == 1
    _, described = obtain_network(build_parser().parse_args([str(out)]), data)
    assert described.isprintable() and "trained 1 epochs" in described


def test_the_fidelity_benchmark_describes_a_model_of_odd_metadata_in_one_line(tmp_path):
    from core.fidelity import build_parser, obtain_network

    data = Dataset(np.zeros((1, 784), np.float32), np.zeros(1, np.uint8),
                   np.zeros((1, 784), np.float32), np.zeros(1, np.uint8), "here")
    for i, raw in enumerate(["true", '"3"', "1.5", "null", "9" * 5000, "NaN", "[3]"]):
        path = model_file(tmp_path / f"odd\x1b[2J{i}.npz", meta_text=meta_text("epochs", raw))
        _, described = obtain_network(build_parser().parse_args([str(path)]), data)
        assert described.isprintable() and "trained" not in described


# --- 4. values that are not finite once the network computes ----------------------------------


def test_float64_weights_beyond_float32_are_refused(tmp_path):
    net = Network.initialised((784, 8, 10), "relu", "softmax", "ce")
    W0 = net.W[0].astype(np.float64)
    W0[3, 4] = 1e300  # finite in float64, inf in float32
    path = model_file(tmp_path / "big.npz", W0=W0)
    with refused(path, "W0", "beyond float32's range", error=ModelFileError):
        load_model(path)


@pytest.mark.parametrize("hidden", ["relu", "sigmoid"])
def test_float32_weights_whose_forward_pass_overflows_are_refused(tmp_path, hidden):
    net = Network.initialised((784, 8, 10), hidden, "softmax", "ce")
    W = np.full((8, 10), 1e38, np.float32)  # finite, but a sum of them is not
    W[:, 1::2] = -1e38
    path = model_file(tmp_path / "overflow.npz", net, W1=W,
                      W0=np.full((784, 8), 1e38 if hidden == "relu" else 1.0, np.float32))
    with refused(path, "its weights overflow", error=ModelFileError) as info:
        load_model(path)
    one_line(str(info.value))


def test_saturated_but_finite_networks_still_load(tmp_path):
    """Huge weights before a sigmoid saturate it (outputs 0 or 1): finite, so the file loads."""
    net = Network.initialised((784, 8, 10), "sigmoid", "softmax", "ce")
    path = model_file(tmp_path / "saturated.npz", net, W0=np.full((784, 8), 1e30, np.float32))
    loaded, _ = load_model(path)
    assert np.isfinite(loaded.predict_proba(np.ones((2, 784), np.float32))).all()
    assert trained_on(load_model(path)[1])[0] == "mnist"


# --- what stays as it was ---------------------------------------------------------------------


def test_idx_files_read_as_before(tmp_path):
    """The bounded readers give the same arrays: plain and gzipped, limited or not."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (7, 28, 28), dtype=np.uint8)
    for gz in (False, True):
        content = idx_bytes(images.shape, images.tobytes())
        path = tmp_path / (f"{STEMS['x_train']}.gz" if gz else STEMS["x_train"])
        path.write_bytes(gzip.compress(content) if gz else content)
        np.testing.assert_array_equal(read_idx(path, "x_train"), images)
        np.testing.assert_array_equal(read_idx(path, "x_train", limit=3), images[:3])
        path.unlink()


def test_a_damaged_gzip_is_still_caught_without_a_limit(tmp_path):
    content = bytearray(gzip.compress(idx_bytes((7, 28, 28), bytes(range(256)) * 21 + bytes(112))))
    content[-8] ^= 0xFF  # the CRC
    path = tmp_path / f"{STEMS['x_train']}.gz"
    path.write_bytes(bytes(content))
    with pytest.raises(DataError, match="damaged"):
        read_idx(path, "x_train")
