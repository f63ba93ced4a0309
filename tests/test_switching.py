"""Switching neurons off (issue 12, part 5): from the inspector, a hidden neuron is forced to 0
or clamped to a value; every panel, the status bar and the test accuracy show the network so, at
the moment shown; several at once; All on restores them; training is refused while any is off."""
import numpy as np
import pytest

from core.evaluation import Evaluation
from core.network import Network
from tests.test_window import WAIT_MS, make_window, train  # noqa: F401

LIMIT = 2000


@pytest.fixture
def window(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path / "settings.ini", limit=LIMIT)
    window.form.preset.setCurrentText("fast")
    assert train(qtbot, window, 1) == ""
    yield window
    window.close()


def rewired(snapshot, off):
    """The network of ``snapshot`` with each neuron of ``off`` carried on by no weight: its row
    of W[l] zeroed, and its forced value times that row added to the next layer's biases."""
    W, b = [w.astype(np.float32) for w in snapshot.W], [v.astype(np.float32) for v in snapshot.b]
    for layer, neuron, value in off:
        b[layer] = b[layer] + value * W[layer][neuron]
        W[layer][neuron] = 0.0
    return Network(snapshot.sizes, snapshot.hidden, snapshot.output, snapshot.loss, W, b)


def strongest_neuron(window):
    """The neuron of the last hidden layer that adds most to the digit shown's predicted class."""
    snapshot = window.run.live
    net = snapshot.network()
    x = window.data.x_test[window.view.digit][None, :]
    a = net.forward(x)
    predicted = int(a[-1][0].argmax())
    return int((a[-2][0] * snapshot.W[-1][:, predicted]).argmax()), predicted


def test_a_neuron_switched_off_changes_the_answers_as_zeroing_its_outgoing_weights(qtbot, window):
    window.select_neuron(2, 0)
    neuron, _ = strongest_neuron(window)
    window.select_neuron(2, neuron)
    before = window.run.evaluation
    window.inspector.off_button.click()
    assert window.view.off == ((2, neuron, 0.0),)
    snapshot, evaluation, _ = window._at()
    expected = Evaluation.of(rewired(window.run.live, window.view.off).predict_proba(window.data.x_test),
                             window.data.y_test)
    np.testing.assert_array_equal(evaluation.predicted, expected.predicted)
    np.testing.assert_array_equal(window.evaluation.evaluation.counts, expected.counts)  # the confusion matrix too
    assert window.accuracy_label.text() == f"test accuracy {expected.accuracy:.4f} (1 neuron off)"
    change = 100 * (expected.accuracy - before.accuracy)
    assert f"{change:+.2f} points" in window.inspector.switch_label.text()
    x = window.data.x_test[window.view.digit]
    assert window.activations.snapshot is snapshot and window.diagram.snapshot is snapshot
    assert window.diagram._activations[2][neuron] == 0.0  # the diagram's circle is dark
    assert window.activations.layers[1]._heights[neuron] == 0.0  # and its bar is flat
    np.testing.assert_allclose(snapshot.network().predict_proba(x[None]),
                               rewired(window.run.live, window.view.off).predict_proba(x[None]), rtol=1e-5)
    assert window.inspector.off_button.text() == "Switch on"
    window.inspector.off_button.click()  # on again
    assert window.view.off == () and window.evaluation.evaluation is window.run.evaluation
    assert window.accuracy_label.text() == f"test accuracy {window.run.test_accuracy:.4f}"


def test_switching_off_the_neurons_a_digit_depends_on_changes_its_prediction(qtbot, window):
    """Off one by one, strongest first, until the digit reads otherwise: the panel's prediction
    follows the network so, and All on brings the first reading back."""
    x = window.data.x_test[window.view.digit][None, :]
    net = window.run.live.network()
    a = net.forward(x)
    first = int(a[-1][0].argmax())
    contributions = a[-2][0] * window.run.live.W[-1][:, first]
    for neuron in np.argsort(contributions)[::-1][:40]:
        window.select_neuron(2, int(neuron))
        window.inspector.off_button.click()
        if window.diagram.predicted != first:
            break
    assert window.diagram.predicted != first and len(window.view.off) >= 1
    forced = window._at()[0].network()
    assert window.diagram.predicted == int(forced.predict(x)[0])
    assert f"{len(window.view.off)} neurons off" in window.accuracy_label.text() or len(window.view.off) == 1
    window.inspector.restore_button.click()
    assert window.view.off == () and window.diagram.predicted == first


def test_a_clamped_neuron_is_held_at_its_value_at_a_scrubbed_moment_too(qtbot, window):
    window.select_neuron(1, 3)
    window.inspector.clamp_value.setValue(2.5)
    window.inspector.clamp_button.click()
    window.select_neuron(2, 7)
    window.inspector.off_button.click()
    assert window.view.off == ((1, 3, 2.5), (2, 7, 0.0))
    window.show_moment(2)
    snapshot, evaluation, _ = window._at()
    moment = window.history.snapshot(2)
    assert snapshot.step == moment.step and snapshot.forced == window.view.off
    x = window.data.x_test[window.view.digit][None, :]
    a = snapshot.network().forward(x)
    assert a[1][0, 3] == np.float32(2.5) and a[2][0, 7] == 0.0
    expected = rewired(moment, window.view.off).predict(window.data.x_test)
    np.testing.assert_array_equal(evaluation.predicted, expected)
    assert window.accuracy_label.text().endswith("(2 neurons off)")
    assert window.inspector.switch_label.text().startswith("neuron 3 of layer 1 at 2.50; neuron 7 of layer 2 off:")


def test_training_is_refused_while_a_neuron_is_off(qtbot, window):
    window.select_neuron(1, 0)
    window.inspector.off_button.click()
    step = window.run.step
    window.train()
    window.step()
    assert window.training is None and window.run.step == step
    assert "switched off" in window.error_box.text() and "All on" in window.error_box.text()
    window.inspector.restore_button.click()
    assert train(qtbot, window, 1) == ""
    assert window.run.step > step


def test_neurons_cannot_be_switched_while_training_runs_and_output_neurons_never(qtbot, window):
    window.form.epochs.setValue(500)
    window.select_neuron(1, 0)
    window.train()
    assert not window.inspector.off_button.isEnabled()
    window.switch_neuron(1, 0, 0.0)
    assert window.view.off == ()
    window.toggle_pause()  # paused: switching is allowed, resuming is not
    assert window.inspector.off_button.isEnabled()
    window.inspector.off_button.click()
    assert window.view.off == ((1, 0, 0.0),)
    window.toggle_pause()
    assert window.training.control.paused and "switched off" in window.error_box.text()
    window.select_neuron(3, 4)  # an output: nothing to switch
    assert window.inspector.off_button.isHidden()
    window.switch_neuron(3, 4, 0.0)
    assert window.view.off == ((1, 0, 0.0),)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.stop()


def test_a_new_network_has_every_neuron_on(qtbot, window):
    window.select_neuron(1, 0)
    window.inspector.off_button.click()
    window.reset()
    assert window.view.off == () and "off" not in window.accuracy_label.text()
