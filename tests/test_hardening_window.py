"""Issue 16, the window: bad input gets one sentence in a dialog, never a traceback, a lost or
half-written file, a hang or a freeze.

1. Corrupt remembered settings (wrong types, 2**31, 1e999, NaN, JSON nested too deep, a
   settings file that is a FIFO, a device or a symbolic link) never stop the window from
   starting; what is ignored is named once in the status bar; a fuzzer writes values of every
   type into every setting.
2. File → Open, Open recent and Compare with a saved run: every hostile model, a FIFO,
   /dev/zero, metadata of odd types and a seed of 3000000000 give a dialog, and the form, the
   model and the title stay exactly as they were; an unexpected error gives a dialog too, with
   its traceback.
3. Export picture: written all or nothing (a full disk keeps the previous PNG); a FIFO or a
   device as the target is refused.
4. The data loader, the worker thread and the training process report an unexpected error in a
   sentence that names the file its traceback was saved to.
5. Ctrl+C (SIGINT to the window's process group, as a terminal sends it) ends the real window,
   idle or training, with exit code 130, within seconds, with nothing on stderr and no process
   left behind.
6. Qt's own messages are kept in a log and printed once, the harmless ones not at all.
"""
from __future__ import annotations

import json
import math
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QByteArray, QSettings

from app import files
from app.controls import checked_values
from core.config import TrainConfig
from core.model_io import save_model
from tests.test_hostile import AS_ROOT, HOSTILE_FILES, FullDisk, access_as_a_user
from tests.test_model_io import network
from tests.test_window import WAIT_MS, loaded_mnist, themed  # noqa: F401 (themed: autouse fixture)

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 300  # training and test images of the windows here
SIGINT_SECONDS = 20  # loose bound for the window to end after Ctrl+C (it takes about half a second)


@pytest.fixture(autouse=True)
def logs(tmp_path, monkeypatch):
    """Tracebacks go to a folder of the test's (the training process inherits it too)."""
    folder = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(folder))
    return folder / "watch-it-learn"


def make_window(qtbot, settings, process=False, note=""):
    from app.window import MainWindow
    window = MainWindow(settings, limit=LIMIT, data=loaded_mnist(), process=process, settings_note=note)
    qtbot.addWidget(window)
    return window


def ini(path) -> QSettings:
    return QSettings(str(path), QSettings.IniFormat)


def form_values(window) -> dict:
    """Every field of the form as it shows it, and the preset."""
    f = window.form
    return {"config": f.config().as_dict(), "preset": f.preset.currentText(), "layers": f.layers.text()}


def assert_form_holds_valid_values(window) -> None:
    config = window.form.config()  # raises if the form holds something invalid
    dropped = checked_values(config.as_dict())[1]
    assert not dropped, dropped


# --- 1. settings ------------------------------------------------------------------------------


def test_corrupt_settings_are_ignored_and_named_once(qtbot, tmp_path):
    """Wrong types and absurd numbers in every setting: the window starts with the defaults for
    those, keeps the valid ones, names what it ignored in the status bar, and removes it."""
    path = tmp_path / "settings.ini"
    s = ini(path)
    s.setValue("geometry", 12345)
    s.setValue("state", "not a state")
    s.setValue("training", json.dumps({"seed": 2**31, "batch_size": 1e999, "epochs": "5", "lr": math.nan,
                                       "momentum": 0.5, "dropout": [1], "sizes": [784, "x", 10],
                                       "hidden": "relu"}))
    s.setValue("hints/first_run_done", "maybe")
    s.setValue("data/dataset", "no such dataset")
    s.setValue(files.RECENT_KEY, {"not": "a list"})
    s.setValue(files.FOLDER_KEY, ["two", "folders"])
    s.setValue("timelapse/frame_ms", "abc")
    s.sync()
    window = make_window(qtbot, ini(path))
    assert_form_holds_valid_values(window)
    config = window.form.config()
    assert config.momentum == 0.5 and config.hidden == "relu"  # the valid ones are kept
    message = window.status.currentMessage()
    assert message.startswith("Ignored 13 invalid settings: geometry, layout, first-run hint, dataset, "
                              "recent files, last folder, time-lapse frame duration, "), message
    for name in ("seed", "batch_size", "epochs", "lr", "dropout", "sizes"):
        assert name in message, (name, message)
    assert window.recent.paths() == []
    assert window.settings_note == ""  # said once
    window.close()
    again = ini(path)
    assert again.value("timelapse/frame_ms") is None and again.value(files.RECENT_KEY) is None


def test_training_settings_nested_too_deep_are_ignored(qtbot, tmp_path):
    path = tmp_path / "settings.ini"
    s = ini(path)
    s.setValue("training", "[" * 20_000 + "]" * 20_000)
    s.sync()
    window = make_window(qtbot, ini(path))
    assert_form_holds_valid_values(window)
    assert "training settings" in window.status.currentMessage()


@pytest.mark.parametrize("kind", ["fifo", "device", "folder", "huge"])
def test_a_settings_file_that_is_not_a_file_is_not_read_and_not_written(qtbot, tmp_path, kind):
    """A FIFO would block QSettings for ever, a device never end: none is read (at once), the
    window starts with the defaults and says so, and nothing is written to it."""
    path = tmp_path / "settings.conf"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    else:
        with open(path, "wb") as f:
            f.truncate(files.MAX_SETTINGS_BYTES + 1)
    before = os.lstat(path)
    start = time.monotonic()
    settings, note = files.open_settings(str(path), str(tmp_path))
    assert time.monotonic() - start < 1
    assert "default settings and does not save them" in note and str(path) in note, note
    window = make_window(qtbot, settings, note=note)
    assert_form_holds_valid_values(window)
    assert note in window.status.currentMessage()
    window.close()
    after = os.lstat(path)
    assert (after.st_mode, after.st_ino, after.st_size) == (before.st_mode, before.st_ino, before.st_size)


def test_a_settings_file_that_is_a_symbolic_link_is_read_but_never_written_through(qtbot, tmp_path):
    real = tmp_path / "real.conf"
    s = ini(real)
    s.setValue("training", json.dumps(TrainConfig(seed=42).as_dict()))
    s.sync()
    link = tmp_path / "settings.conf"
    link.symlink_to(real)
    kept = real.read_bytes()
    (tmp_path / "scratch").mkdir()
    settings, note = files.open_settings(str(link), str(tmp_path / "scratch"))
    assert "symbolic link" in note and "not saved" in note
    window = make_window(qtbot, settings, note=note)
    assert window.form.config().seed == 42  # read
    window.form.seed.setValue(7)
    window.close()  # saves its settings: into the copy
    assert link.is_symlink() and real.read_bytes() == kept


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                      max_size=4),
                           max_leaves=10)
FIELDS = list(TrainConfig().as_dict())
TRAINING = st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES
                           | st.sampled_from([2**31, -1, 0, 10**400, 1e999, -1e999, "1e999", "relu", [784, 10]]),
                           max_size=8).map(json.dumps)
QT_VALUES = (st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats() | st.text(max_size=30)
             | st.integers(-2**70, 2**70).map(str)
             | st.binary(max_size=64).map(QByteArray) | st.lists(st.text(max_size=10), max_size=12)
             | st.dictionaries(st.text(min_size=1, max_size=5), st.integers(-2**63, 2**63 - 1), max_size=3) | TRAINING)
SETTINGS_VALUES = st.fixed_dictionaries({key: QT_VALUES for key in files.SETTINGS})


@settings(max_examples=150, deadline=None, derandomize=True)
@given(values=SETTINGS_VALUES)
def test_fuzz_every_setting_is_read_as_valid_or_ignored(tmp_path_factory, values):
    """Values of every type in every setting, read back through the ini file: each reads as its
    default or as a value its check accepts, and the training settings always make a config."""
    path = tmp_path_factory.mktemp("fuzz") / "settings.ini"
    s = ini(path)
    for key, value in values.items():
        s.setValue(key, value)
    s.sync()
    read, ignored = files.read_settings(ini(path))
    assert len(ignored) == len(set(ignored))
    from app.timelapse import MAX_FRAME_MS, MIN_FRAME_MS, TARGETS
    from core.data import DATASETS
    valid = {"geometry": lambda v: isinstance(v, QByteArray) and 0 < len(v) <= files.MAX_BLOB,
             "state": lambda v: isinstance(v, QByteArray) and 0 < len(v) <= files.MAX_BLOB,
             "training": lambda v: isinstance(v, dict),
             "hints/first_run_done": lambda v: isinstance(v, bool),
             "data/dataset": lambda v: v in DATASETS,
             files.RECENT_KEY: lambda v: isinstance(v, list) and len(v) <= files.MAX_RECENT
             and all(isinstance(p, str) and p.isprintable() and p for p in v),
             files.FOLDER_KEY: lambda v: isinstance(v, str) and len(v) <= files.MAX_PATH,
             "timelapse/target": lambda v: v in TARGETS,
             "timelapse/frame_ms": lambda v: isinstance(v, int) and MIN_FRAME_MS <= v <= MAX_FRAME_MS}
    for key, value in read.items():
        assert value == files.SETTINGS[key][2] or valid[key](value), (key, value)
    if read["training"] is not None:
        from app.controls import config_from
        config, _ = config_from(read["training"], TrainConfig())
        assert not checked_values(config.as_dict())[1]


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(values=SETTINGS_VALUES)
def test_fuzz_the_window_starts_on_any_settings(qtbot, tmp_path_factory, values):
    """The same random settings given to a real window: it starts and its form holds valid values."""
    path = tmp_path_factory.mktemp("fuzzwin") / "settings.ini"
    s = ini(path)
    for key, value in values.items():
        s.setValue(key, value)
    s.sync()
    window = make_window(qtbot, ini(path))
    assert_form_holds_valid_values(window)
    assert window.run is not None
    window.close()


# --- 2. opening a model -----------------------------------------------------------------------


@pytest.fixture
def window(qtbot, tmp_path):
    window = make_window(qtbot, ini(tmp_path / "settings.ini"))
    window.form.preset.setCurrentText("fast")
    window.form.seed.setValue(11)
    yield window
    window.close()


def as_it_was(window):
    return (form_values(window), window.snapshot, window.trainer, window.windowTitle(),
            window.isWindowModified(), window.comparison)


def odd_meta(name, **meta):
    def make(folder: Path) -> Path:
        path = folder / f"{name}.npz"
        save_model(path, network(), meta)
        return path
    return name, make


# Settings the window cannot hold, kept by the reader (core.model_io keeps a seed above 2**31):
# refused by the window.
UNHOLDABLE = [
    odd_meta("seed-3000000000", config={**TrainConfig().as_dict(), "seed": 3_000_000_000}, epochs=1, step=50),
    odd_meta("batch-huge", config={"batch_size": 10**20}),
]
# Metadata of odd types: refused in a sentence, or (core.model_io drops what is only
# informative) opened with valid settings; never an exception.
ODD_TYPES = [
    odd_meta("seed-float", config={"seed": 1.5}),
    odd_meta("lr-string", config={"lr": "fast"}),
    odd_meta("warmup-enormous", config={"warmup": 10**400}),
    odd_meta("dropout-nan", config={"dropout": math.nan}),
    odd_meta("config-list", config=[1, 2]),
    odd_meta("epochs-huge", epochs=10**30),
    odd_meta("step-negative", step=-1),
    odd_meta("step-bool", step=True),
    odd_meta("accuracy-string", test_accuracy="high"),
    odd_meta("accuracy-infinite", test_accuracy=math.inf),
]


def special(name):
    def make(folder: Path) -> Path:
        if name == "fifo":
            path = folder / "fifo.npz"
            os.mkfifo(path)
            return path
        return Path("/dev/zero")
    return name, make


REFUSED = [(name, make) for name, make, _ in HOSTILE_FILES] + [special("fifo"), special("/dev/zero")] + UNHOLDABLE


def test_open_open_recent_and_compare_refuse_every_bad_model_and_change_nothing(qtbot, window, tmp_path,
                                                                               monkeypatch):
    """Each of the hostile files, a FIFO, /dev/zero, settings the form cannot hold (a seed of
    3000000000) and ten kinds of odd metadata, through File → Open, Open recent and Compare
    with a saved run: a dialog of one sentence that names the file, and the form, the model and
    the title as they were; or, for odd metadata only, the model opened with valid settings."""
    if AS_ROOT:
        monkeypatch.setattr(os, "access", access_as_a_user)
    window.show()
    opened = []
    for name, make in REFUSED + ODD_TYPES:
        folder = tmp_path / name.replace(" ", "-").replace("/", "")
        folder.mkdir()
        path = str(make(folder))
        for how, attempt in (("open", window.open_model), ("recent", window.open_recent),
                             ("compare", window.compare_with_file)):
            window.error_box = None
            before = as_it_was(window)
            start = time.monotonic()
            result = attempt(path)
            assert time.monotonic() - start < 2, (name, how)
            if result:
                assert (name, make) in ODD_TYPES, (name, how)
                assert_form_holds_valid_values(window)
                opened.append((name, how))
                if how == "compare":
                    window.stop_comparing()
                continue
            message = window.error_box.text()
            assert "\n" not in message and path in message and len(message) <= 1000, (name, how, message)
            assert "unexpectedly" not in message, (name, how, message)  # each is the file's own sentence
            assert as_it_was(window) == before, (name, how)
    print(f"odd metadata opened with valid settings: {len(opened)} of {3 * len(ODD_TYPES)}")
    assert window.open_model(str(tmp_path / "seed-3000000000" / "seed-3000000000.npz")) is False
    assert "its setting seed is 3000000000, not a whole number from 0 to 2147483647" in window.error_box.text()


def test_an_unexpected_error_opening_a_model_is_a_dialog_with_its_traceback(qtbot, window, tmp_path,
                                                                           monkeypatch, logs):
    import app.window

    def broken(path):
        raise RuntimeError("a bug in the reader")
    monkeypatch.setattr(app.window, "load_run", broken)  # File > Open and Compare both read through it
    save_model(tmp_path / "good.npz", network())
    before = as_it_was(window)
    for attempt in (window.open_model, window.compare_with_file):
        window.error_box = None
        assert attempt(str(tmp_path / "good.npz")) is False
        message = window.error_box.text()
        assert "failed unexpectedly (RuntimeError: a bug in the reader)" in message, message
        log = Path(message.rsplit("the details are in ", 1)[1])
        assert log.parent == logs and "Traceback" in log.read_text()
        assert "RuntimeError: a bug in the reader" in window.error_box.detailedText()
        assert as_it_was(window) == before


def test_a_good_model_still_opens_with_its_settings(qtbot, window, tmp_path):
    config = TrainConfig(sizes=(784, 8, 10), hidden="relu", output="softmax", loss="ce", optimizer="adam",
                         lr=0.002, seed=123, epochs=3)
    net = network()
    save_model(tmp_path / "good.npz", net, {"config": config.as_dict(), "epochs": 2, "step": 40,
                                            "test_accuracy": 0.5})
    assert window.open_model(str(tmp_path / "good.npz"))
    assert window.form.config().seed == 123 and window.form.config().lr == 0.002
    assert window.windowTitle().startswith("good.npz")


# --- 3. export picture ------------------------------------------------------------------------


def test_export_picture_is_all_or_nothing_and_refuses_devices(qtbot, window, tmp_path, monkeypatch):
    window.show()
    out = tmp_path / "window.png"
    assert window.export_png(str(out))
    previous = out.read_bytes()
    assert previous.startswith(b"\x89PNG")
    with monkeypatch.context() as m:
        m.setattr(os, "fdopen", FullDisk(room=1000))
        assert window.export_png(str(out)) is False
    assert "No space left on device" in window.error_box.text()
    assert out.read_bytes() == previous and sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".tmp") == []
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    for target, phrase in ((fifo, "FIFO"), (Path("/dev/null"), "character device"), (tmp_path, "folder")):
        start = time.monotonic()
        assert window.export_png(str(target)) is False
        assert time.monotonic() - start < 2
        assert phrase in window.error_box.text() and str(target) in window.error_box.text()
    assert Path("/dev/null").is_char_device()


# --- 4. unexpected errors keep their traceback ------------------------------------------------


def test_the_data_loader_reports_any_error_and_keeps_its_traceback(qtbot, tmp_path, monkeypatch, logs):
    import core.data
    from app.window import MainWindow

    def broken(name, path=None, limit=None):
        raise MemoryError("no room for the images")
    monkeypatch.setattr(core.data, "load_dataset", broken)
    window = MainWindow(ini(tmp_path / "settings.ini"), process=False)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window._loading is None, timeout=WAIT_MS)
    message = window.error_box.text()
    assert "reading MNIST failed unexpectedly (MemoryError: no room for the images)" in message
    assert "Training is unavailable" in message and str(logs) in message
    assert "MemoryError" in window.error_box.detailedText()
    assert not window.status.currentMessage().startswith("Loading")
    assert not window.train_action.isEnabled()


def test_an_unexpected_error_on_the_worker_thread_keeps_its_traceback(qtbot, window, monkeypatch, logs):
    import app.worker

    def broken(*args):
        raise ZeroDivisionError("a bug in training")
    monkeypatch.setattr(app.worker, "stream", broken)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS) as ended:
        window.train()
    failure = ended.args[0]
    assert failure.startswith("training failed unexpectedly (ZeroDivisionError: a bug in training)")
    log = Path(failure.rsplit("the details are in ", 1)[1])
    assert log.parent == logs and "ZeroDivisionError" in log.read_text()
    assert "Traceback" in window.error_box.detailedText()
    assert window.training is None and window.train_action.isEnabled()


def test_an_unexpected_error_in_the_training_process_keeps_its_traceback(logs):
    """A state the child cannot take (a bug on one side or the other): one sentence for the
    window, naming the file the child saved its traceback to, and the traceback as details."""
    from core.child import RemoteControl, TrainerProcess, train_in_child
    from core.train import Trainer
    from tests.test_child import Collect
    data = loaded_mnist().limit(LIMIT, LIMIT)
    child = TrainerProcess(data)
    try:
        trainer = Trainer(data, TrainConfig(sizes=(784, 8, 10), epochs=1))
        fields, arrays = trainer.state()
        trainer.state = lambda: ({k: v for k, v in fields.items() if k != "config"}, arrays)
        failure = train_in_child(child, trainer, RemoteControl(child), Collect())
    finally:
        child.close()
    assert failure.startswith("training failed unexpectedly (KeyError: 'config')"), failure
    log = Path(failure.rsplit("the details are in ", 1)[1])
    assert log.parent == logs and "Traceback" in log.read_text()
    assert "KeyError" in child.details


# --- 5. Ctrl+C --------------------------------------------------------------------------------

# The real main.py, with two lines printed that a test can wait on: "ready" once the data is
# read (and, with --train-now, training started for 10000 epochs), "trained" once batches came.
LAUNCHER = """
import runpy, sys
from PySide6.QtCore import QTimer
import app.window as w
train = "--train-now" in sys.argv
if train:
    sys.argv.remove("--train-now")
init, redraw, said = w.MainWindow.__init__, w.MainWindow.redraw, []
def __init__(self, *a, **k):
    init(self, *a, **k)
    def go():
        if train:
            self.form.epochs.setValue(10000)
            self.train()
        print("ready", flush=True)
    self.data_ready.connect(lambda: QTimer.singleShot(0, go))
def redraw_(self, *a, **k):
    redraw(self, *a, **k)
    if not said and self.run is not None and self.run.step > 0:
        said.append(1)
        print("trained", flush=True)
w.MainWindow.__init__, w.MainWindow.redraw = __init__, redraw_
sys.argv = [sys.argv[1], *sys.argv[2:]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def group_ends(group: int, seconds: float = 10) -> bool:
    """Does every process of ``group`` end within ``seconds``? (The training process is ended by
    the window; multiprocessing's resource tracker ends once the window's end of its pipe is
    closed.) Each is waited on through a descriptor that becomes readable when it exits."""
    deadline = time.monotonic() + seconds
    for pid in members(group):
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue  # gone already
        try:
            if not select.select([fd], [], [], max(deadline - time.monotonic(), 0.0))[0]:
                return False
        finally:
            os.close(fd)
    return True


def members(group: int) -> list[int]:
    """The processes of process group ``group``, from /proc (field 5 of each stat: the group)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[2]) == group:
                found.append(int(entry.name))
    return found


def interrupted_window(tmp_path, flags, wait_for):
    """Start the window, wait for the line ``wait_for``, send SIGINT to its process group as a
    terminal's Ctrl+C does, and return (exit code, seconds to end, stderr)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(ROOT / "main.py"), "--limit", "500",
                                *flags], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        for line in process.stdout:
            if line.strip() == wait_for:
                break
        else:
            pytest.fail(f"the window ended before saying {wait_for!r}: {process.wait()}, {process.stderr.read()}")
        os.killpg(process.pid, signal.SIGINT)
        start = time.monotonic()
        code = process.wait(SIGINT_SECONDS)
        seconds = time.monotonic() - start
        stderr = process.stderr.read()
        assert group_ends(process.pid), "a process of the window's group outlived it"
        return code, seconds, stderr
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_ctrl_c_while_idle_ends_the_window_with_130_even_on_a_fifo_settings_file(tmp_path):
    """Idle, and with a FIFO where the settings file is, which once blocked the start for ever."""
    (tmp_path / "config" / "watch-it-learn").mkdir(parents=True)
    os.mkfifo(tmp_path / "config" / "watch-it-learn" / "watch-it-learn.conf")
    code, seconds, stderr = interrupted_window(tmp_path, [], "ready")
    assert code == 130 and stderr == "", (code, stderr)
    print(f"idle: ended {seconds:.2f} s after SIGINT")


@pytest.mark.parametrize("flags", [[], ["--thread"]], ids=["process", "thread"])
def test_ctrl_c_while_training_ends_the_window_with_130(tmp_path, flags):
    code, seconds, stderr = interrupted_window(tmp_path, ["--train-now", *flags], "trained")
    assert code == 130 and "Traceback" not in stderr and stderr == "", (code, stderr)
    print(f"training ({flags or 'process'}): ended {seconds:.2f} s after SIGINT")
    settings = QSettings(str(tmp_path / "config" / "watch-it-learn" / "watch-it-learn.conf"), QSettings.IniFormat)
    assert settings.value("training") is not None  # the settings were kept, as Close keeps them


# --- 6. Qt's messages -------------------------------------------------------------------------


def test_qt_messages_are_kept_and_printed_once_the_harmless_not_at_all(capsys, logs):
    from app.launch import QtMessages
    handler = QtMessages()
    for message in ("This plugin does not support propagateSizeHints()", "QPainter::begin: a warning",
                    "QPainter::begin: a warning", "This plugin does not support raise()"):
        handler("QtWarningMsg", None, message)
    assert capsys.readouterr().err == "Qt: QPainter::begin: a warning\n"
    kept = (logs / "qt.log").read_text()
    assert kept.count("QPainter::begin") == 2 and "propagateSizeHints" in kept
