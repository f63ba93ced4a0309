"""FlowPanel: the gradient flow per layer over training, smoothed on a log scale; the moment
shown marked and its values said. Synthetic flows, made here; the smoothing is checked against
a scalar moving average written out below, one value at a time."""
import math

import numpy as np
import pytest

from app import theme
from app.panels.cost import smoothing
from app.panels.flow import HEALTHY_UPDATE, QUANTITIES, FlowPanel, smooth_logs

L = 3


@pytest.fixture
def panel(qtbot):
    theme.configure()
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


def smoothed_by_hand(values, records_per_epoch, start=None):
    """The exponential moving average of log10 of the positive values, as a line shows it,
    carrying on from ``start`` (the average so far, log10; None: no value yet)."""
    alpha, s, out = smoothing(records_per_epoch), start, []
    for v in values:
        if v > 0 and math.isfinite(v):
            lv = math.log10(v)
            s = lv if s is None else s + alpha * (lv - s)
        out.append(np.nan if s is None else 10 ** s)
    return np.array(out)


def test_each_layer_is_a_line_of_its_smoothed_quantity_on_a_log_axis(panel):
    """One line per weight layer, x the records' positions in epochs, y the chosen quantity's
    moving average; the axis is logarithmic, so the view holds log10 of it."""
    positions, flow = flows(400)
    panel.add_batches(positions, flow, 100)
    assert len(panel.curves) == L and panel.plot.getAxis("left").logMode
    for q, name in enumerate(QUANTITIES):
        panel.set_quantity(name)
        for l, curve in enumerate(panel.curves):
            x, y = curve.xData, curve.yData  # the data given (pyqtgraph's log mode shows log10 of it)
            np.testing.assert_array_equal(x, positions)
            np.testing.assert_allclose(y, smoothed_by_hand(flow[:, q, l], 100), rtol=1e-9)
            assert curve.opts["logMode"][1]
        assert panel.healthy.isVisible() == (name == "update")
    assert math.isclose(panel.healthy.value(), math.log10(HEALTHY_UPDATE))


def test_the_view_is_in_whole_decades_around_the_lines(panel):
    """The y range spans the whole decades the lines of the quantity reach (layer 1 near 1e-3,
    layer 3 near 1e-1), and for update / weight always the 1e-3 line; x runs to the next whole
    epoch."""
    positions, flow = flows(400)
    panel.add_batches(positions, flow, 100)
    lines = np.log10([smoothed_by_hand(flow[:, 0, l], 100) for l in range(L)])
    low, high = math.floor(lines.min()), math.ceil(lines.max())
    assert (low, high) == (-3, 0) or (low, high) == (-4, 0)  # about 1e-3 .. 2e-1
    (x0, x1), (y0, y1) = panel.plot.getViewBox().viewRange()
    assert x0 <= 0 and 4.0 <= x1 < 4.2
    assert low - 0.1 < y0 <= low and high <= y1 < high + 0.1  # and a little padding
    panel.set_quantity("update")
    panel.add_batches(positions[-1:] + 0.01, flow[-1:] * 1e-3, 100)  # lower by 3 decades
    assert panel.plot.getViewBox().viewRange()[1][1] >= -3  # the 1e-3 line in sight


def test_the_box_chooses_the_quantity(panel):
    """Choosing in the combo box (as the user does) redraws the lines and the words with that
    quantity, and names it."""
    positions, flow = flows(120)
    panel.add_batches(positions, flow, 40)
    assert [panel.quantity_box.itemText(i) for i in range(3)] == list(QUANTITIES.values())
    assert panel.quantity == "gradient"
    panel.quantity_box.setCurrentIndex(1)
    assert panel.quantity == "delta"
    np.testing.assert_allclose(panel.curves[2].yData, smoothed_by_hand(flow[:, 1, 2], 40), rtol=1e-9)
    assert f"W3</span> {smoothed_by_hand(flow[:, 1, 2], 40)[-1]:.2g}" in panel.status_label.text()
    assert not panel.healthy.isVisible()
    panel.quantity_box.setCurrentIndex(2)
    np.testing.assert_allclose(panel.curves[0].yData, smoothed_by_hand(flow[:, 2, 0], 40), rtol=1e-9)
    assert panel.healthy.isVisible()


def test_zeros_and_unknown_values_are_skipped_not_drawn_as_minus_infinity(panel):
    """NaN (an older file's batches) and 0 are not in the moving average: a line starts at the
    first value it has and is held over a 0."""
    positions, flow = flows(60)
    flow[:10] = np.nan  # recorded before the flow was (an older file, trained on)
    flow[20:25, 0, 0] = 0.0  # a layer whose gradient was exactly 0
    panel.add_batches(positions, flow, 20)
    y = panel.curves[0].yData
    assert np.isnan(y[:10]).all() and np.isfinite(y[10:]).all()
    assert y[10] == pytest.approx(flow[10, 0, 0])  # the line starts at its first value
    np.testing.assert_array_equal(y[20:25], y[19])  # held where the batch said nothing
    assert "–" not in panel.status_label.text()


def test_a_flow_of_nothing_but_nan_and_zeros_draws_nothing_and_says_so(panel):
    """A run whose flow is all unknown (or all 0) draws lines without a value, keeps the axes
    finite, and says '–' for each layer; a value later starts the lines."""
    positions, _ = flows(50)
    flow = np.full((50, 3, L), np.nan, dtype=np.float32)
    flow[::2] = 0.0
    panel.add_batches(positions, flow, 20)
    panel.grab()  # paints, with no finite point
    assert all(np.isnan(c.yData).all() for c in panel.curves)
    assert np.isfinite(panel.plot.getViewBox().viewRange()).all()
    assert panel.status_label.text().count("–") == L
    panel.show_position(1.0)
    assert panel.status_label.text().startswith("epoch 0.96, smoothed:")  # the 12th record, 12 x 4/50
    panel.add_batches([4.5], np.full((1, 3, L), 1e-2, dtype=np.float32), 20)
    assert panel.values_at(None) == pytest.approx([1e-2] * L)


def test_appending_in_pieces_draws_what_appending_at_once_does(qtbot, panel):
    positions, flow = flows(300, seed=2)
    flow[40:60, 1] = np.nan
    panel.add_batches(positions, flow, 50)
    other = FlowPanel()
    qtbot.addWidget(other)
    other.reset(L)
    for i in range(0, 300, 7):
        other.add_batches(positions[i:i + 7], flow[i:i + 7], 50)
    for name in QUANTITIES:
        panel.set_quantity(name)
        other.set_quantity(name)
        for a, b in zip(panel.curves, other.curves):
            np.testing.assert_array_equal(a.xData, b.xData)
            np.testing.assert_allclose(a.yData, b.yData, rtol=1e-12)
    assert panel.status_label.text() == other.status_label.text()


def test_the_moving_average_of_many_rows_is_the_one_row_by_row():
    """smooth_logs, which sums over blocks of rows, gives each column's moving average one
    value at a time, over many blocks, for slow and fast smoothing, carrying on from before."""
    rng = np.random.default_rng(3)
    values = rng.lognormal(-8.0, 1.0, (5000, 4))
    values[rng.random(values.shape) < 0.2] = np.nan
    values[:700, 1] = np.nan  # a column that starts late, in a later block
    values[:, 3] = np.nan  # one that never starts
    last = np.array([-3.0, np.nan, np.nan, np.nan])
    for records_per_epoch in (20, 6000):
        got = 10 ** smooth_logs(np.log10(values), last, smoothing(records_per_epoch))
        for k in range(4):
            start = None if np.isnan(last[k]) else last[k]
            np.testing.assert_allclose(got[:, k], smoothed_by_hand(values[:, k], records_per_epoch, start),
                                       rtol=1e-11)


def test_the_moment_shown_is_marked_and_its_values_said(panel):
    """show_position(x) draws the cursor at x and says each layer's line at the last record at or
    before x (its tooltip that record's own values); None is the present: no cursor, the newest."""
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
    panel.show_position(positions[i])  # exactly at a record: that record
    assert panel.values_at(positions[i], smoothed=False)[0] == flow[i, 0, 0]
    panel.set_quantity("update")
    assert f"W1</span> {smoothed_by_hand(flow[:, 2, 0], 50)[i]:.2g}" in panel.status_label.text()
    panel.show_position(None)  # the present: no mark, the newest values
    assert not panel.cursor.isVisible()
    assert panel.status_label.text().startswith(f"epoch {positions[-1]:.2f},")
    panel.show_position(0.001)  # before the first batch: nothing to say
    assert panel.values_at(0.001) is None and panel.status_label.text() == ""


def test_the_moment_shown_is_kept_while_batches_come(panel):
    """A cursor set stays where it is as batches are added; the words follow the present only
    when it is None."""
    positions, flow = flows(200)
    panel.add_batches(positions[:100], flow[:100], 50)
    panel.show_position(1.0)
    said = panel.status_label.text()
    panel.add_batches(positions[100:], flow[100:], 50)
    assert panel.cursor.value() == 1.0 and panel.status_label.text() == said


def test_the_key_names_each_layer_and_its_shape(panel):
    """With the network's sizes the key names each W and its shape, in its line's colour."""
    panel.reset(L, (784, 30, 20, 10))
    title = panel.plot.titleLabel.text
    for l, shape in enumerate(("784→30", "30→20", "20→10")):
        assert f"W{l + 1}: {shape}" in title and theme.LAYERS[l] in title
        assert panel.curves[l].opts["pen"].color().name() == theme.LAYERS[l]
    with pytest.raises(ValueError, match="3 weight layers join 4 layers, got 3 sizes"):
        panel.reset(L, (784, 30, 10))


def test_many_updates_keep_the_plot_items(panel):
    """Thousands of records in small groups (past the buffers' first capacity) change the data,
    never the items in the plot; every record is kept."""
    items = list(panel.plot.items)
    scene_items = len(panel.graphics.scene().items())
    positions, flow = flows(5000, seed=4)
    for i in range(0, 5000, 50):
        panel.add_batches(positions[i:i + 50], flow[i:i + 50], 1250)
        panel.show_position(positions[i] if i % 100 else None)
    assert list(panel.plot.items) == items and len(panel.graphics.scene().items()) == scene_items
    np.testing.assert_array_equal(panel.curves[1].xData, positions)
    np.testing.assert_allclose(panel.curves[1].yData, smoothed_by_hand(flow[:, 0, 1], 1250), rtol=1e-9)


def test_reset_forgets_the_run_and_takes_another_number_of_layers(panel):
    panel.add_batches(*flows(50), 10)
    panel.show_position(0.5)
    panel.reset(5)
    assert len(panel.curves) == 5 and all(c.xData is None or len(c.xData) == 0 for c in panel.curves)
    assert not panel.cursor.isVisible()
    assert panel.values_at(None) is None and panel.status_label.text() == "no batch recorded yet"
    with pytest.raises(ValueError, match="this panel draws"):
        panel.add_batches(*flows(5), 10)  # of 3 layers
    panel.reset(L)  # the same panel, a new run of the first shape: starts afresh
    positions, flow = flows(30, seed=5)
    panel.add_batches(positions, flow, 10)
    np.testing.assert_allclose(panel.curves[0].yData, smoothed_by_hand(flow[:, 0, 0], 10), rtol=1e-9)
