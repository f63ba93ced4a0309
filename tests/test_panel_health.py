"""HealthPanel: dead or saturated units per layer over training, and a layer's histograms over
time. A small History made by hand from Moments of networks whose dead units are set by their
biases; the oracles are core.health's plain functions, which compute without the panel's cache."""
import numpy as np
import pytest

from app.panels.health import COLUMNS, HealthPanel
from core.health import (HealthCache, fixed_sample, gradient_histograms, health, health_over,
                         weight_histograms)
from core.history import History, Moment
from core.network import Network

SIZES = (784, 12, 8, 10)
POSITIONS = (0.0, 0.25, 1.0, 2.0)


def images(n, seed=0):
    x = np.random.default_rng(seed).random((n, 784), dtype=np.float32)
    x.flags.writeable = False
    return x


def net_with_dead(k, seed, hidden="relu", sizes=SIZES):
    """Layer 1's first k units dead or saturated (biases of -1000), the rest of layer 1 alive
    (ReLU: biases of +10) or far from saturation (sigmoid, tanh: biases 0, |z| < 3)."""
    net = Network.initialised(sizes, hidden, "softmax", "ce", seed=seed)
    if len(sizes) > 2:
        net.b[0][:] = 10.0 if hidden == "relu" else 0.0
        net.b[0][:k] = -1e3
    return net


def make_history(hidden="relu", sizes=SIZES, dead=(0, 3, 6, 9)):
    history = History((sizes, hidden, "softmax", "ce"), np.arange(5))
    for k, (n, position) in enumerate(zip(dead, POSITIONS)):
        probabilities = np.full((5, 10), 0.1, np.float32)
        history.add_moment(Moment.of(net_with_dead(n, k, hidden, sizes), 100 * k, position,
                                     int(position), probabilities))
    return history


@pytest.fixture
def dataset():
    return images(400), (np.arange(400) % 10).astype(np.uint8)


@pytest.fixture
def panel(qtbot):
    p = HealthPanel()
    qtbot.addWidget(p)
    p.resize(480, 360)
    return p


def sample_of(dataset):
    x, y = dataset
    chosen = fixed_sample(y)
    return x[chosen], y[chosen]


def image_columns(panel, positions):
    """The image's column at each of these epochs."""
    rect = panel.image.mapRectToParent(panel.image.boundingRect())
    columns = (np.asarray(positions) - rect.left()) / rect.width() * panel.image.image.shape[1]
    return np.clip(columns.astype(int), 0, panel.image.image.shape[1] - 1)


def test_every_view_at_a_scrubbed_moment_shows_that_moments_numbers(panel, dataset):
    """Scrubbed back and forth, the words are the moment's own dead shares (core.health.health
    of its network on the sample), both cursors stand at its point of training, and the image's
    column there is its histogram."""
    history = make_history()
    panel.set_history(history, *dataset)
    panel.finish()
    x, _ = sample_of(dataset)
    expected = weight_histograms(history, 0)
    for k in (3, 0, 2, 1, None, 0):
        panel.show_moment(k)
        i = 3 if k is None else k
        m = history.moments[i]
        h = health(history.snapshot(i).network(), x)
        assert h.dead[0] == [0, 0.25, 0.5, 0.75][i]
        words = f"layer 1: {percent(h.dead[0])} dead · layer 2: {percent(h.dead[1])} dead"
        assert panel.status_label.text() == f"epoch {m.epoch} · step {m.step:,} — {words}"
        assert [line.value() for line in panel.cursors] == [m.position, m.position]
        assert all(line.isVisible() for line in panel.cursors)
        column = image_columns(panel, [m.position])[0]
        np.testing.assert_allclose(panel.image.image[:, column], np.log10(1.0 + expected.counts[i]),
                                   rtol=1e-6)


def percent(share):
    """As the panel writes a share: 12%, 3.1%, 0%."""
    p = 100 * share
    return f"{p:.0f}%" if p >= 10 or p == 0 else f"{p:.1f}%"


def test_the_lines_are_the_dead_shares_of_every_moment(panel, dataset):
    history = make_history()
    panel.set_history(history, *dataset)
    panel.finish()
    over = health_over(history, sample_of(dataset)[0])
    assert len(panel.curves) == 2
    for l, curve in enumerate(panel.curves):
        xs, ys = curve.getData()
        np.testing.assert_array_equal(xs, POSITIONS)
        np.testing.assert_allclose(ys, 100 * over.dead[:, l])
    np.testing.assert_allclose(panel.curves[0].getData()[1], [0, 25, 50, 75])
    assert panel.share_plot.getAxis("left").labelText == "% dead"


def test_the_image_is_core_healths_histograms_in_fixed_levels(panel, dataset):
    """Rows are the bins, from edges[0] to edges[-1]; columns spread over the moments' epochs,
    each the moment nearest it; the levels reach the layer's number of weights."""
    history = make_history()
    panel.set_history(history, *dataset)
    panel.finish()
    h = weight_histograms(history, 0)
    image = panel.image.image
    assert image.shape == (h.counts.shape[1], COLUMNS)
    rect = panel.image.mapRectToParent(panel.image.boundingRect())
    assert (rect.left(), rect.right()) == pytest.approx((0.0, 2.0))
    assert (rect.top(), rect.bottom()) == pytest.approx((h.edges[0], h.edges[-1]))
    centres = (np.arange(COLUMNS) + 0.5) * 2.0 / COLUMNS
    nearest = np.abs(centres[:, None] - np.array(POSITIONS)[None, :]).argmin(axis=1)
    np.testing.assert_allclose(image, np.log10(1.0 + h.counts[nearest].T), rtol=1e-6)
    assert tuple(panel.image.getLevels()) == pytest.approx((0.0, np.log10(1 + 784 * 12)))


def test_the_boxes_choose_the_layer_and_the_quantity(panel, dataset):
    history = make_history()
    panel.set_history(history, *dataset)
    panel.finish()
    box = panel.layer_box
    assert [box.itemText(i) for i in range(box.count())] == [
        "into layer 1 (784×12)", "into layer 2 (12×8)", "into output (8×10)"]
    before = panel.image.image.copy()
    panel.set_layer(1)
    assert panel.layer == 1 and not np.array_equal(panel.image.image, before)
    np.testing.assert_array_equal(panel.histograms.counts, weight_histograms(history, 1).counts)

    x, y = sample_of(dataset)
    cache = HealthCache(x, y)  # only for its gradient sample
    panel.set_quantity("gradients")
    g = gradient_histograms(history, 1, cache.x_gradient, cache.labels_gradient)
    for name in ("counts", "edges", "zeros", "below"):
        np.testing.assert_array_equal(getattr(panel.histograms, name), getattr(g, name))
    assert panel.image.image.shape == (g.counts.shape[1], COLUMNS)
    assert panel.histogram_plot.getAxis("left").labelText == "log10 |gradient|"
    panel.show_moment(2)
    zeros = g.zeros[2] / (g.counts[2].sum() + g.zeros[2] + g.below[2])
    assert panel.status_label.text().endswith(f" · gradients {percent(zeros)} exactly 0")
    assert zeros >= 6 / 12 - 1e-9  # the rows of layer 1's dead units, 6 of 12, are 0


def test_clear_empties_it_and_a_new_history_draws_again(panel, dataset):
    history = make_history()
    panel.set_history(history, *dataset)
    panel.show_moment(None)
    panel.clear()
    assert all(len(curve.getData()[0] or []) == 0 for curve in panel.curves)
    assert not panel.image.isVisible() and panel.histograms is None
    assert not any(line.isVisible() for line in panel.cursors)
    assert panel.status_label.text() == "" and panel.pending == 0
    assert "no network" in panel.message.toPlainText()
    panel.set_history(make_history(dead=(1, 1, 1, 1)), *dataset)
    panel.show_moment(0)
    assert "layer 1: 8.3% dead" in panel.status_label.text() and panel.image.isVisible()


def test_the_moment_shown_is_computed_at_once_and_the_rest_while_visible(panel, qtbot, dataset,
                                                                        monkeypatch):
    """Hidden, only the moment shown is computed; shown, the timer computes the others one at
    a time; a new moment costs one more backprop, the old ones none."""
    calls = []
    real = Network.backprop
    monkeypatch.setattr(Network, "backprop", lambda *a, **k: calls.append(1) or real(*a, **k))
    history = make_history()
    panel.set_history(history, *dataset)
    panel.show_moment(1)
    assert len(calls) == 1 and panel.pending == 3
    assert "layer 1: 25% dead" in panel.status_label.text()
    xs, ys = panel.curves[0].getData()
    assert xs.tolist() == [0.25] and ys.tolist() == [25.0]  # the others are still to come
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.pending == 0, timeout=5000)
    assert len(calls) == 4 and panel.curves[0].getData()[1].tolist() == [0, 25, 50, 75]

    net = net_with_dead(12, 7)
    history.add_moment(Moment.of(net, 500, 3.0, 3, np.full((5, 10), 0.1, np.float32)))
    panel.show_moment(None)
    assert len(calls) == 5 and panel.status_label.text().startswith("epoch 3 · step 500 — layer 1: 100% dead")
    assert panel.cursors[0].value() == 3.0
    panel.show_moment(None)
    assert len(calls) == 5


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh"])
def test_sigmoid_and_tanh_networks_show_saturated_units(panel, dataset, hidden):
    """Biases of -1000 saturate rather than kill: the same units, counted as saturated."""
    history = make_history(hidden)
    panel.set_history(history, *dataset)
    panel.finish()
    panel.show_moment(2)
    over = health_over(history, sample_of(dataset)[0])
    np.testing.assert_array_equal(over.saturated[:, 0], [0, 0.25, 0.5, 0.75])
    assert f"layer 1: 50% saturated · layer 2: {percent(over.saturated[2, 1])} saturated" in \
        panel.status_label.text()
    assert panel.share_plot.getAxis("left").labelText == "% saturated"
    for l in range(2):
        np.testing.assert_allclose(panel.curves[l].getData()[1], 100 * over.saturated[:, l])


def test_a_network_without_hidden_layers_says_so(panel, dataset):
    history = make_history(sizes=(784, 10))
    panel.set_history(history, *dataset)
    panel.show_moment(None)
    assert panel.curves == [] and "no hidden layer" in panel.status_label.text()
    assert panel.image.image.shape == (100, COLUMNS)


def test_one_moment_is_drawn_an_epoch_wide(panel, dataset):
    history = History((SIZES, "relu", "softmax", "ce"), np.arange(5))
    history.add_moment(Moment.of(net_with_dead(2, 0), 0, 0.0, 0, np.full((5, 10), 0.1, np.float32)))
    panel.set_history(history, *dataset)
    panel.show_moment(0)
    assert panel.image.image.shape[1] == 1
    rect = panel.image.mapRectToParent(panel.image.boundingRect())
    assert (rect.left(), rect.right()) == pytest.approx((-0.5, 0.5))
