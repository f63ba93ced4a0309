"""The weights panel: what every neuron of the network has learned to weigh.

The first hidden layer, big: each neuron's 784 incoming weights drawn as a 28x28 picture, the
pictures tiled into a near-square grid. Beside it (or below it, when the panel is taller than
wide), the deeper weight matrices W[1], W[2], ... as heatmaps: rows the neurons they read from,
columns the neurons they feed. Blue is negative, red positive, dark zero: every image's colour
levels are centred on zero.

A click on a tile, or on a column of a matrix, names that neuron through ``neuron_clicked``;
``set_selection`` outlines a neuron however it was chosen. Hovering shows the weight under the
mouse.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import (
    QGraphicsGridLayout,
    QGraphicsRectItem,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.panels.activations import fit_to_scene
from core.inspect import SIDE, first_layer_tiles, grid_shape, tile, tile_at
from core.train import Snapshot

GAP = 1  # pixels of background between two tiles, as core.inspect.tile draws them
GAP_COLOUR = "#2a2e37"  # shows through the gaps: lighter than a zero weight, so tiles stand out


class _PixelImage(pg.ImageItem):
    """An ImageItem (row-major) that reports the pixel under a left click and under the mouse,
    as (row, col) in image pixels, and carries an outline for the selection."""
    clicked = Signal(float, float)
    hovered = Signal(float, float)

    def __init__(self):
        super().__init__(axisOrder="row-major")
        self.setColorMap(theme.WEIGHTS)
        self.outline = QGraphicsRectItem(self)  # a child: drawn over the image, in its pixels
        pen = pg.mkPen(theme.ACCENT, width=2)
        pen.setCosmetic(True)
        self.outline.setPen(pen)
        self.outline.hide()

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.clicked.emit(ev.pos().y(), ev.pos().x())
        else:
            super().mouseClickEvent(ev)

    def hoverEvent(self, ev):
        super().hoverEvent(ev)
        if not ev.isExit():
            ev.acceptClicks(Qt.MouseButton.LeftButton)
            self.hovered.emit(ev.pos().y(), ev.pos().x())

    def show_outline(self, rect: QRectF) -> None:
        self.outline.setRect(rect)
        self.outline.show()


def _image_box(image: pg.ImageItem, lock_aspect: bool) -> pg.ViewBox:
    """A fixed view of one image, row 0 at the top. No panning or zooming: every view shows
    its whole matrix, and a left click means "this neuron"."""
    box = pg.ViewBox(lockAspect=lock_aspect, invertY=True, enableMenu=False)
    box.setMouseEnabled(x=False, y=False)
    box.addItem(image)
    return box


class _MatrixView:
    """One deeper weight matrix W[l] (rows: neurons of layer l, columns: of layer l+1): a
    two-line title and a heatmap in a view box of its own."""

    def __init__(self, l: int, n_in: int, n_out: int, is_output: bool):
        self.l = l
        self._name = f"layer {l + 1} ← {l}" + (" (output)" if is_output else "")
        self._shape = f"{n_in}×{n_out}"
        self.title = pg.LabelItem("", size="9pt", color=theme.FOREGROUND)
        self.image = _PixelImage()
        self.box = _image_box(self.image, lock_aspect=False)
        self._scale = None

    def show(self, W: np.ndarray) -> None:
        levels = theme.symmetric_levels(W)
        self.image.setImage(W, levels=levels, autoLevels=False)
        scale = f"±{levels[1]:.2g}"
        if scale != self._scale:  # relabel only when the rounded scale changes
            self._scale = scale
            self.title.setText(f"{self._name}<br><span style='color:{theme.MUTED}'>"
                               f"{self._shape}, {scale}</span>")


class WeightsPanel(QWidget):
    """The network's weights as pictures. Plot items, for whoever needs to reach them:

    ``graphics``       the GraphicsLayoutWidget holding everything
    ``grid_image``     the first layer's tiles; ``grid_box`` its ViewBox; ``colour_bar`` its scale
    ``matrix_images``  the heatmaps of W[1], W[2], ..., rebuilt only when the architecture changes
    """
    neuron_clicked = Signal(int, int)  # (layer, neuron) as in core.inspect: layer >= 1

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._sizes: tuple[int, ...] | None = None
        self._snapshot: Snapshot | None = None
        self._columns = 1  # of the tile grid
        self._matrices: list[_MatrixView] = []
        self._selection: tuple[int, int] | None = None
        self._wide = True  # matrices beside the grid (True) or below it

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(theme.BACKGROUND)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self._build_grid(self.graphics.addLayout(row=0, col=0))
        self._deeper = self.graphics.addLayout(row=0, col=1)
        self._arrange()

    @property
    def matrix_images(self) -> tuple[pg.ImageItem, ...]:
        return tuple(m.image for m in self._matrices)

    @property
    def selected_outline(self) -> QGraphicsRectItem | None:
        """The outline drawn for the selection, or None while nothing is outlined."""
        for image in (self.grid_image, *self.matrix_images):
            if image.outline.isVisible():
                return image.outline
        return None

    # --- feeding -----------------------------------------------------------------------------

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw the snapshot's weights; the plot items are rebuilt only if its layer sizes differ
        from the last snapshot's."""
        self._snapshot = snapshot
        rebuilt = snapshot.sizes != self._sizes
        if rebuilt:
            self._rebuild(snapshot.sizes)
        levels = theme.symmetric_levels(snapshot.W[0])
        self.grid_image.setImage(tile(first_layer_tiles(snapshot.W[0]), self._columns, GAP),
                                 levels=levels, autoLevels=False)
        if levels != self.colour_bar.levels():  # the same round levels: its ticks stay laid out
            self.colour_bar.setLevels(levels)
        for matrix in self._matrices:
            matrix.show(snapshot.W[matrix.l])
        if rebuilt:
            for box in (self.grid_box, *(m.box for m in self._matrices)):
                box.autoRange(padding=0.02)
            self._show_selection()

    def set_selection(self, layer: int | None, neuron: int | None) -> None:
        """Outline neuron ``neuron`` of ``layer`` (its tile, or its column of incoming weights);
        (None, None) hides the outline."""
        self._selection = None if layer is None or neuron is None else (layer, neuron)
        self._show_selection()

    # --- building ----------------------------------------------------------------------------

    def _build_grid(self, layout: pg.GraphicsLayout) -> None:
        """The title, the tile grid and its colour bar, in ``layout``."""
        self._grid_title = layout.addLabel("layer 1 ← input", row=0, col=0, colspan=2,
                                           size="10pt", color=theme.FOREGROUND)
        self.grid_image = _PixelImage()
        self.grid_image.clicked.connect(self._grid_clicked)
        self.grid_image.hovered.connect(self._grid_hovered)
        self.grid_box = _image_box(self.grid_image, lock_aspect=True)
        self._gaps = QGraphicsRectItem()  # behind the tiles, showing through their NaN gaps
        self._gaps.setPen(pg.mkPen(None))
        self._gaps.setBrush(pg.mkBrush(GAP_COLOUR))
        self._gaps.setZValue(-1)
        self.grid_box.addItem(self._gaps, ignoreBounds=True)
        layout.addItem(self.grid_box, row=1, col=0)
        self.colour_bar = pg.ColorBarItem(colorMap=theme.WEIGHTS, interactive=False, width=12,
                                          colorMapMenu=False, label="weight")
        self.colour_bar.setImageItem(self.grid_image)
        layout.addItem(self.colour_bar, row=1, col=1)
        layout.layout.setRowStretchFactor(1, 1)

    def _rebuild(self, sizes: tuple[int, ...]) -> None:
        """New layer sizes: a new grid shape, new matrix views."""
        self._sizes = tuple(sizes)
        n_1 = sizes[1]
        self._columns = grid_shape(n_1)[1]
        rows = math.ceil(n_1 / self._columns)  # as core.inspect.tile lays them out
        step = SIDE + GAP
        self._gaps.setRect(QRectF(0, 0, self._columns * step - GAP, rows * step - GAP))
        output = " (output)" if len(sizes) == 2 else ""
        # Two lines, as the matrices' titles: on one, the title alone was wider than the grid
        # of a 1280-pixel window's centre, and pushed the matrices out of sight.
        self._grid_title.setText(f"layer 1 ← input{output}<br><span style='color:{theme.MUTED}'>"
                                 f"{n_1} neurons, {SIDE}×{SIDE} weights each</span>")
        self._deeper.clear()
        self._matrices = []
        for l in range(1, len(sizes) - 1):
            matrix = _MatrixView(l, sizes[l], sizes[l + 1], is_output=l == len(sizes) - 2)
            matrix.image.clicked.connect(lambda row, col, l=l: self._matrix_clicked(l, row, col))
            matrix.image.hovered.connect(lambda row, col, l=l: self._matrix_hovered(l, row, col))
            self._matrices.append(matrix)
        self._place_matrices()
        fit_to_scene(self.graphics)

    # --- arranging ---------------------------------------------------------------------------

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        wide = event.size().width() >= event.size().height()
        if wide != self._wide:
            self._wide = wide
            self._arrange()

    def _arrange(self) -> None:
        """A wide panel has the matrices in a column beside the tile grid; a tall one has them
        in a row below it. The items move; none is made anew."""
        outer = self.graphics.ci
        outer.removeItem(self._deeper)
        if self._wide:
            outer.addItem(self._deeper, row=0, col=1)
            self._deeper.setContentsMargins(16, 0, 0, 0)
            _stretch(outer.layout, columns=(3, 2))
        else:
            outer.addItem(self._deeper, row=1, col=0)
            self._deeper.setContentsMargins(0, 12, 0, 0)
            _stretch(outer.layout, rows=(3, 2))
        for matrix in self._matrices:
            self._deeper.removeItem(matrix.title)
            self._deeper.removeItem(matrix.box)
        self._place_matrices()
        fit_to_scene(self.graphics)

    def _place_matrices(self) -> None:
        """Put each matrix's title and heatmap into the (empty) deeper layout."""
        for i, matrix in enumerate(self._matrices):
            if self._wide:
                self._deeper.addItem(matrix.title, row=2 * i, col=0)
                self._deeper.addItem(matrix.box, row=2 * i + 1, col=0)
            else:
                self._deeper.addItem(matrix.title, row=0, col=i)
                self._deeper.addItem(matrix.box, row=1, col=i)
        n = len(self._matrices)
        if self._wide:
            _stretch(self._deeper.layout, rows=(0, 1) * n)  # titles keep their height
        else:
            _stretch(self._deeper.layout, rows=(0, 1), columns=(1,) * n)

    # --- selection and mouse -----------------------------------------------------------------

    def _show_selection(self) -> None:
        for image in (self.grid_image, *self.matrix_images):
            image.outline.hide()
        if self._selection is None or self._sizes is None:
            return
        layer, neuron = self._selection
        if not (1 <= layer < len(self._sizes) and 0 <= neuron < self._sizes[layer]):
            return  # not a neuron of this architecture
        if layer == 1:
            r, c = divmod(neuron, self._columns)
            step = SIDE + GAP
            self.grid_image.show_outline(QRectF(c * step - GAP / 2, r * step - GAP / 2, step, step))
        else:
            column = QRectF(neuron, 0, 1, self._sizes[layer - 1])  # of W[layer - 1]
            self._matrices[layer - 2].image.show_outline(column)

    def _grid_clicked(self, row: float, col: float) -> None:
        k = self._tile_at(row, col)
        if k is not None:
            self.neuron_clicked.emit(1, k)

    def _matrix_clicked(self, l: int, row: float, col: float) -> None:
        if self._inside(l, row, col):
            self.neuron_clicked.emit(l + 1, int(col))

    def _grid_hovered(self, row: float, col: float) -> None:
        k = self._tile_at(row, col)
        text = ""
        if k is not None and self._snapshot is not None:
            pixel_row, pixel_col = int(row) % (SIDE + GAP), int(col) % (SIDE + GAP)
            weight = self._snapshot.W[0][pixel_row * SIDE + pixel_col, k]
            text = (f"layer 1, neuron {k}\n"
                    f"weight from pixel (row {pixel_row}, column {pixel_col}): {weight:+.4f}")
        self.grid_image.setToolTip(text)

    def _matrix_hovered(self, l: int, row: float, col: float) -> None:
        text = ""
        if self._inside(l, row, col) and self._snapshot is not None:
            i, j = int(row), int(col)
            text = (f"layer {l + 1}, neuron {j}\n"
                    f"weight from layer {l} neuron {i}: {self._snapshot.W[l][i, j]:+.4f}")
        self._matrices[l - 1].image.setToolTip(text)

    def _tile_at(self, row: float, col: float) -> int | None:
        if self._sizes is None:
            return None
        return tile_at(row, col, self._columns, self._sizes[1], gap=GAP)

    def _inside(self, l: int, row: float, col: float) -> bool:
        return 0 <= row < self._sizes[l] and 0 <= col < self._sizes[l + 1]


def _stretch(layout: QGraphicsGridLayout, rows=(), columns=()) -> None:
    """Stretch factors for the first rows and columns; the others get 1, as the arrangement
    that left them empty may have given them 0, which would forbid them to grow."""
    for i in range(layout.rowCount()):
        layout.setRowStretchFactor(i, rows[i] if i < len(rows) else 1)
    for i in range(layout.columnCount()):
        layout.setColumnStretchFactor(i, columns[i] if i < len(columns) else 1)
