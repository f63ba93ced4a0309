"""What the network does with one digit: the input image, every hidden layer's activations as
bars, and the ten outputs with the prediction, its top three outputs, and whether it is sure
(``app.panels.readout``: a network not yet trained only guesses).

"Which input" and "which network" are kept apart: ``show_input(x, label)`` sets the image (the
test-set controls use it; a drawn digit could use it later) and ``show_snapshot(snapshot)`` sets
the weights. Either one re-runs the single forward pass and feeds the existing bars.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QEvent, QPointF, Qt, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.panels import readout
from core.data import DIGITS, reads_digits
from core.inspect import SIDE
from core.train import Snapshot

BAR_WIDTH = 0.7  # of the one unit between two neurons
# Fixed value ranges for bounded activations, so their bars do not jump; ReLU's are autoscaled.
VALUE_RANGES = {"sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0), "tanh": (-1.0, 1.0)}
AXIS_WIDTH = 36  # pixels for every left axis, so the plots line up
TITLE_HEIGHT = 18  # pixels; pyqtgraph's 30 leaves little for the bars in a short panel
OUTPUT_BAR_PX = 12  # the output plot's width per neuron, at least: ten bars, each one labelled
HIDDEN_PLOT_MIN = 100  # pixels of bars for a hidden layer, at least (many neurons share them)
# The answer's headline: bold when the network is sure of it, plain when unsure or guessing;
# {} is the colour (readout.Reading.colour). Under it the top three outputs, small and muted.
HEADLINE_STYLE = {True: "color: {}; font-size: 14pt; font-weight: bold",
                  False: "color: {}; font-size: 12pt"}  # smaller: two lines fit a 1280x720 window
TOP_STYLE = f"color: {theme.MUTED}; font-size: 8pt"


def bar_style(colour: str) -> dict:
    """Brush and a cosmetic one-pixel pen of the same colour: a bar narrower than a pixel is
    otherwise dropped by the rasteriser, leaving gaps where hundreds of neurons share a plot."""
    return {"brush": colour, "pen": pg.mkPen(colour, width=1)}


def style_plot(plot: pg.PlotItem, title: str) -> None:
    """A compact, still plot: small title, sparse value ticks, no mouse panning or menu."""
    plot.setTitle(title, size="9pt")
    plot.layout.setRowFixedHeight(0, TITLE_HEIGHT)
    plot.titleLabel.setMaximumHeight(TITLE_HEIGHT)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    plot.setMenuEnabled(False)
    left = plot.getAxis("left")
    left.setWidth(AXIS_WIDTH)
    left.setStyle(maxTextLevel=0)
    left.setTickDensity(0.4)


def fit_to_scene(view: pg.GraphicsLayoutWidget) -> None:
    """Make ``view`` at least as large as the items of its layout need. A QGraphicsView does not
    ask its scene: squeezed below the layout's minimum (the titles, the axes, the widths given
    below), the layout spills past the view's edge and cuts off what lies there, such as the
    last digits of an output plot. Call it again when the items change (a new title, new plots).

    The items' layouts pass a change up one level per posted LayoutRequest: those are handled
    first, so that the minimum is that of the items as they are now."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    hint = view.ci.effectiveSizeHint(Qt.SizeHint.MinimumSize)
    frame = 2 * view.frameWidth()
    view.setMinimumSize(math.ceil(hint.width()) + frame, math.ceil(hint.height()) + frame)


class SquareView(pg.GraphicsLayoutWidget):
    """A view that asks its layout for as much height as it has width: for a square image."""

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width


class LayerBars:
    """One layer's activations as bars in a plot of their own, with two marks in ACCENT: a filled
    bar (the predicted digit, or the selected hidden neuron) and a band behind the selected one."""

    def __init__(self, plot: pg.PlotItem, n: int, activation: str):
        self.plot = plot
        self.n = n
        self.bars = pg.BarGraphItem(x=np.arange(n), height=np.zeros(n), width=BAR_WIDTH,
                                    **bar_style(theme.BAR))
        self.marked = pg.BarGraphItem(x=[0], height=[0.0], width=BAR_WIDTH, **bar_style(theme.ACCENT))
        self.band = pg.LinearRegionItem((-0.5, 0.5), movable=False, brush=pg.mkColor(theme.ACCENT + "40"),
                                        pen=pg.mkPen(theme.ACCENT, width=1))
        self.band.setZValue(-10)
        plot.addItem(self.band, ignoreBounds=True)
        plot.addItem(self.bars)
        plot.addItem(self.marked)
        self.marked.setVisible(False)
        self.band.setVisible(False)
        self._heights = np.zeros(n)
        self._mark: int | None = None
        self._set_ranges(activation)

    def _set_ranges(self, activation: str) -> None:
        vb = self.plot.getViewBox()
        self.plot.setXRange(-0.5, self.n - 0.5, padding=0.01)
        if activation in VALUE_RANGES:
            low, high = VALUE_RANGES[activation]
            self.plot.setYRange(low, high, padding=0.03)
            ticks = sorted({low, 0.0, high})
            self.plot.getAxis("left").setTicks([[(v, f"{v:g}") for v in ticks], []])
        else:  # unbounded (ReLU): a round range that holds the bars, set as they change
            vb.disableAutoRange(axis="y")
        self._unbounded = activation not in VALUE_RANGES
        self._top = None

    def show_values(self, a: np.ndarray) -> None:
        self._heights = a
        self.bars.setOpts(height=a)
        if self._unbounded:
            # a round top: while training it changes now and then, not every frame, and the
            # axis keeps its ticks laid out (auto-ranging re-laid them out at every paint)
            top = theme.round_up(float(np.nanmax(a)) if a.size else 0.0)
            if top != self._top:
                self._top = top
                self.plot.setYRange(min(0.0, float(np.nanmin(a))) if a.size else 0.0, top, padding=0.03)
                # 0 and the round top only: pyqtgraph's own five ticks overlapped in the 50-pixel
                # plots of a 1280x720 window ("2.0 1.5 1.0 0.5 0" on top of one another)
                self.plot.getAxis("left").setTicks([[(0.0, "0"), (top, f"{top:g}")], []])
        self._place_mark()

    def mark(self, index: int | None) -> None:
        self._mark = index
        self._place_mark()

    def select(self, index: int | None) -> None:
        self.band.setVisible(index is not None)
        if index is not None:
            self.band.setRegion((index - 0.5, index + 0.5))

    def index_at(self, scene_pos: QPointF) -> int | None:
        """The neuron whose column holds this point of the scene, or None."""
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos):
            return None
        i = round(vb.mapSceneToView(scene_pos).x())
        return i if 0 <= i < self.n else None

    def scene_pos_of(self, index: int) -> QPointF:
        """Where neuron ``index``'s column is in the scene, halfway up the plot."""
        vb = self.plot.getViewBox()
        (_, _), (y0, y1) = vb.viewRange()
        return vb.mapViewToScene(QPointF(index, (y0 + y1) / 2))

    def value(self, index: int) -> float:
        return float(self._heights[index])

    def _place_mark(self) -> None:
        k = self._mark
        self.marked.setVisible(k is not None)
        if k is not None:
            self.marked.setOpts(x=[k], height=self._heights[k:k + 1])


class ActivationsPanel(QWidget):
    """The input digit, the activations of every layer for it, and the prediction.

    ``set_dataset(x_test, y_test)`` once; ``show_snapshot(snapshot)`` with every new snapshot.
    The user picks a test digit with the spin box, "Random" or "Next mistake" (which emits
    ``digit_changed(index)``), and clicks a bar to emit ``neuron_clicked(layer, neuron)``; the
    window answers with ``set_selection(layer, neuron)``.
    """

    digit_changed = Signal(int)
    neuron_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None, seed: int | None = None):
        super().__init__(parent)
        self._rng = np.random.default_rng(seed)
        self._x_test: np.ndarray | None = None
        self._y_test: np.ndarray | None = None
        self._snapshot: Snapshot | None = None
        self._input: np.ndarray | None = None  # (784,), the digit shown
        self._label: int | None = None  # its true digit, if known
        self._names: tuple[str, ...] = DIGITS  # the output classes' names
        self._architecture = None
        self.layers: list[LayerBars] = []  # the bars of layers 1..L
        self._selection: tuple[int | None, int | None] = (None, None)
        self._build_controls()
        self._build_input_view()
        self.bar_view = pg.GraphicsLayoutWidget()
        self.bar_view.scene().sigMouseClicked.connect(self._on_click)
        self.bar_view.scene().sigMouseMoved.connect(self._on_hover)
        self._arrange()

    # --- building ---------------------------------------------------------------------------

    def _build_controls(self) -> None:
        self.index_box = QSpinBox()
        self.index_box.setRange(0, 0)
        self.index_box.setEnabled(False)
        self.index_box.setToolTip("The index of the digit in the test set")
        self.index_box.valueChanged.connect(self._on_index_edited)
        self.count_label = QLabel("of 0")
        self.random_button = QPushButton("Random")
        self.random_button.setToolTip("Show a test digit chosen at random")
        self.random_button.clicked.connect(self._on_random)
        self.mistake_button = QPushButton("Next mistake")
        self.mistake_button.setToolTip("Show the next test digit that the network gets wrong")
        self.mistake_button.clicked.connect(self._on_next_mistake)
        self.status_label = QLabel("")
        self.status_label.setStyleSheet(f"color: {theme.MUTED}")
        for button in (self.random_button, self.mistake_button):
            button.setEnabled(False)

    def _build_input_view(self) -> None:
        self.input_view = SquareView()
        self.input_view.setMinimumSize(110, 110)
        box = self.input_view.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        box.setMenuEnabled(False)
        self.image = pg.ImageItem(np.zeros((SIDE, SIDE), dtype=np.float32), axisOrder="row-major",
                                  levels=(0.0, 1.0))
        self.image.setColorMap(theme.GRAY)
        box.addItem(self.image)
        box.setRange(xRange=(0, SIDE), yRange=(0, SIDE), padding=0.02)
        self.predicted_label = QLabel("")
        self.top_label = QLabel("")  # the three largest outputs
        self.top_label.setToolTip("The three largest outputs and their digits. Below "
                                  f"{readout.UNSURE_BELOW:g} for the largest, the network is "
                                  "wrong about half the time on MNIST's test digits: unsure")
        self.true_label = QLabel("")
        self.true_label.setStyleSheet("font-size: 13pt")
        for label in (self.predicted_label, self.top_label, self.true_label):
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            # "untrained guess: 7", or Fashion-MNIST's "Sneaker 0.18 · Sandal 0.13 · Trouser 0.11",
            # would widen the panel (and the window past a 1280-pixel screen): they wrap instead
            label.setWordWrap(True)
        self._styles: dict[QLabel, str] = {}  # each label's style sheet, set only when it changes

    def _arrange(self) -> None:
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Test digit"))
        for widget in (self.index_box, self.count_label, self.random_button, self.mistake_button):
            controls.addWidget(widget)
        controls.addWidget(self.status_label, 1)
        left = QVBoxLayout()
        left.addWidget(self.input_view)
        left.addWidget(self.true_label)
        left.addWidget(self.predicted_label)
        left.addWidget(self.top_label)
        left.addStretch(1)
        body = QHBoxLayout()
        # the picture's column a little wider than a fifth: "true Ankle boot" on one line
        body.addLayout(left, 2)
        body.addWidget(self.bar_view, 5)  # at least as wide as its plots need (fit_to_scene)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addLayout(controls)
        outer.addLayout(body, 1)

    def _rebuild_bars(self, snapshot: Snapshot) -> None:
        """One plot per layer after the input, only when the architecture changes: the hidden
        layers stacked, the output to their right at full height, as the signal flows."""
        self.bar_view.clear()
        self.layers = []
        L = len(snapshot.sizes) - 1
        for l, n in enumerate(snapshot.sizes[1:L], start=1):
            plot = self.bar_view.addPlot(row=l - 1, col=0)
            style_plot(plot, f"layer {l} ({n} {snapshot.hidden})")
            plot.getViewBox().setMinimumWidth(HIDDEN_PLOT_MIN)
            self.layers.append(LayerBars(plot, n, snapshot.hidden))
        n = snapshot.sizes[L]
        plot = self.bar_view.addPlot(row=0, col=1 if L > 1 else 0, rowspan=max(L - 1, 1))
        style_plot(plot, f"output ({snapshot.output})")
        plot.getAxis("bottom").setTicks(self._output_ticks(n))
        # The bars' box, not the plot: a plot's own minimum would override that of its title.
        plot.getViewBox().setMinimumWidth(OUTPUT_BAR_PX * n)  # every output bar, never cut off
        self.layers.append(LayerBars(plot, n, snapshot.output))
        grid = self.bar_view.ci.layout
        grid.setColumnStretchFactor(0, 3)
        grid.setColumnStretchFactor(1, 1)
        fit_to_scene(self.bar_view)
        self._architecture = (snapshot.sizes, snapshot.hidden, snapshot.output)
        self._apply_selection()

    # --- what the window calls --------------------------------------------------------------

    def set_dataset(self, x_test: np.ndarray, y_test: np.ndarray) -> None:
        """The test images (N, 784) and their digits (N,) to choose from; shows the first."""
        self._x_test, self._y_test = x_test, y_test
        n = len(x_test)
        self.index_box.blockSignals(True)
        self.index_box.setRange(0, max(n - 1, 0))
        self.index_box.setValue(0)
        self.index_box.blockSignals(False)
        self.count_label.setText(f"of {n:,}")
        self.index_box.setEnabled(n > 0)
        self.random_button.setEnabled(n > 0)
        self.mistake_button.setEnabled(n > 0)
        self.status_label.clear()
        if n:
            self._show_index(0)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Run the digit shown through these weights (one forward pass) and redraw the bars."""
        if (snapshot.sizes, snapshot.hidden, snapshot.output) != self._architecture:
            self._rebuild_bars(snapshot)
        self._snapshot = snapshot
        self._redraw()

    def show_input(self, x: np.ndarray, label: int | None = None) -> None:
        """Show this input (784,) and what the latest snapshot makes of it; ``label`` is its true
        digit if known."""
        self._input = x
        self._label = label
        self.image.setImage(x.reshape(SIDE, SIDE), levels=(0.0, 1.0))
        self.true_label.setText("" if label is None else f"true {self._names[label]}")
        self._redraw()

    def set_class_names(self, names) -> None:
        """The names of the output classes (default: the digits), for the answer, the true label
        and the output bars; for a network trained on another dataset."""
        self._names = tuple(names)
        if self._label is not None:
            self.true_label.setText(f"true {self._names[self._label]}")
        if self.layers:
            self.layers[-1].plot.getAxis("bottom").setTicks(self._output_ticks(self.layers[-1].n))
        self._redraw()

    def _output_ticks(self, n: int) -> list:
        """Digits under their bars; other classes by number (ten words would overlap), named in
        the answer above."""
        digits = reads_digits(self._names)
        return [[(d, self._names[d] if digits else str(d)) for d in range(n)]]

    def set_selection(self, layer: int | None, neuron: int | None) -> None:
        """Mark neuron ``neuron`` of ``layer`` (1-based; L is the output); None, None clears."""
        self._selection = (layer, neuron)
        self._apply_selection()

    @property
    def snapshot(self) -> Snapshot | None:
        """The latest snapshot shown, the one a newly chosen digit is run through."""
        return self._snapshot

    @property
    def current_index(self) -> int:
        """The index in the test set of the digit chosen with the controls."""
        return self.index_box.value()

    def current_input(self) -> np.ndarray | None:
        """The input (784,) shown, or None before there is one."""
        return self._input

    # --- drawing ----------------------------------------------------------------------------

    def _redraw(self) -> None:
        if self._snapshot is None or self._input is None:
            return
        with np.errstate(over="ignore", invalid="ignore"):  # near divergence: show, don't warn
            activations = self._snapshot.network().forward(self._input[None, :])
        for bars, a in zip(self.layers, activations[1:]):
            bars.show_values(a[0])
        output = activations[-1][0]
        if not np.isfinite(output).all():
            self.layers[-1].mark(None)
            self._set_label(self.predicted_label, "outputs not finite",
                            HEADLINE_STYLE[False].format(theme.TEST))
            self._set_label(self.top_label, "", TOP_STYLE)
            self._colour_true_label(None)
            return
        reading = readout.read(output, self._snapshot.step, self._snapshot.epoch, self._names)
        self.layers[-1].mark(reading.digit)
        self._set_label(self.predicted_label, reading.headline,
                        HEADLINE_STYLE[reading.trained and not reading.unsure].format(reading.colour))
        self._set_label(self.top_label, reading.top_line, TOP_STYLE)
        self._colour_true_label(reading.digit if reading.trained else None)

    def _set_label(self, label: QLabel, text: str, style: str) -> None:
        """Text and style sheet, each only if it changed: a style sheet set polishes the label
        again, and the panel is redrawn with every snapshot."""
        if label.text() != text:
            label.setText(text)
        if self._styles.get(label) != style:
            label.setStyleSheet(style)
            self._styles[label] = style

    def _colour_true_label(self, predicted: int | None) -> None:
        """Green if the answer is right, red if wrong; plain for a guess or no answer."""
        if self._label is None:
            return
        colour = theme.FOREGROUND if predicted is None else \
            theme.TRAIN if predicted == self._label else theme.TEST
        self._set_label(self.true_label, self.true_label.text(), f"color: {colour}; font-size: 13pt")

    def _apply_selection(self) -> None:
        layer, neuron = self._selection
        for l, bars in enumerate(self.layers, start=1):
            chosen = neuron if l == layer else None
            bars.select(chosen)
            if l < len(self.layers):  # the output's filled mark is the prediction
                bars.mark(chosen)

    # --- the user ---------------------------------------------------------------------------

    def choose(self, index: int) -> None:
        """Show test digit ``index`` as if the user had chosen it (``digit_changed`` follows)."""
        if index == self.current_index:
            self._on_index_edited(index)  # the spin box would not signal an unchanged value
        else:
            self._go_to(index)

    def show_test_digit(self) -> None:
        """Show the test digit chosen in the controls again (after following a drawing)."""
        self._show_index(self.current_index)

    def _show_index(self, index: int) -> None:
        self.show_input(self._x_test[index], int(self._y_test[index]))

    def _go_to(self, index: int) -> None:
        """Choose a digit for the user, as if typed into the spin box (no-op if it is shown)."""
        self.index_box.setValue(index)  # a change emits valueChanged -> _on_index_edited

    def _on_index_edited(self, index: int) -> None:
        self.status_label.clear()
        self._show_index(index)
        self.digit_changed.emit(index)

    def _on_random(self) -> None:
        """Any other digit: drawing from the N - 1 others, so the button always changes it."""
        n, current = len(self._x_test), self.current_index
        if n < 2:
            return
        k = int(self._rng.integers(n - 1))
        self._go_to(k if k < current else k + 1)

    def _on_next_mistake(self) -> None:
        if self._snapshot is None:
            self.status_label.setText("no network yet")
            return
        predicted = self._snapshot.network().predict(self._x_test)
        mistakes = np.flatnonzero(predicted != self._y_test)
        if not len(mistakes):
            self.status_label.setText(f"no mistakes on the {len(self._x_test):,} test digits")
            return
        k = int(np.searchsorted(mistakes, self.current_index, side="right")) % len(mistakes)
        self._go_to(int(mistakes[k]))
        self.status_label.setText(f"mistake {k + 1} of {len(mistakes):,}")

    def _on_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        for layer, bars in enumerate(self.layers, start=1):
            index = bars.index_at(event.scenePos())
            if index is not None:
                self.neuron_clicked.emit(layer, index)
                return

    def _on_hover(self, scene_pos: QPointF) -> None:
        for layer, bars in enumerate(self.layers, start=1):
            index = bars.index_at(scene_pos)
            if index is not None:
                text = f"layer {layer}, neuron {index}: {bars.value(index):.3g}"
                QToolTip.showText(QCursor.pos(), text, self.bar_view)
                return
        QToolTip.hideText()

    def bar_position(self, layer: int, neuron: int):
        """Where the bar of (layer, neuron) is in ``bar_view``'s viewport: for tests and tours."""
        scene_pos = self.layers[layer - 1].scene_pos_of(neuron)
        return self.bar_view.mapFromScene(scene_pos)
