"""InspectorPanel: one neuron's incoming weights, bias, activation and most exciting digits.
Synthetic networks and images; no training."""
import numpy as np
import pytest

from app import theme
from app.panels.inspector import HINT, InspectorPanel
from core.inspect import projected_weights, tile, top_exciting
from core.network import Network
from core.train import Snapshot

SIZES = (784, 12, 8, 10)


def images(n, seed=0):
    x = np.random.default_rng(seed).random((n, 784), dtype=np.float32)
    x.flags.writeable = False
    return x


def snapshot_of(seed=0):
    net = Network.initialised(SIZES, "relu", "softmax", "ce", seed=seed)
    net.b = [np.random.default_rng(seed + 100).normal(size=b.shape).astype(np.float32) for b in net.b]
    return Snapshot.of(net)


@pytest.fixture
def panel(qtbot):
    p = InspectorPanel()
    qtbot.addWidget(p)
    return p


def scene_items(panel):
    return sum(len(view.scene().items()) for view in (panel.image_view, panel.bars_view, panel.top_view))


def test_first_layer_neuron_shows_its_weights_as_a_centred_image(panel):
    """Layer 1: the image is W[0][:, j] as 28x28 with levels symmetric about zero; no bars."""
    snap = snapshot_of()
    panel.show_neuron(snap, 1, 5)
    np.testing.assert_array_equal(panel.weights_image.image, snap.W[0][:, 5].reshape(28, 28))
    np.testing.assert_allclose(panel.weights_image.levels, theme.symmetric_levels(snap.W[0][:, 5]))
    assert panel.bars_column.isHidden()
    assert panel.title_label.text() == "layer 1, neuron 5 (relu)"


def test_deeper_neuron_shows_bars_and_the_projection_to_the_input(panel):
    """Layer 2: bars over layer 1 are W[1][:, j] (positive and negative series), and the image
    is projected_weights, labelled as a linear approximation."""
    snap = snapshot_of()
    panel.show_neuron(snap, 2, 3)
    positive = panel.positive_bars.opts["height"]
    negative = panel.negative_bars.opts["height"]
    assert (positive >= 0).all() and (negative <= 0).all()
    np.testing.assert_array_equal(positive + negative, snap.W[1][:, 3])
    np.testing.assert_array_equal(panel.weights_image.image,
                                  projected_weights(snap.W, 2, 3).reshape(28, 28))
    assert not panel.bars_column.isHidden()
    assert panel.image_caption.text() == "projected to the input (linear approximation)"


def test_output_neuron_is_named_as_its_digit(panel):
    """The last layer's neuron j is the output for digit j, with the output activation."""
    panel.show_neuron(snapshot_of(), 3, 7)
    assert panel.title_label.text() == "layer 3, neuron 7 (softmax, the output for digit 7)"


def test_bias_activation_and_z_for_the_input_shown(panel):
    """The bias is b[layer-1][j]; the activation is forward(x)[layer][0, j]; z is the layer
    before's activations times the neuron's weights, plus its bias."""
    snap, x = snapshot_of(), images(1)[0]
    panel.show_neuron(snap, 2, 4, x)
    bias = snap.b[1][4]
    a = snap.network().forward(x[None, :])
    value = a[2][0, 4]
    z = float(a[1][0].astype(np.float64) @ snap.W[1][:, 4] + bias)
    assert panel.bias_label.text() == f"bias {bias:.3g}"
    assert panel.activation_label.text() == f"activation {value:.3g} for the digit shown"
    assert panel.z_label.text() == f"z {z:.3g}"
    panel.show_neuron(snap, 2, 4, None)
    assert panel.activation_label.text() == "" and panel.z_label.text() == ""


def test_top_thumbnails_are_the_given_digits_with_their_values(panel):
    """show_top tiles the test images at those indices in one row, each z under its digit, and
    the caption says they are ranked by z before the neuron's activation."""
    x, snap = images(30), snapshot_of()
    panel.set_images(x)
    panel.show_neuron(snap, 2, 1)
    indices, values = top_exciting(snap.network(), x, 2, 1, k=8)
    panel.show_top(indices, values)
    expected = tile(x[indices].reshape(8, 28, 28), cols=8)
    np.testing.assert_array_equal(panel.top_image.image, expected)  # NaN gaps compare equal
    assert panel.top_image.isVisible()
    ticks = panel.top_view.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [label for _, label in ticks] == [f"{v:.3g}" for v in values]
    assert [pos for pos, _ in ticks] == [c * 29 + 14 for c in range(8)]
    assert "largest z" in panel.top_caption.text() and "before the relu" in panel.top_caption.text()


def test_top_for_another_neuron_is_ignored(panel):
    """A late answer for a neuron no longer shown (named by neuron=) changes nothing."""
    x, snap = images(10), snapshot_of()
    panel.set_images(x)
    panel.show_neuron(snap, 2, 1)
    before = panel.top_image.image.copy()
    panel.show_top(np.array([3, 4]), np.array([1.0, 0.5], dtype=np.float32), neuron=(1, 0))
    np.testing.assert_array_equal(panel.top_image.image, before)
    assert not panel.top_image.isVisible()


def test_a_new_snapshot_keeps_the_top_digits_and_a_new_neuron_drops_them(panel):
    """Redrawing the same neuron with newer weights keeps its thumbnails; choosing another
    neuron hides them until its own arrive."""
    x = images(10)
    panel.set_images(x)
    panel.show_neuron(snapshot_of(0), 2, 1)
    panel.show_top(np.array([3, 4]), np.array([1.0, 0.5], dtype=np.float32), neuron=(2, 1))
    panel.show_neuron(snapshot_of(1), 2, 1)
    assert panel.top_image.isVisible()
    panel.show_neuron(snapshot_of(1), 2, 2)
    assert not panel.top_image.isVisible()
    assert panel.top_caption.text().startswith("looking for")


def test_switching_between_layers_creates_no_items(panel):
    """From a first-layer neuron to deeper ones and back, the views keep the same items."""
    x, snap = images(10), snapshot_of()
    panel.set_images(x)
    panel.show_neuron(snap, 1, 0, x[0])
    items = scene_items(panel)
    for layer, neuron in [(2, 3), (3, 9), (1, 11), (2, 0)]:
        panel.show_neuron(snap, layer, neuron, x[1])
        panel.show_top(np.array([1, 2, 3]), np.array([3.0, 2.0, 1.0], dtype=np.float32))
    assert scene_items(panel) == items


def test_clear_shows_the_hint(panel):
    """Before any neuron and after clear(), the panel shows only the hint."""
    assert panel.neuron is None
    assert panel.hint_label.text() == HINT
    assert not panel.hint_label.isHidden()
    panel.show_neuron(snapshot_of(), 1, 0)
    assert panel.neuron == (1, 0)
    assert panel.hint_label.isHidden()
    panel.clear()
    assert panel.neuron is None
    assert not panel.hint_label.isHidden()


def test_no_top_digits_leaves_the_row_empty(panel):
    """An empty answer (an empty test set) says so instead of failing."""
    panel.set_images(images(0))
    panel.show_neuron(snapshot_of(), 1, 0)
    panel.show_top(np.array([], dtype=np.intp), np.array([], dtype=np.float32))
    assert not panel.top_image.isVisible()
    assert panel.top_caption.text() == "no test digits to search"
