"""The time-lapse GIF (app.timelapse) and the pictures made from the command line at a moment
(app.screenshot): one frame per moment, at the size of what is filmed, frames that change as the
network learns, the moment on screen put back, and a failure that is one sentence and no file.

Most tests film a stand-in window: the window's moment API (``history``, ``show_moment``,
``moment``) around the real weights panel and a few labels, fed by a real recorded history.
The last ones use the real window and ``main.py`` as a user runs it."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QDockWidget, QFileDialog, QLabel, QMainWindow

from app import timelapse
from app.panels.weights import WeightsPanel
from core.config import preset
from core.errors import UserError
from core.history import History, record
from core.train import Trainer

ROOT = Path(__file__).resolve().parent.parent
WAIT_MS = 60_000


@pytest.fixture(scope="session", autouse=True)
def themed():
    from app import theme
    theme.configure()


@pytest.fixture(scope="module")
def history(small_mnist):
    """Two epochs of ``fast`` on 2,000 images, recorded: 16 batches an epoch, so moments at steps
    0, 1, 2, 4, 8, 16 and 32."""
    config = preset("fast").replace(epochs=2)
    trainer = Trainer(small_mnist, config)
    recorded = History(config.architecture, small_mnist.y_test)
    for _ in record(trainer, recorded):
        pass
    assert [m.step for m in recorded.moments] == [0, 1, 2, 4, 8, 16, 32]
    return recorded


class StandIn(QMainWindow):
    """What app.timelapse asks of the window: ``history``, ``show_moment``, ``moment``, the
    panels and their docks, ``status``, ``settings`` and ``show_error``. The weights panel is
    the real one; the cost panel is a label naming the step; the pad shows the same whatever the
    moment; activations and evaluation are tabbed, activations in front."""

    def __init__(self, history, settings):
        super().__init__()
        self.history, self.settings, self.moment = history, settings, None
        self.errors: list[str] = []
        self.status = self.statusBar()
        self.weights = WeightsPanel()
        self.setCentralWidget(self.weights)
        for name in ("cost", "activations", "evaluation", "inspector", "pad"):
            label = QLabel(name)
            label.setMinimumSize(200, 150)
            setattr(self, name, label)
            dock = QDockWidget(name, self)
            dock.setObjectName(name)
            dock.setWidget(label)
            self.addDockWidget(Qt.LeftDockWidgetArea if name == "cost" else Qt.RightDockWidgetArea, dock)
            setattr(self, f"{name}_dock", dock)
        self.tabifyDockWidget(self.activations_dock, self.evaluation_dock)
        self.resize(1000, 700)
        self.shown: list[int | None] = []

    def show_moment(self, index):
        self.moment = index
        self.shown.append(index)
        i = len(self.history.moments) - 1 if index is None else index
        self.weights.show_snapshot(self.history.snapshot(i))
        self.cost.setText(f"step {self.history.moments[i].step}")

    def show_error(self, message):
        self.errors.append(message)


@pytest.fixture
def window(qtbot, history, tmp_path):
    w = StandIn(history, QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activations_dock.raise_()
    w.show_moment(None)
    return w


def frames_of(path) -> list[Image.Image]:
    """Every frame of the GIF as it is displayed (RGB), and their durations in ms."""
    with Image.open(path) as gif:
        frames, durations = [], []
        for k in range(gif.n_frames):
            gif.seek(k)
            frames.append(gif.convert("RGB"))
            durations.append(gif.info["duration"])
    return frames, durations


def test_one_frame_per_moment_at_the_window_size_the_last_held_longer(window, tmp_path):
    out = tmp_path / "run.gif"
    assert timelapse.export_timelapse(window, out, "window", frame_ms=100) == 7
    frames, durations = frames_of(out)
    assert len(frames) == 7
    assert frames[0].size == (window.width(), window.height())
    assert durations == [100] * 6 + [timelapse.HOLD_MS]


def test_frames_change_from_the_first_moment_to_the_last(window, tmp_path):
    """The weights panel of the initial weights and of two epochs later are different pictures,
    and each frame shows its own moment: the first one, re-grabbed, is what the GIF holds."""
    out = tmp_path / "run.gif"
    timelapse.export_timelapse(window, out, "weights")
    frames, _ = frames_of(out)
    first, last = (np.asarray(f, np.int16) for f in (frames[0], frames[-1]))
    # 32 steps of Adam move each weight by a few hundredths: a few per cent of the pixels, clearly
    assert (np.abs(first - last).max(axis=2) > 16).mean() > 0.01
    again = timelapse.picture(window, window.weights, 0)
    # the shared palette of 255 colours and no dithering: within a few levels of the picture
    assert np.abs(np.asarray(again, np.int16) - first).mean() < 4


def test_a_panel_target_gives_that_panels_size(window, tmp_path):
    out = tmp_path / "cost.gif"
    timelapse.export_timelapse(window, out, "cost")
    with Image.open(out) as gif:
        assert gif.size == (window.cost.width(), window.cost.height())
        assert gif.n_frames == 7


def test_a_wide_window_is_scaled_to_the_maximum_width(window, tmp_path):
    window.resize(1600, 1000)
    out = tmp_path / "wide.gif"
    timelapse.export_timelapse(window, out)
    with Image.open(out) as gif:
        assert gif.size == (timelapse.MAX_WIDTH, round(window.height() * timelapse.MAX_WIDTH / window.width()))


def test_pictures_that_do_not_change_are_one_longer_frame(window, tmp_path):
    """The pad is the same at every moment: one frame (held, as the last frame is)."""
    out = tmp_path / "pad.gif"
    assert timelapse.export_timelapse(window, out, "pad", frame_ms=100) == 1
    with Image.open(out) as gif:
        assert gif.n_frames == 1
        assert gif.info["duration"] == max(7 * 100, timelapse.HOLD_MS)


def test_the_moment_shown_before_is_shown_again(window, tmp_path):
    window.show_moment(3)
    timelapse.export_timelapse(window, tmp_path / "a.gif")
    assert window.moment == 3
    assert set(window.shown[1:-1]) == set(range(7))
    window.show_moment(None)
    timelapse.export_timelapse(window, tmp_path / "b.gif")
    assert window.moment is None


def test_a_panel_tabbed_behind_another_comes_to_the_front_and_is_filmed(window, tmp_path):
    """The window draws only the panels it shows: one behind another's tab is raised first,
    and its frames are what it shows (the last moment's, as the window then shows it)."""
    assert window.evaluation.visibleRegion().isEmpty()  # activations is the tab in front
    out = tmp_path / "evaluation.gif"
    timelapse.export_timelapse(window, out, "evaluation")
    frames, _ = frames_of(out)
    assert frames[0].size == (window.evaluation.width(), window.evaluation.height())
    grabbed = timelapse.pil_image(window.evaluation.grab().toImage())
    assert np.abs(np.asarray(frames[-1], np.int16) - np.asarray(grabbed, np.int16)).mean() < 4
    assert not window.evaluation.visibleRegion().isEmpty()


def test_a_closed_panel_is_one_sentence(window, tmp_path):
    window.inspector_dock.close()
    with pytest.raises(UserError, match=r"^the neuron inspector panel is closed; open it from the View menu first$"):
        timelapse.export_timelapse(window, tmp_path / "x.gif", "inspector")
    assert not (tmp_path / "x.gif").exists()


@pytest.mark.parametrize("where, reason", [("folder", "it is a folder"),
                                           ("missing/run.gif", "there is no folder")])
def test_a_target_that_cannot_be_written_is_one_sentence_and_no_file(window, tmp_path, where, reason):
    (tmp_path / "folder").mkdir()
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(UserError) as error:
        timelapse.export_timelapse(window, tmp_path / where)
    message = str(error.value)
    assert message.startswith("cannot save the time-lapse to ") and reason in message
    assert "\n" not in message
    assert sorted(tmp_path.rglob("*")) == before


def test_a_failure_while_writing_leaves_the_old_file_and_no_temporary(window, tmp_path, monkeypatch):
    out = tmp_path / "run.gif"
    out.write_bytes(b"the old one")

    def full_disk(self, fp, *args, **kwargs):
        fp.write(b"GIF89a half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full_disk)
    with pytest.raises(UserError, match=r"^cannot save the time-lapse to '.*run\.gif': No space left on device$"):
        timelapse.export_timelapse(window, out)
    assert out.read_bytes() == b"the old one"
    assert [p.name for p in tmp_path.iterdir()] == ["run.gif"]


def test_fewer_than_two_moments_is_one_sentence(window, history, tmp_path):
    window.history = History(history.architecture, history.labels)
    window.history.add_moment(history.moments[0])
    with pytest.raises(UserError, match=r"^a time-lapse needs at least 2 moments of training, and this run has 1; "):
        timelapse.export_timelapse(window, tmp_path / "x.gif")
    window.history = None
    timelapse.export_dialog(window)
    assert window.errors and "has 0" in window.errors[-1]
    assert not (tmp_path / "x.gif").exists()


@pytest.mark.parametrize("frame_ms", [0, 10, 20_000])
def test_a_frame_duration_out_of_range_is_one_sentence(window, tmp_path, frame_ms):
    with pytest.raises(UserError, match=rf"^a frame must last 20 to 10000 ms, got {frame_ms}$"):
        timelapse.export_timelapse(window, tmp_path / "x.gif", frame_ms=frame_ms)


def test_an_unknown_target_is_one_sentence(window, tmp_path):
    with pytest.raises(UserError, match=r"^cannot film 'status': choose one of window, weights, "):
        timelapse.export_timelapse(window, tmp_path / "x.gif", "status")


def test_the_dialog_exports_what_was_chosen_and_says_so(window, tmp_path, monkeypatch):
    """Export time-lapse…: the target and duration chosen, a path without suffix gets .gif, the
    status bar names the file; the choices are remembered for next time."""
    chosen = tmp_path / "chosen"

    def accept(dialog):
        dialog.target.setCurrentIndex(dialog.target.findData("cost"))
        dialog.frame_ms.setValue(300)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(timelapse.TimelapseDialog, "exec", accept)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(chosen), ""))
    timelapse.export_dialog(window)
    assert not window.errors
    with Image.open(tmp_path / "chosen.gif") as gif:
        assert gif.size == (window.cost.width(), window.cost.height())
        assert gif.info["duration"] == 300
    assert "chosen.gif: 7 frames" in window.status.currentMessage()
    dialog = timelapse.TimelapseDialog(window)
    assert dialog.choice() == ("cost", 300)
    dialog.deleteLater()


def test_the_dialog_reports_a_failure_in_the_error_box(window, tmp_path, monkeypatch):
    monkeypatch.setattr(timelapse.TimelapseDialog, "exec", lambda d: QDialog.DialogCode.Accepted)
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "missing" / "x.gif"), ""))
    timelapse.export_dialog(window)
    assert len(window.errors) == 1 and "there is no folder" in window.errors[0]


# --- the real window ---------------------------------------------------------------------------

def test_the_real_window_films_its_run(qtbot, tmp_path, small_mnist, monkeypatch):
    """After two epochs in the window, every moment of its history is a frame, first and last
    differ, the colours are the window's, and the window goes back to live; File → Export
    time-lapse… films the panel chosen."""
    from app.window import MainWindow
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    window = MainWindow(settings, data=small_mnist)
    qtbot.addWidget(window)
    window.form.preset.setCurrentText("fast")
    window.form.epochs.setValue(2)
    window.show()
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS) as ended:
        window.train()
    assert ended.args[0] == ""
    n = len(window.history.moments)
    out = tmp_path / "window.gif"
    assert timelapse.export_timelapse(window, out) == n
    frames, _ = frames_of(out)
    assert len(frames) == n >= 7
    assert ImageChops.difference(frames[0], frames[-1]).getbbox() is not None
    assert window.moment is None
    # the palette keeps the small patches of accent colour too (median cut lost them: 49 levels)
    picture = timelapse.picture(window, window, n - 1)
    error = np.abs(np.asarray(frames[-1], np.int16) - np.asarray(picture, np.int16)).max(axis=2)
    assert np.percentile(error, 99.9) <= 24 and error.mean() < 4

    def accept(dialog):
        dialog.target.setCurrentIndex(dialog.target.findData("weights"))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(timelapse.TimelapseDialog, "exec", accept)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "w.gif"), ""))
    window.show_moment(2)
    window.timelapse_action.trigger()
    with Image.open(tmp_path / "w.gif") as gif:
        assert gif.size == (window.weights.width(), window.weights.height()) and gif.n_frames == n
    assert window.moment == 2 and "w.gif" in window.status.currentMessage()
    monkeypatch.undo()

    # the inspector's digits that excite the neuron come TOP_DELAY_MS after a moment is shown:
    # each frame waits for them, as a user looking at that moment would
    window.select_neuron(1, 5)
    timelapse.export_timelapse(window, tmp_path / "inspector.gif", "inspector")
    window.show_moment(n - 1)
    qtbot.waitUntil(lambda: not window._top_timer.isActive())
    settled = timelapse.pil_image(window.inspector.grab().toImage())
    frames, _ = frames_of(tmp_path / "inspector.gif")
    assert np.abs(np.asarray(frames[-1], np.int16) - np.asarray(settled, np.int16)).mean() < 4
    window.close()


# --- from the command line ---------------------------------------------------------------------

def run_main(*args, timeout=300):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], env=env,
                          check=False, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A model trained by 'main.py train' for 2 epochs, saved with its history."""
    out = tmp_path_factory.mktemp("model") / "brain.npz"
    result = run_main("train", "--preset", "fast", "--epochs", "2", "--limit", "2000", "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def test_timelapse_from_the_command_line(model, tmp_path):
    out = tmp_path / "weights.gif"
    result = run_main("--open", model, "--timelapse", out, "--panel", "weights", "--limit", "2000")
    assert result.returncode == 0, result.stderr
    with Image.open(out) as gif:
        n = gif.n_frames
    assert n >= 7
    assert result.stdout.startswith(f"saved {out}: {n} frames, epoch 0 to 2 (step 0 to ")


def test_screenshot_at_the_first_and_last_moment_show_different_weights(model, tmp_path):
    """The issue's test: '--screenshot --moment' at 0 and at the end give different weights."""
    pictures = {}
    for moment in ("0", "2"):
        out = tmp_path / f"at-{moment}.png"
        result = run_main("--open", model, "--screenshot", out, "--moment", moment,
                          "--panel", "weights", "--limit", "2000")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"saved {out} at epoch {moment} (step ")
        pictures[moment] = np.asarray(Image.open(out).convert("RGB"), np.int16)
    assert pictures["0"].shape == pictures["2"].shape
    changed = np.abs(pictures["0"] - pictures["2"]).max(axis=2) > 16
    assert changed.mean() > 0.01


def test_screenshot_names_the_nearest_moment(model, tmp_path):
    out = tmp_path / "shot.png"
    result = run_main("--open", model, "--screenshot", out, "--moment", "0.3", "--limit", "2000")
    assert result.returncode == 0, result.stderr
    # 16 batches an epoch: moments at 1/16, 2/16, 4/16, 8/16; 0.3 is nearest 4/16 = 0.25
    assert result.stdout.strip() == f"saved {out} at epoch 0.25 (step 4)"
    assert Image.open(out).size == (1600, 1000)


@pytest.mark.parametrize("args, message", [
    (["--moment", "5"], "error: moment 5 is beyond the run, which ends at epoch 2"),
    (["--moment", "-1"], "error: --moment must be 0 or more epochs, got -1"),
])
def test_a_moment_outside_the_run_is_one_sentence(model, tmp_path, args, message):
    out = tmp_path / "shot.png"
    result = run_main("--open", model, "--screenshot", out, *args, "--limit", "2000")
    assert result.returncode == 2
    assert result.stderr.strip() == message
    assert not out.exists()


def test_a_model_that_cannot_be_opened_is_one_sentence(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    out = tmp_path / "run.gif"
    result = run_main("--open", bad, "--timelapse", out, "--limit", "2000")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "bad.npz" in result.stderr
    assert not out.exists()


def test_a_model_without_history_has_no_timelapse_and_no_moments(tmp_path, small_mnist):
    from core.model_io import save_model
    from core.network import Network
    config = preset("fast")
    bare = tmp_path / "bare.npz"
    save_model(bare, Network.initialised(config.sizes, config.hidden, config.output, config.loss))
    out = tmp_path / "run.gif"
    result = run_main("--open", bare, "--timelapse", out, "--limit", "2000")
    assert result.returncode == 2 and not out.exists()
    assert result.stderr.startswith("error: a time-lapse needs at least 2 moments of training")
    shot = tmp_path / "shot.png"
    result = run_main("--open", bare, "--screenshot", shot, "--moment", "1", "--limit", "2000")
    assert result.returncode == 2 and not shot.exists()
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (["--moment", "1"], "--moment says which moment --screenshot pictures"),
    (["--panel", "cost"], "--panel says what --screenshot or --timelapse pictures"),
    (["--timelapse", "x.gif", "--frame-ms", "5"], "--frame-ms must be 20 to 10000, got 5"),
    (["--open", "x.npz", "--timelapse", "x.gif", "--epochs", "3"], "--epochs trains a new run"),
])
def test_flags_that_do_not_go_together_are_one_sentence(args, message):
    result = run_main(*args, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {message}") and len(result.stderr.splitlines()) == 1


def test_timelapse_without_open_trains_first(tmp_path):
    out = tmp_path / "run.gif"
    result = run_main("--timelapse", out, "--epochs", "1", "--preset", "fast", "--limit", "2000")
    assert result.returncode == 0, result.stderr
    with Image.open(out) as gif:
        assert gif.n_frames == 6  # steps 0, 1, 2, 4, 8 and the epoch's end, 16
    assert result.stdout.strip() == f"saved {out}: 6 frames, epoch 0 to 1 (step 0 to 16)"


def test_a_dataset_that_cannot_be_read_is_one_line_at_once(model, tmp_path):
    """The loader fails before the picture waits for it: still one line, and no two-minute wait."""
    out = tmp_path / "run.gif"
    result = run_main("--open", model, "--timelapse", out, "--data", tmp_path / "missing.npz", timeout=60)
    assert result.returncode == 2 and not out.exists()
    assert result.stderr.startswith("error: cannot read dataset ") and len(result.stderr.splitlines()) == 1
