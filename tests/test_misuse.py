"""Misuse of the window while it trains (issue 6, part 4), each 20 times in a loop: pause and
resume in quick succession, Step while running, Reset, Open a model, a changed architecture, an
absurd learning rate, and closing. None may crash, hang or raise a Qt warning (pytest.ini fails
on those), and after each loop the window still trains one more epoch correctly. The last test
is a short soak (part 6; ``python -m app.soak`` is the long one)."""
import numpy as np
import pytest

from tests.test_window import WAIT_MS, make_window, themed  # noqa: F401 (themed: autouse fixture)

LIMIT = 1000  # training and test images: a run of many epochs that the loops interrupt
TIMES = 20
SEVEN = [(60, 60), (220, 60), (120, 240)]  # a stroke on the pad's 280x280 canvas


@pytest.fixture
def window(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path / "settings.ini", limit=LIMIT)
    window.form.preset.setCurrentText("fast")
    window.form.layers.setText("784,32,10")  # small: each batch is quick, so stops are quick
    window.reset()
    yield window
    window.close()


def start_long_run(qtbot, window, batches=2):
    """Start a run far longer than any test, and wait until it has trained ``batches`` batches."""
    window.form.epochs.setValue(10000)
    window.train()
    assert window.training is not None
    start = window.run.step
    qtbot.waitUntil(lambda: window.run.step >= start + batches, timeout=WAIT_MS)


def stop_run(qtbot, window):
    if window.training is not None:
        with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
            window.stop()
    assert window.training is None


def assert_trains_one_more_epoch(qtbot, window):
    """Idle again, the window trains one epoch that reaches the panels, with finite weights."""
    stop_run(qtbot, window)
    done = window.trainer.epoch
    window.form.epochs.setValue(1)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS) as ended:
        window.train()
    assert ended.args[0] == ""
    assert window.trainer.epoch == done + 1
    assert window.snapshot.epoch == done + 1 and window.weights._snapshot is window.snapshot
    assert window.history.epochs[-1].epoch == done + 1
    assert window.trainer.net.all_finite()
    assert window.training is None and window.train_button.isEnabled()


def test_pause_and_resume_20_times_quickly(qtbot, window):
    """Twenty pauses and resumes, some with no event processed in between: the buttons follow
    the run's state, a paused run trains no batch, a resumed one goes on."""
    start_long_run(qtbot, window)
    for i in range(TIMES):
        window.toggle_pause()
        assert window.training.control.paused and window.pause_button.text() == "Resume"
        if i % 2:
            qtbot.wait(5)
        window.toggle_pause()
        assert not window.training.control.paused and window.pause_button.text() == "Pause"
        if i % 3 == 0:
            qtbot.wait(5)
    window.toggle_pause()
    qtbot.wait(150)  # the worker ends its batch and waits
    paused_at = window.run.step
    qtbot.wait(150)
    assert window.run.step == paused_at
    window.toggle_pause()
    qtbot.waitUntil(lambda: window.run.step > paused_at + 3, timeout=WAIT_MS)
    assert_trains_one_more_epoch(qtbot, window)


def test_step_pressed_20_times_while_running_is_ignored(qtbot, window):
    """Step is for a paused run: pressed while one runs it neither pauses it nor starts another."""
    start_long_run(qtbot, window)
    run = window.training
    for _ in range(TIMES):
        window.step()
        window.step_button.click()  # disabled while running: nothing happens
        assert window.training is run and not run.control.paused
        qtbot.wait(2)
    before = window.run.step
    qtbot.waitUntil(lambda: window.run.step > before + 3, timeout=WAIT_MS)
    window.toggle_pause()  # paused, Step does its job: one batch each
    qtbot.wait(150)
    paused_at = window.run.step
    window.step()
    qtbot.waitUntil(lambda: window.run.step == paused_at + 1, timeout=WAIT_MS)
    assert_trains_one_more_epoch(qtbot, window)


def test_reset_20_times_during_training(qtbot, window):
    """Each Reset stops the run, waits for its thread and shows fresh weights from the seed."""
    fresh = window.snapshot.W[0].copy()
    for _ in range(TIMES):
        start_long_run(qtbot, window)
        thread = window.training.thread
        with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
            window.reset()
        assert window.training is None and not thread.isRunning()
        assert window.trainer.epoch == 0 and window.run.step == 0 and window.history.epochs == []
        np.testing.assert_array_equal(window.snapshot.W[0], fresh)
    assert_trains_one_more_epoch(qtbot, window)


def test_open_a_model_20_times_during_training(qtbot, window, tmp_path):
    """Opening a good model mid-run stops the run and shows exactly the saved weights."""
    window.form.epochs.setValue(1)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.train()
    path = tmp_path / "brain.npz"
    assert window.save_model(str(path))
    saved = [w.copy() for w in window.snapshot.W]
    window.form.layers.setText("784,16,10")  # a different network is training when we open
    for _ in range(TIMES):
        start_long_run(qtbot, window)
        thread = window.training.thread
        assert window.open_model(str(path))
        assert window.training is None and not thread.isRunning()
        assert window.trainer.epoch == 1 and window.form.layers.text() == "784,32,10"
        for shown, expected in zip(window.snapshot.W, saved):
            np.testing.assert_array_equal(shown, expected)
        window.form.layers.setText("784,16,10")
    assert window.error_box is None
    window.form.layers.setText("784,32,10")
    assert_trains_one_more_epoch(qtbot, window)


ARCHITECTURES = ["784,16,10", "784,24,12,10", "784,8,8,8,10", "784,32,10"]


def test_changing_the_architecture_20_times_during_training(qtbot, window):
    """While a run goes on the layers field is locked, and Train is refused; a new architecture
    typed there takes effect on Reset or on the next Train. Every panel follows the new shape;
    an invalid one is one sentence and the network stays."""
    for i in range(TIMES):
        start_long_run(qtbot, window)
        assert not window.form.layers.isEnabled() and not window.train_button.isEnabled()
        run = window.training
        layers = ARCHITECTURES[i % len(ARCHITECTURES)]
        window.form.layers.setText(layers)  # as if typed before the lock, or by a script
        window.train()  # ignored: a run is going
        assert window.training is run
        sizes = tuple(map(int, layers.split(",")))
        if i % 2:
            with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
                window.reset()
        else:
            stop_run(qtbot, window)
            window.form.epochs.setValue(1)
            with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
                window.train()  # a changed architecture: a new network, then one epoch
        assert window.trainer.net.sizes == sizes and window.snapshot.sizes == sizes
        assert window.activations.snapshot is window.snapshot
    kept = window.trainer
    start_long_run(qtbot, window)
    window.form.layers.setText("784,0,10")
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.reset()
    assert window.error_box is not None and window.trainer is kept
    window.form.layers.setText("784,32,10")
    assert_trains_one_more_epoch(qtbot, window)


def test_an_absurd_learning_rate_20_times_during_training(qtbot, window):
    """The form's largest rate, then 1e30 given to the running control: divergence is caught,
    said once in the error box, the last finite weights are kept and the window stays usable.
    (Those weights are finite but huge, ~1e26, after a batch at 1e30: training them on diverges
    again at once, with the same message; Reset gives a trainable network.)"""
    window.form.optimizer.setCurrentText("sgd")
    window.form.lr_decay.setValue(1.0)
    for i in range(TIMES):
        window.form.lr.setValue(0.1)
        start_long_run(qtbot, window)
        with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS) as ended:
            # Paused, so that both rates arrive before the next batch and the last one wins:
            # a batch trained at 100 alone may leave every ReLU dead, with no gradient left
            # for 1e30 to blow up (and the run would go on); the child takes each message as
            # it comes, between two batches.
            window.toggle_pause()
            window.form.lr.setValue(100.0)  # the form's maximum, taken by the running worker
            window.training.control.set_lr(1e30)
            window.toggle_pause()
        assert "lower the learning rate" in ended.args[0]
        text = window.error_box.text()
        assert text.count("last finite batch were kept") == 1, text
        assert window.training is None and window.train_button.isEnabled()
        assert window.trainer.net.all_finite()
        assert all(np.isfinite(w).all() for w in window.snapshot.W)
        assert all(np.isfinite(b).all() for b in window.snapshot.b)
        if i % 4 == 0:  # go on from the kept weights: no crash, at worst the same report
            window.form.lr.setValue(0.1)
            kept_at = window.run.step
            with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS) as again:
                window.train()
                qtbot.waitUntil(lambda k=kept_at: window.training is None or window.run.step >= k + 2,
                                timeout=WAIT_MS)
                window.stop()
            assert again.args[0] == "" or "lower the learning rate" in again.args[0]
            assert window.trainer.net.all_finite()
        window.reset()
    window.form.lr.setValue(0.1)
    assert_trains_one_more_epoch(qtbot, window)


def test_closing_20_windows_during_training_leaves_no_thread_running(qtbot, tmp_path):
    """Create, train, close, twenty times: close waits for the worker's thread to end."""
    for i in range(TIMES):
        window = make_window(qtbot, tmp_path / f"settings{i}.ini", limit=LIMIT)
        window.form.layers.setText("784,32,10")
        start_long_run(qtbot, window, batches=1 + i % 3)
        if i % 4 == 1:
            window.toggle_pause()  # a paused run must end on close too
        thread = window.training.thread
        window.close()
        assert window.training is None
        assert not thread.isRunning()
    window = make_window(qtbot, tmp_path / "last.ini", limit=LIMIT)
    window.form.layers.setText("784,32,10")
    assert_trains_one_more_epoch(qtbot, window)
    window.close()


def test_a_short_soak_keeps_items_and_memory(qtbot, tmp_path):
    """8 epochs with every panel live: the number of graphics items is the same after epoch 3 and
    after epoch 8, the resident memory less the history (which grows by design) grows by
    less than 20% between them, and so does the training process's."""
    from app.soak import soak
    lines = []
    samples = soak(epochs=8, limit=2000, preset_name="fast", settings_dir=tmp_path, report=lines.append)
    by_epoch = {s.epoch: s for s in samples}
    assert set(by_epoch) >= {3, 8}, lines
    first, last = by_epoch[3], by_epoch[8]
    assert last.items == first.items, lines
    assert (last.rss - last.history) / (first.rss - first.history) < 1.20, lines
    assert first.child_rss > 0 and last.child_rss / first.child_rss < 1.20, lines  # trained in its process
    assert last.history > first.history  # a moment per epoch
