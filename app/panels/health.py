"""Neuron health over training: how many hidden units are dead (ReLU) or saturated (sigmoid,
tanh) in each layer, and how a layer's weights or their gradients are spread, moment by moment.

The top plot has a line per hidden layer: the share of its units dead, or saturated, on a fixed
sample of 1,000 test digits (the definitions are ``core.health``'s), at every moment of the
history, x in epochs. The bottom plot is a histogram against time, as TensorBoard's
distributions: column x holds the histogram of the moment nearest x, of one layer's weights or
of log10 of their gradients' sizes (two boxes choose), coloured by log10(1 + count) so the tails
show beside the bulk, with levels fixed for the layer. A vertical line on both marks the moment
shown, and the line of text above says its numbers.

``set_history(history, x_test, y_test)`` when the run, or the test set, is another;
``show_moment(index)`` with the moment shown (an index into ``history.moments``, None for the
newest: new moments are picked up then); ``clear()`` when there is no run. ``finish()`` computes
everything at once (tests, tours).

Everything is computed by ``core.health.HealthCache``, once per moment: the moment shown at once
(13 ms for 'fast' with one BLAS thread), the others by a timer, one moment a tick, while the
panel is visible, so no call holds the GUI thread for more than one moment. Plot items are made
once (the layers' lines again when the architecture changes) and fed with ``setData`` and
``setImage``.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app import theme
from core.health import HealthCache, Histograms, fixed_sample

LAYER_COLOURS = theme.LAYERS  # one a hidden layer, as in the gradient flow (theme.ACCENT is the cursor's)
def _heat() -> pg.ColorMap:
    """Matplotlib's inferno (perceptually even, dark to bright), its darkest end made the
    background's colour, so that empty bins are no colour at all."""
    stops = np.linspace(0.0, 1.0, 17)
    colours = pg.colormap.get("inferno").map(stops, mode="byte")  # (17, 4) RGBA
    colours[0, :3] = pg.mkColor(theme.BACKGROUND).getRgb()[:3]
    return pg.ColorMap(stops, colours)


HEAT = _heat()
COLUMNS = 480  # of the histogram image, spread over the moments' span of epochs
QUANTITIES = ("weights", "gradients")
STATUS_STYLE = f"color: {theme.FOREGROUND}; font-size: 8pt"
KEY_HEIGHT = 16


class HealthPanel(QWidget):
    """Dead or saturated units per layer over training, and a layer's histograms over time.

    ``share_plot``, ``histogram_plot``   the two PlotItems, x axes linked (epochs)
    ``curves``                           one PlotDataItem per hidden layer (percent of units)
    ``image``                            the histogram image: rows are bins, columns epochs
    ``cursors``                          a vertical line on each plot at the moment shown
    ``quantity_box``, ``layer_box``      what the image shows: weights or gradients, of W[l]
    ``status_label``                     the numbers of the moment shown
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._history = None
        self._x_test = self._y_test = None
        self._cache: HealthCache | None = None
        self._architecture = None
        self._seen = (0, None)  # (number of moments, the newest) when last drawn
        self._index: int | None = None  # the moment shown, None for the newest
        self._top = 0.0  # the share plot's y range, percent
        self._histograms: Histograms | None = None  # what the image shows
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._work)
        self._build()

    # --- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.quantity_box = QComboBox()
        self.quantity_box.addItems(QUANTITIES)
        self.quantity_box.setToolTip("Histograms of the weights, or of log10 of the size of their "
                                     "gradients (on 250 test digits)")
        self.layer_box = QComboBox()
        self.layer_box.setToolTip("The weights into this layer")
        self.layer_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for box in (self.quantity_box, self.layer_box):
            box.currentIndexChanged.connect(self._on_chosen)
        self.status_label = QLabel("")
        self.status_label.setStyleSheet(STATUS_STYLE)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status_label.setWordWrap(True)  # a narrow dock takes two lines, rather than cut them
        self.status_label.setToolTip(
            "On 1,000 test digits, 100 of each. A ReLU unit is dead when it is 0 on every one of "
            "them: it gets no gradient, and nothing brings it back. A sigmoid or tanh unit is "
            "saturated when its derivative is below 1% of its largest on most of them.")

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(theme.BACKGROUND)
        self.share_plot = self.graphics.addPlot(row=0, col=0)
        self.histogram_plot = self.graphics.addPlot(row=1, col=0)
        self.histogram_plot.setXLink(self.share_plot)
        for plot in (self.share_plot, self.histogram_plot):
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(theme.MUTED)
                axis.setTextPen(theme.FOREGROUND)
                axis.enableAutoSIPrefix(False)
            plot.setMenuEnabled(False)
            plot.getAxis("left").setWidth(44)  # the two plots' x axes line up
        self.share_plot.getAxis("bottom").setStyle(showValues=False)  # the plot below shows them
        self.histogram_plot.setLabel("bottom", "epoch")
        self.share_plot.layout.setRowFixedHeight(0, KEY_HEIGHT)
        self.share_plot.titleLabel.setMaximumHeight(KEY_HEIGHT)
        self.share_plot.getViewBox().setMouseEnabled(x=True, y=False)
        self.legend = self.share_plot.addLegend(offset=(4, 2), labelTextColor=theme.FOREGROUND,
                                                labelTextSize="8pt", verSpacing=-6)
        self.curves: list[pg.PlotDataItem] = []

        self.image = pg.ImageItem(np.zeros((1, 1), np.float32), axisOrder="row-major")
        self.image.setColorMap(HEAT)
        self.histogram_plot.addItem(self.image)
        self.message = pg.TextItem("", color=theme.MUTED, anchor=(0.5, 0.5))
        self.share_plot.addItem(self.message, ignoreBounds=True)
        self.cursors = []
        for plot in (self.share_plot, self.histogram_plot):
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(theme.ACCENT, width=1.5))
            line.setVisible(False)
            line.setZValue(10)
            plot.addItem(line, ignoreBounds=True)
            self.cursors.append(line)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Histogram of"))
        controls.addWidget(self.quantity_box)
        controls.addWidget(self.layer_box)
        controls.addStretch(1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.setSpacing(2)
        outer.addLayout(controls)
        outer.addWidget(self.status_label)
        outer.addWidget(self.graphics, 1)
        self._say("no network yet")

    def _rebuild_layers(self, architecture: tuple) -> None:
        """The layer box's items and the layers' lines, when the architecture changes."""
        sizes, hidden = architecture[0], architecture[1]
        L = len(sizes) - 1
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        for l in range(L):
            into = "output" if l == L - 1 else f"layer {l + 1}"
            self.layer_box.addItem(f"into {into} ({sizes[l]}×{sizes[l + 1]})", l)
        self.layer_box.setCurrentIndex(0)
        self.layer_box.blockSignals(False)
        for curve in self.curves:
            self.share_plot.removeItem(curve)
        self.legend.clear()
        self.curves = []
        for l in range(1, L):
            colour = LAYER_COLOURS[(l - 1) % len(LAYER_COLOURS)]
            self.curves.append(self.share_plot.plot(
                pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=4, symbolBrush=colour,
                symbolPen=None, name=f"layer {l} ({sizes[l]})"))
        word = "dead" if hidden == "relu" else "saturated"
        self.share_plot.setLabel("left", f"% {word}")
        self.share_plot.setTitle(f"<span style='color:{theme.FOREGROUND}'>{hidden} units {word}, "
                                 "per hidden layer</span>", size="8pt")
        self._architecture = architecture
        self._top = 0.0

    # --- what the window calls --------------------------------------------------------------

    def set_history(self, history, x_test: np.ndarray, y_test: np.ndarray) -> None:
        """The run's ``core.history.History`` and the test set (N, 784), (N,) the fixed sample
        is drawn from (``core.health.fixed_sample``). Cheap: the moments are computed when shown,
        or by the timer."""
        if x_test is not self._x_test or y_test is not self._y_test or self._cache is None:
            self._x_test, self._y_test = x_test, y_test
            chosen = fixed_sample(np.asarray(y_test))
            self._cache = HealthCache(x_test[chosen], np.asarray(y_test)[chosen])
        self._history = history
        if history.architecture != self._architecture:
            self._rebuild_layers(history.architecture)
        self._seen, self._index = (0, None), None
        for line in self.cursors:  # until a moment is shown
            line.setVisible(False)
        self.status_label.setText("")
        self._refresh()

    def show_moment(self, index: int | None = None) -> None:
        """Mark moment ``index`` of the history (None: the newest) and say its numbers; moments
        recorded since the last call are picked up."""
        self._index = index
        if self._history is None:
            return
        moments = self._history.moments
        count, newest = self._seen
        changed = len(moments) != count or (moments[-1] if moments else None) is not newest
        i = len(moments) - 1 if index is None else index
        if moments and not self._cache.is_examined(self._history, i):
            self._cache.moment_health(self._history, i)  # this one now, the others by the timer
            changed = True
        if changed:
            self._refresh()
        if moments:
            self._mark(i)

    def clear(self) -> None:
        """No run: nothing drawn, nothing kept."""
        self._timer.stop()
        self._history = self._cache = self._histograms = None
        self._seen, self._index = (0, None), None
        for curve in self.curves:
            curve.setData([], [])
        self.image.setImage(np.zeros((1, 1), np.float32), levels=(0.0, 1.0))
        self.image.setVisible(False)
        for line in self.cursors:
            line.setVisible(False)
        self.status_label.setText("")
        self._say("no network yet")

    def finish(self) -> None:
        """Compute every moment now, and draw them."""
        if self._history is not None:
            self._cache.update(self._history)
            self._refresh()
            self.show_moment(self._index)

    @property
    def pending(self) -> int:
        """Pieces of work left (0 when everything is drawn)."""
        return 0 if self._history is None else self._cache.pending(self._history)

    @property
    def layer(self) -> int | None:
        """The weight layer l of the histograms (W[l], into layer l + 1), or None."""
        return self.layer_box.currentData()

    def set_layer(self, l: int) -> None:
        k = self.layer_box.findData(l)
        if k < 0:
            raise ValueError(f"weight layer must be 0 to {self.layer_box.count() - 1}, got {l}")
        self.layer_box.setCurrentIndex(k)

    @property
    def quantity(self) -> str:
        return self.quantity_box.currentText()

    def set_quantity(self, quantity: str) -> None:
        self.quantity_box.setCurrentIndex(QUANTITIES.index(quantity))

    @property
    def histograms(self) -> Histograms | None:
        """The histograms the image is drawn from (for tests and tours)."""
        return self._histograms

    # --- drawing ----------------------------------------------------------------------------

    def _refresh(self) -> None:
        """Draw what the cache holds for the whole history, and go on with the rest."""
        history = self._history
        moments = history.moments
        self._seen = (len(moments), moments[-1] if moments else None)
        if not moments:
            for curve in self.curves:
                curve.setData([], [])
            self.image.setVisible(False)
            self._say("no moments yet")
            return
        over = self._cache.health_over(history)
        shares = over.dead if history.architecture[1] == "relu" else over.saturated  # (M, L-1)
        for curve, share in zip(self.curves, shares.T):
            done = np.isfinite(share)  # the moments computed so far
            curve.setData(over.positions[done], 100.0 * share[done])
        self._set_top(shares)
        self._say("no hidden layer" if not self.curves else "")
        self._draw_image()
        if self._cache.pending(history):
            self._start()

    def _set_top(self, shares: np.ndarray) -> None:
        """The y range: up to the next 5% above the largest share (10% at least)."""
        largest = float(np.nanmax(shares, initial=0.0)) * 100.0 if shares.size else 0.0
        top = min(100.0, max(10.0, 5.0 * math.ceil(largest / 5.0 + 1e-9)))
        if top != self._top:
            self._top = top
            self.share_plot.setYRange(0.0, top, padding=0.02)

    def _draw_image(self) -> None:
        l = self.layer
        if l is None:
            return
        history = self._history
        if self.quantity == "weights":
            h = self._cache.weight_histograms(history, l)
            self.histogram_plot.setLabel("left", "weight")
        else:
            h = self._cache.gradient_histograms(history, l)
            self.histogram_plot.setLabel("left", "log10 |gradient|")
        self._histograms = h
        x0, x1 = float(h.positions[0]), float(h.positions[-1])
        if x1 > x0:
            centres = x0 + (np.arange(COLUMNS) + 0.5) * ((x1 - x0) / COLUMNS)
            nearest = np.searchsorted((h.positions[1:] + h.positions[:-1]) / 2, centres)  # (COLUMNS,)
        else:  # one moment (or several at one point): one column an epoch wide
            x0, x1, nearest = x0 - 0.5, x0 + 0.5, np.array([len(h.positions) - 1])
        image = np.log10(1.0 + h.counts[nearest].T.astype(np.float32))  # (bins, columns)
        sizes = history.architecture[0]
        self.image.setImage(image, levels=(0.0, math.log10(1.0 + sizes[l] * sizes[l + 1])))
        self.image.setRect(QRectF(x0, float(h.edges[0]), x1 - x0, float(h.edges[-1] - h.edges[0])))
        self.image.setVisible(True)

    def _mark(self, i: int) -> None:
        """The cursors and the words of moment ``i``."""
        history = self._history
        m = history.moments[i]
        for line in self.cursors:
            line.setValue(m.position)
            line.setVisible(True)
        h = self._cache.moment_health(history, i)
        relu = history.architecture[1] == "relu"
        word = "dead" if relu else "saturated"
        shares = h.dead if relu else h.saturated
        parts = [f"layer {l}: {_percent(s)} {word}" for l, s in enumerate(shares, start=1)]
        text = f"epoch {m.epoch} · step {m.step:,} — " + (" · ".join(parts) or "no hidden layer")
        g = self._histograms
        if g is not None and g.log and i < len(g.zeros):
            total = g.counts[i].sum() + g.zeros[i] + g.below[i]
            if total:
                text += f" · gradients {_percent(g.zeros[i] / total)} exactly 0"
        if self.status_label.text() != text:
            self.status_label.setText(text)

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # --- the timer, and the user --------------------------------------------------------------

    def _start(self) -> None:
        if self.isVisible() and not self._timer.isActive():
            self._timer.start()

    def _work(self) -> None:
        """One moment (or one moment's weights binned again), then draw."""
        if self._history is None or not self.isVisible():
            self._timer.stop()
            return
        left = self._cache.update(self._history, limit=1)
        self._refresh()
        if self._history.moments:
            self._mark(self._current())
        if left == 0:
            self._timer.stop()

    def _current(self) -> int:
        n = len(self._history.moments)
        return n - 1 if self._index is None else min(self._index, n - 1)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._history is not None and self._cache.pending(self._history):
            self._start()

    def _on_chosen(self, _index: int) -> None:
        if self._history is not None and self._history.moments:
            self._draw_image()
            self._mark(self._current())


def _percent(share: float) -> str:
    """12%, 3.1%, 0%."""
    p = 100.0 * float(share)
    if not math.isfinite(p):
        return "—"
    return f"{p:.0f}%" if p >= 10 or p == 0 else f"{p:.1f}%"
