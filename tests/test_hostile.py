"""Issue 6, end to end: every hostile or broken model file gets one sentence naming it, from
``evaluate``, from ``predict`` and from File → Open, with no traceback, no code run and the
window keeping its model; every failed save (File → Save too) names the path, keeps the previous
file loadable and leaves no temporary file; a save killed before its rename loses nothing, and
the next save of that file removes what the killed one left.

The cases live in module tables: ``len(HOSTILE_FILES)`` files tried, ``len(SAVE_FAULTS)`` save
failures injected (each through core and through the window), plus the killed save.
"""
from __future__ import annotations

import errno
import inspect
import os
import signal
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from core import npzio
from core.errors import ModelFileError
from core.model_io import load_model, save_model
from tests import hostile
from tests.hostile import PickleTrap, cheaply, drop, npy_member, poke, replace_array
from tests.test_model_io import arrays_of, assert_same_network, network, with_member

ROOT = Path(__file__).resolve().parent.parent
SUBPROCESS_SECONDS = 30  # loose: interpreter start-up on a busy machine, not the refusal itself
WINDOW_LIMIT = 300
WAIT_MS = 60_000


# --- the hostile files ------------------------------------------------------------------------


def _good(tmp_path: Path) -> Path:
    path = tmp_path / "good.npz"
    if not path.exists():
        save_model(path, network())
    return path


def _changed(name: str, change):
    """A maker: the good model saved again with its arrays changed by ``change``."""
    def make(tmp_path: Path) -> Path:
        arrays = arrays_of(_good(tmp_path))
        change(arrays)
        path = tmp_path / name
        np.savez(path, allow_pickle=True, **arrays)
        return path
    return make


def _pickle_maker(tmp_path: Path) -> Path:
    arrays = arrays_of(_good(tmp_path))
    arrays["W0"] = np.array([PickleTrap(tmp_path / "code-ran")], dtype=object)
    np.savez(tmp_path / "evil.npz", allow_pickle=True, **arrays)
    return tmp_path / "evil.npz"


def _huge(tmp_path: Path) -> Path:
    """W0.npy claims (100000, 100000) float32, 40 GB, and holds 16 bytes."""
    return with_member(_good(tmp_path), tmp_path / "huge.npz", "W0",
                       npy_member("<f4", (100_000, 100_000), b"\0" * 16))


def _truncated(tmp_path: Path) -> Path:
    data = _good(tmp_path).read_bytes()
    path = tmp_path / "truncated.npz"
    path.write_bytes(data[:len(data) // 2])
    return path


def _random_bytes(tmp_path: Path) -> Path:
    path = tmp_path / "random.npz"
    path.write_bytes(np.random.default_rng(6).bytes(4096))
    return path


def _folder(tmp_path: Path) -> Path:
    path = tmp_path / "folder.npz"
    path.mkdir()
    return path


def _unreadable(tmp_path: Path) -> Path:
    path = tmp_path / "unreadable.npz"
    save_model(path, network())
    path.chmod(0)
    return path


# (name, maker(tmp_path) -> path, a phrase the sentence must hold). network(): 784-8-10.
HOSTILE_FILES = [
    ("pickled object array", _pickle_maker, "Python objects"),
    ("enormous claimed shape", _huge, "(100000, 100000)"),
    ("truncated zip", _truncated, "not a valid .npz file"),
    ("random bytes", _random_bytes, "not a valid .npz file"),
    ("a folder", _folder, "folder"),
    ("no read permission", _unreadable, "permission denied"),
    ("missing keys", _changed("missing.npz", drop("sizes")), "lacks sizes"),
    ("shapes do not chain", _changed("chain.npz", replace_array("W1", lambda a: np.zeros((9, 10), np.float32))),
     "W1 has shape (9, 10)"),
    ("NaN weight", _changed("nan.npz", poke("W0", (3, 4), np.nan)), "NaN or infinite"),
    ("infinite bias", _changed("inf.npz", poke("b1", 2, np.inf)), "NaN or infinite"),
    ("wrong dtype", _changed("int.npz", replace_array("W0", lambda a: a["W0"].astype(np.int32))),
     "floating-point"),
]
FILE_IDS = [name for name, _, _ in HOSTILE_FILES]

# Root reads any file whatever its permission bits. So that 'no read permission' means what it
# means to a user, os.access answers by the bits (as for anyone else) when the tests run as root.
AS_ROOT = os.name == "posix" and os.geteuid() == 0


def access_as_a_user(path, mode, *args, _real=os.access, **kwds):
    if mode & os.R_OK and os.path.isfile(path) and not os.stat(path).st_mode & 0o444:
        return False
    return _real(path, mode, *args, **kwds)


def run_main(*args, cwd: Path):
    """``python main.py ARGS`` in a subprocess (os.access as a user's, when root)."""
    if AS_ROOT:
        prelude = (f"import os, runpy, sys\n{inspect.getsource(access_as_a_user)}\n"
                   f"os.access = access_as_a_user\nsys.argv = ['main.py', *sys.argv[1:]]\n"
                   f"runpy.run_path({str(ROOT / 'main.py')!r}, run_name='__main__')\n")
        command = [sys.executable, "-c", prelude]
    else:
        command = [sys.executable, str(ROOT / "main.py")]
    return subprocess.run([*command, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=SUBPROCESS_SECONDS, check=False)


def png_of_a_digit(path: Path) -> Path:
    """A 28x28 8-bit grey PNG of a white bar on black, written without any image library."""
    pixels = np.zeros((28, 28), np.uint8)
    pixels[4:24, 12:16] = 255
    raw = b"".join(b"\0" + row.tobytes() for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def assert_one_sentence(result, path: Path, phrase: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"not one line: {result.stderr!r}"
    assert str(path) in lines[0] and phrase in lines[0], lines[0]


@pytest.mark.parametrize("command", ["evaluate", "predict"])
@pytest.mark.parametrize("name, make, phrase", HOSTILE_FILES, ids=FILE_IDS)
def test_the_command_line_refuses_a_hostile_model_in_one_sentence(tmp_path, command, name, make, phrase):
    path = make(tmp_path)
    extra = ["--limit", "100"] if command == "evaluate" else [png_of_a_digit(tmp_path / "digit.png")]
    result = run_main(command, path, *extra, cwd=tmp_path)
    assert_one_sentence(result, path, phrase)
    assert result.stdout == ""
    assert not (tmp_path / "code-ran").exists(), "unpickling ran code"


def test_the_png_digit_is_classified_by_a_good_model(tmp_path):
    """The control for the test above: with a good model, the same command succeeds."""
    result = run_main("predict", _good(tmp_path), png_of_a_digit(tmp_path / "digit.png"), cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.startswith(f"{tmp_path / 'digit.png'}: ")


# --- the window -------------------------------------------------------------------------------


@pytest.fixture
def window(qtbot, tmp_path):
    from tests.test_window import make_window
    window = make_window(qtbot, tmp_path / "settings.ini", limit=WINDOW_LIMIT)
    window.form.preset.setCurrentText("fast")
    yield window
    window.close()


def train_one_epoch(qtbot, window) -> str:
    window.form.epochs.setValue(1)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS) as ended:
        window.train()
    return ended.args[0]


def test_file_open_refuses_every_hostile_model_and_keeps_the_window_usable(qtbot, window, tmp_path,
                                                                          monkeypatch):
    """Each file: open_model is False, the dialog's sentence names the file, the model on screen
    is the same object, in under a second and without allocating the claims; then training works."""
    if AS_ROOT:
        monkeypatch.setattr(os, "access", access_as_a_user)
    kept, trainer = window.snapshot, window.trainer
    for name, make, phrase in HOSTILE_FILES:
        folder = tmp_path / name.replace(" ", "-")
        folder.mkdir()
        path = make(folder)
        with cheaply():
            opened = window.open_model(str(path))
        assert opened is False, name
        message = window.error_box.text()
        assert "\n" not in message and str(path) in message and phrase in message, (name, message)
        assert window.snapshot is kept and window.trainer is trainer, name
        assert not (folder / "code-ran").exists(), name
    assert train_one_epoch(qtbot, window) == ""
    assert window.snapshot.epoch == 1


# --- failed saves -----------------------------------------------------------------------------


class FullDisk:
    """os.fdopen whose files take ``room`` bytes and then fail as a full disk does (ENOSPC)."""

    def __init__(self, room: int = 4096):
        self.room, self.real = room, os.fdopen

    def __call__(self, fd, *args, **kwds):
        f = self.real(fd, *args, **kwds)
        real_write, disk = f.write, self

        def write(data):
            if len(data) > disk.room:
                real_write(bytes(memoryview(data).cast("B")[:disk.room]))
                disk.room = 0
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            disk.room -= len(data)
            return real_write(data)
        f.write = write
        return f


def _no_permission(*args, **kwds):
    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))


def _target_is_a_folder(tmp_path, monkeypatch) -> Path:
    (tmp_path / "brain.npz").mkdir()
    return tmp_path / "brain.npz"


def _folder_does_not_exist(tmp_path, monkeypatch) -> Path:
    return tmp_path / "no such folder" / "brain.npz"


def _full_disk(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(os, "fdopen", FullDisk())
    return tmp_path / "brain.npz"


def _read_only_folder(tmp_path, monkeypatch) -> Path:
    """Root writes anywhere; a read-only folder refuses the temporary file, so mkstemp does."""
    monkeypatch.setattr(tempfile, "mkstemp", _no_permission)
    return tmp_path / "brain.npz"


# (name, inject(tmp_path, monkeypatch) -> the path to save to, a phrase the sentence must hold)
SAVE_FAULTS = [
    ("path is a folder", _target_is_a_folder, "folder"),
    ("folder does not exist", _folder_does_not_exist, os.strerror(errno.ENOENT)),
    ("disk full", _full_disk, os.strerror(errno.ENOSPC)),
    ("read-only folder", _read_only_folder, os.strerror(errno.EACCES)),
]
SAVE_IDS = [name for name, _, _ in SAVE_FAULTS]


def previous_model(tmp_path: Path) -> tuple[Path | None, bytes | None]:
    """A good brain.npz where the save will go, and its bytes."""
    path = tmp_path / "brain.npz"
    save_model(path, network(seed=1))
    return path, path.read_bytes()


def assert_nothing_lost(tmp_path: Path, previous: Path | None, before: bytes | None) -> None:
    assert not [p for p in tmp_path.rglob("*.tmp")], "a temporary file was left behind"
    if previous is not None:
        assert previous.read_bytes() == before
        assert_same_network(load_model(previous)[0], network(seed=1))


@pytest.mark.parametrize("name, inject, phrase", SAVE_FAULTS, ids=SAVE_IDS)
def test_a_failed_save_names_the_path_and_loses_nothing(tmp_path, monkeypatch, name, inject, phrase):
    previous, before = (None, None) if name == "path is a folder" else previous_model(tmp_path)
    path = inject(tmp_path, monkeypatch)
    with hostile.refused(path, "cannot save", phrase, error=ModelFileError):
        save_model(path, network(seed=2))
    monkeypatch.undo()
    assert_nothing_lost(tmp_path, previous, before)


def test_file_save_failures_are_a_dialog_and_the_window_stays_usable(qtbot, window, tmp_path,
                                                                    monkeypatch):
    kept = window.snapshot
    for name, inject, phrase in SAVE_FAULTS:
        folder = tmp_path / name.replace(" ", "-")
        folder.mkdir()
        previous, before = (None, None) if name == "path is a folder" else previous_model(folder)
        path = inject(folder, monkeypatch)
        saved = window.save_model(str(path))
        monkeypatch.undo()
        assert saved is False, name
        message = window.error_box.text()
        assert "\n" not in message and str(path) in message and phrase in message, (name, message)
        assert window.snapshot is kept, name
        assert_nothing_lost(folder, previous, before)
    assert train_one_epoch(qtbot, window) == ""
    assert window.save_model(str(tmp_path / "after.npz"))
    np.testing.assert_array_equal(load_model(tmp_path / "after.npz")[0].W[0], window.snapshot.W[0])


# --- a save killed before its rename ----------------------------------------------------------

KILLED_SAVE = """
import os, signal, sys
from core.model_io import save_model
from core.network import Network
os.replace = lambda *args: os.kill(os.getpid(), signal.SIGKILL)  # dies with the data written
save_model(sys.argv[1], Network.initialised((784, 64, 10), "relu", "softmax", "ce", seed=9))
"""


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_save_killed_before_the_rename_keeps_the_previous_file_and_the_next_save_tidies(tmp_path):
    path = tmp_path / "brain.npz"
    save_model(path, network(seed=1))
    before = path.read_bytes()
    child = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(path)], cwd=ROOT,
                           capture_output=True, text=True, timeout=SUBPROCESS_SECONDS, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert path.read_bytes() == before
    assert_same_network(load_model(path)[0], network(seed=1))
    debris = temporaries(tmp_path)
    assert len(debris) == 1 and debris[0].startswith(".brain.npz."), debris
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["brain.npz", *debris])  # load tidies nothing

    save_model(path, network(seed=2))
    assert temporaries(tmp_path) == []
    assert_same_network(load_model(path)[0], network(seed=2))


@pytest.mark.skipif(npzio.fcntl is None, reason="without fcntl a live save is told by its open file")
def test_tidying_spares_a_save_in_progress_and_files_that_are_not_ours(tmp_path):
    """Two saves of one file at once: the temporary file another live saver holds (its lock) is
    not debris. Names that only resemble ours, and other models' temporaries, are never touched."""
    import fcntl
    path = tmp_path / "brain.npz"
    in_progress = tmp_path / ".brain.npz.abcd1234.tmp"
    others = [".brain.npz.notes.tmp", ".brain.npz.abcd12345.tmp", ".other.npz.abcd1234.tmp",
              "brain.npz.abcd1234.tmp"]
    for name in others:
        (tmp_path / name).write_bytes(b"not ours")
    in_progress.write_bytes(b"half a model")
    with open(in_progress, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        save_model(path, network(seed=1))
        assert in_progress.exists()
    save_model(path, network(seed=2))
    assert not in_progress.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["brain.npz", *others])
