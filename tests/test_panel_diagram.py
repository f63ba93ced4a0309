"""DiagramPanel: the network drawn as circles and edges, driven as ActivationsPanel is.
Synthetic and hand-made networks; no training. The oracles are forward passes written out in
NumPy here and edges worked out by hand."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from app import theme
from app.panels.diagram import WIDE_SHOWN, DiagramPanel
from core.network import Network
from core.train import Snapshot

SIZES = (784, 40, 12, 10)  # a wide first layer (drawn in part), a narrow second (drawn whole)


def snapshot_of(sizes=SIZES, seed=0, step=100, epoch=1):
    return Snapshot.of(Network.initialised(sizes, "relu", "softmax", "ce", seed=seed), epoch=epoch, step=step)


def image(seed=0):
    return (np.random.default_rng(seed).random(784) < 0.2).astype(np.float32)


@pytest.fixture
def panel(qtbot):
    p = DiagramPanel()
    qtbot.addWidget(p)
    p.resize(480, 230)  # the small dock
    p.show()
    qtbot.waitExposed(p)
    return p


def relu_layer1(snapshot, x):
    """The oracle: a[1] = relu(x W[0] + b[0]) in float64."""
    return np.maximum(x.astype(np.float64) @ snapshot.W[0] + snapshot.b[0], 0.0)


def test_a_wide_layer_is_drawn_as_its_most_active_neurons_with_a_note(panel):
    """A layer wider than fits shows its 16 most active neurons for the input, in index order,
    and says how many are hidden; a narrow one is drawn whole."""
    snap, x = snapshot_of(), image()
    panel.show_snapshot(snap)
    panel.show_input(x, 3)
    a1 = relu_layer1(snap, x)
    expected = np.sort(np.argsort(-a1, kind="stable")[:WIDE_SHOWN])
    assert panel.shown[0].tolist() == expected.tolist()
    assert panel.shown[1].tolist() == list(range(12))
    assert panel.shown[2].tolist() == list(range(10))
    assert [note.toPlainText() for note in panel.notes] == [f"+{40 - WIDE_SHOWN} more", "", ""]
    assert [label.toPlainText() for label in panel.digit_labels] == [str(d) for d in range(10)]


def test_classic_fits_whole_in_the_small_dock(panel):
    panel.show_snapshot(snapshot_of((784, 20, 20, 20, 10)))
    panel.show_input(image(), None)
    assert [len(s) for s in panel.shown] == [20, 20, 20, 10]
    assert all(note.toPlainText() == "" for note in panel.notes)


def hand_made():
    """784-3-10: pixels 0 and 29 lit. Neuron 0 adds both (a = 2), neuron 1 subtracts both
    (z = -2, inactive), neuron 2 adds pixel 0 and half of pixel 29 (a = 1.5). Every output gets
    +1 from neuron 0 and -1 from neuron 2, and +1 from neuron 1, which sends nothing."""
    net = Network((784, 3, 10), "relu", "softmax", "ce")
    net.W[0][[0, 29], 0] = 1.0
    net.W[0][[0, 29], 1] = -1.0
    net.W[0][0, 2], net.W[0][29, 2] = 1.0, 0.5
    net.W[1][0, :], net.W[1][1, :], net.W[1][2, :] = 1.0, 1.0, -1.0
    net.b[1][4] = 3.0  # the answer: 4
    x = np.zeros(784, dtype=np.float32)
    x[[0, 29]] = 1.0
    return Snapshot.of(net, epoch=1, step=10), x


def test_the_strongest_edges_of_a_hand_made_network_are_the_ones_expected(panel):
    """Into layer 1: two lit pixels for each of the three neurons (2 up each for neurons 0 and
    2, 2 down for neuron 1: its inputs push it down, which is why it is off). Into the output:
    +2 from neuron 0 and -1.5 from neuron 2 to each of the ten; none from the inactive neuron 1."""
    snap, x = hand_made()
    panel.show_snapshot(snap)
    panel.show_input(x, 4)
    assert panel.drawn_edges() == 6 + 20
    assert panel.drawn_edges(sign=1) == 4 + 10
    assert panel.drawn_edges(sign=-1) == 2 + 10
    assert panel.drawn_edges(selected=True) == 0


def test_the_prediction_is_marked_in_the_accent_colour(panel):
    snap, x = hand_made()
    panel.show_snapshot(snap)
    panel.show_input(x, 4)
    colours = [label.color.name() for label in panel.digit_labels]
    assert colours[4] == theme.ACCENT.lower()
    assert all(c == theme.FOREGROUND.lower() for d, c in enumerate(colours) if d != 4)


def test_the_selected_neuron_is_shown_and_its_edges_stand_out(panel):
    """Even an inactive neuron of a wide layer is drawn once selected, in place of the least
    active; its incoming edges (from the pixels) and outgoing ones (none: it is off) are drawn."""
    snap, x = snapshot_of(), image()
    panel.show_snapshot(snap)
    panel.show_input(x, 3)
    a1 = relu_layer1(snap, x)
    quiet = int(np.argmin(a1))
    assert quiet not in panel.shown[0]
    panel.set_selection(1, quiet)
    assert quiet in panel.shown[0]
    assert panel.drawn_edges(selected=True) > 0
    active = int(np.argmax(a1))
    panel.set_selection(1, active)
    into = panel.drawn_edges(selected=True)
    assert into > 12  # 12 from the pixels, and out to the 12 neurons of layer 2 (those not ~0)
    panel.set_selection(None, None)
    assert panel.drawn_edges(selected=True) == 0


def test_clicking_a_neuron_emits_its_layer_and_index(panel, qtbot):
    panel.show_snapshot(snapshot_of())
    panel.show_input(image(), 3)
    neuron = int(panel.shown[0][5])
    with qtbot.waitSignal(panel.neuron_clicked, timeout=2000) as blocker:
        qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=panel.neuron_position(1, neuron))
    assert blocker.args == [1, neuron]
    with qtbot.waitSignal(panel.neuron_clicked, timeout=2000) as blocker:
        qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=panel.neuron_position(3, 7))
    assert blocker.args == [3, 7]


def test_items_are_made_once_per_architecture_and_fed_after(panel):
    """New snapshots, inputs, selections and a resize add no graphics items."""
    panel.show_snapshot(snapshot_of(seed=0))
    panel.show_input(image(0), 1)
    items = set(panel.box.addedItems)
    circles, edges = panel.circles, dict(panel.edges)
    for k in range(1, 6):
        panel.show_snapshot(snapshot_of(seed=k))
        panel.show_input(image(k), k)
        panel.set_selection(2, k)
    panel.resize(900, 500)
    panel.grab()
    assert set(panel.box.addedItems) == items
    assert panel.circles is circles and panel.edges == edges
    panel.show_snapshot(snapshot_of((784, 20, 20, 20, 10)))  # a new architecture: new texts only
    assert len(panel.box.addedItems) == len(items) - 3 * 2 - 10 + 4 * 2 + 10


def test_a_network_near_divergence_is_drawn_without_warnings(panel):
    net = Network.initialised(SIZES, "relu", "softmax", "ce", seed=0)
    net.W[0][:] = np.nan
    panel.show_snapshot(Snapshot.of(net, epoch=1, step=5))
    panel.show_input(image(), 2)
    panel.grab()
    assert panel.drawn_edges() == 0
    assert all(label.color.name() == theme.FOREGROUND.lower() for label in panel.digit_labels)


def test_a_selection_of_another_architecture_is_ignored(panel):
    """The window may keep a selection (layer 3, neuron 30) from a bigger network a moment longer."""
    panel.set_selection(3, 30)
    panel.show_snapshot(snapshot_of((784, 20, 10)))
    panel.show_input(image(), 1)
    assert panel.drawn_edges(selected=True) == 0
    assert [len(s) for s in panel.shown] == [20, 10]
