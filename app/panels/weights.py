"""The weights panel: what every neuron of the network has learned to weigh.

The first hidden layer, big: each neuron's 784 incoming weights drawn as a 28x28 picture, the
pictures tiled into a grid, as many to a page as its view shows at least MIN_TILE pixels wide
(the arrows over it turn the pages; a layer that fits is one page, laid out to draw it
largest). Beside it (or below it, when the panel is taller than wide), the deeper weight
matrices W[1], W[2], ... as heatmaps: rows the neurons they read from, columns the
neurons they feed. Blue is negative, red positive, dark zero: every image's colour levels are
centred on zero. The tiles share one colour scale, so that they compare (a dim tile has small
weights), or, with "per-tile contrast", each is stretched to its own largest |weight|, so that
a faint pattern shows.

A click on a tile, or on a column of a matrix, names that neuron through ``neuron_clicked``;
``set_selection`` outlines a neuron however it was chosen, and turns to the page of a newly
selected first-layer neuron. Hovering shows the weight under the mouse.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsGridLayout,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.panels.activations import fit_to_scene
from core.inspect import (
    SIDE,
    first_layer_tiles,
    page_shape,
    per_tile_contrast,
    tile,
    tile_at,
)
from core.train import Snapshot

GAP = 1  # pixels of background between two tiles, as core.inspect.tile draws them
GAP_COLOUR = "#2a2e37"  # shows through the gaps: lighter than a zero weight, so tiles stand out
# A page of the first layer holds as many tiles as its view shows at least MIN_TILE pixels
# wide (the bar; a tile's strokes, 2-3 weights wide, are then 3-4 pixels). In the
# 1280x720 window as it first opens (with the first-run hint) the panel is 500 x 214 pixels
# and the grid's view 178 x 151: pages of 3 x 4 tiles of 42 pixels, where all 256 tiles of
# 'fast' were 11 pixels (and 12 before the toolbar came, in a panel 328 high).
MIN_TILE = 40
PADDING = 0.02  # of the grid's size, free on each side of it in its view
SHARED_LABEL = "weight"
PER_TILE_LABEL = "weight ÷ tile's max |w|"


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
    """The network's weights as pictures. Plot items and controls, for whoever needs to reach them:

    ``graphics``       the GraphicsLayoutWidget holding everything
    ``grid_image``     the first layer's tiles of the page shown; ``grid_box`` its ViewBox;
                       ``colour_bar`` its scale
    ``matrix_images``  the heatmaps of W[1], W[2], ..., rebuilt only when the architecture changes
    ``previous_page``, ``next_page``, ``page_label``  turning the first layer's pages
    ``per_tile``       the "per-tile contrast" check box (on at first)
    """
    neuron_clicked = Signal(int, int)  # (layer, neuron) as in core.inspect: layer >= 1

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._sizes: tuple[int, ...] | None = None
        self._snapshot: Snapshot | None = None
        self._columns = 1  # of the tile grid
        self._rows = 1
        self._per_page = 1  # tiles a page holds: rows x columns
        self._page = 0
        self._matrices: list[_MatrixView] = []
        self._selection: tuple[int, int] | None = None
        self._wide = True  # matrices beside the grid (True) or below it

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(theme.BACKGROUND)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(self._build_controls())
        layout.addWidget(self.graphics, 1)
        self._build_grid(self.graphics.addLayout(row=0, col=0))
        self._deeper = self.graphics.addLayout(row=0, col=1)
        self._arrange()
        self._show_page_controls()

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

    @property
    def page(self) -> int:
        """The page of the first layer shown, from 0: its neurons page*n to page*n + n - 1, n
        the tiles of a page (``page_shape``'s product)."""
        return self._page

    @property
    def page_shape(self) -> tuple[int, int]:
        """(rows, columns) of the first layer's page of tiles."""
        return self._rows, self._columns

    @property
    def pages(self) -> int:
        return 1 if self._sizes is None else math.ceil(self._sizes[1] / self._per_page)

    # --- feeding -----------------------------------------------------------------------------

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw the snapshot's weights; the plot items are rebuilt only if its layer sizes differ
        from the last snapshot's."""
        self._snapshot = snapshot
        rebuilt = snapshot.sizes != self._sizes
        if rebuilt:
            self._rebuild(snapshot.sizes)
        self._draw_tiles()
        for matrix in self._matrices:
            matrix.show(snapshot.W[matrix.l])
        if rebuilt:
            for box in (self.grid_box, *(m.box for m in self._matrices)):
                box.autoRange(padding=PADDING)
            self._show_selection()

    def set_selection(self, layer: int | None, neuron: int | None) -> None:
        """Outline neuron ``neuron`` of ``layer`` (its tile, or its column of incoming weights);
        (None, None) hides the outline. A first-layer neuron newly selected brings its page;
        the same selection again (the window sets it with every frame) leaves the page alone."""
        selection = None if layer is None or neuron is None else (layer, neuron)
        changed, self._selection = selection != self._selection, selection
        if changed and self._page_of_selection() is not None:
            self.set_page(self._page_of_selection())
        self._show_selection()

    def set_page(self, page: int) -> None:
        """Show page ``page`` of the first layer's tiles (clamped to those there are)."""
        page = min(max(page, 0), self.pages - 1)
        if page == self._page:
            return
        self._page = page
        if self._snapshot is not None:
            self._draw_tiles()
        self._show_page_controls()
        self._show_selection()

    def set_per_tile_contrast(self, on: bool) -> None:
        """Each tile on its own colour scale (True) or all on one shared scale (False)."""
        self.per_tile.setChecked(on)  # draws again through _contrast_toggled if it changed

    def _draw_tiles(self) -> None:
        """The tiles of the page shown, from the snapshot: only they are copied and laid out."""
        W0 = self._snapshot.W[0]
        start, stop = self._page_range()
        tiles = first_layer_tiles(W0[:, start:stop])  # (stop - start, 28, 28)
        if self.per_tile.isChecked():
            tiles, levels = per_tile_contrast(tiles), (-1.0, 1.0)
        else:  # the whole layer's scale, so that it holds from one page to the next
            levels = theme.symmetric_levels(W0)
        self.grid_image.setImage(tile(tiles, self._columns, GAP, rows=self._rows),
                                 levels=levels, autoLevels=False)
        if levels != self.colour_bar.levels():  # the same round levels: its ticks stay laid out
            self.colour_bar.setLevels(levels)

    # --- building ----------------------------------------------------------------------------

    def _build_controls(self) -> QHBoxLayout:
        """The row over the pictures: the first layer's title, its pages, and its contrast. Qt
        widgets beside the title, not a title in the scene over the grid and a row of controls
        below: in a 1280x720 window the grid's view was then 121 pixels high, two rows of
        40-pixel tiles; it is 151, three."""
        row = QHBoxLayout()
        row.setSpacing(6)
        row.setContentsMargins(8, 2, 28, 2)  # right: room for the window's "?" (app.help.CornerHelp)
        self.grid_title = QLabel("layer 1 ← input")
        row.addWidget(self.grid_title)
        row.addSpacing(8)
        self.previous_page = QToolButton()
        self.previous_page.setArrowType(Qt.ArrowType.LeftArrow)
        self.previous_page.setToolTip("The previous page of the first layer's neurons")
        self.previous_page.clicked.connect(lambda: self.set_page(self._page - 1))
        self.next_page = QToolButton()
        self.next_page.setArrowType(Qt.ArrowType.RightArrow)
        self.next_page.setToolTip("The next page of the first layer's neurons")
        self.next_page.clicked.connect(lambda: self.set_page(self._page + 1))
        self.page_label = QLabel()
        self.per_tile = QCheckBox("per-tile contrast")
        self.per_tile.setToolTip(
            "Off: every tile on one colour scale, so tiles compare (a dim tile has small weights).\n"
            "On: each tile stretched to its own largest weight, so faint patterns show;\n"
            "tiles no longer compare, and a neuron that learned nothing shows its noise.")
        # On at first: on one scale for all, the tiles are dim. After 3 epochs, classic's median
        # tile reaches 2.2 of the shared scale's ±4 (half the colours), 'watch''s 0.07 of ±0.2
        # (a third; its 10th percentile 0.04, a fifth).
        self.per_tile.setChecked(True)
        self.per_tile.toggled.connect(self._contrast_toggled)
        for widget in (self.previous_page, self.page_label, self.next_page):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.per_tile)
        return row

    def _build_grid(self, layout: pg.GraphicsLayout) -> None:
        """The tile grid and its colour bar, in ``layout``."""
        self.grid_image = _PixelImage()
        self.grid_image.clicked.connect(self._grid_clicked)
        self.grid_image.hovered.connect(self._grid_hovered)
        self.grid_box = _image_box(self.grid_image, lock_aspect=True)
        self.grid_box.sigResized.connect(lambda _box: self._fit_page())
        self._gaps = QGraphicsRectItem()  # behind the tiles, showing through their NaN gaps
        self._gaps.setPen(pg.mkPen(None))
        self._gaps.setBrush(pg.mkBrush(GAP_COLOUR))
        self._gaps.setZValue(-1)
        self.grid_box.addItem(self._gaps, ignoreBounds=True)
        layout.addItem(self.grid_box, row=0, col=0)
        self.colour_bar = pg.ColorBarItem(colorMap=theme.WEIGHTS, interactive=False, width=12,
                                          colorMapMenu=False)
        self.colour_bar.getAxis("left").setLabel(PER_TILE_LABEL if self.per_tile.isChecked() else SHARED_LABEL)
        self.colour_bar.setImageItem(self.grid_image)
        layout.addItem(self.colour_bar, row=0, col=1)

    def _rebuild(self, sizes: tuple[int, ...]) -> None:
        """New layer sizes: a new grid shape, new matrix views."""
        self._sizes = tuple(sizes)
        self.grid_title.setText("layer 1 ← input" + (" (output)" if len(sizes) == 2 else ""))
        self._deeper.clear()
        self._matrices = []
        for l in range(1, len(sizes) - 1):
            matrix = _MatrixView(l, sizes[l], sizes[l + 1], is_output=l == len(sizes) - 2)
            matrix.image.clicked.connect(lambda row, col, l=l: self._matrix_clicked(l, row, col))
            matrix.image.hovered.connect(lambda row, col, l=l: self._matrix_hovered(l, row, col))
            self._matrices.append(matrix)
        self._place_matrices()
        fit_to_scene(self.graphics)
        self._page = 0
        self._fit_page(force=True)
        self._page = self._page_of_selection() or 0  # a selected first-layer neuron in sight
        self._show_page_controls()

    def _fit_page(self, force: bool = False) -> None:
        """As many tiles to a page as the grid's view shows at MIN_TILE pixels or more: on a new
        architecture (``force``) and when the view is resized. The page shown then is that of the selected
        neuron if it was in sight, else that of the first neuron that was."""
        if self._sizes is None:
            return
        shape = page_shape(self._sizes[1], self.grid_box.width(), self.grid_box.height(),
                           MIN_TILE, GAP, PADDING)
        if shape == (self._rows, self._columns) and not force:
            return
        start = self._page_range()[0]
        selected = self._page_of_selection() == self._page
        keep = self._selection[1] if selected else start
        self._rows, self._columns = shape
        self._per_page = self._rows * self._columns
        self._page = keep // self._per_page
        step = SIDE + GAP
        self._gaps.setRect(QRectF(0, 0, self._columns * step - GAP, self._rows * step - GAP))
        if not force:  # (a new architecture is drawn next, by show_snapshot)
            self._draw_tiles()
            self.grid_box.autoRange(padding=PADDING)
        self._show_page_controls()
        self._show_selection()

    def _show_page_controls(self) -> None:
        """The arrows only when the first layer has several pages, and which neurons are shown."""
        paged = self.pages > 1
        self.previous_page.setVisible(paged)
        self.next_page.setVisible(paged)
        if self._sizes is None:
            self.page_label.setText("")
        elif paged:
            start, stop = self._page_range()
            self.page_label.setText(f"neurons {start}–{stop - 1} of {self._sizes[1]}")
            self.previous_page.setEnabled(self._page > 0)
            self.next_page.setEnabled(self._page < self.pages - 1)
        else:
            self.page_label.setText(f"{self._sizes[1]} neurons")
        self.page_label.setToolTip(f"Each tile: a neuron's {SIDE}×{SIDE} weights, one from each "
                                   "pixel of the image, where that pixel is")

    def _contrast_toggled(self, on: bool) -> None:
        self.colour_bar.getAxis("left").setLabel(PER_TILE_LABEL if on else SHARED_LABEL)
        if self._snapshot is not None:
            self._draw_tiles()

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
        else:
            outer.addItem(self._deeper, row=1, col=0)
            self._deeper.setContentsMargins(0, 12, 0, 0)
        for matrix in self._matrices:
            self._deeper.removeItem(matrix.title)
            self._deeper.removeItem(matrix.box)
        self._place_matrices()
        fit_to_scene(self.graphics)

    def _place_matrices(self) -> None:
        """Put each matrix's title and heatmap into the (empty) deeper layout; with none (a
        network of one layer, 784-10), the tiles have all the room."""
        share = (3, 2) if self._matrices else (1, 0)
        _stretch(self.graphics.ci.layout, **{"columns" if self._wide else "rows": share})
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

    # --- selection, pages and mouse ----------------------------------------------------------

    def _page_range(self) -> tuple[int, int]:
        """The first neuron of the page shown, and one past its last."""
        start = self._page * self._per_page
        return start, min(start + self._per_page, self._sizes[1])

    def _page_of_selection(self) -> int | None:
        """The page of the selected neuron if it is one of the first layer's, else None."""
        if self._selection is None or self._sizes is None or self._selection[0] != 1:
            return None
        neuron = self._selection[1]
        return neuron // self._per_page if 0 <= neuron < self._sizes[1] else None

    def _show_selection(self) -> None:
        for image in (self.grid_image, *self.matrix_images):
            image.outline.hide()
        if self._selection is None or self._sizes is None:
            return
        layer, neuron = self._selection
        if not (1 <= layer < len(self._sizes) and 0 <= neuron < self._sizes[layer]):
            return  # not a neuron of this architecture
        if layer == 1:
            start, stop = self._page_range()
            if not start <= neuron < stop:
                return  # on another page: the outline comes back with it
            r, c = divmod(neuron - start, self._columns)
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
        """The first-layer neuron whose tile (of the page shown) is under the pixel, or None."""
        if self._sizes is None:
            return None
        start, stop = self._page_range()
        k = tile_at(row, col, self._columns, stop - start, gap=GAP)
        return None if k is None else start + k

    def _inside(self, l: int, row: float, col: float) -> bool:
        return 0 <= row < self._sizes[l] and 0 <= col < self._sizes[l + 1]


def _stretch(layout: QGraphicsGridLayout, rows=(), columns=()) -> None:
    """Stretch factors for the first rows and columns; the others get 1, as the arrangement
    that left them empty may have given them 0, which would forbid them to grow."""
    for i in range(layout.rowCount()):
        layout.setRowStretchFactor(i, rows[i] if i < len(rows) else 1)
    for i in range(layout.columnCount()):
        layout.setColumnStretchFactor(i, columns[i] if i < len(columns) else 1)
