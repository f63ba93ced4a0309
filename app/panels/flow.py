"""Gradient flow: how strongly each layer is being taught, batch by batch.

One plot, x in epochs, y on a log scale, a line per weight layer W[l] (in the colour of layer
l+1, the layer it computes, as the neuron-health panel colours it) of the quantity the box above
chooses, as ``core.train.FLOW_FIELDS`` records it for each batch:

    size of the gradient    RMS of dC/dW[l]
    size of the error       RMS of delta[l+1] over the batch's samples
    update / weight         |ΔW[l]| / |W[l]|, the step the optimiser took relative to the weights
                            (a dashed line at 1e-3, the usual sign of a healthy learning rate)

Each line is smoothed for display as the cost's batches are (an exponential moving average over
about 50 records or 1/20 of an epoch), in log10, since the values span decades; a value that is
0 or not known (a file saved before the flow was recorded) is skipped. A vertical line marks
the moment shown, and the line of text above says each layer's value at it (the line's, at the
last batch recorded at or before it; its tooltip, that batch's own).

``reset(n_layers)`` for a new network, ``add_batches(positions, flow, records_per_epoch)`` with
what the history recorded since the last call, ``show_position(position)`` with the moment shown
(None: the present). Plot items are made once (the lines again when the number of layers
changes) and fed with ``setData``.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app import theme
from app.panels.cost import Columns, LogAxis, key_html, smoothing
from core.train import FLOW_FIELDS

QUANTITIES = {"gradient": "size of the gradient dC/dW (RMS)",
              "delta": "size of the error delta (RMS)",
              "update": "update / weight, |ΔW| / |W|"}
HEALTHY_UPDATE = 1e-3  # Karpathy's rule of thumb: a step about a thousandth of the weights
STATUS_STYLE = f"color: {theme.FOREGROUND}; font-size: 8pt"


class FlowPanel(QWidget):
    """The gradient flow of training so far. Plot items, all created here and only fed:

    ``plot``          the PlotItem, log y
    ``curves``        one PlotDataItem per weight layer, the chosen quantity smoothed
    ``cursor``        a vertical line at the moment shown
    ``healthy``       the dashed line at 1e-3 (update / weight only)
    ``quantity_box``  which of QUANTITIES is drawn
    ``status_label``  each layer's value at the moment shown
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._n_layers = 0
        self._raw: Columns | None = None  # position, then the 3 L values as recorded
        self._smoothed: Columns | None = None  # the 3 L values smoothed, in log10
        self._last: np.ndarray | None = None  # the moving averages after the last record
        self._position: float | None = None
        self._ranges = None
        self.curves: list[pg.PlotDataItem] = []
        self._build()
        self.reset(0)

    # --- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.quantity_box = QComboBox()
        for name, words in QUANTITIES.items():
            self.quantity_box.addItem(words, name)
        self.quantity_box.setToolTip("Which size each line shows")
        self.quantity_box.currentIndexChanged.connect(self._on_quantity)
        self.status_label = QLabel("")
        self.status_label.setStyleSheet(STATUS_STYLE)
        self.status_label.setWordWrap(True)
        self.status_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.status_label.setContentsMargins(4, 0, 4, 0)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(theme.BACKGROUND)
        self.plot = self.graphics.addPlot(row=0, col=0, axisItems={"left": LogAxis("left")})
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(theme.MUTED)
            axis.setTextPen(theme.FOREGROUND)
            axis.enableAutoSIPrefix(False)
        self.plot.getAxis("left").setWidth(56)
        self.plot.setLabel("bottom", "epoch")
        self.plot.setLogMode(y=True)
        self.plot.getViewBox().setLimits(xMin=0)
        self.plot.layout.setRowFixedHeight(0, 16)  # the key, one line
        self.plot.titleLabel.setMaximumHeight(16)
        self.plot.getViewBox().sigRangeChangedManually.connect(self._stop_following)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(theme.ACCENT, width=1.5))
        self.cursor.setVisible(False)
        self.plot.addItem(self.cursor, ignoreBounds=True)
        self.healthy = pg.InfiniteLine(pos=math.log10(HEALTHY_UPDATE), angle=0, movable=False,
                                       pen=pg.mkPen(theme.MUTED, width=1, style=Qt.DashLine),
                                       label="1e-3", labelOpts={"position": 0.03, "color": theme.MUTED})
        self.healthy.setToolTip("a step about a thousandth of the weights: the usual sign of a "
                                "healthy learning rate")
        self.plot.addItem(self.healthy, ignoreBounds=True)

        top = QHBoxLayout()
        top.setContentsMargins(4, 2, 4, 0)
        top.addWidget(self.quantity_box)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.status_label)
        layout.addWidget(self.graphics, 1)

    def _make_curves(self, n_layers: int) -> None:
        for curve in self.curves:
            self.plot.removeItem(curve)
        self.curves = []
        entries = []
        for l in range(n_layers):
            colour = theme.LAYERS[l % len(theme.LAYERS)]
            curve = pg.PlotDataItem(pen=pg.mkPen(colour, width=1.5), connect="finite")
            self.plot.addItem(curve)
            curve.setDownsampling(auto=True, method="mean")  # after addItem, which resets them
            curve.setClipToView(True)
            self.curves.append(curve)
            entries.append((colour, "━", f"W{l + 1}" if l < n_layers - 1 else f"W{l + 1} (output)"))
        self.plot.setTitle(key_html(*entries), size="8pt")

    # --- what the window calls --------------------------------------------------------------

    def reset(self, n_layers: int) -> None:
        """Forget everything shown: a new network of ``n_layers`` weight layers."""
        if n_layers != self._n_layers or not self.curves and n_layers:
            self._make_curves(n_layers)
        self._n_layers = n_layers
        k = len(FLOW_FIELDS) * n_layers
        self._raw = Columns(1 + k, capacity=1024)
        self._smoothed = Columns(k, capacity=1024)
        self._last = np.full(k, np.nan)
        self._following, self._ranges = True, None
        for curve in self.curves:
            curve.setData([], [])
        self.show_position(None)
        self.plot.enableAutoRange()

    def add_batches(self, positions: np.ndarray, flow: np.ndarray, records_per_epoch: int) -> None:
        """Append the flow recorded since the last call: the records' points of training in
        epochs (F,) and their flow (F, 3, L), rows ``core.train.FLOW_FIELDS``; about
        ``records_per_epoch`` of them make an epoch (it sets the smoothing)."""
        if len(positions) == 0:
            return
        flow = np.asarray(flow, dtype=float)
        if flow.shape[1:] != (len(FLOW_FIELDS), self._n_layers):
            raise ValueError(f"a flow of shape {flow.shape[1:]}, but this panel draws "
                             f"{(len(FLOW_FIELDS), self._n_layers)}")
        values = flow.reshape(len(flow), -1)  # (F, 3 L): quantity-major, as the rows
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.where(values > 0, np.log10(values), np.nan)
        alpha = smoothing(records_per_epoch)
        smoothed = np.empty_like(logs)
        s = self._last
        for i, row in enumerate(logs):  # a few thousand rows at most per call; 3 L columns each
            known = np.isfinite(row)
            s = np.where(known & np.isnan(s), row, s)  # a line starts at its first value
            s = np.where(known, s + alpha * (row - s), s)
            smoothed[i] = s
        self._last = s
        self._raw.append(np.asarray(positions, dtype=float), *values.T)
        self._smoothed.append(*(10.0 ** smoothed).T)
        self._draw()
        self.show_position(self._position)

    def show_position(self, position: float | None) -> None:
        """Mark this point of training (epochs) and say each layer's values at it; None: the
        present (no mark, the newest values)."""
        self._position = position
        self.cursor.setVisible(position is not None)
        if position is not None:
            self.cursor.setValue(position)
        self._say()

    @property
    def quantity(self) -> str:
        return self.quantity_box.currentData()

    def set_quantity(self, name: str) -> None:
        self.quantity_box.setCurrentIndex(list(QUANTITIES).index(name))

    def values_at(self, position: float | None, smoothed: bool = True) -> np.ndarray | None:
        """The quantity shown of each layer (L,) at the last batch recorded at or before
        ``position`` (None: the newest), as its line shows it (or as recorded, unsmoothed: one
        batch's gradient is noisy, several times the line's now and then); None if no batch is."""
        if self._raw is None or self._raw.size == 0:
            return None
        x = self._raw.column(0)
        i = len(x) - 1 if position is None else int(np.searchsorted(x, position, side="right")) - 1
        if i < 0:
            return None
        q = list(QUANTITIES).index(self.quantity)
        if smoothed:
            return np.array([self._smoothed.column(q * self._n_layers + l)[i] for l in range(self._n_layers)])
        return np.array([self._raw.column(1 + q * self._n_layers + l)[i] for l in range(self._n_layers)])

    # --- drawing ----------------------------------------------------------------------------

    def _draw(self) -> None:
        if self._raw is None:
            return
        x = self._raw.column(0)
        q = list(QUANTITIES).index(self.quantity)
        for l, curve in enumerate(self.curves):
            curve.setData(x, self._smoothed.column(q * self._n_layers + l))
        self.healthy.setVisible(self.quantity == "update")
        self._follow(q)

    def _follow(self, q: int) -> None:
        """The ranges, rounded so they move now and then (see ``app.panels.cost``): x to the
        next whole epoch, y to whole decades of what the lines of the quantity reach."""
        if not self._following or self._smoothed.size == 0:
            return
        columns = [self._smoothed.column(q * self._n_layers + l) for l in range(self._n_layers)]
        finite = np.concatenate([c[np.isfinite(c)] for c in columns])
        if finite.size == 0:
            return
        low, high = math.floor(math.log10(finite.min())), math.ceil(math.log10(finite.max()))
        if q == list(QUANTITIES).index("update"):
            low, high = min(low, -3), max(high, -3)  # the 1e-3 line stays in sight
        right = max(1, math.ceil(float(self._raw.column(0)[-1])))
        ranges = (right, low, max(high, low + 1))
        if ranges != self._ranges:
            self._ranges = ranges
            self.plot.setRange(xRange=(0, right), yRange=ranges[1:], padding=0.02)

    def _stop_following(self, *_) -> None:
        self._following = False

    def _say(self) -> None:
        values = self.values_at(self._position)
        if values is None:
            self.status_label.setText("no batch recorded yet" if self._position is None else "")
            return
        x = self._raw.column(0)
        at = x[-1] if self._position is None else x[np.searchsorted(x, self._position, side="right") - 1]
        parts = [f"<span style='color:{theme.LAYERS[l % len(theme.LAYERS)]}'>W{l + 1}</span> {_number(v)}"
                 for l, v in enumerate(values)]
        self.status_label.setText(f"epoch {at:.2f}, smoothed: " + " · ".join(parts))
        raw = self.values_at(self._position, smoothed=False)
        self.status_label.setToolTip("that batch alone: " + ", ".join(
            f"W{l + 1} {_number(v)}" for l, v in enumerate(raw)))

    @Slot(int)
    def _on_quantity(self, _index: int) -> None:
        self._following, self._ranges = True, None
        self._draw()
        self._say()


def _number(v: float) -> str:
    return "–" if not math.isfinite(v) else f"{v:.2g}" if v else "0"
