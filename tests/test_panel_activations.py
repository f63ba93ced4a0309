"""ActivationsPanel: the digit, the activations of every layer for it, the prediction, and the
controls that choose the digit. Synthetic networks and images; no training."""
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolTip

from app import theme
from app.panels import readout
from app.panels.activations import ActivationsPanel
from core.network import Network
from core.train import Snapshot

SIZES = (784, 12, 8, 10)


def read_only(a):
    a.flags.writeable = False
    return a


def images(n, seed=0):
    x = np.random.default_rng(seed).random((n, 784), dtype=np.float32)
    return read_only(x)


def snapshot_of(sizes=SIZES, seed=0, hidden="relu"):
    """Initial weights: a network not yet trained (step 0, no epoch)."""
    return Snapshot.of(Network.initialised(sizes, hidden, "softmax", "ce", seed=seed))


def with_output_biases(biases, sizes=SIZES, epoch=1, step=100):
    """A trained snapshot (by its step and epoch) of zero weights and these output biases: its
    outputs for every input are softmax(biases)."""
    net = Network(sizes, "relu", "softmax", "ce")
    net.b[-1][:] = biases
    return Snapshot.of(net, epoch=epoch, step=step)


def always_predicting(digit, sizes=SIZES):
    """A trained snapshot whose every prediction is ``digit``, sure of it: one large output bias."""
    biases = np.zeros(sizes[-1], dtype=np.float32)
    biases[digit] = 10.0
    return with_output_biases(biases, sizes)


def softmax(b):
    """The oracle: e^b / sum e^b, in float64."""
    e = np.exp(np.asarray(b, dtype=np.float64))
    return e / e.sum()


@pytest.fixture
def panel(qtbot):
    p = ActivationsPanel(seed=0)
    qtbot.addWidget(p)
    return p


def forward(snapshot, x):
    return snapshot.network().forward(x[None, :])


def test_bars_show_exactly_the_activations_of_forward(panel):
    """Every layer's bars have the heights of forward() for the digit shown."""
    x, y = images(20), np.arange(20, dtype=np.uint8) % 10
    snap = snapshot_of()
    panel.set_dataset(x, y)
    panel.show_snapshot(snap)
    panel.index_box.setValue(3)
    expected = forward(snap, x[3])
    assert len(panel.layers) == len(SIZES) - 1
    for bars, a in zip(panel.layers, expected[1:]):
        np.testing.assert_array_equal(bars.bars.opts["height"], a[0])
    np.testing.assert_array_equal(panel.current_input(), x[3])
    assert panel.current_index == 3


def test_the_input_image_is_the_digit_upright_with_its_true_label(panel):
    """The image is the chosen row as 28x28, rows top to bottom, with 'true <label>' under it."""
    x, y = images(5), np.array([4, 1, 9, 0, 2], dtype=np.uint8)
    panel.set_dataset(x, y)
    panel.index_box.setValue(2)
    np.testing.assert_array_equal(panel.image.image, x[2].reshape(28, 28))
    assert panel.image.getViewBox().yInverted()
    assert panel.true_label.text() == "true 9"


def test_the_predicted_digit_is_highlighted_and_named(panel):
    """A trained network sure of its answer: the output bar of the predicted digit is filled in
    ACCENT; the headline names it in bold ACCENT, the line under it the three largest outputs."""
    panel.set_dataset(images(4), np.full(4, 3, dtype=np.uint8))
    panel.show_snapshot(always_predicting(6))
    output = panel.layers[-1]
    assert output.marked.isVisible()
    np.testing.assert_array_equal(output.marked.opts["x"], [6])
    assert output.marked.opts["brush"] == theme.ACCENT
    p = softmax([10.0 if d == 6 else 0.0 for d in range(10)])
    assert panel.predicted_label.text() == "predicted 6"
    assert theme.ACCENT in panel.predicted_label.styleSheet() and "bold" in panel.predicted_label.styleSheet()
    assert panel.top_label.text() == f"6 {p[6]:.2f} · 0 {p[0]:.2f} · 1 {p[1]:.2f}"
    assert panel.true_label.text() == "true 3"


def test_an_untrained_network_only_guesses(panel):
    """Initial weights (step 0, no epoch): the largest output is called a guess, muted and not
    bold, and the true digit is not coloured as if it were an answer."""
    panel.set_dataset(images(4), np.full(4, 3, dtype=np.uint8))
    snap = with_output_biases([0.1 * d for d in range(10)], epoch=0, step=0)
    panel.show_snapshot(snap)
    assert panel.predicted_label.text() == "untrained guess: 9"
    style = panel.predicted_label.styleSheet()
    assert theme.MUTED in style and "bold" not in style
    assert theme.TEST not in panel.true_label.styleSheet()
    panel.show_snapshot(with_output_biases([0.1 * d for d in range(10)], epoch=0, step=1))
    assert panel.predicted_label.text() == "unsure: 9 or 8?"  # one step of training: an answer


def test_an_answer_below_the_threshold_is_marked_unsure(panel):
    """Top output 0.37 (softmax of biases 2, 1.5, 0, ...) < UNSURE_BELOW: "unsure: 0 or 1?",
    not bold; the top three outputs under it."""
    biases = [2.0, 1.5] + [0.0] * 8
    p = softmax(biases)
    assert p[0] < readout.UNSURE_BELOW
    panel.set_dataset(images(2), np.zeros(2, dtype=np.uint8))
    panel.show_snapshot(with_output_biases(biases))
    assert panel.predicted_label.text() == "unsure: 0 or 1?"
    assert "bold" not in panel.predicted_label.styleSheet()
    assert panel.top_label.text() == f"0 {p[0]:.2f} · 1 {p[1]:.2f} · 2 {p[2]:.2f}"
    assert theme.TRAIN in panel.true_label.styleSheet()  # right, if unsure


@pytest.mark.parametrize("top,unsure", [(0.69, True), (0.70, False), (0.95, False)])
def test_readout_marks_unsure_strictly_below_the_threshold(top, unsure):
    """read(): the three largest outputs in order (ties: the smaller digit first), unsure below
    UNSURE_BELOW (0.7) only, and never for an untrained network, which is a guess."""
    rest = (1 - top) / 9
    outputs = np.full(10, rest, dtype=np.float64)
    outputs[7] = top
    reading = readout.read(outputs, step=5, epoch=0)
    assert reading.digits == (7, 0, 1) and reading.values[0] == top
    assert reading.unsure is unsure and reading.trained
    guess = readout.read(outputs, step=0, epoch=0)
    assert not guess.trained and not guess.unsure and guess.headline == "untrained guess: 7"


def test_the_output_axis_names_the_ten_digits(panel):
    """The output plot's ticks are the digits 0 to 9, at the bars."""
    panel.show_snapshot(snapshot_of())
    ticks = panel.layers[-1].plot.getAxis("bottom")._tickLevels[0]
    assert ticks == [(d, str(d)) for d in range(10)]


def test_next_mistake_lands_on_the_next_wrong_prediction_and_wraps_around(panel, qtbot):
    """With every prediction 7, the mistakes are where the label is not 7: visited in order,
    after the current index, wrapping to the first; each one emits digit_changed."""
    y = np.array([7, 7, 3, 7, 7, 1, 7], dtype=np.uint8)
    panel.set_dataset(images(7), y)
    panel.show_snapshot(always_predicting(7))
    for expected in (2, 5, 2):
        with qtbot.waitSignal(panel.digit_changed, timeout=1000) as signal:
            panel.mistake_button.click()
        assert signal.args == [expected]
        assert panel.current_index == expected
        assert panel.predicted_label.text().startswith("predicted 7")
    assert panel.status_label.text() == "mistake 1 of 2"


def test_next_mistake_on_the_only_mistake_stays_there(panel, qtbot):
    """The only mistake, already shown, is found again: the digit stays, nothing is emitted."""
    panel.set_dataset(images(4), np.array([7, 3, 7, 7], dtype=np.uint8))
    panel.show_snapshot(always_predicting(7))
    panel.index_box.setValue(1)
    with qtbot.assertNotEmitted(panel.digit_changed):
        panel.mistake_button.click()
    assert panel.current_index == 1
    assert panel.status_label.text() == "mistake 1 of 1"


def test_next_mistake_says_so_when_there_is_none(panel, qtbot):
    """When every prediction is right, the digit stays and a label says there is no mistake."""
    panel.set_dataset(images(5), np.full(5, 7, dtype=np.uint8))
    panel.show_snapshot(always_predicting(7))
    with qtbot.assertNotEmitted(panel.digit_changed):
        panel.mistake_button.click()
    assert panel.current_index == 0
    assert panel.status_label.text() == "no mistakes on the 5 test digits"


def test_random_changes_the_digit_and_emits_digit_changed(panel, qtbot):
    """Random always shows another digit, and emits its index."""
    x = images(3)
    panel.set_dataset(x, np.zeros(3, dtype=np.uint8))
    panel.show_snapshot(snapshot_of())
    for _ in range(10):
        before = panel.current_index
        with qtbot.waitSignal(panel.digit_changed, timeout=1000) as signal:
            panel.random_button.click()
        assert signal.args == [panel.current_index]
        assert panel.current_index != before
        np.testing.assert_array_equal(panel.image.image, x[panel.current_index].reshape(28, 28))


def test_changing_the_digit_reruns_the_latest_snapshot(panel, qtbot):
    """A digit chosen after a new snapshot is shown through that snapshot's weights."""
    x = images(10)
    panel.set_dataset(x, np.zeros(10, dtype=np.uint8))
    panel.show_snapshot(snapshot_of(seed=0))
    later = snapshot_of(seed=1)
    panel.show_snapshot(later)
    assert panel.snapshot is later
    with qtbot.waitSignal(panel.digit_changed, timeout=1000):
        panel.index_box.setValue(8)
    np.testing.assert_array_equal(panel.layers[0].bars.opts["height"], forward(later, x[8])[1][0])


def test_a_new_snapshot_of_the_same_architecture_creates_no_items(panel):
    """Snapshot after snapshot, the scene keeps the same items; only their data changes."""
    x = images(4)
    panel.set_dataset(x, np.zeros(4, dtype=np.uint8))
    panel.show_snapshot(snapshot_of(seed=0))
    scene = panel.bar_view.scene()
    items, bar_items = len(scene.items()), [b.bars for b in panel.layers]
    for seed in range(1, 6):
        snap = snapshot_of(seed=seed)
        panel.show_snapshot(snap)
        np.testing.assert_array_equal(panel.layers[1].bars.opts["height"], forward(snap, x[0])[2][0])
    assert len(scene.items()) == items
    assert [b.bars for b in panel.layers] == bar_items


def test_a_new_architecture_gets_one_plot_per_layer(panel):
    """When the layer sizes change, the plots are rebuilt to match and titled by size and activation."""
    panel.show_snapshot(snapshot_of())
    panel.show_snapshot(snapshot_of((784, 20, 20, 20, 10), hidden="sigmoid"))
    assert [b.n for b in panel.layers] == [20, 20, 20, 10]
    assert panel.layers[0].plot.titleLabel.text == "layer 1 (20 sigmoid)"
    assert panel.layers[-1].plot.titleLabel.text == "output (softmax)"


def test_a_network_without_hidden_layers_shows_only_the_output(panel):
    """784 -> 10: one plot, the output, still predicting."""
    panel.set_dataset(images(2), np.zeros(2, dtype=np.uint8))
    panel.show_snapshot(snapshot_of((784, 10)))
    assert [b.n for b in panel.layers] == [10]
    assert panel.predicted_label.text().startswith("untrained guess: ")


def test_set_selection_marks_one_bar_and_none_clears(panel):
    """The selected neuron gets a band (and, in a hidden layer, an ACCENT bar); None, None
    removes both; the output keeps marking the prediction."""
    panel.set_dataset(images(2), np.zeros(2, dtype=np.uint8))
    panel.show_snapshot(always_predicting(4))
    panel.set_selection(2, 5)
    selected = panel.layers[1]
    assert selected.band.isVisible()
    assert selected.band.getRegion() == (4.5, 5.5)
    np.testing.assert_array_equal(selected.marked.opts["x"], [5])
    assert not panel.layers[0].band.isVisible()
    panel.set_selection(None, None)
    assert not any(b.band.isVisible() for b in panel.layers)
    assert not selected.marked.isVisible()
    assert panel.layers[-1].marked.isVisible()


# The offscreen platform warns when any window is shown; nothing to do with the panel.
@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
@pytest.mark.parametrize("layer,neuron", [(1, 5), (2, 0), (3, 9), (3, 2)])
def test_clicking_a_bar_emits_its_layer_and_neuron(panel, qtbot, layer, neuron):
    """A left click on a bar of layer l emits neuron_clicked(l, index); on the output, (L, digit)."""
    panel.set_dataset(images(2), np.zeros(2, dtype=np.uint8))
    panel.show_snapshot(snapshot_of())
    panel.resize(800, 500)
    panel.show()
    qtbot.waitExposed(panel)
    position = panel.bar_position(layer, neuron)
    with qtbot.waitSignal(panel.neuron_clicked, timeout=1000) as signal:
        qtbot.mouseClick(panel.bar_view.viewport(), Qt.MouseButton.LeftButton, pos=position)
    assert signal.args == [layer, neuron]


def test_show_input_takes_any_digit_and_keeps_the_network(panel):
    """A digit from elsewhere (a drawing, later) is shown through the latest snapshot, without a label."""
    snap = snapshot_of()
    panel.set_dataset(images(3), np.zeros(3, dtype=np.uint8))
    panel.show_snapshot(snap)
    drawn = read_only(np.linspace(0, 1, 784, dtype=np.float32))
    panel.show_input(drawn)
    np.testing.assert_array_equal(panel.current_input(), drawn)
    np.testing.assert_array_equal(panel.layers[0].bars.opts["height"], forward(snap, drawn)[1][0])
    assert panel.true_label.text() == ""


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints",
                           "This plugin does not support raise")  # the tooltip's window, offscreen
def test_hovering_a_bar_names_it_and_its_value(panel, qtbot):
    """Over a bar, a tooltip gives its layer, neuron and activation."""
    x, snap = images(2), snapshot_of()
    panel.set_dataset(x, np.zeros(2, dtype=np.uint8))
    panel.show_snapshot(snap)
    panel.resize(800, 500)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.mouseMove(panel.bar_view.viewport(), panel.bar_position(2, 3))
    value = forward(snap, x[0])[2][0, 3]
    qtbot.waitUntil(lambda: QToolTip.text() == f"layer 2, neuron 3: {value:.3g}", timeout=1000)


def test_unbounded_bars_have_a_round_range_that_holds_still_while_values_move(qtbot):
    """ReLU bars: the top of the range is the largest value rounded up to a round number, so
    training's small changes leave the axis as it is; a larger value raises it."""
    import pyqtgraph as pg

    from app.panels.activations import LayerBars
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    bars = LayerBars(widget.getPlotItem(), 5, "relu")
    tops = []
    for largest in (1.62, 1.71, 1.9, 2.3):
        bars.show_values(np.array([0.0, 0.3, largest, 0.1, 0.5]))
        low, high = widget.getPlotItem().getViewBox().viewRange()[1]
        tops.append(high)
        assert low <= 0.0 and high >= largest
    assert tops[0] == tops[1] == tops[2] < tops[3]  # 2 holds 1.62 to 1.9; 2.3 needs 2.5


def test_class_names_replace_the_digits_in_the_answer_and_the_true_label(panel):
    """A network of Fashion-MNIST: the headline, the top three and the true label say names; the
    output axis numbers the classes (ten words would overlap)."""
    from core.data import DATASETS

    names = DATASETS["fashion"].class_names
    panel.set_dataset(images(4), np.full(4, 3, dtype=np.uint8))
    panel.show_snapshot(always_predicting(7))
    panel.set_class_names(names)
    assert panel.predicted_label.text() == "predicted Sneaker"
    assert panel.top_label.text().startswith("Sneaker ")
    assert panel.true_label.text() == "true Dress"
    ticks = panel.layers[-1].plot.getAxis("bottom")._tickLevels[0]
    assert [label for _, label in ticks] == [str(d) for d in range(10)]
