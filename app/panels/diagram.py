"""The network as 3Blue1Brown draws it: the input digit on the left, each layer a column of
circles lit by their activation, edges between them coloured by the sign of their contribution
(weight x incoming activation: blue pushes the neuron down, red up) and drawn wider and brighter
the larger it is, the output column labelled with its digits and the prediction marked.

It is driven as ``ActivationsPanel`` is: ``show_snapshot(snapshot)`` sets the weights,
``show_input(x, label)`` the digit, ``set_selection(layer, neuron)`` the neuron the inspector
shows; a click on a circle emits ``neuron_clicked(layer, neuron)``. Each call runs at most one
forward pass and feeds items made once per architecture: one scatter item for all the circles,
and the edges batched into a few curve items, one per (selected or not, sign, width) — never one
item per edge. ``core.diagram`` chooses which neurons and edges are drawn.

Choices, and why:
- The input is drawn as its image, not as 784 circles. Its edges to the first layer start at
  the pixels that contribute most to each shown neuron (``PIXEL_EDGES``), so lines leave the
  strokes of the digit that drive a neuron; an unlit pixel contributes nothing and sends none.
- A layer wider than ``WHOLE_UP_TO`` is drawn as its ``WIDE_SHOWN`` most active neurons for
  this input, with "+n more" under the column. They stand in index order, not in order of
  activation: while training, the most active set changes a neuron or two at a time and the
  others keep their order; ranked by activation, every swap of two values would move circles
  and the edges between them, every frame. The selected neuron is always among those shown.
- Edges between two shown columns: all of them when the incoming layer is shown whole (as in
  the 3Blue1Brown picture, and in 'classic'), otherwise the strongest ``EDGES_PER_NEURON`` per
  neuron. Each layer's edges are scaled by its own largest contribution: the pixels' ones are
  about ten times smaller than those between hidden layers, and would otherwise vanish.
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QFont
from PySide6.QtWidgets import QToolTip, QVBoxLayout, QWidget

from app import theme
from app.panels import readout
from core import diagram
from core.data import DIGITS
from core.inspect import SIDE
from core.train import Snapshot

# --- what is drawn ---
WIDE_SHOWN = 16  # neurons drawn of a layer too wide: 3Blue1Brown's network has 16 per hidden layer
WHOLE_UP_TO = 20  # a layer of up to this many is drawn whole ('classic': 20), if the height allows
EDGES_PER_NEURON = 4  # incoming edges drawn per neuron from a column that is not drawn whole
PIXEL_EDGES = 3  # edges from the image per first-layer neuron: 16 x 3 lines leave the strokes
SELECTED_PIXEL_EDGES = 12  # from the image to the selected first-layer neuron
# Edges by |contribution| as a fraction of their layer's largest: below FLOOR they are not drawn
# (at the weakest bin's alpha they would be invisible); then BINS, each with a width and alpha.
FLOOR = 0.05
BINS = (0.2, 0.45, 0.7)  # the lower ends of bins 1..3; bin 0 is [FLOOR, 0.2)
WIDTHS = (0.6, 1.0, 1.6, 2.4)  # pixels
ALPHAS = (70, 120, 180, 240)
SELECTED_EXTRA_WIDTH = 1.0  # the selected neuron's edges: wider, opaque, over the others dimmed
DIMMED = 0.35  # the other edges' colour is this much of theirs while a neuron is selected
# Bounded activations light their circles on a fixed scale; ReLU's on a round scale above the
# layer's largest (theme.round_up), which changes now and then rather than every frame.
VALUE_RANGES = {"sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0), "tanh": (-1.0, 1.0)}
LEVELS = 32  # grey levels of the circles: few brushes, so the scatter item caches its symbols

# --- where it is drawn (pixels) ---
MARGIN = 6
HEADER = 14  # the column titles' line
NOTE = 14  # the "+240 more" line under the columns
LABELS = 24  # right of the output column, for its digits
MIN_PITCH = 9  # between two circles' centres, at least: 20 fit a 230-pixel-high dock
MAX_PITCH = 30  # at most: a tall panel spreads the columns no further
CIRCLE = 0.72  # a circle's diameter, as a fraction of the pitch
IMAGE_SHARE = 0.24  # of the width, at most, for the input image
FONT = QFont()
FONT.setPointSizeF(8.0)
BOLD = QFont(FONT)
BOLD.setBold(True)


def _edge_colours() -> dict[int, tuple[int, int, int]]:
    """The ends of the weights' colour map: -1 blue (pushes down), +1 red (pushes up)."""
    ends = theme.WEIGHTS.map(np.array([0.0, 1.0]), mode="byte")
    return {-1: tuple(int(v) for v in ends[0][:3]), 1: tuple(int(v) for v in ends[1][:3])}


def _over_background(rgb: tuple[int, int, int], alpha: int) -> QColor:
    """``rgb`` at opacity ``alpha`` over the background, as an opaque colour. Qt strokes lines
    wider than a pixel five to ten times slower when they are translucent: 152 edges of 'fast'
    at 900x500 took 18 ms to paint with alpha, 2.7 ms opaque (measured with grab())."""
    back = QColor(theme.BACKGROUND)
    t = alpha / 255
    return QColor(*(round(t * c + (1 - t) * b) for c, b in zip(rgb, (back.red(), back.green(), back.blue()))))


class DiagramPanel(QWidget):
    """The network diagram for one input and one snapshot; see the module's docstring."""

    neuron_clicked = Signal(int, int)  # (layer, neuron), layer 1..L as in core.inspect

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._snapshot: Snapshot | None = None
        self._input: np.ndarray | None = None
        self._label: int | None = None
        self._names: tuple[str, ...] = DIGITS  # the output classes' names
        self._activations: list[np.ndarray] | None = None  # a[0..L] (1-D each) for the input
        self._selection: tuple[int | None, int | None] = (None, None)
        self._valid_selection: tuple[int | None, int | None] = (None, None)  # of this architecture
        self._architecture = None
        self._shown: list[np.ndarray] = []  # per layer 1..L (index l-1): the neurons drawn
        self._mark: tuple[int | None, str] | None = None  # (predicted digit, colour) drawn

        self.view = pg.GraphicsView(background=theme.BACKGROUND)
        self.view.setMinimumSize(240, 140)
        self.box = pg.ViewBox(enableMouse=False, invertY=True, enableMenu=False, defaultPadding=0)
        self.box.disableAutoRange()
        self.view.setCentralItem(self.box)
        self.box.sigResized.connect(self._on_resized)
        self.view.scene().sigMouseClicked.connect(self._on_click)
        self.view.scene().sigMouseMoved.connect(self._on_hover)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)

        self.image = pg.ImageItem(np.zeros((SIDE, SIDE), dtype=np.float32), axisOrder="row-major",
                                  levels=(0.0, 1.0))
        self.image.setColorMap(theme.GRAY)
        self.frame = pg.QtWidgets.QGraphicsRectItem()  # the image's edge, on the dark background
        self.frame.setPen(pg.mkPen(theme.MUTED, width=1))
        self.input_title = self._text("input", theme.MUTED, anchor=(0.5, 0.0))
        self.caption = self._text("", theme.MUTED, anchor=(0.5, 0.0))
        self.box.addItem(self.image)
        self.box.addItem(self.frame)
        self.image.setZValue(0)
        self.frame.setZValue(0.5)

        colours = _edge_colours()
        self.edges: dict[tuple[bool, int, int], pg.PlotCurveItem] = {}
        self._edge_pens: dict[tuple[bool, int, int], dict[bool, pg.QtGui.QPen]] = {}  # dimmed?
        for selected in (False, True):
            for sign in (-1, 1):
                for k, (width, alpha) in enumerate(zip(WIDTHS, ALPHAS)):
                    width += SELECTED_EXTRA_WIDTH * selected
                    opacity = 255 if selected else alpha
                    pens = {dim: pg.mkPen(_over_background(colours[sign], round(opacity * (DIMMED if dim and not selected else 1))),
                                          width=width) for dim in (False, True)}
                    item = pg.PlotCurveItem(pen=pens[False], connect="pairs", antialias=True,
                                            segmentedLineMode="on")  # pairs never overlap their neighbours
                    item.setZValue((2 if selected else 1) + k / 10)  # the strongest on top
                    self.box.addItem(item)
                    self.edges[selected, sign, k] = item
                    self._edge_pens[selected, sign, k] = pens
        self._dimmed = False

        self.circles = pg.ScatterPlotItem(pxMode=True, symbol="o")
        self.circles.setZValue(3)
        self.box.addItem(self.circles)
        grey = theme.GRAY.map(np.linspace(0.0, 1.0, LEVELS), mode="qcolor")
        self._brushes = [pg.mkBrush(c) for c in grey]
        self._pens = {"plain": pg.mkPen(theme.MUTED, width=1),
                      "selected": pg.mkPen(theme.ACCENT, width=2.5),
                      theme.ACCENT: pg.mkPen(theme.ACCENT, width=2.5),
                      theme.MUTED: pg.mkPen(theme.FOREGROUND, width=2.0)}  # an untrained guess

        # Made per architecture (_rebuild): column titles, "+n more" notes, the output's labels.
        self.titles: list[pg.TextItem] = []
        self.notes: list[pg.TextItem] = []
        self.digit_labels: list[pg.TextItem] = []
        # Set per layout (_place): positions of the slots of each column, and of the pixels.
        self._counts: list[int] = []  # circles per layer 1..L
        self._slot_x: list[float] = []
        self._slot_y: list[np.ndarray] = []
        self._pixel_xy = np.zeros((2, SIDE * SIDE))
        self._diameter = 0.0

    def _text(self, text: str, colour: str, anchor=(0.5, 0.5), bold: bool = False) -> pg.TextItem:
        item = pg.TextItem(text, color=colour, anchor=anchor)
        item.setFont(BOLD if bold else FONT)
        item.setZValue(4)
        self.box.addItem(item)
        return item

    # --- what the window calls --------------------------------------------------------------

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw the diagram with these weights (one forward pass of the input shown)."""
        if (snapshot.sizes, snapshot.hidden, snapshot.output) != self._architecture:
            self._rebuild(snapshot)
        self._snapshot = snapshot
        self._forward()
        self._refresh()

    def set_class_names(self, names) -> None:
        """The output classes' names (default: the digits), for the caption under the input; the
        output column keeps its numbers (a word beside each circle would not fit)."""
        self._names = tuple(names)
        if self._label is not None:
            self.caption.setText(f"true {self._names[self._label]}")

    def show_input(self, x: np.ndarray, label: int | None = None) -> None:
        """Draw the diagram for this input (784,) in [0, 1]; ``label`` is its digit, if known."""
        self._input = x
        self._label = label
        self.image.setImage(x.reshape(SIDE, SIDE), levels=(0.0, 1.0))
        self.caption.setText("" if label is None else f"true {self._names[label]}")
        self._forward()
        self._refresh()

    def set_selection(self, layer: int | None, neuron: int | None) -> None:
        """Ring neuron ``neuron`` of ``layer`` (1-based; L is the output) and bring out its edges;
        None, None clears. No forward pass: only the neurons and edges drawn change."""
        if (layer, neuron) == self._selection:
            return
        self._selection = (layer, neuron)
        self._refresh()

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    @property
    def predicted(self) -> int | None:
        """The output marked as the prediction, or None."""
        return None if self._mark is None else self._mark[0]

    @property
    def shown(self) -> list[np.ndarray]:
        """The neurons drawn of each layer 1..L (index l - 1), in the order drawn, top down."""
        return list(self._shown)

    def drawn_edges(self, selected: bool | None = None, sign: int | None = None) -> int:
        """How many edges are drawn: of the selected neuron or the others, positive (+1) or
        negative (-1), or all (None): for tests."""
        return sum(len(item.xData) // 2 for (sel, s, _), item in self.edges.items()
                   if item.xData is not None and selected in (None, sel) and sign in (None, s))

    def neuron_position(self, layer: int, neuron: int):
        """Where neuron ``neuron`` of ``layer`` is drawn in ``view``'s viewport, or None if it is
        not drawn: for tests and tours."""
        slots = np.flatnonzero(self._shown[layer - 1] == neuron) if self._shown else []
        if not len(slots):
            return None
        point = QPointF(self._slot_x[layer - 1], float(self._slot_y[layer - 1][slots[0]]))
        return self.view.mapFromScene(self.box.mapViewToScene(point))

    # --- building ---------------------------------------------------------------------------

    def _rebuild(self, snapshot: Snapshot) -> None:
        """Titles, notes and the output's labels for a new architecture."""
        for item in (*self.titles, *self.notes, *self.digit_labels):
            self.box.removeItem(item)
        sizes = snapshot.sizes
        L = len(sizes) - 1
        self.titles = [self._text(f"{n} {snapshot.hidden if l < L else snapshot.output}",
                                  theme.MUTED, anchor=(0.5, 0.0)) for l, n in enumerate(sizes[1:], 1)]
        self.notes = [self._text("", theme.MUTED, anchor=(0.5, 0.0)) for _ in sizes[1:]]
        self.digit_labels = [self._text(str(j), theme.FOREGROUND, anchor=(0.0, 0.5))
                             for j in range(sizes[L])]
        self._architecture = (sizes, snapshot.hidden, snapshot.output)
        self._mark = None
        self._place()

    def _on_resized(self) -> None:
        self._place()
        self._refresh()

    def _place(self) -> None:
        """Lay the diagram out in the box's pixels (the view's range is its size in pixels):
        how many circles each column holds, and where every circle, pixel and text goes."""
        w, h = max(self.box.width(), 1.0), max(self.box.height(), 1.0)
        self.box.setRange(xRange=(0, w), yRange=(0, h), padding=0)
        top, bottom = MARGIN + HEADER, h - MARGIN - NOTE
        usable = max(bottom - top, 1.0)
        side = max(min(usable, IMAGE_SHARE * w), 1.0)
        x0, y0 = MARGIN, top + (usable - side) / 2
        self.image.setRect(QRectF(x0, y0, side, side))
        self.frame.setRect(QRectF(x0, y0, side, side))
        self.input_title.setPos(x0 + side / 2, max(MARGIN, y0 - HEADER - 2))
        self.caption.setPos(x0 + side / 2, y0 + side + 1)
        cell = side / SIDE
        rows, cols = np.divmod(np.arange(SIDE * SIDE), SIDE)
        self._pixel_xy = np.stack([x0 + (cols + 0.5) * cell, y0 + (rows + 0.5) * cell])
        if self._architecture is None:
            return
        sizes = self._architecture[0]
        L = len(sizes) - 1
        fit = max(int(usable // MIN_PITCH), 1)
        self._counts = [n if n <= min(WHOLE_UP_TO, fit) else min(WIDE_SHOWN, fit, n) for n in sizes[1:]]
        pitch = min(MAX_PITCH, usable / max(self._counts))
        self._diameter = max(CIRCLE * pitch, 4.0)
        left, right = x0 + side, w - MARGIN - LABELS
        step = (right - left) / L
        self._slot_x = [left + step * l for l in range(1, L + 1)]
        middle = top + usable / 2
        self._slot_y = [middle + (np.arange(m) - (m - 1) / 2) * pitch for m in self._counts]
        for l, n in enumerate(sizes[1:]):
            x, m = self._slot_x[l], self._counts[l]
            half = self.titles[l].boundingRect().width() / 2  # kept inside the panel
            self.titles[l].setPos(min(x, w - MARGIN - half), MARGIN)
            self.notes[l].setText(f"+{n - m} more" if m < n else "")
            self.notes[l].setPos(x, self._slot_y[l][-1] + pitch / 2)
        for j, label in enumerate(self.digit_labels):
            label.setPos(self._slot_x[-1] + self._diameter / 2 + 4, float(self._slot_y[-1][j])
                         if j < self._counts[-1] else -100.0)
        xs = np.concatenate([np.full(m, x) for x, m in zip(self._slot_x, self._counts)])
        ys = np.concatenate(self._slot_y)
        self.circles.setData(x=xs, y=ys, size=self._diameter, symbol="o")
        self._shown = []  # the slots changed: chosen again by _refresh

    # --- drawing ----------------------------------------------------------------------------

    def _forward(self) -> None:
        if self._snapshot is None or self._input is None:
            self._activations = None
            return
        with np.errstate(over="ignore", invalid="ignore"):  # near divergence: show, don't warn
            self._activations = [a[0] for a in self._snapshot.network().forward(self._input[None, :])]

    def _refresh(self) -> None:
        """Choose the neurons and edges for the activations and selection, and feed the items."""
        a = self._activations
        if a is None or not self._counts:
            return
        sel_layer, sel_neuron = self._selection
        if not (sel_layer is not None and 1 <= sel_layer < len(a) and sel_neuron is not None
                and 0 <= sel_neuron < len(a[sel_layer])):
            sel_layer = sel_neuron = None  # none, or one of another architecture
        self._valid_selection = (sel_layer, sel_neuron)
        self._shown = [diagram.most_active(a[l], m, sel_neuron if l == sel_layer else None)
                       for l, m in enumerate(self._counts, start=1)]
        self._light_circles(a)
        self._draw_edges(a)
        dim = sel_layer is not None
        if dim != self._dimmed:  # a pen of its own, not setOpacity: see _over_background
            self._dimmed = dim
            for key, item in self.edges.items():
                item.setPen(self._edge_pens[key][dim])

    def _light_circles(self, a: list[np.ndarray]) -> None:
        _, hidden, output = self._architecture
        L = len(a) - 1
        levels, pens = [], []
        sel_layer, sel_neuron = self._valid_selection
        reading = None
        if np.isfinite(a[L]).all():
            reading = readout.read(a[L], self._snapshot.step, self._snapshot.epoch)
        for l, shown in enumerate(self._shown, start=1):
            values = np.nan_to_num(a[l][shown], nan=0.0)
            low, high = VALUE_RANGES.get(hidden if l < L else output, (0.0, None))
            if high is None:
                finite = a[l][np.isfinite(a[l])]  # none near divergence: round_up(0) = 1
                high = theme.round_up(float(finite.max()) if finite.size else 0.0)
            levels.append(np.clip((values - low) / (high - low), 0.0, 1.0))
            for j in shown:
                if l == sel_layer and j == sel_neuron:
                    pens.append(self._pens["selected"])
                elif l == L and reading is not None and j == reading.digit:
                    pens.append(self._pens[reading.colour])
                else:
                    pens.append(self._pens["plain"])
        index = np.rint(np.concatenate(levels) * (LEVELS - 1)).astype(int)
        self.circles.setBrush([self._brushes[k] for k in index])
        self.circles.setPen(pens)
        mark = (None, "") if reading is None else (reading.digit, reading.colour)
        if mark != self._mark:  # the two labels concerned, only when the prediction changes
            before = self._mark[0] if self._mark is not None else None
            self._mark = mark
            for j in {before, mark[0]} - {None}:
                marked = j == mark[0]
                self.digit_labels[j].setColor(mark[1] if marked else theme.FOREGROUND)
                self.digit_labels[j].setFont(BOLD if marked else FONT)

    def _draw_edges(self, a: list[np.ndarray]) -> None:
        W = self._snapshot.W
        L = len(a) - 1
        sel_layer, sel_neuron = self._valid_selection
        segments = []  # per layer: (x0, y0, x1, y1, contribution, selected)
        for l in range(1, L + 1):
            targets = self._shown[l - 1]
            if l == 1:
                sources, per = np.arange(len(a[0])), PIXEL_EDGES
            else:
                sources = self._shown[l - 2]
                whole = len(sources) == len(a[l - 1])
                per = len(sources) if whole else EDGES_PER_NEURON
            plain = diagram.strongest_edges(a[l - 1], W[l - 1], sources, targets, per)
            parts = [(plain, False)]
            if sel_layer == l:  # into the selected neuron: more of them, drawn on top
                into = diagram.strongest_edges(a[l - 1], W[l - 1], sources, np.array([sel_neuron]),
                                               SELECTED_PIXEL_EDGES if l == 1 else len(sources))
                keep = plain.target != sel_neuron
                parts = [(_subset(plain, keep), False), (into, True)]
            if sel_layer == l - 1:  # out of the selected neuron
                out = diagram.outgoing(float(a[l - 1][sel_neuron]), W[l - 1][sel_neuron], sel_neuron, targets)
                parts = [(_subset(e, e.source != sel_neuron) if not s else e, s) for e, s in parts]
                parts.append((out, True))
            for edges, selected in parts:
                x0, y0 = self._positions(l - 1, edges.source)
                x1, y1 = self._positions(l, edges.target)
                segments.append((l, x0, y0, x1, y1, edges.contribution, selected))
        # Each layer's edges scaled by its largest, then sorted into the items by (selected,
        # sign, bin): one pass over all the edges, one setData per item.
        largest = {}  # per layer; core.diagram leaves out NaN and zero contributions
        for l, *_, c, _ in segments:
            if len(c):
                largest[l] = max(largest.get(l, 0.0), float(np.max(np.abs(c))))
        m = np.concatenate([np.abs(c) / largest[l] if len(c) else c for l, *_, c, _ in segments])
        x0, y0, x1, y1, c = (np.concatenate([seg[i] for seg in segments]) for i in range(1, 6))
        selected = np.concatenate([np.full(len(seg[5]), seg[6]) for seg in segments])
        drawn = m >= FLOOR  # False for NaN
        key = (selected * 2 + (c > 0)) * len(WIDTHS) + np.searchsorted(BINS, m, side="right")
        key, x0, y0, x1, y1 = (v[drawn] for v in (key, x0, y0, x1, y1))
        order = np.argsort(key, kind="stable")
        bounds = np.searchsorted(key[order], np.arange(len(self.edges) + 1))
        x = np.empty(2 * len(key))
        y = np.empty(2 * len(key))
        x[0::2], x[1::2], y[0::2], y[1::2] = x0[order], x1[order], y0[order], y1[order]
        for (sel, sign, b), item in self.edges.items():
            k = (int(sel) * 2 + (sign > 0)) * len(WIDTHS) + b
            lo, hi = bounds[k], bounds[k + 1]
            if hi == lo and (item.xData is None or not len(item.xData)):
                continue  # empty, and was already
            item.setData(x=x[2 * lo:2 * hi], y=y[2 * lo:2 * hi], connect="pairs")

    def _positions(self, layer: int, neurons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where these neurons of ``layer`` are drawn: pixels of the image for layer 0."""
        if layer == 0:
            return self._pixel_xy[0][neurons], self._pixel_xy[1][neurons]
        slots = np.searchsorted(self._shown[layer - 1], neurons)  # shown is in index order
        return np.full(len(neurons), self._slot_x[layer - 1]), self._slot_y[layer - 1][slots]

    # --- the user ---------------------------------------------------------------------------

    def _neuron_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """(layer, neuron) of the circle under this point of the scene, or None."""
        if not self._shown or not self.box.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.box.mapSceneToView(scene_pos)
        reach = max(self._diameter / 2 + 2, 5.0)
        for l, (x, ys) in enumerate(zip(self._slot_x, self._slot_y), start=1):
            if abs(p.x() - x) <= reach and len(ys):
                s = int(np.argmin(np.abs(ys - p.y())))
                if abs(ys[s] - p.y()) <= reach:
                    return l, int(self._shown[l - 1][s])
        return None

    def _on_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        hit = self._neuron_at(event.scenePos())
        if hit is not None:
            self.neuron_clicked.emit(*hit)

    def _on_hover(self, scene_pos: QPointF) -> None:
        hit = self._neuron_at(scene_pos)
        if hit is None or self._activations is None:
            QToolTip.hideText()
            return
        l, j = hit
        name = "output" if l == len(self._activations) - 1 else f"layer {l}"
        QToolTip.showText(QCursor.pos(), f"{name}, neuron {j}: {self._activations[l][j]:.3g}", self.view)


def _subset(edges: diagram.Edges, keep: np.ndarray) -> diagram.Edges:
    return diagram.Edges(edges.source[keep], edges.target[keep], edges.contribution[keep])


# --- benchmark and pictures -------------------------------------------------------------------

def percentiles(times: list[float]) -> str:
    """Median and p99 of seconds, in milliseconds (the panels' benchmarks print them)."""
    ms = np.array(times) * 1e3
    return f"median {np.median(ms):.2f} ms, p99 {np.percentile(ms, 99):.2f} ms"


def build_parser():
    from core.commandline import Parser
    return Parser(prog="python -m app.panels.diagram",
                  description="Time the network diagram's redraw for 'fast' (random weights of its "
                  "shapes), at the small and the large dock's sizes (target <= 10 ms).")


def main(argv=None) -> int:
    """Time show_snapshot + show_input + a repaint for 'fast' with random weights of its shapes,
    at the small and the large dock's sizes; nothing is trained."""
    build_parser().parse_args(argv)
    import os
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from core.config import preset
    from core.network import Network

    app = QApplication.instance() or QApplication([])
    theme.configure()
    cfg = preset("fast")
    rng = np.random.default_rng(0)
    snapshots = [Snapshot.of(Network.initialised(cfg.sizes, cfg.hidden, cfg.output, cfg.loss, seed=s),
                             epoch=1, step=100 + s) for s in range(8)]
    inputs = (rng.random((8, SIDE * SIDE)) < 0.2).astype(np.float32)  # a fifth of the pixels lit
    for width, height in ((480, 230), (900, 500)):
        panel = DiagramPanel()
        panel.resize(width, height)
        panel.show()
        app.processEvents()
        panel.show_snapshot(snapshots[0])
        panel.show_input(inputs[0], 3)
        panel.set_selection(1, int(panel.shown[0][0]))
        panel.grab()
        update, paint, total = [], [], []
        for k in range(200):
            t0 = time.perf_counter()
            panel.show_snapshot(snapshots[k % len(snapshots)])
            panel.show_input(inputs[k % len(inputs)], k % 10)
            t1 = time.perf_counter()
            panel.grab()
            t2 = time.perf_counter()
            update.append(t1 - t0)
            paint.append(t2 - t1)
            total.append(t2 - t0)
        print(f"fast {width}x{height}, {panel.drawn_edges()} edges, 200 calls:")
        print(f"  show_snapshot + show_input: {percentiles(update)}")
        print(f"  repaint (grab):             {percentiles(paint)}")
        print(f"  together:                   {percentiles(total)}  (target <= 10 ms)")
        panel.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
