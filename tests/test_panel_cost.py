"""The cost panel: per-batch and per-epoch curves fed with synthetic reports, no training."""
import numpy as np
import pytest
from PySide6.QtCore import QPointF

from app import theme
from app.panels.cost import CostPanel, smoothing
from core.train import EpochReport
from tests.qt_helpers import move_mouse

BATCHES = 100  # per epoch, in these tests
OFFSCREEN_SHOW = "This plugin does not support propagateSizeHints"  # offscreen Qt, on show()


@pytest.fixture
def panel(qtbot):
    theme.configure()
    panel = CostPanel()
    qtbot.addWidget(panel)
    return panel


def report(epoch, cost=0.5, test_cost=0.6, train_accuracy=0.9, test_accuracy=0.8):
    return EpochReport(epoch=epoch, epochs=10, step=epoch * BATCHES, cost=cost,
                       train_accuracy=train_accuracy, test_accuracy=test_accuracy,
                       test_cost=test_cost, seconds=1.0, samples_per_sec=1000.0)


def data(curve):
    x, y = curve.getOriginalDataset()
    return (np.empty(0), np.empty(0)) if x is None else (x, y)


def test_batches_are_placed_in_epochs(panel):
    """A batch is drawn at its point of training in epochs, as given: epoch 1 ends at x = 1."""
    panel.add_batches(np.arange(1, 51) / BATCHES, np.full(50, 2.0), BATCHES)
    panel.add_batches(np.arange(51, 101) / BATCHES, np.full(50, 2.0), BATCHES)
    x, y = data(panel.batch_curve)
    np.testing.assert_allclose(x, np.arange(1, 101) / BATCHES)
    assert x[-1] == 1.0
    np.testing.assert_allclose(y, 2.0)


def test_batch_cost_is_smoothed_across_calls(panel):
    """The batch curve is an exponential moving average that carries on from call to call."""
    costs = np.zeros(20)
    costs[0] = 1.0
    panel.add_batches(np.arange(1, 8) / BATCHES, costs[:7], BATCHES)
    panel.add_batches(np.arange(8, 21) / BATCHES, costs[7:], BATCHES)
    _, y = data(panel.batch_curve)
    np.testing.assert_allclose(y, (1.0 - smoothing(BATCHES)) ** np.arange(20))


def test_smoothing_spans_50_batches_or_a_twentieth_of_an_epoch():
    """The moving average weighs a new batch 2 / (n + 1), n = 50 batches or, for long epochs,
    a twentieth of an epoch."""
    assert smoothing(469) == pytest.approx(2 / 51)
    assert smoothing(6000) == pytest.approx(2 / 301)


def test_empty_batches_change_nothing(panel):
    """add_batches with empty arrays (a frame without new batches) leaves the curve as it was."""
    panel.add_batches(np.arange(1, 4) / BATCHES, np.array([1.0, 2.0, 3.0]), BATCHES)
    before = [a.copy() for a in data(panel.batch_curve)]
    panel.add_batches(np.empty(0, dtype=np.int64), np.empty(0), BATCHES)
    after = data(panel.batch_curve)
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])


def test_epochs_update_cost_and_accuracy_curves(panel):
    """add_epoch adds one dot to each of the four epoch curves, at x = the epoch number, and
    epoch_count() counts them."""
    panel.add_epoch(report(1, cost=0.30, test_cost=0.35, train_accuracy=0.91, test_accuracy=0.92))
    panel.add_epoch(report(2, cost=0.10, test_cost=0.12, train_accuracy=0.97, test_accuracy=0.96))
    expected = {panel.cost_curve: [0.30, 0.10], panel.test_cost_curve: [0.35, 0.12],
                panel.train_accuracy_curve: [0.91, 0.97], panel.test_accuracy_curve: [0.92, 0.96]}
    for curve, values in expected.items():
        x, y = data(curve)
        np.testing.assert_array_equal(x, [1, 2])
        np.testing.assert_allclose(y, values)
    assert panel.epoch_count() == 2


def test_tips_give_exact_values(panel):
    """The tooltip of an epoch's dot names the epoch and its exact values, to four decimals."""
    panel.add_epoch(report(1, cost=0.2, test_cost=0.25, train_accuracy=0.9, test_accuracy=0.91))
    panel.add_epoch(report(3, cost=0.0648, test_cost=0.0712, train_accuracy=0.981,
                           test_accuracy=0.9747))
    assert panel.cost_tip(3.0) == "epoch 3 — cost 0.0648, test cost 0.0712"
    assert panel.accuracy_tip(3.0) == "epoch 3 — train accuracy 0.9810, test accuracy 0.9747"
    assert panel.cost_tip(2.0) == ""


@pytest.mark.qt_log_ignore(OFFSCREEN_SHOW)
def test_hovering_a_dot_shows_its_tooltip(panel, qtbot):
    """Moving the mouse onto the dot of epoch 2 sets the plot's tooltip to that epoch's values."""
    panel.resize(600, 400)
    panel.show()
    qtbot.waitExposed(panel)
    for epoch in (1, 2, 3):
        panel.add_epoch(report(epoch, cost=0.5 / epoch, test_cost=0.6 / epoch,
                               train_accuracy=0.8 + epoch / 100, test_accuracy=0.85 + epoch / 100))
    box = panel.accuracy_plot.getViewBox()
    box.setRange(xRange=(0.5, 3.5), yRange=(0.75, 0.95), padding=0)
    on_dot = box.mapViewToScene(QPointF(2.0, 0.82))
    qtbot.waitUntil(lambda: move_mouse(panel.graphics, on_dot) and box.toolTip() != "")
    assert box.toolTip() == "epoch 2 — train accuracy 0.8200, test accuracy 0.8700"
    away = box.mapViewToScene(QPointF(2.5, 0.92))
    qtbot.waitUntil(lambda: move_mouse(panel.graphics, away) and box.toolTip() == "")


def test_accuracy_axis_stays_within_0_and_1(panel):
    """Auto-ranging the accuracy plot never shows values beyond [0, 1], whatever the padding."""
    panel.add_epoch(report(1, train_accuracy=0.99, test_accuracy=1.0))
    panel.add_epoch(report(2, train_accuracy=1.0, test_accuracy=1.0))
    box = panel.accuracy_plot.getViewBox()
    box.updateAutoRange()
    low, high = box.viewRange()[1]
    assert 0.0 <= low < 0.99 and high <= 1.0


def test_many_updates_keep_the_plot_items(panel):
    """Thousands of batches and many epochs (past every buffer's first capacity) change the data,
    never the number of items in the plots; the buffers keep every value."""
    items_before = [list(plot.items) for plot in (panel.cost_plot, panel.accuracy_plot)]
    scene_items = len(panel.graphics.scene().items())
    step = 0
    for epoch in range(1, 101):
        for _ in range(10):
            panel.add_batches(np.arange(step + 1, step + 11) / BATCHES, np.full(10, 1.0 / epoch), BATCHES)
            step += 10
        panel.add_epoch(report(epoch, cost=1.0 / epoch))
    assert [list(plot.items) for plot in (panel.cost_plot, panel.accuracy_plot)] == items_before
    assert len(panel.graphics.scene().items()) == scene_items
    x, _ = data(panel.batch_curve)
    np.testing.assert_allclose(x, np.arange(1, step + 1) / BATCHES)
    np.testing.assert_allclose(data(panel.cost_curve)[1], 1.0 / np.arange(1, 101))


def test_reset_empties_every_curve(panel):
    """reset() forgets all batches and epochs, and the smoothing starts afresh."""
    panel.add_batches(np.arange(1, 11) / BATCHES, np.full(10, 3.0), BATCHES)
    panel.add_epoch(report(1))
    panel.reset()
    for curve in (panel.batch_curve, panel.cost_curve, panel.test_cost_curve,
                  panel.train_accuracy_curve, panel.test_accuracy_curve):
        assert len(data(curve)[0]) == 0
    assert panel.epoch_count() == 0
    panel.add_batches(np.array([1]) / BATCHES, np.array([0.5]), BATCHES)
    np.testing.assert_allclose(data(panel.batch_curve)[1], [0.5])
    assert panel.cost_tip(1.0) == ""



def test_cursor_marks_the_moment_shown_on_both_plots(panel):
    """set_cursor(x) shows a vertical line at x epochs on the cost and the accuracy plot;
    None hides both, and so does reset()."""
    panel.set_cursor(0.25)
    assert [line.isVisible() for line in panel.cursors] == [True, True]
    assert [line.value() for line in panel.cursors] == [0.25, 0.25]
    panel.set_cursor(None)
    assert not any(line.isVisible() for line in panel.cursors)
    panel.set_cursor(3.0)
    panel.reset()
    assert not any(line.isVisible() for line in panel.cursors)


def test_show_history_draws_a_whole_recorded_run(panel):
    """show_history replaces what is drawn by a history's batches and epochs."""
    from core.history import History
    history = History(((784, 10, 10), "relu", "softmax", "ce"), np.zeros(5))
    history.add_batches(np.arange(1, 201), np.arange(1, 201) / BATCHES, np.full(200, 1.5),
                        np.full(200, 0.1))
    for epoch in (1, 2):
        history.add_epoch(report(epoch))
    panel.add_batches(np.arange(1, 5) / BATCHES, np.full(4, 9.0), BATCHES)  # another run's
    panel.show_history(history, BATCHES)
    x, y = data(panel.batch_curve)
    np.testing.assert_allclose(x, np.arange(1, 201) / BATCHES)
    np.testing.assert_allclose(y, 1.5)
    assert panel.epoch_count() == 2


def test_the_ranges_hold_everything_and_move_only_at_round_numbers(panel):
    """While training the x range ends at the next whole epoch and the cost's at the next
    quarter of a decade, so new batches rarely move an axis; after the user zooms, the ranges
    are theirs until a new run (reset)."""
    vb = panel.cost_plot.getViewBox()

    def ranges():
        return tuple(map(tuple, vb.viewRange()))

    panel.add_batches(np.arange(1, 41) / BATCHES, np.linspace(2.0, 1.1, 40), BATCHES)
    first = ranges()
    (x0, x1), (y0, y1) = first
    assert x0 <= 0 and 1.0 <= x1 < 1.1  # the first epoch, whole
    assert y0 <= np.log10(1.1) and y1 >= np.log10(2.0) and y1 - y0 <= 0.5 + 0.1
    panel.add_batches(np.arange(41, 81) / BATCHES, np.linspace(1.1, 1.05, 40), BATCHES)
    assert ranges() == first  # nothing crossed a round number: no axis moved
    panel.add_epoch(report(1, cost=1.2, test_cost=0.2))
    panel.add_batches(np.arange(101, 121) / BATCHES, np.full(20, 0.9), BATCHES)
    (x0, x1), (y0, y1) = ranges()
    assert 2.0 <= x1 < 2.1 and y0 <= np.log10(0.2)  # epoch 2, and the test cost of 0.2
    vb.sigRangeChangedManually.emit([True, True])  # as a drag or a wheel does
    vb.setRange(xRange=(0.5, 0.7), padding=0)
    panel.add_batches(np.arange(121, 141) / BATCHES, np.full(20, 0.01), BATCHES)
    assert ranges()[0] == pytest.approx((0.5, 0.7))
    panel.reset()
    panel.add_batches(np.arange(1, 11) / BATCHES, np.full(10, 3.0), BATCHES)
    assert ranges()[0][1] < 1.1 and ranges()[1][1] >= np.log10(3.0)  # following again


def test_the_learning_rate_is_drawn_by_its_turns_on_a_log_axis(panel):
    """A rate decayed per epoch is kept as one point an epoch (and the newest batch); a rate
    that changes every batch keeps every change of more than 1%."""
    positions = np.arange(1, 301) / 100
    lrs = 1e-3 * 0.5 ** np.floor((np.arange(300)) / 100)  # halved every 100 batches
    panel.add_batches(positions[:150], np.ones(150), 100, lrs[:150])
    panel.add_batches(positions[150:], np.ones(150), 100, lrs[150:])
    x, y = panel.lr_curve.getData()
    np.testing.assert_allclose(x, [0.01, 1.01, 2.01, 3.0])
    np.testing.assert_allclose(10 ** y, [1e-3, 5e-4, 2.5e-4, 2.5e-4])
    panel.reset()
    cosine = 1e-3 * (1 + np.cos(np.pi * np.arange(100) / 100)) / 2 + 1e-6
    panel.add_batches(np.arange(1, 101) / 100, np.ones(100), 100, cosine)
    x, y = panel.lr_curve.getData()
    assert 20 < len(x) < 100 and np.all(np.diff(y) < 0)
    assert panel.cost_plot.getAxis("right").logMode
