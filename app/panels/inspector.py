"""One neuron up close: its incoming weights (as a picture for the first layer; as bars over the
previous layer and a picture projected back to the input for deeper ones), its bias, its
activation and weighted input z for the digit shown, and the test digits that drive its z
highest (ranked by z, not by the activation: a trained sigmoid's top digits all read 1.00).
A hidden neuron can be switched off (its output forced to 0) or clamped to a value from here;
the window then shows the network so everywhere, and the test accuracy it has, here.

The numbers come from ``core.inspect``; the most exciting digits are searched elsewhere (they
take a pass over the test set) and arrive later through ``show_top``.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.panels.activations import BAR_WIDTH, SquareView, bar_style
from core.inspect import SIDE, incoming, pre_activations, projected_weights, tile
from core.train import Snapshot

HINT = "Click a tile of the weights or a bar of the activations to inspect a neuron"
NEGATIVE, POSITIVE = (c.name() for c in theme.WEIGHTS.map([0.0, 1.0], mode="qcolor"))
CAPTION_STYLE = f"color: {theme.MUTED}"
LEGEND = (f'<span style="color:{POSITIVE}">red</span> positive, '
          f'<span style="color:{NEGATIVE}">blue</span> negative')


class InspectorPanel(QWidget):
    """The neuron selected in the weights or activations panel.

    ``set_images(x_test)``
        once: the test images (N, 784) that ``show_top``'s indices point into.
    ``show_neuron(snapshot, layer, neuron, x=None)``
        neuron ``neuron`` (0-based) of ``layer`` (1..L) with the weights of ``snapshot``, and
        its activation for the input ``x`` (784,) if given. Call it again with every new
        snapshot or input; the most exciting digits stay until the neuron changes.
    ``show_top(indices, values, neuron=None)``
        the test digits that excite the neuron shown most, and its weighted input z for each,
        as returned by ``core.inspect.top_exciting``. With ``neuron=(layer, index)``, an answer
        for a neuron no longer shown is ignored.
    ``show_switched(off, accuracy, before, allowed)``
        the neurons switched off or clamped, (layer, neuron, value) as ``app.state.View.off``,
        the test accuracy of the network so and ``before`` with every neuron on (None: not
        known), and whether switching is ``allowed`` now (not while training runs).
        Signals ``switch_requested(layer, neuron, value)`` (a float, or None to switch it on
        again) and ``restore_requested()`` (every neuron on again) ask the window for a change.
    ``clear()``
        no neuron: a hint instead.
    ``neuron`` (property)
        (layer, neuron) shown, or None.
    """

    switch_requested = Signal(int, int, object)
    restore_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._x_test: np.ndarray | None = None
        self._neuron: tuple[int, int] | None = None
        self._activation = ""  # the activation function of the neuron shown
        self._value: float | None = None  # its activation for the input shown
        self._hidden = False  # is the neuron shown a hidden one (the only kind that can be switched)?
        self._off: dict[tuple[int, int], float] = {}
        self._allowed = True
        self._build_header()
        self._build_switch()
        self._build_weights()
        self._build_top()
        self._arrange()
        self.clear()

    # --- building ---------------------------------------------------------------------------

    def _build_header(self) -> None:
        self.hint_label = QLabel(HINT)
        self.hint_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint_label.setWordWrap(True)
        self.hint_label.setStyleSheet(f"color: {theme.MUTED}; font-size: 12pt")
        self.title_label = QLabel("")
        self.title_label.setStyleSheet("font-size: 14pt; font-weight: bold")
        self.title_label.setWordWrap(True)  # an output neuron's title is longer than a narrow dock
        self.bias_label = QLabel("")
        self.activation_label = QLabel("")
        self.activation_label.setStyleSheet(f"color: {theme.ACCENT}")
        self.z_label = QLabel("")  # its weighted input z for the digit shown, as under the top digits
        self.z_label.setStyleSheet(CAPTION_STYLE)
        self.z_label.setToolTip("z = a·w + b: the neuron's weighted input before its activation "
                                "function, which tells strong inputs apart where the activation "
                                "saturates (a sigmoid reads 1.00 for any z above 5.3)")
        for label in (self.bias_label, self.activation_label, self.z_label):
            # numbers that change with every moment: their length must not widen the dock (a
            # wider one at some moment moved every panel beside it, and a time-lapse's frames).
            # A label's minimum is its text's width; with none of its own it shows what fits.
            label.setMinimumWidth(1)

    def _build_switch(self) -> None:
        self.off_button = QPushButton("Switch off")
        self.off_button.setToolTip("Force this neuron's output to 0, whatever its input, and see "
                                   "what the network answers without it (the test accuracy at once)")
        self.off_button.clicked.connect(self._on_off_clicked)
        self.clamp_button = QPushButton("Clamp to")
        self.clamp_button.setToolTip("Force this neuron's output to the value beside, whatever its input")
        self.clamp_button.clicked.connect(self._on_clamp_clicked)
        self.clamp_value = QDoubleSpinBox()
        self.clamp_value.setDecimals(2)
        self.clamp_value.setSingleStep(0.1)
        self.clamp_value.setRange(-1000.0, 1000.0)
        self.clamp_value.setValue(1.0)
        self.clamp_value.setToolTip("The output the neuron is clamped to")
        self.restore_button = QPushButton("All on")
        self.restore_button.setToolTip("Switch every neuron switched off or clamped on again")
        self.restore_button.clicked.connect(self.restore_requested)
        self.switch_label = QLabel("")
        self.switch_label.setStyleSheet(CAPTION_STYLE)
        self.switch_label.setWordWrap(True)

    def _build_weights(self) -> None:
        self.image_caption = QLabel("")
        self.image_caption.setStyleSheet(CAPTION_STYLE)
        self.image_caption.setWordWrap(True)
        self.image_view = SquareView()
        self.image_view.setMinimumSize(110, 110)
        box = self.image_view.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        box.setMenuEnabled(False)
        self.weights_image = pg.ImageItem(np.zeros((SIDE, SIDE), dtype=np.float32), axisOrder="row-major")
        self.weights_image.setColorMap(theme.WEIGHTS)
        box.addItem(self.weights_image)
        box.setRange(xRange=(0, SIDE), yRange=(0, SIDE), padding=0.02)
        self.legend_label = QLabel(LEGEND)
        self.legend_label.setStyleSheet(CAPTION_STYLE)

        self.bars_caption = QLabel("")
        self.bars_caption.setStyleSheet(CAPTION_STYLE)
        self.bars_caption.setWordWrap(True)
        self.bars_view = pg.PlotWidget()
        self.bars_view.setMinimumSize(150, 110)
        plot = self.bars_view.getPlotItem()
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.getAxis("left").setWidth(36)
        # Two series, so each keeps one brush: the positive weights and the negative ones.
        self.positive_bars = pg.BarGraphItem(x=[0], height=[0.0], width=BAR_WIDTH, **bar_style(POSITIVE))
        self.negative_bars = pg.BarGraphItem(x=[0], height=[0.0], width=BAR_WIDTH, **bar_style(NEGATIVE))
        plot.addItem(self.positive_bars)
        plot.addItem(self.negative_bars)

    def _build_top(self) -> None:
        self.top_caption = QLabel("")
        self.top_caption.setStyleSheet(CAPTION_STYLE)
        self.top_caption.setWordWrap(True)
        self.top_view = pg.PlotWidget()
        self.top_view.setMinimumHeight(80)
        plot = self.top_view.getPlotItem()
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.hideAxis("left")
        plot.getAxis("bottom").setPen(None)  # only the activation under each digit, no axis line
        plot.getViewBox().invertY(True)
        plot.getViewBox().setAspectLocked(True)
        self.top_image = pg.ImageItem(np.zeros((SIDE, SIDE), dtype=np.float32), axisOrder="row-major",
                                      levels=(0.0, 1.0))
        self.top_image.setColorMap(theme.GRAY)
        plot.addItem(self.top_image)

    def _arrange(self) -> None:
        facts = QHBoxLayout()
        facts.addWidget(self.bias_label)
        facts.addSpacing(16)
        facts.addWidget(self.activation_label)
        facts.addSpacing(8)
        facts.addWidget(self.z_label, 1)
        image_column = QVBoxLayout()
        image_column.addWidget(self.image_caption)
        image_column.addWidget(self.image_view)
        image_column.addWidget(self.legend_label)
        image_column.addStretch(1)
        self.bars_column = QWidget()
        bars_layout = QVBoxLayout(self.bars_column)
        bars_layout.setContentsMargins(0, 0, 0, 0)
        bars_layout.addWidget(self.bars_caption)
        bars_layout.addWidget(self.bars_view, 1)
        weights = QHBoxLayout()
        weights.addLayout(image_column, 1)
        weights.addWidget(self.bars_column, 1)

        switch = QHBoxLayout()
        for widget in (self.off_button, self.clamp_button, self.clamp_value, self.restore_button):
            switch.addWidget(widget)
        switch.addStretch(1)

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.title_label)
        column.addLayout(facts)
        column.addLayout(switch)
        column.addWidget(self.switch_label)
        column.addLayout(weights, 3)
        column.addSpacing(6)
        column.addWidget(self.top_caption)
        column.addWidget(self.top_view, 1)
        self._pages = QStackedLayout(self)
        self._pages.addWidget(self.hint_label)
        self._pages.addWidget(content)

    # --- what the window calls --------------------------------------------------------------

    def set_images(self, x_test: np.ndarray) -> None:
        """The test images (N, 784) that ``show_top``'s indices point into."""
        self._x_test = x_test

    @property
    def neuron(self) -> tuple[int, int] | None:
        return self._neuron

    def clear(self) -> None:
        self._neuron = None
        if self._pages.currentIndex() != 0:
            self._pages.setCurrentIndex(0)

    def show_neuron(self, snapshot: Snapshot, layer: int, neuron: int, x: np.ndarray | None = None) -> None:
        """Draw this neuron with these weights; its activation for ``x`` (784,) if given."""
        weights, bias = incoming(snapshot.W, snapshot.b, layer, neuron)  # checks the neuron first
        if (layer, neuron) != self._neuron:
            self._neuron = (layer, neuron)
            self._await_top()
        L = len(snapshot.sizes) - 1
        activation = snapshot.output if layer == L else snapshot.hidden
        self._activation = activation
        self._hidden = layer < L
        low, high = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}.get(activation, (0.0, 1000.0))
        self.clamp_value.setRange(low, high)
        what = f", the output for digit {neuron}" if layer == L else ""
        self.title_label.setText(f"layer {layer}, neuron {neuron} ({activation}{what})")
        self.bias_label.setText(f"bias {bias:.3g}")
        if layer == 1:
            self._show_first_layer(weights)
        else:
            self._show_deeper(snapshot, layer, neuron, weights)
        self._show_activation(snapshot, layer, neuron, x)
        self._show_switch()
        if self._pages.currentIndex() != 1:
            self._pages.setCurrentIndex(1)

    def show_switched(self, off: tuple, accuracy: float | None, before: float | None,
                      allowed: bool) -> None:
        """The neurons forced now, what the network answers so, and whether they may change."""
        self._off = {(l, j): v for l, j, v in off}
        self._allowed = allowed
        n = len(off)
        if not n:
            text = "" if before is None else f"test accuracy {100 * before:.2f}% with every neuron on"
        else:
            names = "; ".join(f"neuron {j} of layer {l}" + (" off" if v == 0 else f" at {v:.2f}")
                              for l, j, v in off[:4])
            names += "; …" if n > 4 else ""
            text = f"{names}"
            if accuracy is not None:
                text += f": test accuracy {100 * accuracy:.2f}%"
                if before is not None:
                    text += f", {100 * (accuracy - before):+.2f} points from {100 * before:.2f}% with all on"
        self.switch_label.setText(text)
        self._show_switch()

    def _show_switch(self) -> None:
        forced = self._off.get(self._neuron) if self._neuron is not None else None
        can = self._hidden and self._allowed
        self.off_button.setText("Switch on" if forced is not None else "Switch off")
        for widget in (self.off_button, self.clamp_button, self.clamp_value):
            widget.setEnabled(can)
            widget.setVisible(self._hidden)
        self.restore_button.setEnabled(bool(self._off) and self._allowed)
        why = ("" if self._allowed else "Pause training to switch neurons off")
        for widget in (self.off_button, self.clamp_button, self.restore_button):
            widget.setStatusTip(why)

    @Slot()
    def _on_off_clicked(self) -> None:
        if self._neuron is not None:
            on = self._neuron in self._off
            self.switch_requested.emit(*self._neuron, None if on else 0.0)

    @Slot()
    def _on_clamp_clicked(self) -> None:
        if self._neuron is not None:
            self.switch_requested.emit(*self._neuron, float(self.clamp_value.value()))

    def show_top(self, indices: np.ndarray, values: np.ndarray,
                 neuron: tuple[int, int] | None = None) -> None:
        """The test digits ``indices`` that excite the neuron shown most, with its ``values``
        for them; ignored if ``neuron`` is given and is not the neuron shown."""
        if self._neuron is None or self._x_test is None:
            return
        if neuron is not None and tuple(neuron) != self._neuron:
            return
        k = len(indices)
        if k == 0:
            self.top_caption.setText("no test digits to search")
            return
        images = self._x_test[indices].reshape(k, SIDE, SIDE)
        self.top_image.setImage(tile(images, cols=max(k, 1)), levels=(0.0, 1.0))
        ticks = [(c * (SIDE + 1) + SIDE / 2, f"{v:.3g}") for c, v in enumerate(values)]
        axis = self.top_view.getPlotItem().getAxis("bottom")
        axis.setTicks([ticks, []])
        self.top_view.getPlotItem().getViewBox().setRange(
            xRange=(0, max(k, 1) * (SIDE + 1) - 1), yRange=(0, SIDE), padding=0.01)
        self.top_caption.setText(f"the {k} test digits that drive it hardest: largest z, its weighted "
                                 f"input before the {self._activation}, under each")
        self.top_image.setVisible(True)

    # --- drawing ----------------------------------------------------------------------------

    def await_top(self) -> None:
        """Hide the exciting digits shown (they were found for other weights) until the next
        ``show_top``."""
        self._await_top()

    def _await_top(self) -> None:
        self.top_image.setVisible(False)
        self.top_view.getPlotItem().getAxis("bottom").setTicks([[], []])
        self.top_caption.setText("looking for the test digits that excite it most…")

    def _show_first_layer(self, weights: np.ndarray) -> None:
        self.image_caption.setText("incoming weights, one per pixel")
        self._show_image(weights)
        self.bars_column.setVisible(False)

    def _show_deeper(self, snapshot: Snapshot, layer: int, neuron: int, weights: np.ndarray) -> None:
        self.image_caption.setText("projected to the input (linear approximation)")
        self._show_image(projected_weights(snapshot.W, layer, neuron))
        n = len(weights)
        self.bars_caption.setText(f"incoming weights from the {n} neurons of layer {layer - 1}")
        x = np.arange(n)
        self.positive_bars.setOpts(x=x, height=np.maximum(weights, 0.0))
        self.negative_bars.setOpts(x=x, height=np.minimum(weights, 0.0))
        self.bars_view.getPlotItem().setXRange(-0.5, n - 0.5, padding=0.01)
        self.bars_column.setVisible(True)

    def _show_image(self, pixels: np.ndarray) -> None:
        self.weights_image.setImage(pixels.reshape(SIDE, SIDE), levels=theme.symmetric_levels(pixels))

    def _show_activation(self, snapshot: Snapshot, layer: int, neuron: int, x: np.ndarray | None) -> None:
        if x is None:
            self.activation_label.setText("")
            self.z_label.setText("")
            return
        net = snapshot.network()
        with np.errstate(over="ignore", invalid="ignore"):  # near divergence: show, don't warn
            value = net.forward(x[None, :])[layer][0, neuron]
            z = pre_activations(net, x[None, :], layer, neuron)[0]
        self.activation_label.setText(f"activation {value:.3g} for the digit shown"
                                      + (" (forced)" if (layer, neuron) in self._off else ""))
        self.z_label.setText(f"z {z:.3g}")
