"""What a layer sees: 2,000 test digits as points in a chosen layer's activation space, projected
to two dimensions (``core.projection``: PCA, one frame kept across moments), coloured by class.
Scrubbed through the moments of training, the classes pull apart.

``set_dataset(x_test, y_test)`` once (it draws the fixed, class-balanced sample); then
``show_snapshot(snapshot)`` with the moment shown, and ``set_digit(index)`` with the test digit
shown elsewhere, which is ringed here (drawn even when it is not one of the 2,000). Clicking a
point emits ``digit_chosen(index)``, its index in the test set. ``forget()`` when the run is
replaced (Reset, Open): the frame is fitted on the most trained network seen, and a new run's
moments should not be drawn in the old run's axes.

Everything is created once and fed with ``setData``; the same snapshot again recomputes nothing.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app import theme
from core.projection import SAMPLE_SIZE, LayerMap, Picture, layer_activations, sample
from core.train import Snapshot

# One colour a digit, on theme.BACKGROUND: Tableau 10, with blue, green, purple and brown made
# lighter (Tableau's 4e79a7, 59a14f, b07aa1, 9c755f stand 3.9, 5.6, 5.2 and 4.3 to 1 against the
# background). Each now stands at least 4.8 to 1 (WCAG contrast: red e15759 is the lowest) and
# the ten stay apart in hue. Orange (1) is near theme.ACCENT; the ring of the marked digit is
# told apart by its shape and size, not its colour.
DIGIT_COLOURS = ("#5b9bd5", "#f28e2b", "#e15759", "#76b7b2", "#6cc04a",
                 "#edc948", "#c490d1", "#ff9da7", "#b8906f", "#bab0ac")
# The view holds +-VIEW_RANGE of the pictures' unit (their RMS radius). Measured over every
# moment and layer of 'fast' and 'classic' after 3 epochs on 10,000 images: 99.5% of points lie
# within |x| <= 2.8 and |y| <= 3.0; the farthest at 4.0. A fixed range, so nothing moves that the
# network did not move.
VIEW_RANGE = 3.2
POINT_PX = 4  # 2,000 points of 4 px in a 200 px square still leave the clouds' shapes visible
RING_PX = 13
LEGEND_STYLE = "font-size: 9pt"
STATUS_STYLE = f"color: {theme.MUTED}; font-size: 8pt"


class LayerMapPanel(QWidget):
    """The sample of test digits in one layer's activation space, at the moment shown."""

    digit_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._x_test: np.ndarray | None = None
        self._labels: np.ndarray | None = None  # (N_test,)
        self._indices = np.empty(0, dtype=np.intp)  # (N,) the sample's indices in the test set
        self._map: LayerMap | None = None
        self._snapshot: Snapshot | None = None
        self._network = None  # the snapshot's Network, made once per snapshot
        self._picture: Picture | None = None
        self._drawn: tuple | None = None  # (snapshot, layer) of the picture drawn
        self._architecture = None
        self._digit: int | None = None
        self._brushes: list = []
        self._build()

    # --- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.layer_box = QComboBox()
        self.layer_box.setToolTip("The layer whose activations are drawn")
        self.layer_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.layer_box.currentIndexChanged.connect(self._on_layer_chosen)
        self.status_label = QLabel("")
        self.status_label.setStyleSheet(STATUS_STYLE)
        # clipped at the panel's edge rather than squeezing the layer box (a 480 px dock)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status_label.setToolTip(
            f"{SAMPLE_SIZE:,} test digits, 200 of each. Each moment's points are centred and scaled to the same spread, in the principal "
            "axes of the most trained network seen: earlier moments are drawn in its axes, so "
            "the points move only as the network moves them. 'spread' is their RMS distance "
            "from the centre, in units of activation.")
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(theme.BACKGROUND)
        self.box = self.view.addViewBox(lockAspect=True, enableMouse=False)
        self.box.setMenuEnabled(False)
        self.box.setRange(xRange=(-VIEW_RANGE, VIEW_RANGE), yRange=(-VIEW_RANGE, VIEW_RANGE), padding=0)
        self.box.disableAutoRange()
        self.points = pg.ScatterPlotItem(size=POINT_PX, pen=None, hoverable=True, tip=self._tip)
        self.points.sigClicked.connect(self._on_points_clicked)
        self.ring = pg.ScatterPlotItem(size=RING_PX, pen=pg.mkPen(theme.ACCENT, width=2.5),
                                       brush=None, symbol="o")
        self.ring.setZValue(10)
        self.box.addItem(self.points)
        self.box.addItem(self.ring)
        self.message = pg.TextItem("", color=theme.MUTED, anchor=(0.5, 0.5))
        self.box.addItem(self.message)
        self.legend = QLabel("<br>".join(
            f'<span style="color: {c}">&#9679;</span> {d}' for d, c in enumerate(DIGIT_COLOURS)))
        self.legend.setStyleSheet(LEGEND_STYLE)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.legend.setToolTip("The true digit of each point")

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Layer"))
        controls.addWidget(self.layer_box)
        controls.addWidget(self.status_label, 1)
        body = QHBoxLayout()
        body.addWidget(self.view, 1)
        body.addWidget(self.legend)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.setSpacing(2)
        outer.addLayout(controls)
        outer.addLayout(body, 1)
        self._say("no network yet")

    def _rebuild_layers(self, snapshot: Snapshot) -> None:
        """The layer chooser's items, when the architecture changes: every hidden layer and the
        output; the last hidden layer first chosen (the output, if there is no hidden layer)."""
        sizes, L = snapshot.sizes, len(snapshot.sizes) - 1
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        for l in range(1, L + 1):
            kind = snapshot.output if l == L else snapshot.hidden
            self.layer_box.addItem(f"{'output' if l == L else f'layer {l}'} ({sizes[l]} {kind})", l)
        self.layer_box.setCurrentIndex(max(L - 2, 0))
        self.layer_box.blockSignals(False)
        self._architecture = (snapshot.sizes, snapshot.hidden, snapshot.output)

    # --- what the window calls --------------------------------------------------------------

    def set_dataset(self, x_test: np.ndarray, y_test: np.ndarray) -> None:
        """The test images (N, 784) and digits (N,): the sample is drawn from them
        (``core.projection.sample``), and the frame starts afresh."""
        self._x_test, self._labels = x_test, np.asarray(y_test)
        self._indices = sample(self._labels)
        brushes = [pg.mkBrush(c) for c in DIGIT_COLOURS]
        self._brushes = [brushes[int(d) % len(brushes)] for d in self._labels[self._indices]]
        self._map = LayerMap(x_test[self._indices])
        self._drawn = None
        self._picture = None
        self._redraw()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw the sample at this moment: one forward pass of the 2,000 digits (and, if the
        frame is fitted anew, a PCA). Nothing is recomputed for the snapshot drawn last, or for
        another object with its step and the same weights (``History.snapshot`` makes a new one
        each time a moment is asked for again after another)."""
        if (snapshot.sizes, snapshot.hidden, snapshot.output) != self._architecture:
            self._rebuild_layers(snapshot)
        if not _same(snapshot, self._snapshot):
            self._snapshot = snapshot
            self._network = snapshot.network()
        self._redraw()

    def set_digit(self, index: int | None) -> None:
        """Ring test digit ``index`` (None: none), where this moment places it."""
        self._digit = index
        self._place_ring()

    def forget(self) -> None:
        """A new run: the old run's snapshot is let go (nothing is drawn until the next one) and
        the next snapshot fits the frame afresh (see the module's docstring)."""
        if self._map is not None:
            self._map.forget()
        self._snapshot = self._network = self._picture = None
        self._drawn = None
        self._redraw()

    @property
    def layer(self) -> int | None:
        """The layer drawn (1 .. L, as in ``core.inspect``), or None before a snapshot."""
        return self.layer_box.currentData()

    def set_layer(self, layer: int) -> None:
        """Draw ``layer`` (1 .. L) as if chosen in the box."""
        k = self.layer_box.findData(layer)
        if k < 0:
            raise ValueError(f"layer must be 1 to {self.layer_box.count()}, got {layer}")
        self.layer_box.setCurrentIndex(k)

    @property
    def picture(self) -> Picture | None:
        """The picture drawn: the numbers behind the points (for tests and tours)."""
        return self._picture

    @property
    def sample_indices(self) -> np.ndarray:
        """The test-set index of each point, in the order of the points."""
        return self._indices

    # --- drawing ----------------------------------------------------------------------------

    def _redraw(self) -> None:
        if self._map is None or self._snapshot is None or self.layer is None:
            self.points.setData([])
            self._say("no test digits yet" if self._map is None else "no network yet")
            self._place_ring()
            return
        key = (self._snapshot, self.layer)
        if self._drawn is None or self._drawn[0] is not key[0] or self._drawn[1] != key[1]:
            self._picture = self._map.picture(self._network, self._snapshot.step, self.layer)
            self._drawn = key
            p = self._picture
            if p.finite:
                self.points.setData(pos=p.points, brush=self._brushes, data=self._indices)
                self._say("")
            else:
                self.points.setData([])
                self._say("activations not finite")
            self._set_status(p)
        self._place_ring()

    def _set_status(self, p: Picture) -> None:
        s = self._snapshot
        frame = "" if p.axes_step == p.step else f" · axes of step {p.axes_step:,}"
        text = f"epoch {s.epoch} · step {s.step:,}{frame} · spread {p.spread:.3g}"
        if self.status_label.text() != text:
            self.status_label.setText(text)

    def _place_ring(self) -> None:
        k, p = self._digit, self._picture
        if k is None or p is None or not p.finite or self._x_test is None or not 0 <= k < len(self._x_test):
            self.ring.setData([])
            return
        where = np.searchsorted(self._indices, k)
        if where < len(self._indices) and self._indices[where] == k:
            pos = p.points[where:where + 1]
        else:  # not one of the sample: its own forward pass, placed in the same picture
            with np.errstate(over="ignore", invalid="ignore"):
                a = layer_activations(self._network, self._x_test[k:k + 1], p.layer)
                pos = p.place(a)
        self.ring.setData(pos=pos)

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # --- the user ---------------------------------------------------------------------------

    def _on_layer_chosen(self, _index: int) -> None:
        self._redraw()

    def _on_points_clicked(self, _item, points, event) -> None:
        """The point nearest the click, of those under it: its digit is chosen."""
        click = event.pos()
        nearest = min(points, key=lambda pt: (pt.pos().x() - click.x()) ** 2 + (pt.pos().y() - click.y()) ** 2)
        self.digit_chosen.emit(int(nearest.data()))

    def _tip(self, x: float, y: float, data) -> str:
        return f"test digit {int(data):,}: a {int(self._labels[int(data)])}"

    def point_position(self, index: int):
        """Where the point of test digit ``index`` (one of the sample) is in ``view``'s
        viewport: for tests and tours."""
        where = int(np.searchsorted(self._indices, index))
        x, y = self._picture.points[where]
        return self.view.mapFromScene(self.box.mapViewToScene(pg.Point(float(x), float(y))))


def _same(a: Snapshot, b: Snapshot | None) -> bool:
    """The same weights at the same step (np.array_equal of 'fast''s weights: 0.1 ms)."""
    if b is None:
        return False
    if a is b:
        return True
    return (a.step == b.step and a.sizes == b.sizes and (a.hidden, a.output) == (b.hidden, b.output)
            and all(np.array_equal(u, v) for u, v in zip((*a.W, *a.b), (*b.W, *b.b))))
