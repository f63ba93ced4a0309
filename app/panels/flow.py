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

``reset(n_layers, sizes=None)`` for a new network, ``add_batches(positions, flow,
records_per_epoch)`` with what the history recorded since the last call,
``show_position(position)`` with the moment shown (None: the present). Plot items are made once
(the lines again when the number of layers changes) and fed with ``setData``.

``python -m app.panels.flow`` times feeding and repainting it through a long run.
"""
from __future__ import annotations

import math
import time

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
# Lines 1 pixel wide: Qt draws those directly but strokes a wider one as a polygon, 10 ms a line
# for the ~2,500 points a line of 180,000 batches is downsampled to (classic's four lines: 42 ms
# a repaint at 600x300, against 1.3 ms at width 1; antialiasing makes no difference).
LINE_WIDTH = 1


def smooth_logs(logs: np.ndarray, last: np.ndarray, alpha: float) -> np.ndarray:
    """The exponential moving average of each column of ``logs`` (F, K) after each row (F, K),
    carrying on from ``last`` (K,), the averages after the rows before (NaN: the column has
    none yet). A NaN is skipped (the average held); a column starts at its first value.

    Row by row, s_i = r s_{i-1} + alpha x_i with r = 1 - alpha where x_i is known, s_i = s_{i-1}
    where not. With c_i the number of known rows of the block up to row i, that is

        s_i = r^c_i (s_0 + alpha sum_{j <= i, x_j known} r^-c_j x_j)

    two cumulative sums a block instead of a loop over the rows: for classic's 12 columns 0.13 ms
    instead of 0.45 for 50 rows, 0.1 s instead of 1.2 s for the 180,000 of a long run opened at
    once. The blocks are short enough that r^-c stays below e^5, so no digits are lost (it
    agrees with the loop to 1e-14)."""
    logs = np.asarray(logs, dtype=float)
    F, K = logs.shape
    out = np.empty((F, K))
    r = 1.0 - alpha
    block = max(1, int(5.0 / -math.log(r)))  # 127 rows for alpha = 2/51
    columns = np.arange(K)
    s = np.array(last, dtype=float)  # (K,)
    for start in range(0, F, block):
        x = logs[start:start + block]  # (m, K)
        known = np.isfinite(x)
        c = np.cumsum(known, axis=0)  # (m, K)
        fresh = np.isnan(s) & known.any(axis=0)  # (K,): columns whose first value is in this block
        s = np.where(fresh, x[known.argmax(axis=0), columns], s)  # so its first step gives x itself
        terms = np.where(known, x, 0.0) * r ** -c  # (m, K)
        y = r ** c * (s + alpha * np.cumsum(terms, axis=0))  # (m, K)
        y[fresh & (c == 0)] = np.nan  # the rows before a column's first value
        out[start:start + len(x)] = y
        s = y[-1]
    return out


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
        self._smoothed: Columns | None = None  # the 3 L values smoothed (linear; averaged in log10)
        self._last: np.ndarray | None = None  # (3 L,) the moving averages in log10 after the last record
        self._low = self._high = None  # (3,) the least and largest log10 each quantity's lines reach
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
        # In view coordinates, which on a log axis are log10 of the values.
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
        for l in range(n_layers):
            curve = pg.PlotDataItem(pen=pg.mkPen(_colour(l), width=LINE_WIDTH), connect="finite")
            self.plot.addItem(curve)
            # Both after addItem, which resets them; "mean" as the cost's batch line (see there).
            curve.setDownsampling(auto=True, method="mean")
            curve.setClipToView(True)
            self.curves.append(curve)

    def _set_key(self, sizes) -> None:
        L = self._n_layers
        names = [f"W{l + 1}: {sizes[l]}→{sizes[l + 1]}" if sizes is not None
                 else f"W{l + 1} (output)" if l == L - 1 else f"W{l + 1}" for l in range(L)]
        self.plot.setTitle(key_html(*((_colour(l), "━", name) for l, name in enumerate(names))),
                           size="8pt")

    # --- what the window calls --------------------------------------------------------------

    def reset(self, n_layers: int, sizes: tuple[int, ...] | None = None) -> None:
        """Forget everything shown: a new network of ``n_layers`` weight layers; with its layer
        ``sizes`` (n_layers + 1 of them, input first) the key says each W's shape."""
        if sizes is not None and len(sizes) != n_layers + 1:
            raise ValueError(f"{n_layers} weight layers join {n_layers + 1} layers, got {len(sizes)} sizes")
        if n_layers != self._n_layers or not self.curves and n_layers:
            self._make_curves(n_layers)
        self._n_layers = n_layers
        self._set_key(sizes)
        k = len(FLOW_FIELDS) * n_layers
        self._raw = Columns(1 + k, capacity=1024)
        self._smoothed = Columns(k, capacity=1024)
        self._last = np.full(k, np.nan)
        self._low, self._high = np.full(len(FLOW_FIELDS), np.inf), np.full(len(FLOW_FIELDS), -np.inf)
        self._following, self._ranges = True, None
        for curve in self.curves:
            curve.setData([], [])
        self.show_position(None)
        self.plot.enableAutoRange()

    def add_batches(self, positions: np.ndarray, flow: np.ndarray, records_per_epoch: int) -> None:
        """Append the flow recorded since the last call: the records' points of training in
        epochs (F,), increasing, and their flow (F, 3, L), rows ``core.train.FLOW_FIELDS``;
        about ``records_per_epoch`` of them make an epoch (it sets the smoothing)."""
        if len(positions) == 0:
            return
        flow = np.asarray(flow, dtype=float)
        if flow.shape[1:] != (len(FLOW_FIELDS), self._n_layers):
            raise ValueError(f"a flow of shape {flow.shape[1:]}, but this panel draws "
                             f"{(len(FLOW_FIELDS), self._n_layers)}")
        values = flow.reshape(len(flow), -1)  # (F, 3 L): quantity-major, as the rows
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.where(values > 0, np.log10(values), np.nan)  # 0, NaN (and < 0) unknown
        smoothed = smooth_logs(logs, self._last, smoothing(records_per_epoch))  # (F, 3 L)
        self._last = smoothed[-1].copy()
        self._bound(smoothed)
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
        """The key of QUANTITIES drawn: "gradient", "delta" or "update"."""
        return self.quantity_box.currentData()

    def set_quantity(self, name: str) -> None:
        self.quantity_box.setCurrentIndex(list(QUANTITIES).index(name))

    def values_at(self, position: float | None, smoothed: bool = True) -> np.ndarray | None:
        """The quantity shown of each layer (L,) at the last batch recorded at or before
        ``position`` (None: the newest), as its line shows it (or as recorded, unsmoothed: one
        batch's gradient is noisy, several times the line's now and then); None if no batch is."""
        i = self._row_at(position)
        if i is None:
            return None
        q = list(QUANTITIES).index(self.quantity)
        if smoothed:
            return np.array([self._smoothed.column(q * self._n_layers + l)[i] for l in range(self._n_layers)])
        return np.array([self._raw.column(1 + q * self._n_layers + l)[i] for l in range(self._n_layers)])

    # --- drawing ----------------------------------------------------------------------------

    def _row_at(self, position: float | None) -> int | None:
        if self._raw is None or self._raw.size == 0:
            return None
        x = self._raw.column(0)
        i = len(x) - 1 if position is None else int(np.searchsorted(x, position, side="right")) - 1
        return i if i >= 0 else None

    def _bound(self, smoothed: np.ndarray) -> None:
        """Widen each quantity's bounds to the new smoothed values (log10), so the ranges need
        not look at all the batches again."""
        by_quantity = smoothed.reshape(len(smoothed), len(FLOW_FIELDS), self._n_layers)  # (F, 3, L)
        finite = np.isfinite(by_quantity)
        self._low = np.minimum(self._low, np.where(finite, by_quantity, np.inf).min(axis=(0, 2)))
        self._high = np.maximum(self._high, np.where(finite, by_quantity, -np.inf).max(axis=(0, 2)))

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
        if not self._following or self._smoothed.size == 0 or not self._low[q] <= self._high[q]:
            return
        low, high = math.floor(self._low[q]), math.ceil(self._high[q])
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
        i = self._row_at(self._position)
        if i is None:
            self.status_label.setText("no batch recorded yet" if self._position is None else "")
            self.status_label.setToolTip("")
            return
        at = self._raw.column(0)[i]
        parts = [f"<span style='color:{_colour(l)}'>W{l + 1}</span> {_number(v)}"
                 for l, v in enumerate(self.values_at(self._position))]
        self.status_label.setText(f"epoch {at:.2f}, smoothed: " + " · ".join(parts))
        raw = self.values_at(self._position, smoothed=False)
        self.status_label.setToolTip("that batch alone: " + ", ".join(
            f"W{l + 1} {_number(v)}" for l, v in enumerate(raw)))

    @Slot(int)
    def _on_quantity(self, _index: int) -> None:
        self._following, self._ranges = True, None
        self._draw()
        self._say()


def _colour(l: int) -> str:
    """The colour of W[l]'s line: that of layer l+1, which it computes."""
    return theme.LAYERS[l % len(theme.LAYERS)]


def _number(v: float) -> str:
    return "–" if not math.isfinite(v) else f"{v:.2g}" if v else "0"


# --- benchmark --------------------------------------------------------------------------------

def build_parser():
    from core.commandline import Parser, positive_int
    parser = Parser(prog="python -m app.panels.flow",
                    description="Time the gradient flow panel through a long run of 'classic' (4 weight "
                    "layers, 6,000 batches an epoch), every batch recorded: add_batches + show_position "
                    "+ a repaint for each group of batches, as the window's redraw timer feeds it.")
    parser.add_argument("--batches", type=positive_int, default=180_000, help="batches in all (180,000)")
    parser.add_argument("--group", type=positive_int, default=50, help="batches a call (50)")
    return parser


def main(argv=None) -> int:
    """Feed a synthetic flow of sigmoid-like sizes (each layer a decade below the next, noisy)
    in groups, timing each call and the repaint after it, at the small and the large dock's
    sizes; nothing is trained."""
    args = build_parser().parse_args(argv)
    import os
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.panels.diagram import percentiles
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    theme.configure()
    sizes, per_epoch, N = (784, 20, 20, 20, 10), 6000, args.batches
    L = len(sizes) - 1
    rng = np.random.default_rng(0)
    decades = 10.0 ** -np.arange(L + 1, 1, -1)  # (L,): W1's gradient the smallest, as a sigmoid net's
    flow = (rng.lognormal(0.0, 0.5, (N, len(FLOW_FIELDS), L)) * decades).astype(np.float32)
    positions = np.arange(1, N + 1) / per_epoch
    for width, height in ((480, 230), (900, 500)):
        panel = FlowPanel()
        panel.resize(width, height)
        panel.show()
        app.processEvents()
        panel.reset(L, sizes)
        update, paint, total = [], [], []
        for start in range(0, N, args.group):
            t0 = time.perf_counter()
            panel.add_batches(positions[start:start + args.group], flow[start:start + args.group], per_epoch)
            panel.show_position(None)
            t1 = time.perf_counter()
            panel.grab()
            t2 = time.perf_counter()
            update.append(t1 - t0)
            paint.append(t2 - t1)
            total.append(t2 - t0)
        last = len(total) // 10
        print(f"{N:,} batches of {L} layers in {len(total)} calls of {args.group}, {width}x{height}:")
        print(f"  add_batches + show_position: {percentiles(update)}")
        print(f"  repaint (grab):              {percentiles(paint)}")
        print(f"  together:                    {percentiles(total)}")
        print(f"  together, the last tenth:    {percentiles(total[-last:])}  (pyqtgraph's setData "
              f"and downsampling grow with the batches)")
        t0 = time.perf_counter()
        panel.reset(L, sizes)
        panel.add_batches(positions, flow, per_epoch)
        panel.grab()
        print(f"  all {N:,} at once (a run opened): {(time.perf_counter() - t0) * 1e3:.0f} ms")
        panel.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
