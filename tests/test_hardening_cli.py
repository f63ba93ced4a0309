"""Issue 16, round two, the command line: bad input is one sentence on stderr and exit code 2,
never a traceback, a lost or half-written file, or a hang. Run as a user runs it, in
subprocesses: streams that go away or fill up or were never open; names over the system's
limits; output files that are devices; images that are FIFOs, devices, huge, padded or cut
short; Ctrl+C while importing, training and picturing; whole-number flags out of bounds.
Every subprocess has a timeout, so a regression that hangs fails instead."""
import errno
import os
import signal
import stat
import struct
import subprocess
import sys
import time
import types
import zlib
from pathlib import Path

import numpy as np
import pytest

from core.errors import UserError
from core.model_io import load_model, save_model
from core.network import Network

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TIMEOUT = 120  # s: any one command here takes a few seconds; a hang fails the test at this
QUICK = ["--preset", "fast", "--layers", "784,16,10", "--batch-size", "50", "--limit", "300"]


def env() -> dict:
    """The environment without a display, as on a server (pictures go offscreen)."""
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}


def command(*args) -> list[str]:
    return [PYTHON, str(ROOT / "main.py"), *map(os.fsdecode, args)]


def run(*args, cwd=None, **kwds) -> subprocess.CompletedProcess:
    if "stdout" not in kwds and "stderr" not in kwds:
        kwds["capture_output"] = True
    return subprocess.run(command(*args), cwd=cwd or ROOT, env=env(), timeout=TIMEOUT, check=False, **kwds)


def one_line(stderr: bytes | str) -> str:
    """stderr's only line, asserting there is exactly one and no traceback."""
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr
    assert "Traceback" not in text and "Exception ignored" not in text, text
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "m.npz"
    save_model(path, Network.initialised((784, 16, 10), seed=0))
    return path


def png(path: Path, width: int, height: int, row: bytes | None = None, rows=None) -> Path:
    """A grey 8-bit PNG written by hand: each row ``row`` (white if None), or the ``rows``
    given. A huge one costs only its compressed rows (8190x8190 white: 65 KB)."""
    row = row if row is not None else b"\xff" * width
    raw = b"".join(b"\0" + r for r in rows) if rows is not None else (b"\0" + row) * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    return path


def bar_png(path: Path) -> Path:
    """A 28x28 white bar on black: a digit ``predict`` reads (as tests/test_hostile.py's)."""
    bar = b"\0" * 12 + b"\xff" * 4 + b"\0" * 12
    return png(path, 28, 28, rows=[bar if 4 <= y < 24 else bytes(28) for y in range(28)])


def noise_jpeg(path: Path, shape=(600, 800)) -> Path:
    from PIL import Image
    grey = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    Image.fromarray(grey).save(path, quality=90)
    return path


# --- 1. streams -------------------------------------------------------------------------------


def run_into_closed_pipe(*args, cwd=None) -> subprocess.CompletedProcess:
    """The command with stdout a pipe whose reader is gone before it starts (``| true``)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(command(*args), cwd=cwd or ROOT, env=env(), stdout=write,
                              stderr=subprocess.PIPE, timeout=TIMEOUT, check=False)
    finally:
        os.close(write)


def test_evaluate_into_a_closed_pipe_is_quiet_and_exits_141(model):
    result = run_into_closed_pipe("evaluate", model, "--limit", "200")
    assert result.returncode == 141 and result.stderr == b"", result.stderr


def test_train_into_a_closed_pipe_still_saves_its_model(tmp_path):
    out = tmp_path / "m.npz"
    result = run_into_closed_pipe("train", *QUICK, "--epochs", "2", "--out", out)
    assert result.returncode == 141 and result.stderr == b"", result.stderr
    assert load_model(out)[1]["epochs"] == 2


def test_train_piped_into_head_1_stops_printing_and_saves(tmp_path):
    """``train | head -1``: one line read, then the pipe closed; training goes on and saves."""
    out = tmp_path / "m.npz"
    process = subprocess.Popen(command("train", *QUICK, "--epochs", "3", "--out", out), cwd=ROOT,
                               env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = process.stdout.readline()
        process.stdout.close()
        stderr = process.communicate(timeout=TIMEOUT)[1]
    finally:
        if process.poll() is None:
            process.kill()
    assert first.startswith(b"training 784-16-10 ")
    assert process.returncode in (0, 141) and stderr == b"", stderr  # 0 only if it wrote all first
    assert load_model(out)[1]["epochs"] == 3


@pytest.mark.parametrize("what", ["evaluate", "train"])
def test_a_full_stdout_is_one_sentence_and_exit_2_and_train_still_saves(model, tmp_path, what):
    out = tmp_path / "m.npz"
    args = ("evaluate", model, "--limit", "200") if what == "evaluate" else ("train", *QUICK, "--epochs", "1", "--out", out)
    with open("/dev/full", "wb") as full:
        result = run(*args, stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 2
    assert one_line(result.stderr) == (f"error: cannot write to standard output: "
                                       f"{os.strerror(errno.ENOSPC)}; what was printed after that is lost")
    if what == "train":
        assert load_model(out)[1]["epochs"] == 1


def run_with_stderr_closed(*args, cwd) -> subprocess.CompletedProcess:
    """The command as ``sh -c 'cmd 2>&-'`` runs it: no descriptor 2 at all."""
    return subprocess.run(["sh", "-c", 'exec "$@" 2>&-', "sh", *command(*args)], cwd=cwd, env=env(),
                          capture_output=True, timeout=TIMEOUT, check=False)


def test_train_with_stderr_closed_trains_saves_and_exits_0(tmp_path):
    out = tmp_path / "m.npz"
    result = run_with_stderr_closed("train", *QUICK, "--epochs", "1", "--out", out, cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout.decode().splitlines()[-1].startswith("test accuracy: ")
    assert load_model(out)[1]["epochs"] == 1  # and nothing was written into it through fd 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_an_error_with_stderr_closed_still_exits_2(tmp_path):
    result = run_with_stderr_closed("evaluate", tmp_path / "missing.npz", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == b""


# --- 2. names over the system's limits --------------------------------------------------------

LONG_COMPONENT = "n" * 300  # NAME_MAX is 255 bytes
LONG_PATH = "/".join(["d" * 200] * 25)  # 5,024 bytes: PATH_MAX is 4,096


@pytest.mark.parametrize("name", [LONG_COMPONENT + ".npz", LONG_PATH], ids=["component", "path"])
def test_evaluate_of_a_name_too_long_is_one_sentence(tmp_path, name):
    result = run("evaluate", name, cwd=tmp_path, text=True)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith("error: cannot read model '") and line.endswith(os.strerror(errno.ENAMETOOLONG))
    assert len(line) <= 1000 + len("error: ")


def test_predict_reads_every_image_and_gives_each_bad_one_its_line(model, tmp_path):
    """A name too long, a FIFO (which would block a reader for ever), /dev/zero (which never
    ends), an image cut short, one whose header claims 64 MP: each one line; the good ones,
    one of them named in bytes that are not UTF-8, are still read."""
    good = bar_png(tmp_path / "good.png")
    odd = tmp_path / os.fsdecode(b"\xff\xfe-odd.png")
    odd.write_bytes(good.read_bytes())
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    cut = noise_jpeg(tmp_path / "cut.jpg")
    cut.write_bytes(cut.read_bytes()[:cut.stat().st_size // 2])
    huge = png(tmp_path / "huge.png", 8000, 8000)
    images = [good, tmp_path / (LONG_COMPONENT + ".png"), fifo, "/dev/zero", cut, huge, odd]
    start = time.monotonic()
    result = run("predict", model, *images, cwd=tmp_path)
    assert time.monotonic() - start < 60
    assert result.returncode == 2
    out = result.stdout.splitlines()
    assert [line.split(b": ")[0] for line in out] == [os.fsencode(good), os.fsencode(odd)]
    errors = result.stderr.decode().splitlines()
    assert "Traceback" not in result.stderr.decode() and len(errors) == 5, result.stderr
    assert errors[0].endswith(os.strerror(errno.ENAMETOOLONG))
    assert errors[1] == f"error: cannot read image '{fifo}': it is a FIFO (a named pipe), not a regular file"
    assert errors[2] == "error: cannot read image '/dev/zero': it is a character device, not a regular file"
    assert errors[3].startswith(f"error: cannot read image '{cut}': the file is cut short or damaged")
    assert errors[4] == (f"error: cannot read image '{huge}': it is 8000x8000 pixels (64 MP), more than "
                         f"the 50 MP this program reads")


@pytest.mark.parametrize("out, phrase", [
    (LONG_COMPONENT + ".npz", os.strerror(errno.ENAMETOOLONG)),
    (LONG_PATH, os.strerror(errno.ENAMETOOLONG)),
    ("no such folder/m.npz", "there is no folder 'no such folder'"),
    ("/dev/null", "it is a character device, not a regular file"),
    ("folder", "it is a folder"),
], ids=["component", "path", "missing folder", "/dev/null", "folder"])
def test_train_refuses_an_out_it_cannot_write_before_training(tmp_path, out, phrase):
    (tmp_path / "folder").mkdir()
    result = run("train", *QUICK, "--epochs", "1", "--out", out, cwd=tmp_path, text=True)
    assert result.returncode == 2 and result.stdout == ""  # not even the "training ..." line
    line = one_line(result.stderr)
    assert line.startswith("error: cannot save the model to '") and phrase in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]  # no temporary left


def test_train_saves_to_a_name_of_255_bytes(tmp_path):
    """The temporary file beside it must fit too: core.npzio shortens its stem."""
    name = "é" * 100 + "m" * 51 + ".npz"  # 200 + 51 + 4 = 255 bytes
    assert len(os.fsencode(name)) == 255
    result = run("train", *QUICK, "--epochs", "1", "--out", name, cwd=tmp_path, text=True)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert load_model(tmp_path / name)[1]["epochs"] == 1


def test_compare_refuses_an_out_it_cannot_write_before_training(tmp_path):
    result = run("compare", "classic", "fast", "--epochs", "1", "--limit", "300",
                 "--out", "a.npz", "/dev/null", cwd=tmp_path, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert "cannot save the model to '/dev/null'" in one_line(result.stderr)


# --- 3. pictures ------------------------------------------------------------------------------


def test_the_picture_checks_refuse_before_training(tmp_path):
    """``app.screenshot.check_args``, run before anything is trained: devices, names too long,
    missing folders, and more epochs than the window's form takes."""
    from app import screenshot
    window = types.SimpleNamespace(form=types.SimpleNamespace(epochs=types.SimpleNamespace(maximum=lambda: 10_000)))

    def refused(**flags):
        args = types.SimpleNamespace(**{"screenshot": None, "timelapse": None, "epochs": None, **flags})
        with pytest.raises(UserError) as error:
            screenshot.check_args(window, args)
        return str(error.value)

    assert refused(screenshot="/dev/null").endswith("'/dev/null': it is a character device, not a regular file")
    assert refused(timelapse=str(tmp_path / LONG_COMPONENT)).endswith(os.strerror(errno.ENAMETOOLONG))
    assert refused(screenshot=str(tmp_path / "no" / "x.png")).startswith("cannot save the picture")
    assert refused(epochs=10**10) == "--epochs must be at most 10,000, got 10,000,000,000"
    assert refused(epochs=10**100) == "--epochs must be at most 10,000, got 10,000,000,000,000,0… (101 digits)"
    assert list(tmp_path.iterdir()) == []


def test_screenshot_to_dev_null_is_refused_at_once(tmp_path):
    result = run("--screenshot", "/dev/null", "--epochs", "1", "--limit", "300", cwd=tmp_path, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert one_line(result.stderr) == ("error: cannot save the picture to '/dev/null': it is a character "
                                       "device, not a regular file")


FULL_DISK = """
import errno, os, sys
sys.path.insert(0, sys.argv[1])
real = os.fdopen
def fdopen(fd, mode="r", *args, **kwds):
    f = real(fd, mode, *args, **kwds)
    if "w" in mode:
        def write(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        f.write = write
    return f
os.fdopen = fdopen
from app.launch import dispatch
sys.exit(dispatch(sys.argv[2:]))
"""


def test_a_full_disk_keeps_the_previous_picture(model, tmp_path):
    shot = tmp_path / "shot.png"
    shot.write_bytes(b"the previous picture")
    result = subprocess.run([PYTHON, "-c", FULL_DISK, str(ROOT), "--open", str(model), "--screenshot",
                             str(shot), "--limit", "300"], cwd=tmp_path, env=env(),
                            capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 2
    assert one_line(result.stderr) == (f"error: cannot save the picture to '{shot}': "
                                       f"{os.strerror(errno.ENOSPC)}")
    assert shot.read_bytes() == b"the previous picture"
    assert [p.name for p in tmp_path.iterdir()] == ["shot.png"]


def test_readbench_writes_its_pictures_all_or_nothing(tmp_path, monkeypatch):
    from app import readbench
    path = tmp_path / "p.jpg"
    path.write_bytes(b"before")

    def full(*args, **kwds):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    from PIL import Image
    monkeypatch.setattr(Image.Image, "save", full)
    with pytest.raises(UserError, match="No space left on device"):
        readbench.save_jpeg(path, np.zeros((10, 10), np.uint8))
    assert path.read_bytes() == b"before" and [p.name for p in tmp_path.iterdir()] == ["p.jpg"]


# --- 4. images --------------------------------------------------------------------------------


def test_an_image_of_67_megapixels_is_refused_before_decoding(tmp_path):
    """8190x8190 in 65 KB of PNG: its header says so, and nothing is decoded (before, 1.7 s
    and 580 MB before it was found blank)."""
    import resource

    from app.images import read_grey_levels
    path = png(tmp_path / "huge.png", 8190, 8190)
    assert path.stat().st_size < 100_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(UserError, match=r"it is 8190x8190 pixels \(67 MP\), more than the 50 MP"):
        read_grey_levels(str(path))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB


def test_a_large_image_is_decoded_scaled_down_keeping_its_shape(tmp_path):
    from app.images import DECODED_PIXELS, read_grey_levels
    row = b"\xff" * 3000 + b"\0" * 3000  # left half white, right half black
    grey = read_grey_levels(str(png(tmp_path / "wide.png", 6000, 4000, row)))  # 24 MP
    h, w = grey.shape
    assert h * w <= DECODED_PIXELS and abs(w / h - 1.5) < 0.01
    assert grey[:, : w // 2 - 2].min() == 255 and grey[:, w // 2 + 2:].max() == 0


def test_a_padded_jpeg_claiming_8000x8000_and_a_truncated_one_are_one_sentence(tmp_path):
    from PIL import Image

    from app.images import read_grey_levels
    padded = tmp_path / "padded.jpg"
    Image.new("L", (8000, 8000), 200).save(padded, quality=75)
    padded.write_bytes(padded.read_bytes()[:2500])  # 2.5 KB that claim 64 MP
    with pytest.raises(UserError, match=r"8000x8000 pixels \(64 MP\)"):
        read_grey_levels(str(padded))
    cut = noise_jpeg(tmp_path / "cut.jpg")
    cut.write_bytes(cut.read_bytes()[:cut.stat().st_size // 2])
    with pytest.raises(UserError, match=r"^cannot read image '.*cut\.jpg': the file is cut short or "
                                        r"damaged \(the decoder says: .*premature end"):
        read_grey_levels(str(cut))
    damaged = tmp_path / "cut.png"
    damaged.write_bytes(bar_png(tmp_path / "whole.png").read_bytes()[:60])
    with pytest.raises(UserError, match="damaged, cut short"):
        read_grey_levels(str(damaged))


def test_qt_says_nothing_on_stderr_of_its_own(tmp_path, capfd):
    from app.images import read_grey_levels
    cut = noise_jpeg(tmp_path / "cut.jpg")
    cut.write_bytes(cut.read_bytes()[:cut.stat().st_size // 2])
    with pytest.raises(UserError):
        read_grey_levels(str(cut))
    assert read_grey_levels(str(noise_jpeg(tmp_path / "whole.jpg"))).shape == (600, 800)
    assert capfd.readouterr().err == ""


def test_a_file_larger_than_the_cap_is_refused_unread(tmp_path, monkeypatch):
    from app import images
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 1000)
    with pytest.raises(UserError, match="larger than the 0 MiB an image may be"):
        images.read_grey_levels(str(noise_jpeg(tmp_path / "big.jpg")))


def test_a_name_that_is_not_utf8_is_read(tmp_path):
    from app.images import read_grey_levels
    path = tmp_path / os.fsdecode(b"\xff.png")
    bar_png(path)
    assert read_grey_levels(str(path)).shape == (28, 28)


# --- 5. Ctrl+C --------------------------------------------------------------------------------


def interrupt_when(argv, marker: bytes, stream: str = "stdout", cwd=None):
    """Start ``argv``, wait for a line holding ``marker`` on ``stream``, send SIGINT to the
    process as a terminal's Ctrl+C does (the training process of a window ignores it), and
    return (exit code, stdout, stderr)."""
    process = subprocess.Popen(argv, cwd=cwd or ROOT, env=env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    watched = getattr(process, stream)
    seen = []
    try:
        for line in watched:
            seen.append(line)
            if marker in line:
                break
        else:
            pytest.fail(f"ended before saying {marker!r}: {process.wait()}, {b''.join(seen)[-2000:]!r}")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, (b"".join(seen) if stream == "stdout" else b"") + out, \
        (b"".join(seen) if stream == "stderr" else b"") + err


def test_ctrl_c_while_importing_is_one_line_and_130(tmp_path):
    """``-X importtime`` prints a line as each module is imported: Ctrl+C once NumPy is in,
    while the rest of the program is still being imported (or, at worst, loading MNIST)."""
    code, _, err = interrupt_when([PYTHON, "-X", "importtime", str(ROOT / "main.py"), "train",
                                     *QUICK, "--out", str(tmp_path / "m.npz")], b"| numpy", "stderr")
    text = err.decode()
    own = [line for line in text.splitlines() if not line.startswith("import time:") and line.strip()]
    assert code == 130 and "Traceback" not in text and len(own) <= 1, own
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize("existing", [False, True], ids=["new file", "existing file"])
def test_ctrl_c_while_training_saves_nothing_and_exits_130(tmp_path, existing):
    out = tmp_path / "m.npz"
    if existing:
        out.write_bytes(b"the model before")
    code, _, stderr = interrupt_when(command("train", *QUICK, "--limit", "2000", "--epochs", "200",
                                                  "--out", out), b"/200  cost")
    kept = f" ('{out}' is as before)" if existing else ""
    assert code == 130
    assert one_line(stderr).startswith("interrupted in epoch ") and one_line(stderr).endswith(
        f" of 200; nothing was saved{kept}")
    assert out.read_bytes() == b"the model before" if existing else not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == (["m.npz"] if existing else [])


def test_ctrl_c_during_a_save_lets_it_finish_first():
    from core.commandline import interrupt_deferred
    done = []
    with pytest.raises(KeyboardInterrupt, match="saved first"), interrupt_deferred("saved first"):
        signal.raise_signal(signal.SIGINT)  # its handler has run when this returns: it only notes it
        done.append(True)
    assert done == [True]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


SAYS_WHEN_WAITING = """
import runpy, sys
sys.path.insert(0, sys.argv[1])
import app.screenshot as screenshot
wait_for = screenshot.wait_for
def waiting(*args, **kwds):
    print("waiting for training", flush=True)
    return wait_for(*args, **kwds)
screenshot.wait_for = waiting
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_ctrl_c_while_training_for_a_screenshot_exits_130_without_a_picture(tmp_path):
    shot = tmp_path / "shot.png"
    code, _, err = interrupt_when([PYTHON, "-c", SAYS_WHEN_WAITING, str(ROOT), str(ROOT / "main.py"),
                                     "--screenshot", str(shot), "--epochs", "50", "--limit", "5000"],
                                    b"waiting for training")
    assert code == 130, err
    assert one_line(err) == "interrupted; no picture was saved"
    assert list(tmp_path.iterdir()) == []


# --- 6. whole-number flags ----------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["train", "--epochs", "10001"], "error: epochs must be at most 10,000, got 10,001"),
    (["train", "--seed", str(2**31)], "error: the seed must be at most 2,147,483,647, got 2,147,483,648"),
    (["train", "--seed", "9" * 100], "error: the seed must be at most 2,147,483,647, got 9,999,999,999,999,99… (100 digits)"),
    (["train", "--limit", str(10**8)], "error: --limit must be 1 to 10,000,000, got 100,000,000"),
    (["train", "--limit", "-5"], "error: --limit must be at least 1, got -5"),
    (["compare", "fast", "classic:epochs=20000"], "error: B: epochs must be at most 10,000, got 20,000"),
    (["compare", "fast", "classic", "--seed", str(2**40)], "error: A: the seed must be at most 2,147,483,647, got 1,099,511,627,776"),
    (["train", "--layers", "784,1000000,10"], "error: layer sizes must be at most 65,536, got 1,000,000"),
    (["train", "--epochs", "9" * 5000], "invalid int value"),
])
def test_whole_number_flags_out_of_bounds_are_one_sentence(tmp_path, args, message):
    result = run(*args, cwd=tmp_path, text=True)
    assert result.returncode == 2 and result.stdout == ""
    line = one_line(result.stderr)
    assert line.startswith(message) if message.startswith("error") else message in line
    assert len(line) < 1100 and list(tmp_path.iterdir()) == []


def test_the_bounds_are_those_of_the_windows_form():
    """A model trained from the command line opens in the window's form, seed and epochs alike:
    both hold the settings' own bounds, which every TrainConfig is checked against."""
    from app.controls import LIMITS
    from core.config import MAX_EPOCHS, MAX_SEED, check_epochs, preset
    assert LIMITS["epochs"][1] == MAX_EPOCHS and LIMITS["seed"][1] == MAX_SEED
    with pytest.raises(UserError, match="the seed must be at most 2,147,483,647"):
        preset("fast").replace(seed=MAX_SEED + 1)
    with pytest.raises(UserError, match="epochs must be at most 10,000"):
        check_epochs(MAX_EPOCHS + 1)
    # what one Train asks for is bounded, not the run's total, which grows with Train again
    assert preset("fast").replace(epochs=3 * MAX_EPOCHS).epochs == 3 * MAX_EPOCHS


def test_check_can_save_leaves_nothing_behind(tmp_path):
    from core.npzio import check_can_save
    check_can_save(tmp_path / "new.npz", "the model")
    (tmp_path / "old.npz").write_bytes(b"x")
    check_can_save(tmp_path / "old.npz", "the model")
    os.symlink(tmp_path / "old.npz", tmp_path / "link.npz")
    with pytest.raises(UserError, match="symbolic link"):
        check_can_save(tmp_path / "link.npz", "the model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.npz", "old.npz"]
    assert stat.S_ISREG(os.lstat(tmp_path / "old.npz").st_mode)
