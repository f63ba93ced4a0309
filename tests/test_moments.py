"""The window's one state (issue 9): a run's history reaches every panel at any moment, the
timeline scrubs it, Save and Open keep it, and nothing stale survives Reset, Open or a change of
moment. Each of the bugs the issue lists has a test here that failed before the fix."""
import numpy as np
import pytest

from core.config import TrainConfig
from core.inspect import top_exciting
from core.model_io import load_run, save_model
from core.network import Network
from tests.test_window import WAIT_MS, make_window, themed, train  # noqa: F401 (themed: autouse)

LIMIT = 2000


@pytest.fixture
def window(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path / "settings.ini", limit=LIMIT)
    window.form.preset.setCurrentText("fast")
    yield window
    window.close()


def shown(window):
    """What the panels draw now: the weights panel's snapshot, the evaluation panel's."""
    return window.weights._snapshot, window.evaluation.evaluation


def test_a_trained_run_keeps_moments_dense_in_the_first_epoch(qtbot, window):
    """Training records the initial weights, moments at steps 1, 2, 4, ... inside epoch 1 and
    one per epoch; the timeline has a stop for each."""
    assert train(qtbot, window, 2) == ""
    h = window.history
    steps = [m.step for m in h.moments]
    bpe = window.run.batches_per_epoch  # 16 batches of 128 in 2,000 images
    inside = [s for s in steps if 0 < s < bpe]
    assert steps[0] == 0 and inside == [1, 2, 4, 8] and steps[-2:] == [bpe, 2 * bpe]
    assert [m.position for m in h.moments][-2:] == [1.0, 2.0]
    assert window.timeline.slider.maximum() == len(h)  # the moments, then Live
    assert len(h.steps) == 2 * bpe and len(h.epochs) == 2


def test_scrubbing_shows_exactly_that_moments_weights_and_outputs(qtbot, window):
    """After show_moment(i), the weights panel, the activations, the pad and the confusion
    matrix show moment i of the history, and the status bar names it; Live goes back."""
    train(qtbot, window, 2)
    h = window.history
    for i in (0, 3, len(h) - 1):
        window.show_moment(i)
        snapshot, evaluation = shown(window)
        for a, b in zip(snapshot.W, h.moments[i].W):
            np.testing.assert_array_equal(a, b.astype(np.float32))
        assert window.activations.snapshot is snapshot and window.pad.snapshot is snapshot
        np.testing.assert_array_equal(evaluation.counts, h.evaluation(i).counts)
        assert window.timeline.current == i
        assert f"step {h.moments[i].step:,}" in window.moment_label.text()
        assert window.accuracy_label.text() == f"test accuracy {h.evaluation(i).accuracy:.4f}"
        assert window.cost.cursors[0].isVisible() and window.cost.cursors[0].value() == h.moments[i].position
        # the activations are this moment's forward pass of the digit shown
        x = window.data.x_test[window.view.digit]
        expected = snapshot.network().predict_proba(x[None])[0]
        np.testing.assert_allclose(window.activations.layers[-1]._heights, expected, rtol=1e-5)
    window.show_moment(None)
    assert window.weights._snapshot is window.snapshot and window.moment_label.text() == "live"
    assert not window.cost.cursors[0].isVisible()


def test_the_first_moment_is_a_network_that_knew_nothing(qtbot, window):
    """At moment 0 the confusion matrix is that of the initial weights: about chance."""
    train(qtbot, window, 1)
    window.show_moment(0)
    _, evaluation = shown(window)
    assert evaluation.accuracy < 0.3 and window.history.moments[0].step == 0
    window.show_moment(len(window.history) - 1)
    assert shown(window)[1].accuracy > 0.6  # one epoch of 2,000 images: about 0.75


def test_the_timeline_drives_the_window(qtbot, window):
    """A user's choice on the timeline (key, Live button) changes the moment of every panel."""
    train(qtbot, window, 1)
    window.timeline.go_first()
    assert window.moment == 0 and shown(window)[0].step == 0
    window.timeline.step_forward()
    assert window.moment == 1 and shown(window)[0].step == 1
    window.timeline.go_live()
    assert window.moment is None and shown(window)[0] is window.snapshot


def test_the_inspector_finds_the_exciting_digits_of_the_moment_shown(qtbot, window):
    """At a past moment, the inspector's test digits that excite the neuron most are those of
    that moment's weights (found once the moment rests), not the present's."""
    train(qtbot, window, 1)
    window.select_neuron(1, 5)
    window.show_moment(0)
    net = window.history.snapshot(0).network()
    expected, _ = top_exciting(net, window.data.x_test, 1, 5)
    qtbot.waitUntil(lambda: window.inspector.top_image.isVisible(), timeout=WAIT_MS)
    indices, _ = window._top_cache[(0, (1, 5), ())]  # step 0, the neuron, none switched off
    np.testing.assert_array_equal(indices, expected)


def test_scrubbing_while_training_keeps_the_moment_and_training_goes_on(qtbot, window):
    """A past moment shown during training stays shown while the run adds batches and
    moments; Live then shows the newest weights."""
    window.form.epochs.setValue(200)
    window.train()
    qtbot.waitUntil(lambda: len(window.history) >= 3, timeout=WAIT_MS)
    window.show_moment(1)
    held = shown(window)[0]
    steps = len(window.history.steps)
    qtbot.waitUntil(lambda: len(window.history.steps) > steps + 20, timeout=WAIT_MS)
    assert shown(window)[0] is held and window.moment == 1
    window.show_moment(None)
    qtbot.waitUntil(lambda: shown(window)[0].step > held.step, timeout=WAIT_MS)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.stop()
    assert window.state_label.text() == "Stopped"


def test_a_moment_chosen_on_the_timeline_while_training_reaches_every_panel(qtbot, window):
    """While training runs, the timeline's choice goes to the status bar at once and to every
    panel within a few frames; the past moment then stays while training goes on."""
    window.form.epochs.setValue(200)
    window.train()
    qtbot.waitUntil(lambda: len(window.history) >= 4, timeout=WAIT_MS)
    window.timeline.go_first()
    assert window.moment == 0 and "step 0" in window.moment_label.text()
    first = window.history.snapshot(0)
    qtbot.waitUntil(lambda: window.weights._snapshot is first and window.activations.snapshot is first
                    and window.pad.snapshot is first, timeout=WAIT_MS)
    np.testing.assert_array_equal(shown(window)[1].counts, window.history.evaluation(0).counts)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.stop()
    assert window.weights._snapshot is first


def test_a_panel_behind_a_tab_is_drawn_when_it_comes_to_the_front(qtbot, window):
    """On screen, the confusion tab behind the activations is not drawn for every moment; when
    it comes to the front it shows the moment shown, not the one it last drew."""
    train(qtbot, window, 1)
    window.show()
    qtbot.waitExposed(window)
    window.activations_dock.raise_()
    qtbot.waitUntil(lambda: window.evaluation.visibleRegion().isEmpty(), timeout=WAIT_MS)
    window.show_moment(0)
    assert window.evaluation.evaluation.epoch == 1  # still the live one: not drawn behind its tab
    window.evaluation_dock.raise_()
    qtbot.waitUntil(lambda: window.evaluation.evaluation is not None
                    and window.evaluation.evaluation.accuracy == window.history.evaluation(0).accuracy,
                    timeout=WAIT_MS)
    np.testing.assert_array_equal(window.evaluation.evaluation.counts, window.history.evaluation(0).counts)


def test_save_quit_reopen_brings_back_the_curves_and_the_past(qtbot, window, tmp_path):
    """The issue's 'done when': train, save, open the file in a new window: the cost curves are
    back, and the first moment shows the initial weights again."""
    train(qtbot, window, 2)
    path = tmp_path / "brain.npz"
    assert window.save_model(str(path))
    moments = len(window.history)
    first = window.history.moments[0].W[0]
    window.close()
    again = make_window(qtbot, tmp_path / "settings2.ini", limit=LIMIT)
    assert again.open_model(str(path))
    assert again.cost.epoch_count() == 2 and len(again.history) == moments
    assert len(again.history.steps) == 2 * again.run.batches_per_epoch
    again.show_moment(0)
    np.testing.assert_array_equal(shown(again)[0].W[0], first.astype(np.float32))
    assert shown(again)[1].accuracy < 0.3
    again.form.epochs.setValue(1)
    with qtbot.waitSignal(again.run_ended, timeout=WAIT_MS):
        again.train()  # goes on: steps and points of training carry on from the file's
    assert np.all(np.diff(again.history.steps) == 1) and again.history.epochs[-1].epoch == 3
    again.close()


def test_a_file_without_history_opens_with_its_weights_as_the_only_moment(qtbot, window, tmp_path):
    """A brain.npz of the first format (no history) opens: one moment, no curves."""
    config = TrainConfig(sizes=(784, 16, 10), hidden="relu", output="softmax", loss="ce")
    net = Network.initialised(config.sizes, config.hidden, config.output, config.loss,
                              seed=np.random.default_rng(3))
    path = tmp_path / "old.npz"
    save_model(path, net, {"epochs": 4, "config": config.as_dict()})
    assert load_run(path)[2] is None
    assert window.open_model(str(path))
    assert len(window.history) == 1 and window.cost.epoch_count() == 0
    assert window.epoch_label.text() == "epoch 4/10"


# --- the bugs the issue lists ----------------------------------------------------------------

def test_reset_after_an_architecture_change_clears_a_neuron_that_no_longer_exists(qtbot, window):
    """classic, neuron (2, 15) selected, layers set to 784,16,10, Reset: no ValueError, the
    selection is cleared everywhere, and the reset completes."""
    window.form.preset.setCurrentText("classic")
    window.reset()
    window.select_neuron(2, 15)
    assert window.view.neuron == (2, 15)
    window.form.layers.setText("784,16,10")
    window.reset()
    assert window.snapshot.sizes == (784, 16, 10)
    assert window.view.neuron is None and window.inspector.neuron is None
    assert window.weights.selected_outline is None


def test_paused_in_the_middle_of_epoch_2_the_status_says_epoch_2(qtbot, window):
    """The status bar counts the epoch in progress, and says Stepped, Paused, then Stopped."""
    window.form.epochs.setValue(5)
    window.form.batch_size.setValue(16)  # 125 batches an epoch
    window.step()  # a paused run that trains one batch
    bpe = window.run.batches_per_epoch
    window.training.control.step(bpe + 1)  # then on, to the third batch of epoch 2
    qtbot.waitUntil(lambda: (window.redraw(), window.run.step)[1] == bpe + 2, timeout=WAIT_MS)
    assert window.state_label.text() == "Stepped"
    assert window.epoch_label.text() == "epoch 2/5" and window.run.epochs_done == 1
    window.toggle_pause()  # resume, and at once pause again: still inside epoch 2
    window.toggle_pause()
    window.redraw()
    assert window.state_label.text() == "Paused" and window.epoch_label.text() == "epoch 2/5"
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.stop()
    assert window.state_label.text() == "Stopped" and window.epoch_label.text() == "epoch 2/5"


def test_an_opened_model_trains_on_with_its_momentum_and_weight_decay(qtbot, window, tmp_path):
    """Momentum 0.5 and weight decay 1e-3 saved in a file are shown by the form and used."""
    config = TrainConfig(sizes=(784, 16, 10), hidden="relu", output="softmax", loss="ce",
                         optimizer="momentum", lr=0.05, momentum=0.5, weight_decay=1e-3,
                         batch_size=100, epochs=1)
    net = Network.initialised(config.sizes, config.hidden, config.output, config.loss,
                              seed=np.random.default_rng(1))
    path = tmp_path / "m.npz"
    save_model(path, net, {"epochs": 0, "config": config.as_dict()})
    assert window.open_model(str(path))
    assert window.form.momentum.value() == 0.5 and window.form.weight_decay.value() == 1e-3
    train(qtbot, window, 1)
    assert window.trainer.config.momentum == 0.5 and window.trainer.config.weight_decay == 1e-3


def test_after_reset_the_inspector_shows_the_new_networks_exciting_digits(qtbot, window):
    """The top-exciting digits are searched again for the new weights, never kept."""
    window.select_neuron(1, 3)
    train(qtbot, window, 1)
    window.form.seed.setValue(7)
    window.reset()
    window.select_neuron(1, 3)
    expected, _ = top_exciting(window.snapshot.network(), window.data.x_test, 1, 3)
    qtbot.waitUntil(lambda: window.inspector.top_image.isVisible(), timeout=WAIT_MS)
    np.testing.assert_array_equal(window._known_top()[0], expected)


def test_after_reset_and_open_the_status_bar_forgets_the_old_run(qtbot, window, tmp_path):
    """No speed, no time and no '0:00 left' from a run that is gone; the state says Ready."""
    window.form.epochs.setValue(200)
    window.train()
    qtbot.waitUntil(lambda: window.run.step > 5 and window.speed_label.text() != "", timeout=WAIT_MS)
    path = tmp_path / "b.npz"
    window.save_model(str(path))
    window.toggle_pause()
    window.reset()
    assert (window.speed_label.text(), window.time_label.text()) == ("", "")
    assert window.state_label.text() == "Ready" and window.epoch_label.text() == "epoch 0/200"
    assert window.open_model(str(path))
    assert (window.speed_label.text(), window.time_label.text()) == ("", "")
    assert window.state_label.text() == "Ready"


def test_every_view_inside_the_network_shows_the_moment_scrubbed_to(qtbot, window):
    """The diagram, the layer map, the gradient flow and the neuron health at moment i show
    moment i's numbers, and Live the present's."""
    from core.health import fixed_sample, health

    train(qtbot, window, 2)
    h = window.history
    sample = window.data.x_test[fixed_sample(window.data.y_test)]
    for i in (1, 4, len(h) - 2):
        window.show_moment(i)
        m = h.moments[i]
        assert window.diagram.snapshot.step == m.step and window.layermap.picture.step == m.step
        assert window.flow.cursor.isVisible() and window.flow.cursor.value() == m.position
        k = int(np.searchsorted(h.flow_positions, m.position, side="right")) - 1
        window.flow.set_quantity("gradient")
        np.testing.assert_array_equal(window.flow.values_at(m.position, smoothed=False), h.flow[k, 0])
        assert window.flow.status_label.text().startswith(f"epoch {h.flow_positions[k]:.2f},")
        expected = health(h.snapshot(i).network(), sample).dead  # that moment's dead ReLUs
        label = window.health.status_label.text()
        assert f"step {m.step:,}" in label
        for l, share in enumerate(expected, start=1):
            p = 100 * share
            said = f"{p:.0f}%" if p >= 10 or p == 0 else f"{p:.1f}%"  # as the panel rounds
            assert f"layer {l}: {said} dead" in label, (label, expected)
        assert window.health.cursors[0].value() == m.position
    window.timeline.go_live()
    assert not window.flow.cursor.isVisible()
    assert window.health.status_label.text().startswith("epoch 2")
