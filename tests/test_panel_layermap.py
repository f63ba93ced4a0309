"""LayerMapPanel: the sample of test digits in a layer's activation space, at the moment shown.
Synthetic networks and images; the oracle is NumPy's SVD of the centred activations."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

import core.projection
from app.panels.layermap import DIGIT_COLOURS, LayerMapPanel
from core.network import Network
from core.train import Snapshot

SIZES = (784, 12, 8, 10)


def images(n, seed=0):
    x = np.random.default_rng(seed).random((n, 784), dtype=np.float32)
    x.flags.writeable = False
    return x


def moment(seed, step, epoch=0):
    return Snapshot.of(Network.initialised(SIZES, "relu", "softmax", "ce", seed=seed), epoch=epoch, step=step)


@pytest.fixture
def panel(qtbot):
    p = LayerMapPanel()
    qtbot.addWidget(p)
    p.resize(480, 230)
    return p


@pytest.fixture
def dataset():
    return images(2500), (np.arange(2500) % 10).astype(np.uint8)


def oracle_points(snapshot, x, layer, reference):
    """The moment's activations (explicit ReLU layers), centred, on the reference's first two
    right singular vectors, in units of their RMS radius."""
    def acts(s):
        a = np.asarray(x, np.float64)
        for W, b in list(zip(s.W, s.b))[:layer]:
            a = np.maximum(a @ W + b, 0.0)
        return a
    r = acts(reference)
    _, _, Vt = np.linalg.svd(r - r.mean(axis=0), full_matrices=False)
    a = acts(snapshot)
    y = (a - a.mean(axis=0)) @ Vt[:2].T
    return y / np.sqrt(np.mean(np.sum(y ** 2, axis=1)))


def assert_same_picture(points, oracle):
    """Equal up to a turn or a mirror (the oracle's signs are its own)."""
    R, *_ = np.linalg.lstsq(oracle, points.astype(np.float64), rcond=None)
    np.testing.assert_allclose(R.T @ R, np.eye(2), atol=1e-3)
    np.testing.assert_allclose(oracle @ R, points, atol=2e-3)


def test_every_view_at_a_scrubbed_moment_shows_that_moments_numbers(panel, dataset):
    """Scrubbed back and forth over three moments, the points drawn are each moment's own
    activations in the axes of the most trained, and the same moment gives the same points."""
    x, y = dataset
    panel.set_dataset(x, y)
    moments = [moment(0, 0), moment(1, 50, 1), moment(2, 100, 2)]
    panel.show_snapshot(moments[2])  # the newest first, as after training
    shown = {}
    for k in (0, 1, 2, 1, 0, 2):
        panel.show_snapshot(moments[k])
        pos = np.column_stack(panel.points.getData())
        xs = x[panel.sample_indices]
        assert_same_picture(pos, oracle_points(moments[k], xs, panel.layer, moments[2]))
        if k in shown:
            np.testing.assert_array_equal(pos, shown[k])
        shown[k] = pos
        assert f"step {moments[k].step}" in panel.status_label.text()


def test_points_are_the_balanced_sample_coloured_by_their_digit(panel, dataset):
    x, y = dataset
    panel.set_dataset(x, y)
    panel.show_snapshot(moment(0, 0))
    idx = panel.sample_indices
    assert len(idx) == 2000 and np.bincount(y[idx]).tolist() == [200] * 10
    assert panel.points.data.size == 2000
    brushes = panel.points.data["brush"]
    for i in (0, 1, 17, 1999):
        assert brushes[i].color().name() == DIGIT_COLOURS[y[idx[i]]]
    np.testing.assert_array_equal(panel.points.data["data"], idx)


def test_the_layer_box_holds_every_hidden_layer_and_the_output(panel, dataset):
    panel.set_dataset(*dataset)
    panel.show_snapshot(moment(0, 0))
    box = panel.layer_box
    assert [box.itemText(i) for i in range(box.count())] == ["layer 1 (12 relu)", "layer 2 (8 relu)",
                                                            "output (10 softmax)"]
    assert panel.layer == 2  # the last hidden layer first
    panel.set_layer(3)
    assert panel.picture.layer == 3 and panel.picture.axes.shape == (10, 2)


def test_the_same_snapshot_again_recomputes_nothing(panel, dataset, monkeypatch):
    """Neither the same object nor another one of the same moment (as History.snapshot makes)."""
    panel.set_dataset(*dataset)
    s = moment(0, 7)
    panel.show_snapshot(s)
    calls = []
    real = core.projection.LayerMap.picture
    monkeypatch.setattr(core.projection.LayerMap, "picture", lambda *a: calls.append(1) or real(*a))
    panel.show_snapshot(s)
    panel.show_snapshot(Snapshot(0.0, s.epoch, s.step, s.sizes, s.hidden, s.output, s.loss,
                                 tuple(w.copy() for w in s.W), tuple(v.copy() for v in s.b)))
    assert calls == []
    panel.show_snapshot(moment(1, 8))
    assert calls == [1]


def test_clicking_a_point_chooses_its_digit(panel, qtbot, dataset):
    x, y = dataset
    panel.set_dataset(x, y)
    panel.show()
    panel.show_snapshot(moment(0, 0))
    qtbot.waitExposed(panel)
    pos = np.column_stack(panel.points.getData())
    lonely = int(np.argmax(np.sum(pos ** 2, axis=1)))  # the farthest point: none on top of it
    index = int(panel.sample_indices[lonely])
    with qtbot.waitSignal(panel.digit_chosen, timeout=2000) as blocker:
        qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton,
                         pos=panel.point_position(index))
    assert blocker.args == [index]


def test_the_digit_shown_elsewhere_is_ringed_even_outside_the_sample(panel, dataset):
    x, y = dataset
    panel.set_dataset(x, y)
    s = moment(0, 0)
    panel.show_snapshot(s)
    inside = int(panel.sample_indices[5])
    panel.set_digit(inside)
    np.testing.assert_allclose(np.column_stack(panel.ring.getData())[0], panel.picture.points[5])
    outside = int(np.setdiff1d(np.arange(len(x)), panel.sample_indices)[0])
    panel.set_digit(outside)
    a = core.projection.layer_activations(s.network(), x[outside:outside + 1], panel.layer)
    np.testing.assert_allclose(np.column_stack(panel.ring.getData()), panel.picture.place(a))
    panel.set_digit(None)
    assert len(panel.ring.data) == 0


def test_a_new_run_after_forget_is_drawn_in_its_own_axes(panel, dataset):
    panel.set_dataset(*dataset)
    panel.show_snapshot(moment(0, 500))
    panel.forget()
    panel.show_snapshot(moment(3, 0))
    assert panel.picture.axes_step == 0


def test_before_a_network_and_for_overflowed_activations_it_says_so(panel, dataset):
    assert panel.message.isVisible() and "no network" in panel.message.toPlainText()
    panel.set_dataset(*dataset)
    net = Network.initialised(SIZES, "relu", "softmax", "ce", seed=0)
    net.W[0][:] = np.float32(3e38)
    panel.show_snapshot(Snapshot.of(net))
    assert "not finite" in panel.message.toPlainText() and len(panel.points.data) == 0
