"""The cost panel: how training is going, batch by batch and epoch by epoch.

Two plots share one x axis counted in epochs. The top one shows the cost: each epoch's mean
training cost and its test cost, bold with a dot per epoch, over a thin line of the per-batch
cost smoothed for display. The batches of epoch 1 run from x = 0 to x = 1, where epoch 1's dot
sits, so the thin line moves from the first batch on. The bottom plot shows the train and test
accuracy of each epoch. Hovering a dot shows its exact values.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app import theme
from core.train import EpochReport

# The batch cost is shown as an exponential moving average over about this many batches, or over
# this fraction of an epoch if that is more (6,000 batches of 10 are noisier than 469 of 128).
SMOOTHED_BATCHES = 50
SMOOTHED_EPOCHS = 1 / 20


def smoothing(batches_per_epoch: int) -> float:
    """The weight of each new batch in the moving average."""
    n = max(SMOOTHED_BATCHES, batches_per_epoch * SMOOTHED_EPOCHS)
    return 2.0 / (n + 1)


def moving_average(costs, alpha: float, s: float | None) -> tuple[np.ndarray, float | None]:
    """The exponential moving average of ``costs`` going on from ``s`` (None: none yet), and
    its last value; a cost that is not finite leaves it as it was."""
    smoothed = np.empty(len(costs))
    for i, cost in enumerate(np.asarray(costs, dtype=float).tolist()):
        if math.isfinite(cost):
            s = cost if s is None else s + alpha * (cost - s)
        smoothed[i] = s if s is not None else np.nan
    return smoothed, s


class Columns:
    """Columns of float64 of equal length, in one preallocated array that doubles when full, so
    appending costs amortised O(1) and ``column(i)`` hands pyqtgraph a view, not a copy."""

    def __init__(self, n_columns: int, capacity: int = 1024):
        self._data = np.empty((n_columns, capacity))  # (columns, capacity): each column contiguous
        self.size = 0

    def append(self, *columns) -> None:
        """Append equally long arrays (or scalars), one per column."""
        rows = np.atleast_1d(columns[0]).size
        if self.size + rows > self._data.shape[1]:
            self._grow(self.size + rows)
        for data, values in zip(self._data, columns):
            data[self.size:self.size + rows] = values
        self.size += rows

    def column(self, i: int) -> np.ndarray:
        return self._data[i, :self.size]

    def clear(self) -> None:
        self.size = 0

    def _grow(self, needed: int) -> None:
        capacity = self._data.shape[1]
        while capacity < needed:
            capacity *= 2
        grown = np.empty((len(self._data), capacity))
        grown[:, :self.size] = self._data[:, :self.size]
        self._data = grown  # pyqtgraph keeps views of the old array until the next setData


def key_html(*entries: tuple[str, str, str]) -> str:
    """A plot's key as one line of HTML: a line sample in each curve's colour, then its name."""
    return "&nbsp;&nbsp;&nbsp;".join(
        f"<span style='color:{colour}'>{line}</span>&nbsp;<span style='color:{theme.FOREGROUND}'>"
        f"{name}</span>" for colour, line, name in entries)


class LogAxis(pg.AxisItem):
    """A log axis that labels only 1, 2 and 5 times a power of ten, so its labels never crowd
    (unless the range is too narrow to hold two of those)."""

    def logTickStrings(self, values, scale, spacing):
        numbers = 10 ** np.asarray(values, dtype=float) * scale
        labels = [f"{v:g}" if _is_round(v) else "" for v in numbers]
        if sum(bool(label) for label in labels) < 2:
            labels = [f"{v:.2g}" for v in numbers]
        return labels


class RateAxis(LogAxis):
    """The learning rate's log axis: 1, 2 and 5 times a power of ten, written short (5e-4),
    so that they fit a narrow axis."""

    def logTickStrings(self, values, scale, spacing):
        numbers = 10 ** np.asarray(values, dtype=float) * scale
        return [_short(v) if _is_round(v) else "" for v in numbers]


def _short(v: float) -> str:
    exponent = math.floor(math.log10(v) + 1e-9)
    mantissa = round(v / 10 ** exponent)
    return f"{mantissa}e{exponent}" if not 0 <= exponent <= 2 else f"{v:g}"


def _is_round(v: float) -> bool:
    """Is v 1, 2 or 5 times a power of ten?"""
    if not v > 0:
        return False
    mantissa = v / 10 ** math.floor(math.log10(v))
    return any(math.isclose(mantissa, m, rel_tol=1e-3) for m in (1, 2, 5, 10))


KEY_HEIGHT = 16  # pixels of the one-line key above each plot
LR_AXIS_WIDTH = 38  # pixels of the learning rate's axis on the right
LR_TURN = np.log10(1.01)  # a change of the learning rate kept as a turn of its line: 1%

# The columns of the per-epoch buffer.
EPOCH, COST, TEST_COST, TRAIN_ACCURACY, TEST_ACCURACY = range(5)


class CostPanel(QWidget):
    """The cost and accuracy of training so far. Plot items, all created here and only fed:

    ``cost_plot``, ``accuracy_plot``   the two pyqtgraph PlotItems, x axes linked
    ``batch_curve``                    per-batch cost, smoothed (x = step / batches per epoch)
    ``cost_curve``, ``test_cost_curve``            per-epoch training and test cost
    ``train_accuracy_curve``, ``test_accuracy_curve``   per-epoch accuracies
    ``cursors``                        a vertical line on each plot: the moment shown
    ``marks``                          dotted lines on the cost plot where the user paused or
                                       changed the learning rate, each with its words
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._batches = Columns(2, capacity=4096)  # x in epochs, smoothed cost
        self._epochs = Columns(5, capacity=64)
        self._lrs = Columns(2, capacity=256)  # x in epochs, log10 of the learning rate: its turns only
        self._tail = False  # is the last of _lrs the newest batch's, kept only to reach the present?
        self._smoothed: float | None = None  # the moving average after the last batch
        self._following = True  # the ranges follow the data (until the user zooms or pans)
        self._cost_bounds = (math.inf, -math.inf)  # the least and largest cost shown
        self._ranges = None  # the rounded ranges last set

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(theme.BACKGROUND)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.legend = QLabel("")  # which run is which, when two are compared
        self.legend.setTextFormat(Qt.RichText)
        self.legend.setStyleSheet(f"background: {theme.BACKGROUND}; font-size: 8pt; padding: 1px 4px")
        self.legend.setWordWrap(True)  # two lines in a narrow dock, rather than a wider dock
        self.legend.setVisible(False)
        layout.addWidget(self.legend)
        layout.addWidget(self.graphics)

        self.cost_plot = self.graphics.addPlot(row=0, col=0, axisItems={"left": LogAxis("left"),
                                                                         "right": RateAxis("right")})
        self.accuracy_plot = self.graphics.addPlot(row=1, col=0)
        self._style_plots()
        self._add_lr_axis()
        self._add_cost_curves()
        self._add_accuracy_curves()
        self.cursors = []
        for plot in (self.cost_plot, self.accuracy_plot):
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(theme.ACCENT, width=1.5))
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
            self.cursors.append(line)
            plot.getViewBox().sigRangeChangedManually.connect(self._stop_following)
        self.marks: list[pg.InfiniteLine] = []
        self.other = Overlay(self)  # a second run's curves, when runs are compared

    # --- feeding -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything shown: a new training run starts."""
        self._batches.clear()
        self._epochs.clear()
        self._lrs.clear()
        self._tail = False
        self.lr_curve.setData([], [])
        self._smoothed = None
        self._following, self._cost_bounds, self._ranges = True, (math.inf, -math.inf), None
        for curve in self._epoch_curves():
            curve.setData([], [])
        self.batch_curve.setData([], [])
        self.set_cursor(None)
        for line in self.marks:
            self.cost_plot.removeItem(line)
        self.marks.clear()
        for plot in (self.cost_plot, self.accuracy_plot):
            plot.getViewBox().setToolTip("")
            plot.enableAutoRange()  # the user may have zoomed into the last run

    def add_batches(self, positions: np.ndarray, costs: np.ndarray, batches_per_epoch: int,
                    lrs: np.ndarray | None = None) -> None:
        """Append the batches trained since the last call: their points of training in epochs
        (``core.history.position_of``), their costs, and the learning rates they were trained
        with (drawn on the cost plot's right axis)."""
        if len(positions) == 0:
            return
        if lrs is not None:
            self._add_lrs(np.asarray(positions, dtype=float), np.asarray(lrs, dtype=float))
        smoothed, self._smoothed = moving_average(costs, smoothing(batches_per_epoch), self._smoothed)
        self._batches.append(np.asarray(positions, dtype=float), smoothed)
        self.batch_curve.setData(self._batches.column(0), self._batches.column(1))
        self._bound(smoothed)
        self._follow()

    def show_history(self, history, batches_per_epoch: int) -> None:
        """Everything a ``core.history.History`` recorded, at once (an opened model)."""
        self.reset()
        self.add_batches(history.positions, history.costs, batches_per_epoch, history.lrs)
        for report in history.epochs:
            self.add_epoch(report)

    def set_cursor(self, position: float | None) -> None:
        """A vertical line at this point of training (in epochs) on both plots: the moment the
        window shows; None hides it (the window shows the present)."""
        for line in self.cursors:
            line.setVisible(position is not None)
            if position is not None:
                line.setValue(position)

    def add_mark(self, position: float, words: str) -> None:
        """A dotted line at this point of training (epochs) on the cost plot, labelled with
        what happened there ("paused", "lr 0.01"); its tooltip says it too."""
        line = pg.InfiniteLine(pos=position, angle=90, movable=False,
                               pen=pg.mkPen(theme.MUTED, width=1, style=Qt.DotLine),
                               label=words, labelOpts={"position": 0.95, "color": theme.MUTED})
        line.setToolTip(f"{words} at epoch {position:.2f}")
        self.cost_plot.addItem(line, ignoreBounds=True)
        self.marks.append(line)

    def add_epoch(self, report: EpochReport) -> None:
        """Append one epoch's dots: cost, test cost, train and test accuracy."""
        self._epochs.append(report.epoch, report.cost, report.test_cost,
                            report.train_accuracy, report.test_accuracy)
        epochs = self._epochs.column(EPOCH)
        self.cost_curve.setData(epochs, self._epochs.column(COST))
        self.test_cost_curve.setData(epochs, self._epochs.column(TEST_COST))
        self.train_accuracy_curve.setData(epochs, self._epochs.column(TRAIN_ACCURACY))
        self.test_accuracy_curve.setData(epochs, self._epochs.column(TEST_ACCURACY))
        self._bound(np.array([report.cost, report.test_cost]))
        self._follow()

    # --- ranges ------------------------------------------------------------------------------
    # pyqtgraph's auto-range moved both axes with every batch, and an axis whose range moves
    # lays its ticks out again: 17 ms a frame of 'fast' after two epochs. Rounded ranges move
    # now and then: x to the next whole epoch, the cost to the next quarter of a decade.

    def _bound(self, costs: np.ndarray) -> None:
        finite = costs[np.isfinite(costs) & (costs > 0)]
        if finite.size:
            low, high = self._cost_bounds
            self._cost_bounds = (min(low, float(finite.min())), max(high, float(finite.max())))

    def _follow(self) -> None:
        if not self._following:
            return
        x = self._batches.column(0)
        right = max(float(x[-1]) if len(x) else 0.0, float(self._epochs.column(EPOCH)[-1])
                    if self._epochs.size else 0.0, self.other.right)
        right = max(1, math.ceil(right))
        low, high = self._cost_bounds
        if low > high:
            low = high = 1.0
        ranges = (right, math.floor(math.log10(low) * 4) / 4, math.ceil(math.log10(high) * 4) / 4)
        if ranges != self._ranges:
            self._ranges = ranges
            bottom, top = ranges[1], max(ranges[2], ranges[1] + 0.25)
            self.cost_plot.setRange(xRange=(0, right), yRange=(bottom, top), padding=0.02)
            self.accuracy_plot.enableAutoRange(axis="y")

    def _stop_following(self, *_) -> None:
        self._following = False

    def epoch_count(self) -> int:
        """How many epochs are shown."""
        return self._epochs.size

    # --- tooltips ----------------------------------------------------------------------------

    def cost_tip(self, x: float, y: float = 0.0, data=None) -> str:
        """The tooltip of the cost dot at epoch x (the signature pyqtgraph's ``tip`` calls)."""
        row = self._epoch_row(x)
        if row is None:
            return ""
        cost, test_cost = self._epochs.column(COST)[row], self._epochs.column(TEST_COST)[row]
        return f"epoch {self._epoch_at(row)} — cost {cost:.4f}, test cost {test_cost:.4f}"

    def accuracy_tip(self, x: float, y: float = 0.0, data=None) -> str:
        """The tooltip of the accuracy dot at epoch x."""
        row = self._epoch_row(x)
        if row is None:
            return ""
        train = self._epochs.column(TRAIN_ACCURACY)[row]
        test = self._epochs.column(TEST_ACCURACY)[row]
        return (f"epoch {self._epoch_at(row)} — train accuracy {train:.4f}, "
                f"test accuracy {test:.4f}")

    def _epoch_row(self, x: float) -> int | None:
        epochs = self._epochs.column(EPOCH)
        rows = np.flatnonzero(epochs == round(x))
        return int(rows[-1]) if rows.size else None

    def _epoch_at(self, row: int) -> int:
        return int(self._epochs.column(EPOCH)[row])

    # --- building ----------------------------------------------------------------------------

    def _style_plots(self) -> None:
        for plot in (self.cost_plot, self.accuracy_plot):
            # No showGrid: its lines make the axes repaint with every new batch, 5-10 ms a frame.
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(theme.MUTED)
                axis.setTextPen(theme.FOREGROUND)
                axis.enableAutoSIPrefix(False)  # no "accuracy (x0.001)"
            plot.getViewBox().setLimits(xMin=0)
        self.cost_plot.setLabel("left", "cost")
        self.cost_plot.setLogMode(y=True)  # the cost falls by orders of magnitude
        self.accuracy_plot.setLabel("left", "accuracy")
        self.accuracy_plot.setLabel("bottom", "epoch")
        self.cost_plot.getAxis("bottom").setStyle(showValues=False)  # the plot below shows them
        self.accuracy_plot.setXLink(self.cost_plot)
        self.accuracy_plot.getViewBox().setLimits(yMin=0.0, yMax=1.0)
        self.cost_plot.getAxis("left").setWidth(56)  # equal widths keep the two x axes aligned
        self.accuracy_plot.getAxis("left").setWidth(56)

    def _add_lr_axis(self) -> None:
        """The learning rate on a log axis on the right of the cost plot, in a view box of its
        own that shares the x axis (the accuracy plot gets an empty axis as wide, so the two x
        axes stay aligned)."""
        self.lr_view = pg.ViewBox()
        self.lr_view.setMouseEnabled(x=False, y=False)
        self.cost_plot.showAxis("right")
        right = self.cost_plot.getAxis("right")
        right.setLogMode(True)
        right.enableAutoSIPrefix(False)
        right.setPen(theme.MUTED)
        right.setTextPen(theme.MUTED)
        right.linkToView(self.lr_view)
        self.cost_plot.scene().addItem(self.lr_view)
        self.lr_view.setXLink(self.cost_plot)
        self.lr_view.enableAutoRange(axis="y")
        self.cost_plot.getViewBox().sigResized.connect(
            lambda *_: self.lr_view.setGeometry(self.cost_plot.getViewBox().sceneBoundingRect()))
        self.accuracy_plot.showAxis("right")
        self.accuracy_plot.getAxis("right").setStyle(showValues=False)
        self.accuracy_plot.getAxis("right").setPen(theme.BACKGROUND)
        for plot in (self.cost_plot, self.accuracy_plot):
            plot.getAxis("right").setWidth(LR_AXIS_WIDTH)
        self.lr_curve = pg.PlotDataItem(pen=pg.mkPen(theme.MUTED, width=1, style=Qt.DashLine))
        self.lr_view.addItem(self.lr_curve)

    def _add_lrs(self, positions: np.ndarray, lrs: np.ndarray) -> None:
        """Keep the learning rate's turns: a point where it changes by more than a part in a
        hundred from the last kept (a step schedule keeps one an epoch, not one a batch), and
        the newest batch, so the line reaches the present."""
        logs = np.log10(np.maximum(lrs, 1e-30))
        if self._lrs.size and self._tail:  # the newest point was only a placeholder for the present
            self._lrs.size -= 1
        last = self._lrs.column(1)[-1] if self._lrs.size else None
        keep = []
        for i, value in enumerate(logs.tolist()):
            if last is None or abs(value - last) > LR_TURN:
                keep.append(i)
                last = value
        self._lrs.append(positions[keep], logs[keep])
        self._tail = not keep or keep[-1] != len(logs) - 1
        if self._tail:
            self._lrs.append(positions[-1], logs[-1])
        self.lr_curve.setData(self._lrs.column(0), self._lrs.column(1))

    def _add_cost_curves(self) -> None:
        light = pg.mkColor(theme.COST)
        light.setAlpha(110)
        self.batch_curve = pg.PlotDataItem(pen=pg.mkPen(light, width=1))
        self.cost_plot.addItem(self.batch_curve)  # first, so the epoch curves are drawn over it
        # Both after addItem, which resets them. "mean", not "peak": the line is an average
        # already, and peaks would draw its wiggles as a solid band once there are many batches.
        self.batch_curve.setDownsampling(auto=True, method="mean")
        self.batch_curve.setClipToView(True)
        self.cost_curve = self._epoch_curve(self.cost_plot, theme.COST, "train cost",
                                            self.cost_tip)
        self.test_cost_curve = self._epoch_curve(self.cost_plot, theme.TEST, "test cost",
                                                 self.cost_tip, dashed=True)
        # The key is the title, one line above the plot: a legend inside it hid the curves of a
        # short panel (the cost dock of a 1280x720 screen is about 190 pixels tall).
        self.cost_plot.setTitle(key_html((theme.COST, "━", "train cost"), (theme.TEST, "╍", "test cost"),
                                     (light.name(), "─", "batches"), (theme.MUTED, "╌", "lr")),
                           size="8pt")  # short: a title wider than the plot widens the plot past the dock

    def _add_accuracy_curves(self) -> None:
        self.train_accuracy_curve = self._epoch_curve(self.accuracy_plot, theme.TRAIN, "train",
                                                      self.accuracy_tip)
        self.test_accuracy_curve = self._epoch_curve(self.accuracy_plot, theme.TEST, "test",
                                                     self.accuracy_tip, dashed=True)
        self.accuracy_plot.setTitle(key_html((theme.TRAIN, "━", "train accuracy"),
                                         (theme.TEST, "╍", "test accuracy")), size="8pt")
        for plot in (self.cost_plot, self.accuracy_plot):
            plot.layout.setRowFixedHeight(0, KEY_HEIGHT)  # pyqtgraph's own 30 px is a third of a short plot
            plot.titleLabel.setMaximumHeight(KEY_HEIGHT)

    @staticmethod
    def _epoch_curve(plot: pg.PlotItem, colour: str, name: str, tip, dashed: bool = False):
        """A bold line with a hoverable dot per epoch."""
        style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
        curve = plot.plot(pen=pg.mkPen(colour, width=2.5, style=style), name=name,
                          symbol="o", symbolSize=8, symbolBrush=colour,
                          symbolPen=pg.mkPen(theme.BACKGROUND, width=1))
        curve.scatter.setData(hoverable=True, tip=tip, hoverSize=11)
        return curve

    def _epoch_curves(self):
        return (self.cost_curve, self.test_cost_curve, self.train_accuracy_curve,
                self.test_accuracy_curve)


class Overlay:
    """A second run's curves on the same plots, in one colour (``app.comparison.COLOUR``): its
    smoothed batch cost, its epochs' train and test cost, train and test accuracy (solid: train,
    dashed: test, as the first run's). ``show`` gives it a whole history; ``add`` what is new."""

    def __init__(self, panel: CostPanel):
        self.panel = panel
        self.colour = theme.SECOND
        light = pg.mkColor(self.colour)
        light.setAlpha(110)
        self.batch_curve = pg.PlotDataItem(pen=pg.mkPen(light, width=1))
        panel.cost_plot.addItem(self.batch_curve)
        self.batch_curve.setDownsampling(auto=True, method="mean")
        self.batch_curve.setClipToView(True)
        curve = CostPanel._epoch_curve
        self.cost_curve = curve(panel.cost_plot, self.colour, "B train cost", self._cost_tip)
        self.test_cost_curve = curve(panel.cost_plot, self.colour, "B test cost", self._cost_tip, dashed=True)
        self.train_accuracy_curve = curve(panel.accuracy_plot, self.colour, "B train", self._accuracy_tip)
        self.test_accuracy_curve = curve(panel.accuracy_plot, self.colour, "B test", self._accuracy_tip,
                                         dashed=True)
        self._batches = Columns(2, capacity=4096)
        self._epochs = Columns(5, capacity=64)
        self._smoothed: float | None = None
        self._shown = (0, 0)  # batches and epochs of the history drawn
        self.right = 0.0  # the last point drawn, in epochs

    def curves(self):
        return (self.batch_curve, self.cost_curve, self.test_cost_curve, self.train_accuracy_curve,
                self.test_accuracy_curve)

    def clear(self, legend: str = "") -> None:
        """No second run (``legend`` empty), or a new one: nothing of it drawn yet; ``legend``
        names both runs' settings, above the plots."""
        self._batches.clear()
        self._epochs.clear()
        self._smoothed, self._shown, self.right = None, (0, 0), 0.0
        for c in self.curves():
            c.setData([], [])
        self.panel.legend.setText(legend)
        self.panel.legend.setVisible(bool(legend))

    def add(self, history, batches_per_epoch: int) -> None:
        """What ``history`` holds beyond what is drawn."""
        batches, epochs = self._shown
        if len(history.steps) > batches:
            positions, costs = history.positions[batches:], history.costs[batches:]
            smoothed, self._smoothed = moving_average(costs, smoothing(batches_per_epoch), self._smoothed)
            self._batches.append(np.asarray(positions, dtype=float), smoothed)
            self.batch_curve.setData(self._batches.column(0), self._batches.column(1))
            self.panel._bound(smoothed)
            self.right = max(self.right, float(positions[-1]))
        for r in history.epochs[epochs:]:
            self._epochs.append(r.epoch, r.cost, r.test_cost, r.train_accuracy, r.test_accuracy)
            self.panel._bound(np.array([r.cost, r.test_cost]))
            self.right = max(self.right, float(r.epoch))
        if len(history.epochs) > epochs:
            x = self._epochs.column(EPOCH)
            for curve, column in ((self.cost_curve, COST), (self.test_cost_curve, TEST_COST),
                                  (self.train_accuracy_curve, TRAIN_ACCURACY),
                                  (self.test_accuracy_curve, TEST_ACCURACY)):
                curve.setData(x, self._epochs.column(column))
        self._shown = (len(history.steps), len(history.epochs))
        self.panel._follow()

    def _row(self, x: float) -> int | None:
        rows = np.flatnonzero(self._epochs.column(EPOCH) == round(x))
        return int(rows[-1]) if rows.size else None

    def _tip(self, x: float, columns: tuple[tuple[str, int], ...]) -> str:
        row = self._row(x)
        if row is None:
            return ""
        return f"B, epoch {round(x)} — " + ", ".join(
            f"{name} {self._epochs.column(column)[row]:.4f}" for name, column in columns)

    def _cost_tip(self, x: float, y: float = 0.0, data=None) -> str:
        return self._tip(x, (("cost", COST), ("test cost", TEST_COST)))

    def _accuracy_tip(self, x: float, y: float = 0.0, data=None) -> str:
        return self._tip(x, (("train accuracy", TRAIN_ACCURACY), ("test accuracy", TEST_ACCURACY)))
