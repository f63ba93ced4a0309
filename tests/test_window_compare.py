"""Two runs side by side in the window, the probe strip, teaching a drawing, restarting a run.

Each test states its contract in its docstring; windows train on already-loaded data."""
import numpy as np
import pytest

from core.probes import MAX_PROBES
from tests.test_window import make_window, themed  # noqa: F401 (the session's theme)

WAIT_MS = 120_000


@pytest.fixture
def window(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path / "settings.ini", limit=1000)
    yield window
    window.close()


def train_both(qtbot, window, start):
    """Start training with ``start`` and wait until both runs have ended."""
    signals = [window.run_ended]
    with qtbot.waitSignals(signals, timeout=WAIT_MS):
        start()
    if window.comparison.training is not None:
        with qtbot.waitSignal(window.comparison.ended, timeout=WAIT_MS):
            pass


def test_one_click_trains_classic_and_fast_side_by_side(qtbot, window):
    """Training ▸ Train classic and fast side by side: a new classic run and a fast one train
    together, with one seed; both histories fill, the cost plot overlays the second run's
    curves under a legend naming both, and the second run's dock shows its settings."""
    window.form.epochs.setValue(2)
    train_both(qtbot, window, window.side_by_side_action.trigger)
    a, b = window.run, window.comparison.run
    assert a.config.sizes == (784, 20, 20, 20, 10) and b.config.sizes == (784, 256, 128, 10)
    assert a.config.seed == b.config.seed
    assert len(a.history.epochs) == len(b.history.epochs) == a.config.epochs
    assert window.cost.other._epochs.size == len(b.history.epochs)
    legend = window.cost.legend.text()
    assert window.cost.legend.isVisibleTo(window) and "784-20-20-20-10 sigmoid" in legend and "B: fast" in legend
    assert "B: fast — 784-256-128-10 relu ce adam" in window.second.header.text()
    assert "Finished" in window.second.header.text()


def test_the_scrubber_moves_both_runs_by_epoch(qtbot, window):
    """A moment of the first run shows the second run's moment nearest it in epochs, in its
    dock and on its probe timelines."""
    window.form.preset.setCurrentText("fast")
    window.form.epochs.setValue(2)
    window.compare_with("classic")
    train_both(qtbot, window, window.train)
    window.probes_dock.raise_()
    window.second_dock.raise_()
    b = window.comparison.run
    for index in range(len(window.run.history)):
        window.show_moment(index)
        position = window.run.history.moments[index].position
        expected = b.history.nearest(position)
        assert window.probes.cells.cursor == (index, expected)
        assert f"at epoch {b.history.moments[expected].position:.2f}" in window.second.header.text()
    window.show_moment(None)
    assert window.probes.cells.cursor == (None, None)


def test_the_probe_strip_shows_what_every_snapshot_answers(qtbot, window):
    """Twelve probes by default (those of a 1,000-image test set: the fixed test digits it
    holds); each run's timeline is the moments' weights run on the probes, recomputed here."""
    window.form.preset.setCurrentText("fast")
    window.form.epochs.setValue(1)
    window.compare_with("classic")
    train_both(qtbot, window, window.train)
    window.probes_dock.raise_()
    window._draw_probes()
    probes = window.run.history.probes
    assert 0 < len(probes) <= MAX_PROBES
    x = np.stack([p.image for p in probes])
    lines = window.probes.cells.runs
    assert [line.name for line in lines] == ["A", "B"]
    for line, run in zip(lines, (window.run, window.comparison.run)):
        assert line.outputs.shape == (len(run.history), len(probes), 10)
        for i in range(len(run.history)):
            np.testing.assert_allclose(line.outputs[i], run.history.snapshot(i).network().predict_proba(x),
                                       rtol=1e-5, atol=1e-6)


def test_pinning_removing_and_choosing_probes(qtbot, window):
    """Pin digit follows the digit shown; a probe clicked becomes the input of every panel;
    Remove and Defaults change the list everywhere."""
    window.probes_dock.raise_()
    window.remove_probe(0)
    window.remove_probe(0)
    n = len(window.run.history.probes)
    assert n == MAX_PROBES - 2
    window.activations.choose(5)
    window.pin_digit()
    probes = window.run.history.probes
    assert len(probes) == n + 1 and probes[-1].index == 5 and len(window.probes.cells.probes) == n + 1
    window.pad.stroke([(40.0, 40.0), (60.0, 120.0), (70.0, 180.0)])
    qtbot.waitUntil(lambda: window.pad.current_input() is not None, timeout=5000)
    window.probes.label_box.setValue(1)
    window.pin_drawing()
    drawing = window.run.history.probes[-1]
    assert drawing.index == -1 and drawing.label == 1
    window.choose_probe(len(window.run.history.probes) - 1)
    assert window.view.probe == len(window.run.history.probes) - 1
    np.testing.assert_array_equal(window._input()[0], drawing.image)
    window.choose_probe(len(window.run.history.probes) - 2)  # a test digit: chosen as the digit
    assert window.view.probe is None and window.view.digit == 5
    window.reset_probes()
    assert len(window.run.history.probes) == MAX_PROBES  # the defaults again


def test_a_taught_drawing_becomes_read_correctly(qtbot, window):
    """A drawing taught with a label (one the untrained reading disagrees with) is added with
    its copies to the trainer, pinned as a probe, and after two epochs is read as that label."""
    window.form.preset.setCurrentText("fast")
    window.pad.stroke([(30.0, 60.0), (190.0, 60.0)])  # a bar across: no digit at all
    qtbot.waitUntil(lambda: window.pad.current_input() is not None, timeout=5000)
    label = 4
    window.teach(label)
    history = window.run.history
    assert len(history.taught) == 1 and window.run.trainer.taught[0].shape == (9, 784)
    probe = history.probes[-1]
    assert probe.label == label and probe.name == "drawing taught as 4"
    window.form.epochs.setValue(2)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.train()
    read = window.run.live.network().predict_proba(probe.image[np.newaxis])[0]
    assert read.argmax() == label and read[label] > 0.5
    window.forget_taught(0)
    assert window.run.history.taught == () and window.run.trainer.taught is None


def test_probes_and_taught_drawings_are_saved_with_the_run(qtbot, window, tmp_path):
    window.pad.stroke([(30.0, 60.0), (190.0, 60.0)])
    qtbot.waitUntil(lambda: window.pad.current_input() is not None, timeout=5000)
    window.teach(4)
    window.form.epochs.setValue(1)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.train()
    path = str(tmp_path / "taught.npz")
    assert window.save_model(path)
    probes, taught = window.run.history.probes, window.run.history.taught
    window.reset()
    assert window.run.history.taught == ()
    assert window.open_model(path)
    again = window.run.history
    assert [p.name for p in again.probes] == [p.name for p in probes]
    np.testing.assert_array_equal(again.taught[0].image, taught[0].image)
    assert window.run.trainer.taught is not None and len(window.run.trainer.taught[0]) == 9
    assert window.probes.taught_box.currentText() == "taught 1: 4"


def test_reset_keeps_the_seeds_initial_weights_and_restart_repeats_a_run(qtbot, window):
    """Reset starts from the seed's weights, bit for bit; Train again from the initial weights
    repeats the run exactly even after the form's seed changed."""
    window.form.preset.setCurrentText("fast")
    first = window.run.live
    window.form.epochs.setValue(1)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.train()
    trained = window.run.live
    window.reset()
    assert all(a.tobytes() == b.tobytes() for a, b in zip(first.W, window.run.live.W))
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.train()
    window.form.seed.setValue(5)
    window.restart()
    assert window.run.trainer.step == 0
    assert all(a.tobytes() == b.tobytes() for a, b in zip(first.W, window.run.live.W))
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.train()
    assert all(a.tobytes() == b.tobytes() for a, b in zip(trained.W, window.run.live.W))


def test_a_saved_run_is_compared_and_trains_on_with_the_first(qtbot, window, tmp_path):
    """Compare with ▸ A saved run: the file's history is the second run's (its curves drawn at
    once), and Train trains it on beside the first."""
    from app import cli
    path = tmp_path / "classic.npz"
    assert cli.main(["train", "--preset", "classic", "--epochs", "1", "--limit", "1000",
                     "--out", str(path)]) == 0
    window.form.preset.setCurrentText("fast")
    assert window.compare_with_file(str(path))
    b = window.comparison.run
    assert len(b.history.epochs) == 1 and window.cost.other._epochs.size == 1
    assert window.comparison.name == "classic.npz" and "B: classic.npz" in window.cost.legend.text()
    window.form.epochs.setValue(1)
    train_both(qtbot, window, window.train)
    assert len(b.history.epochs) == 2 and b.epochs_done == 2
    window.stop_comparing()
    assert window.comparison is None and window.cost.legend.isHidden()


def test_a_damaged_file_is_refused_as_a_comparison_in_one_sentence(window, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    errors = []
    window.show_error = errors.append
    assert not window.compare_with_file(str(bad))
    assert len(errors) == 1 and "bad.npz" in errors[0] and window.comparison is None


def test_the_strip_shows_what_the_settings_feed_the_network(window):
    """What it is fed: the first training images, and below them as the augmentation of the
    form moves them; none leaves them as they are."""
    strip = window.augmented
    np.testing.assert_array_equal(strip.originals, window.data.x_train[:8])
    np.testing.assert_array_equal(strip.augmented, strip.originals)  # the default: none
    window.form.augment.setCurrentText("affine")
    assert not np.array_equal(strip.augmented, strip.originals)
    assert "rotation" in strip.caption.text()
    window.form.augment.setCurrentText("none")
    np.testing.assert_array_equal(strip.augmented, strip.originals)
    window.form.mixup.setValue(0.4)  # blended in pairs: each tile is part of another
    assert not np.array_equal(strip.augmented, strip.originals) and "mixup (α 0.4" in strip.caption.text()
    window.form.mixup.setValue(0.0)
    np.testing.assert_array_equal(strip.augmented, strip.originals)
