"""FlowPanel: the gradient flow per layer over training, smoothed on a log scale; the moment
shown marked and its values said. Synthetic flows, made here."""
import math

import numpy as np
import pytest

from app.panels.cost import smoothing
from app.panels.flow import HEALTHY_UPDATE, QUANTITIES, FlowPanel

L = 3


@pytest.fixture
def panel(qtbot):
    p = FlowPanel()
    qtbot.addWidget(p)
    p.resize(420, 260)
    p.reset(L)
    return p


def flows(n, seed=0):
    """(positions, flow): n records over 4 epochs, each quantity of layer l about 10^-(L - l)."""
    rng = np.random.default_rng(seed)
    scale = 10.0 ** -np.arange(L, 0, -1)  # layer 0 the smallest, as a sigmoid network's
    flow = (rng.uniform(0.5, 2.0, (n, 3, L)) * scale).astype(np.float32)
    return np.arange(1, n + 1) * 4.0 / n, flow


def smoothed_by_hand(values, records_per_epoch):
    """The exponential moving average of log10 of the positive values, as a line shows it."""
    alpha, s, out = smoothing(records_per_epoch), None, []
    for v in values:
        if v > 0 and math.isfinite(v):
            lv = math.log10(v)
            s = lv if s is None else s + alpha * (lv - s)
        out.append(np.nan if s is None else 10 ** s)
    return np.array(out)


def test_each_layer_is_a_line_of_its_smoothed_quantity_on_a_log_axis(panel):
    positions, flow = flows(400)
    panel.add_batches(positions, flow, 100)
    assert len(panel.curves) == L and panel.plot.getAxis("left").logMode
    for q, name in enumerate(QUANTITIES):
        panel.set_quantity(name)
        for l, curve in enumerate(panel.curves):
            x, y = curve.xData, curve.yData  # the data given (pyqtgraph's log mode shows log10 of it)
            np.testing.assert_array_equal(x, positions)
            np.testing.assert_allclose(y, smoothed_by_hand(flow[:, q, l], 100), rtol=1e-9)
        assert panel.healthy.isVisible() == (name == "update")
    assert math.isclose(panel.healthy.value(), math.log10(HEALTHY_UPDATE))


def test_zeros_and_unknown_values_are_skipped_not_drawn_as_minus_infinity(panel):
    positions, flow = flows(60)
    flow[:10] = np.nan  # recorded before the flow was (an older file, trained on)
    flow[20:25, 0, 0] = 0.0  # a layer whose gradient was exactly 0
    panel.add_batches(positions, flow, 20)
    y = panel.curves[0].yData
    assert np.isnan(y[:10]).all() and np.isfinite(y[10:]).all()
    np.testing.assert_array_equal(y[20:25], y[19])  # held where the batch said nothing
    assert "–" not in panel.status_label.text()


def test_appending_in_pieces_draws_what_appending_at_once_does(qtbot, panel):
    positions, flow = flows(300, seed=2)
    panel.add_batches(positions, flow, 50)
    other = FlowPanel()
    qtbot.addWidget(other)
    other.reset(L)
    for i in range(0, 300, 7):
        other.add_batches(positions[i:i + 7], flow[i:i + 7], 50)
    for a, b in zip(panel.curves, other.curves):
        np.testing.assert_array_equal(a.xData, b.xData)
        np.testing.assert_allclose(a.yData, b.yData, rtol=1e-12)


def test_the_moment_shown_is_marked_and_its_values_said(panel):
    positions, flow = flows(200)
    panel.add_batches(positions, flow, 50)
    panel.show_position(1.5)
    i = int(np.searchsorted(positions, 1.5, side="right")) - 1  # the last batch at or before it
    assert panel.cursor.isVisible() and panel.cursor.value() == 1.5
    np.testing.assert_array_equal(panel.values_at(1.5, smoothed=False), flow[i, 0].astype(float))
    lines = [smoothed_by_hand(flow[:, 0, l], 50)[i] for l in range(L)]
    np.testing.assert_allclose(panel.values_at(1.5), lines, rtol=1e-9)
    text = panel.status_label.text()
    assert text.startswith(f"epoch {positions[i]:.2f}, smoothed:")
    for l in range(L):
        assert f"W{l + 1}</span> {lines[l]:.2g}" in text
        assert f"W{l + 1} {flow[i, 0, l]:.2g}" in panel.status_label.toolTip()
    panel.set_quantity("update")
    assert f"W1</span> {smoothed_by_hand(flow[:, 2, 0], 50)[i]:.2g}" in panel.status_label.text()
    panel.show_position(None)  # the present: no mark, the newest values
    assert not panel.cursor.isVisible() and panel.status_label.text().startswith(f"epoch {positions[-1]:.2f},")
    panel.show_position(0.001)  # before the first batch: nothing to say
    assert panel.values_at(0.001) is None and panel.status_label.text() == ""


def test_reset_forgets_the_run_and_takes_another_number_of_layers(panel):
    panel.add_batches(*flows(50), 10)
    panel.reset(5)
    assert len(panel.curves) == 5 and all(c.xData is None or len(c.xData) == 0 for c in panel.curves)
    assert panel.values_at(None) is None and panel.status_label.text() == "no batch recorded yet"
    with pytest.raises(ValueError, match="this panel draws"):
        panel.add_batches(*flows(5), 10)  # of 3 layers
