"""The main window, offscreen: training on the worker thread reaches every panel, the controls
steer it, files round-trip through the menu, and closing mid-training leaves nothing running."""
import functools
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog

from core.model_io import load_model
from tests.qt_helpers import click_pixel

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 2000  # training and test images: an epoch of 'fast' takes a few hundredths of a second
WAIT_MS = 60_000


@pytest.fixture(scope="session", autouse=True)
def themed():
    from app import theme
    theme.configure()


@functools.cache
def loaded_mnist():
    """MNIST read once for all the windows of the tests (as the session's ``mnist`` fixture)."""
    from core.data import load_mnist
    return load_mnist()


def make_window(qtbot, settings_path, limit=LIMIT, process=True):
    """A window on already-loaded data, cut to ``limit`` images (None: all of them), training
    in a process of its own (or, with ``process=False``, on a thread)."""
    from app.window import MainWindow
    settings = QSettings(str(settings_path), QSettings.IniFormat)
    window = MainWindow(settings, limit=limit, data=loaded_mnist(), process=process)
    qtbot.addWidget(window)
    if window.data is None:
        with qtbot.waitSignal(window.data_ready, timeout=WAIT_MS):
            pass
    return window


@pytest.fixture
def window(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path / "settings.ini")
    window.form.preset.setCurrentText("fast")
    yield window
    window.close()


def train(qtbot, window, epochs):
    window.form.epochs.setValue(epochs)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS) as ended:
        window.train()
    return ended.args[0]


def test_one_epoch_reaches_the_cost_curve_the_heatmaps_and_the_bars(qtbot, window):
    """Training runs on the worker; its snapshots reach every panel through the redraw timer."""
    before = window.snapshot
    assert before is not None and window.trainer.epoch == 0
    assert train(qtbot, window, 1) == ""
    after = window.snapshot
    assert after is not before and after.epoch == 1 and window.trainer.epoch == 1
    assert not np.array_equal(after.W[0], before.W[0])
    assert window.weights._snapshot is after
    assert window.activations.snapshot is after
    assert window.cost.epoch_count() == 1
    assert window.accuracy_label.text().startswith("test accuracy 0.")
    assert window.epoch_label.text() == "epoch 1/1"


def test_train_again_goes_on_from_the_same_network(qtbot, window):
    train(qtbot, window, 1)
    first = window.snapshot
    train(qtbot, window, 2)
    assert window.snapshot.epoch == 3 and window.trainer.epoch == 3
    assert window.cost.epoch_count() == 3
    assert not np.array_equal(first.W[0], window.snapshot.W[0])


def test_pause_stops_progress_and_resume_continues(qtbot, window):
    window.form.epochs.setValue(500)
    window.train()
    qtbot.waitUntil(lambda: window.run.step > 5, timeout=WAIT_MS)
    window.toggle_pause()
    assert window.pause_button.text() == "Resume" and window.step_button.isEnabled()
    qtbot.wait(200)  # the worker finishes its batch and waits
    paused_at = window.run.step
    qtbot.wait(300)
    assert window.run.step == paused_at
    window.step()
    qtbot.waitUntil(lambda: window.run.step == paused_at + 1, timeout=WAIT_MS)
    window.toggle_pause()
    assert window.pause_button.text() == "Pause" and not window.step_button.isEnabled()
    qtbot.waitUntil(lambda: window.run.step > paused_at + 10, timeout=WAIT_MS)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.stop()
    assert window.training is None and window.train_button.isEnabled()


def test_step_from_idle_trains_one_batch_and_waits(qtbot, window):
    window.step()
    qtbot.waitUntil(lambda: window.run.step == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.snapshot.step == 1, timeout=WAIT_MS)
    assert window.training is not None and window.training.control.paused
    assert window.pause_button.text() == "Resume"
    window.step()
    qtbot.waitUntil(lambda: window.snapshot.step == 2, timeout=WAIT_MS)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.stop()


def test_learning_rate_changes_while_training(qtbot, window):
    window.form.epochs.setValue(500)
    window.form.warmup.setValue(0.0)  # fast's warm-up and decay would scale the rate reported
    window.form.lr_decay.setValue(1.0)
    window.train()
    qtbot.waitUntil(lambda: window.run.step > 2, timeout=WAIT_MS)
    assert window.form.lr.isEnabled() and not window.form.layers.isEnabled()
    window.form.lr.setValue(0.0042)
    qtbot.waitUntil(lambda: window.run.batch.lr == pytest.approx(0.0042), timeout=WAIT_MS)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.stop()


def test_clicking_a_heatmap_tile_selects_that_neuron_in_the_inspector(qtbot, window):
    window.show()
    qtbot.waitExposed(window)
    cols = window.weights._columns
    r, c = divmod(7, cols)
    view, image = window.weights.graphics, window.weights.grid_image
    qtbot.waitUntil(lambda: image.sceneBoundingRect().width() < view.viewport().width())  # painted
    with qtbot.waitSignal(window.weights.neuron_clicked, timeout=5000) as clicked:
        click_pixel(qtbot, window.weights.graphics, window.weights.grid_image, c * 29 + 14, r * 29 + 14)
    assert clicked.args == [1, 7]
    assert window.selection == (1, 7)
    assert window.inspector.neuron == (1, 7)


def test_save_and_open_round_trip_through_the_menu(qtbot, window, tmp_path, monkeypatch):
    train(qtbot, window, 1)
    path = tmp_path / "brain.npz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.save_action.trigger()
    net, meta = load_model(path)
    np.testing.assert_array_equal(net.W[0], window.snapshot.W[0])
    assert meta["epochs"] == 1 and meta["test_accuracy"] == window.last_test_accuracy
    window.reset()
    assert not np.array_equal(window.snapshot.W[0], net.W[0])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.open_action.trigger()
    np.testing.assert_array_equal(window.snapshot.W[0], net.W[0])
    assert window.weights._snapshot is window.snapshot
    assert window.trainer.epoch == 1 and window.epoch_label.text().startswith("epoch 1/")


def test_a_corrupt_model_is_a_dialog_and_the_window_keeps_its_model(qtbot, window, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip at all")
    kept = window.snapshot
    assert not window.open_model(str(bad))
    assert window.error_box is not None and str(bad) in window.error_box.text()
    assert window.snapshot is kept
    assert train(qtbot, window, 1) == ""  # still usable


def test_divergence_is_reported_and_the_last_finite_weights_are_kept(qtbot, window):
    window.form.optimizer.setCurrentText("sgd")
    window.form.lr.setValue(100.0)
    window.form.lr_decay.setValue(1.0)
    window.form.epochs.setValue(5)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS) as ended:
        window.train()
        window.training.control.set_lr(1e30)  # far beyond what the form allows: it must diverge
    assert "lower the learning rate" in ended.args[0]
    assert "last finite batch were kept" in window.error_box.text()
    assert window.trainer.net.all_finite()
    assert all(np.isfinite(w).all() for w in window.snapshot.W)


def test_closing_during_training_stops_the_worker(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path / "settings.ini")
    window.form.epochs.setValue(500)
    window.train()
    qtbot.waitUntil(lambda: window.run.step > 3, timeout=WAIT_MS)
    thread = window.training.thread
    pid = window.trainer_process.pid
    window.close()
    assert window.training is None
    assert not thread.isRunning()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the training process is gone, and reaped


def test_killing_the_training_process_leaves_the_window_working(qtbot, window):
    """A child that dies (here SIGKILL, as the out-of-memory killer sends it) is said in one
    sentence; the weights of its last snapshot are the network's, and Train goes on from them."""
    window.form.epochs.setValue(500)
    window.train()
    qtbot.waitUntil(lambda: window.run.step > 3, timeout=WAIT_MS)
    assert not {"PySide6", "pyqtgraph", "app"} & set(window.trainer_process.modules)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS) as ended:
        os.kill(window.trainer_process.pid, signal.SIGKILL)
    failure = ended.args[0]
    assert failure.startswith("the training process was killed (SIGKILL); the weights of step"), failure
    assert window.error_box.text() == failure and window.training is None
    assert window.train_button.isEnabled() and window.state_label.text() == "Failed"
    kept = window.trainer.step
    assert window.snapshot.step == kept == window.run.step == window.history.last_step, (
        window.snapshot.step, kept, window.run.step, window.history.last_step, failure)
    for w, v in zip(window.snapshot.W, window.trainer.net.W):
        assert np.array_equal(w, v)
    window.train()
    qtbot.waitUntil(lambda: window.run.step > kept + 3, timeout=WAIT_MS)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS) as again:
        window.stop()
    assert again.args[0] == ""
    steps = window.history.steps
    assert np.array_equal(steps, np.arange(1, len(steps) + 1)), steps  # no step lost or repeated


def test_a_thread_and_a_process_train_the_same_weights(qtbot, tmp_path):
    trained = []
    for process in (True, False):
        w = make_window(qtbot, tmp_path / f"{process}.ini", process=process)
        w.form.preset.setCurrentText("fast")
        assert train(qtbot, w, 2) == ""
        assert (w.trainer_process is not None) == process
        trained.append((w.trainer, w.history))
        w.close()
    (a, ha), (b, hb) = trained
    assert a.step == b.step > 0 and all(np.array_equal(x, y) for x, y in zip(a.net.W + a.net.b, b.net.W + b.net.b))
    assert np.array_equal(ha.costs, hb.costs) and [m.step for m in ha.moments] == [m.step for m in hb.moments]
    assert len(ha.flow_steps) == a.step and np.array_equal(ha.flow_steps, hb.flow_steps)
    assert np.array_equal(ha.flow, hb.flow) and np.array_equal(ha.flow_positions, ha.positions)


@pytest.mark.parametrize("process", [True, False], ids=["process", "thread"])
def test_frames_repaint_each_group_of_panels_in_turn_25_times_a_second_with_a_process(qtbot, tmp_path,
                                                                                       process):
    """Each frame draws one group of panels (the GUI thread is never busy long); a training
    process leaves it the time for 75 frames a second, every group at 25 Hz or more; a thread
    shares the GIL with the trainer, and gets 15."""
    window = make_window(qtbot, tmp_path / "s.ini", process=process)
    window.form.epochs.setValue(500)
    window.train()
    window.timer.stop()  # the frames are ours to make
    drawn = {"cost": 0, "weights": 0, "activations": 0}
    for name in drawn:
        draw = getattr(window, f"_draw_{name}")
        setattr(window, f"_draw_{name}", lambda *a, name=name, draw=draw: (drawn.__setitem__(name, drawn[name] + 1),
                                                                            draw(*a)))
    for _ in range(3):
        window.redraw()
    assert drawn == {"cost": 1, "weights": 1, "activations": 1}
    from app.window import GROUPS
    rate = 1000 / (GROUPS * window.timer.interval())  # each group's, Hz
    assert rate >= 25 if process else 4 <= rate < 6
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.stop()
    window.close()


def test_the_window_remembers_its_settings(qtbot, tmp_path):
    path = tmp_path / "settings.ini"
    first = make_window(qtbot, path)
    first.form.preset.setCurrentText("classic")
    first.form.seed.setValue(42)
    first.close()
    second = make_window(qtbot, path)
    config = second.form.config()
    assert config.sizes == (784, 20, 20, 20, 10) and config.seed == 42
    second.close()


def test_without_a_display_the_window_says_so_and_points_to_screenshot():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, str(ROOT / "main.py")], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "no display" in result.stderr and "--screenshot" in result.stderr


@pytest.mark.parametrize("flags", [[], ["--thread"]], ids=["process", "thread"])
def test_screenshot_trains_and_saves_a_picture_of_the_window(tmp_path, flags):
    """In a training process (which ends with the program, leaving nothing behind: the shared
    memory's tracker would complain on stderr) or on a thread."""
    out = tmp_path / "window.png"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "--screenshot", str(out),
                             "--epochs", "1", "--limit", "3000", *flags], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0 and "leaked" not in result.stderr, result.stderr
    from PySide6.QtGui import QImage
    image = QImage(str(out))
    assert image.width() >= 1200 and image.height() >= 800


SEVEN = [(60, 60), (220, 60), (120, 240)]  # a stroke on the pad's 280x280 canvas


def test_the_pad_predicts_with_the_weights_of_the_training(qtbot, window):
    """The pad receives every new snapshot: training changes what it says about a drawing."""
    window.pad.stroke(SEVEN)
    qtbot.waitUntil(lambda: window.pad.current_input() is not None, timeout=5000)
    assert window.pad.snapshot is window.snapshot
    train(qtbot, window, 1)
    assert window.pad.snapshot is window.snapshot and window.snapshot.epoch == 1


def test_open_image_puts_a_photo_in_the_pad_and_the_activations(qtbot, window, tmp_path):
    """File -> Open image: the photo's digit is on the pad and, followed, in the activations
    panel; a file that is no picture of a digit is said in one sentence."""
    from app.readbench import photo_of, save_jpeg
    data = window.data
    grey = photo_of([data.x_test[0].reshape(28, 28)], np.random.default_rng(0), (400, 300))
    path = save_jpeg(tmp_path / "digit.jpg", grey, orientation=1)
    with qtbot.waitSignal(window.pad.drawing_changed, timeout=WAIT_MS):
        assert window.open_image(str(path))
    shown = window.pad.current_input()
    assert shown is not None and window.pad.following
    np.testing.assert_array_equal(window.activations.current_input(), shown)
    assert not window.open_image(str(tmp_path / "missing.jpg"))
    assert window.error_box.text().endswith("no such file")


def test_activations_and_inspector_follow_the_drawing_when_asked(qtbot, window):
    window.select_neuron(1, 3)
    test_digit = window.activations.current_input()
    window.pad.stroke(SEVEN)
    qtbot.waitUntil(lambda: window.pad.current_input() is not None, timeout=5000)
    assert window.activations.current_input() is test_digit  # not following yet
    window.pad.follow_box.setChecked(True)
    drawn = window.pad.current_input()
    np.testing.assert_array_equal(window.activations.current_input(), drawn)
    expected = window.snapshot.network().forward(drawn[None])[1][0, 3]
    assert window.inspector.activation_label.text() == f"activation {expected:.3g} for the digit shown"
    window.pad.clear()
    qtbot.waitUntil(lambda: window.activations.current_input() is not drawn, timeout=5000)
    np.testing.assert_array_equal(window.activations.current_input(), test_digit)
    window.pad.follow_box.setChecked(False)
    np.testing.assert_array_equal(window.activations.current_input(), test_digit)


def test_the_confusion_matrix_follows_training_and_its_galleries_lead_to_the_activations(qtbot, window):
    """After an epoch the matrix counts every evaluated test image; a cell's gallery holds
    exactly its images; a thumbnail clicked there becomes the activations panel's digit."""
    train(qtbot, window, 1)
    ev = window.evaluation.evaluation
    assert ev.epoch == 1 and ev.counts.sum() == LIMIT
    assert ev.accuracy == pytest.approx(window.last_test_accuracy)
    window.evaluation_dock.raise_()
    window.show()
    qtbot.waitExposed(window)
    true, predicted = np.unravel_index(np.argmax(ev.counts - np.diag(np.diag(ev.counts))), ev.counts.shape)
    window.evaluation.select_cell(int(true), int(predicted))
    shown = window.evaluation.gallery_indices
    np.testing.assert_array_equal(shown, ev.cell(int(true), int(predicted))[:len(shown)])
    assert len(shown) == min(window.evaluation.gallery_capacity, ev.counts[true, predicted])
    expected = int(window.evaluation.gallery_indices[0])
    view, image = window.evaluation.gallery_view, window.evaluation.gallery_image
    qtbot.waitUntil(lambda: image.sceneBoundingRect().width() < view.viewport().width())  # painted
    with qtbot.waitSignal(window.evaluation.digit_chosen, timeout=5000):
        click_pixel(qtbot, view, image, 14, 14)
    assert window.activations.current_index == expected
    np.testing.assert_array_equal(window.activations.current_input(), window.data.x_test[expected])


def test_the_diagram_and_the_layer_map_follow_the_run_when_their_tab_comes_forward(qtbot, window):
    """Behind their tabs they are not drawn; brought forward after training, each shows the
    newest weights (the layer map the newest moment), and a click on the diagram selects."""
    window.show()
    qtbot.waitExposed(window)
    train(qtbot, window, 1)
    for dock, panel in ((window.diagram_dock, window.diagram), (window.layermap_dock, window.layermap)):
        dock.raise_()
        qtbot.waitUntil(lambda panel=panel: panel.snapshot is not None and panel.snapshot.step == window.run.step
                        if panel is window.diagram else
                        panel.picture is not None and panel.picture.step == window.run.history.moments[-1].step,
                        timeout=WAIT_MS)
    window.diagram_dock.raise_()
    with qtbot.waitSignal(window.diagram.neuron_clicked, timeout=5000):
        window.diagram.neuron_clicked.emit(2, 3)
    assert window.view.neuron == (2, 3)
    window.show_moment(0)
    window.layermap_dock.raise_()
    qtbot.waitUntil(lambda: window.layermap.picture.step == 0, timeout=WAIT_MS)


def test_the_loss_along_the_way_is_drawn_from_the_start_to_the_moment_shown(qtbot, window):
    """View → Loss along the way: the line's ends are the initial network's and the moment's
    test cost on the 2,000 sampled digits; asked again at a past moment, it ends there."""
    from core.data import one_hot
    from core.landscape import ALPHAS
    from core.projection import sample
    train(qtbot, window, 1)
    window.landscape_action.trigger()
    dialog = window.landscape_dialog
    assert dialog.isVisible()
    alphas, costs = dialog.curve.getOriginalDataset()  # (getData gives log10 on a log axis)
    k = sample(window.data.y_test)
    x, y = window.data.x_test[k], one_hot(window.data.y_test[k])
    start = window.history.snapshot(0).network().cost(x, y)
    assert costs[list(alphas).index(0.0)] == pytest.approx(start, rel=1e-4)
    assert costs[list(alphas).index(1.0)] == pytest.approx(window.snapshot.network().cost(x, y), rel=1e-4)
    assert len(alphas) == len(ALPHAS) and costs[list(alphas).index(1.0)] < start
    window.show_moment(1)
    dialog.recompute.emit()
    _, again = dialog.curve.getOriginalDataset()
    assert again[list(alphas).index(1.0)] == pytest.approx(window.history.snapshot(1).network().cost(x, y),
                                                          rel=1e-4)
    assert f"step {window.history.moments[1].step:,}" in dialog.caption.text()
    dialog.close()


def test_garbage_is_collected_by_the_gui_thread_only(qtbot, tmp_path, small_mnist):
    """Automatic collection is off once a window exists (a worker thread that collected garbage
    holding Qt objects deadlocked against the GUI thread), and a cycle is still freed: by the
    GUI thread's timer."""
    import gc
    import weakref

    from app.window import MainWindow
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), data=small_mnist)
    qtbot.addWidget(window)
    assert not gc.isenabled()

    class Node:
        pass
    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only the cyclic collector frees it
    gone = weakref.ref(a)
    del a, b
    filler = [Node() for _ in range(gc.get_threshold()[0] + 1)]  # generation 0 is due
    qtbot.waitUntil(lambda: gone() is None, timeout=5000)
    del filler
    window.close()
