"""The network's answers on the test set after each epoch: the confusion matrix, the accuracy for
each true digit, and a gallery of test digits to look at (the first ones, the mistakes the network
is surest of, or those of one cell of the matrix).

The numbers come from ``core.evaluation.Evaluation``, built by the worker once per epoch; the
panel only draws them and keeps the user's choices (the gallery's mode, the cell selected)
across epochs.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.panels.activations import BAR_WIDTH, SquareView, bar_style, style_plot
from app.panels.weights import _PixelImage
from core.evaluation import Evaluation
from core.inspect import SIDE, tile, tile_at

DIGITS = 10
MODES = ("samples", "mistakes", "cell")
GALLERY_COLUMNS, GALLERY_ROWS = 12, 4
GALLERY_MAX = GALLERY_COLUMNS * GALLERY_ROWS  # thumbnails shown at most
CAPTION_ROWS = 18  # image rows of background under each thumbnail: two lines of caption
CAPTION_FONT_PT = 8
CAPTION_MIN_PX = 40  # the narrowest thumbnail on screen whose caption does not run into the next
COUNT_FONT_PX = 12  # a count's font in a large matrix; in a small one, as much as "980" fits in
COUNT_MIN_PX = 6  # below this the counts are not drawn (the colours and tooltips remain)
TILE_HEIGHT = SIDE + CAPTION_ROWS
GAP = 1  # as core.inspect.tile draws it
CELL_EMPTY = "#1e2128"  # a zero count: a shade off the background, so the matrix reads as a grid
# The diagonal (right) and the off-diagonal (wrong) each scaled to their own largest count, so
# a dozen confusions stand out beside a thousand right answers. Both end at mid tones, so the
# light count written over a cell stays readable.
RIGHT_MAP = pg.ColorMap(np.array([0.0, 1.0]),
                        np.array([[30, 33, 40], [58, 120, 72]], dtype=np.ubyte))
WRONG_MAP = pg.ColorMap(np.array([0.0, 0.15, 1.0]),
                        np.array([[30, 33, 40], [88, 48, 62], [196, 56, 84]], dtype=np.ubyte))
HINT_CELL = "click a cell of the confusion matrix to see its test digits"
NO_EVALUATION = "the test digits appear here after the first epoch"
CAPTION_STYLE = f"color: {theme.MUTED}"


def _set_caption(item: pg.TextItem, text: str, colour: str) -> None:
    """Change a caption only if it changes: setText re-lays out the text, which adds up over
    a gallery of captions redrawn every epoch."""
    if item.toPlainText() != text or item.color.name() != colour:
        item.setText(text, color=colour)
    _show(item, True)


def _show(item, visible: bool) -> None:
    if item.isVisible() != visible:  # a TextItem's setVisible recomputes its transform
        item.setVisible(visible)


def _caption_item() -> pg.TextItem:
    """A small centred line of text under a thumbnail, without the document's usual margin."""
    item = pg.TextItem("", anchor=(0.5, 0.0))
    font = item.textItem.font()
    font.setPointSizeF(CAPTION_FONT_PT)
    item.setFont(font)
    item.textItem.document().setDocumentMargin(0)
    return item


class _Counts(pg.GraphicsObject):
    """The count of every cell, written at its centre in a font of ``px`` pixels on screen,
    whatever the zoom: one item painting 100 short texts. (A TextItem per cell laid out its own
    text document for every change: 12 ms of every step of the timeline.)"""

    def __init__(self):
        super().__init__()
        self.counts: np.ndarray | None = None
        self.px = COUNT_FONT_PX
        self._pens = (QColor(theme.MUTED), QColor(theme.FOREGROUND))  # zero, not zero

    def set_counts(self, counts: np.ndarray | None) -> None:
        self.counts = counts
        self.update()

    def texts(self) -> list[list[str]]:
        """What each cell says: its count, or nothing before there is one."""
        if self.counts is None:
            return [[""] * DIGITS for _ in range(DIGITS)]
        return [[str(c) for c in row] for row in self.counts]

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, DIGITS, DIGITS)

    def paint(self, painter, *args) -> None:
        if self.counts is None or self.px < COUNT_MIN_PX:
            return
        to_screen = painter.transform()
        painter.resetTransform()  # draw in screen pixels, so the text is not scaled with the cells
        font = painter.font()
        font.setPixelSize(self.px)
        painter.setFont(font)
        box = QRectF(0, 0, 4 * self.px, 2 * self.px)
        for i, row in enumerate(self.counts.tolist()):
            for j, count in enumerate(row):
                box.moveCenter(to_screen.map(QPointF(j + 0.5, i + 0.5)))
                painter.setPen(self._pens[count != 0])
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, str(count))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


class EvaluationPanel(QWidget):
    """What the network gets right and wrong on the test set.

    ``set_images(x_test)``
        once: the test images (N, 784) that the evaluations' indices point into.
    ``show_evaluation(evaluation)``
        after every epoch: redraws the matrix, the bars and the gallery, keeping the gallery's
        mode and the cell selected.
    ``clear()``
        no evaluation (a new network): empty matrix and gallery, no cell selected.
    ``select_cell(true, predicted)`` / ``set_mode(mode)``
        what a click on the matrix and the mode box do.
    ``gallery_indices`` (property)
        the test-set indices of the thumbnails shown, in order.
    signal ``digit_chosen(int index)``
        a thumbnail was clicked: the test-set index of its digit.
    """

    digit_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._x_test: np.ndarray | None = None
        self._evaluation: Evaluation | None = None
        self._cell: tuple[int, int] | None = None
        self._indices = np.empty(0, dtype=np.intp)
        self._diagonal = np.eye(DIGITS, dtype=bool)
        self._build_matrix()
        self._build_bars()
        self._build_gallery()
        self._arrange()
        self.clear()

    # --- building ---------------------------------------------------------------------------

    def _build_matrix(self) -> None:
        self.matrix_view = SquareView()
        self.matrix_view.setMinimumSize(200, 200)  # 10x10 cells of about 16 pixels: counts still fit
        plot = self.matrix_view.addPlot()
        style_plot(plot, "confusion matrix")
        self.matrix_plot = plot
        box = plot.getViewBox()
        box.invertY(True)
        box.setAspectLocked(True)
        box.setBackgroundColor(CELL_EMPTY)
        ticks = [[(d + 0.5, str(d)) for d in range(DIGITS)], []]
        for side, name in (("bottom", "predicted"), ("left", "true")):
            axis = plot.getAxis(side)
            axis.setTicks(ticks)
            axis.setLabel(name)
        # The right answers underneath, the wrong ones on top; NaN is transparent in each.
        self.right_image = pg.ImageItem(axisOrder="row-major")
        self.right_image.setColorMap(RIGHT_MAP)
        self.matrix_image = _PixelImage()  # takes the clicks and carries the selection outline
        self.matrix_image.setColorMap(WRONG_MAP)
        self.matrix_image.clicked.connect(self._matrix_clicked)
        plot.addItem(self.right_image)
        plot.addItem(self.matrix_image)
        self.counts_item = _Counts()
        plot.addItem(self.counts_item)
        box.setRange(xRange=(0, DIGITS), yRange=(0, DIGITS), padding=0)
        box.sigResized.connect(self._fit_counts)

    def _build_bars(self) -> None:
        self.bars_view = pg.PlotWidget()
        self.bars_view.setMinimumHeight(70)
        plot = self.bars_view.getPlotItem()
        style_plot(plot, "accuracy per true digit")
        plot.getAxis("bottom").setTicks([[(d, str(d)) for d in range(DIGITS)], []])
        plot.setXRange(-0.5, DIGITS - 0.5, padding=0.01)
        self.bars = pg.BarGraphItem(x=np.arange(DIGITS), height=np.zeros(DIGITS), width=BAR_WIDTH,
                                    **bar_style(theme.BAR))
        self.marked_bar = pg.BarGraphItem(x=[0], height=[0.0], width=BAR_WIDTH, **bar_style(theme.ACCENT))
        self.marked_bar.setVisible(False)
        plot.addItem(self.bars)
        plot.addItem(self.marked_bar)

    def _build_gallery(self) -> None:
        self.mode_box = QComboBox()
        self.mode_box.addItems(MODES)
        self.mode_box.setToolTip("samples: the first test digits; mistakes: the wrong answers the "
                                 "network is surest of; cell: the digits of the cell clicked")
        self.mode_box.currentTextChanged.connect(lambda _: self._show_gallery())
        self.gallery_caption = QLabel("")
        self.gallery_caption.setStyleSheet(CAPTION_STYLE)
        # A long caption is cut rather than widening the panel (the tooltip has it whole).
        self.gallery_caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.gallery_view = pg.GraphicsLayoutWidget()
        self.gallery_view.setMinimumSize(200, 90)
        box = self.gallery_view.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        box.setMenuEnabled(False)
        self.gallery_image = _PixelImage()
        self.gallery_image.setColorMap(theme.GRAY)
        self.gallery_image.clicked.connect(self._gallery_clicked)
        box.addItem(self.gallery_image)
        pen = pg.mkPen(theme.TEST, width=1.5)
        pen.setCosmetic(True)
        # Under each thumbnail: "true→predicted" (or the digit, if right), and the network's
        # confidence in its answer where the gallery is sorted by it.
        self.thumbnail_captions: list[pg.TextItem] = []
        self.confidence_captions: list[pg.TextItem] = []
        self._mistake_frames: list[QGraphicsRectItem] = []
        for k in range(GALLERY_MAX):
            x, y = self._thumbnail_origin(k)
            for line, items in enumerate((self.thumbnail_captions, self.confidence_captions)):
                caption = _caption_item()
                caption.setPos(x + SIDE / 2, y + SIDE + 0.5 + line * CAPTION_ROWS / 2)
                caption.setVisible(False)
                box.addItem(caption)
                items.append(caption)
            frame = QGraphicsRectItem(x - GAP / 2, y - GAP / 2, SIDE + GAP, SIDE + GAP, self.gallery_image)
            frame.setPen(pen)
            frame.hide()
            self._mistake_frames.append(frame)
        width = GALLERY_COLUMNS * (SIDE + GAP) - GAP
        height = GALLERY_ROWS * (TILE_HEIGHT + GAP) - GAP
        box.setRange(xRange=(0, width), yRange=(0, height), padding=0.01)

    def _arrange(self) -> None:
        header = QHBoxLayout()
        header.addWidget(QLabel("Test digits"))
        header.addWidget(self.mode_box)
        header.addWidget(self.gallery_caption, 1)
        right = QVBoxLayout()
        right.addLayout(header)
        right.addWidget(self.gallery_view, 3)
        right.addWidget(self.bars_view, 1)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(self.matrix_view, 4)
        outer.addLayout(right, 5)

    @staticmethod
    def _thumbnail_origin(k: int) -> tuple[int, int]:
        """(x, y) of thumbnail k's top-left pixel in the gallery image."""
        r, c = divmod(k, GALLERY_COLUMNS)
        return c * (SIDE + GAP), r * (TILE_HEIGHT + GAP)

    # --- what the window calls --------------------------------------------------------------

    def set_images(self, x_test: np.ndarray) -> None:
        """The test images (N, 784) that the evaluations' indices point into."""
        self._x_test = x_test
        self._show_gallery()

    def show_evaluation(self, evaluation: Evaluation) -> None:
        """Draw this evaluation; the gallery keeps its mode and the cell selected."""
        if self._x_test is not None and len(self._x_test) != len(evaluation.labels):
            raise ValueError(f"the evaluation is of {len(evaluation.labels):,} test digits, "
                             f"the panel has {len(self._x_test):,} images")
        self._evaluation = evaluation
        self._show_matrix(evaluation)
        self._show_bars(evaluation)
        self._show_gallery()

    def clear(self) -> None:
        """No evaluation and no cell selected; the gallery's mode stays."""
        self._evaluation = None
        self._cell = None
        self.matrix_image.outline.hide()
        self.matrix_image.clear()
        self.right_image.clear()
        self.counts_item.set_counts(None)
        self.matrix_plot.setTitle("confusion matrix", size="9pt")
        self.bars.setOpts(height=np.zeros(DIGITS))
        self.marked_bar.setVisible(False)
        self._set_bar_range(0.8)
        self._show_gallery()

    def select_cell(self, true: int, predicted: int) -> None:
        """Outline cell (true, predicted) and show its digits in the gallery."""
        self._cell = (true, predicted)
        self.matrix_image.show_outline(QRectF(predicted, true, 1, 1))
        self._mark_bar()
        if self.mode != "cell":
            self.mode_box.setCurrentText("cell")  # redraws the gallery
        else:
            self._show_gallery()

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"the gallery's mode is one of {', '.join(MODES)}, got {mode!r}")
        self.mode_box.setCurrentText(mode)

    @property
    def mode(self) -> str:
        return self.mode_box.currentText()

    @property
    def selected_cell(self) -> tuple[int, int] | None:
        return self._cell

    @property
    def gallery_indices(self) -> np.ndarray:
        """The test-set indices of the thumbnails shown, in order."""
        return self._indices

    @property
    def evaluation(self) -> Evaluation | None:
        return self._evaluation

    # --- drawing ----------------------------------------------------------------------------

    def _show_matrix(self, ev: Evaluation) -> None:
        counts = ev.counts
        right = np.where(self._diagonal, counts, np.nan)  # (10, 10), NaN off the diagonal
        wrong = np.where(self._diagonal, np.nan, counts)
        self.right_image.setImage(right, levels=(0.0, max(float(np.diag(counts).max()), 1.0)))
        self.matrix_image.setImage(wrong, levels=(0.0, max(float(np.nanmax(wrong)), 1.0)))
        self.counts_item.set_counts(counts)
        # Short: a plot is at least as wide as its title, and a long one cut the matrix off.
        self.matrix_plot.setTitle(f"epoch {ev.epoch}: {ev.accuracy:.2%} right", size="9pt")
        self.matrix_plot.setToolTip(f"confusion matrix after epoch {ev.epoch}: {ev.accuracy:.2%} "
                                    f"of {len(ev.labels):,} test digits right")

    def _show_bars(self, ev: Evaluation) -> None:
        recall = ev.per_digit_accuracy
        self.bars.setOpts(height=recall)
        low = min(0.8, np.floor(recall.min() * 10) / 10)  # from 0.8, or lower to show every bar
        self._set_bar_range(low)
        self._mark_bar()

    def _set_bar_range(self, low: float) -> None:
        plot = self.bars_view.getPlotItem()
        plot.setYRange(low, 1.0, padding=0.02)
        plot.getAxis("left").setTicks([[(v, f"{v:.2g}") for v in (low, (low + 1) / 2, 1.0)], []])

    def _mark_bar(self) -> None:
        """The bar of the selected cell's true digit, in the accent colour."""
        shown = self._cell is not None and self._evaluation is not None
        self.marked_bar.setVisible(shown)
        if shown:
            i = self._cell[0]
            self.marked_bar.setOpts(x=[i], height=self._evaluation.per_digit_accuracy[i:i + 1])

    def _show_gallery(self) -> None:
        ev, mode = self._evaluation, self.mode
        nothing = np.empty(0, dtype=np.intp)
        if ev is None:
            self._fill_gallery(nothing, NO_EVALUATION)
        elif mode == "samples":
            indices = ev.samples(0, GALLERY_MAX)
            self._fill_gallery(indices, f"the first {len(indices)}: true→predicted, mistakes in red")
        elif mode == "mistakes":
            every = ev.mistakes()
            self._fill_gallery(every[:GALLERY_MAX], f"{_plural(len(every), 'mistake')}, surest "
                               f"first{self._shown(len(every))}: true→predicted, confidence",
                               confidence=True)
        elif self._cell is None:
            self._fill_gallery(nothing, HINT_CELL)
        else:
            i, j = self._cell
            every = ev.cell(i, j)
            self._fill_gallery(every[:GALLERY_MAX], f"true {i}, predicted {j}: "
                               f"{_plural(len(every), 'image')}{self._shown(len(every))}",
                               confidence=True)

    @staticmethod
    def _shown(n: int) -> str:
        return f" ({GALLERY_MAX} shown)" if n > GALLERY_MAX else ""

    def _fill_gallery(self, indices: np.ndarray, caption: str, confidence: bool = False) -> None:
        """Thumbnails of the test digits ``indices`` (at most GALLERY_MAX), each captioned with
        its labels (red and framed if wrong) and, with ``confidence``, the network's confidence."""
        self._indices = indices
        self.gallery_caption.setText(caption)
        self.gallery_caption.setToolTip(caption)
        k = len(indices)
        shown = self._x_test is not None and k > 0
        if shown:
            thumbnails = np.full((k, TILE_HEIGHT, SIDE), np.nan, dtype=np.float32)
            thumbnails[:, :SIDE] = self._x_test[indices].reshape(k, SIDE, SIDE)
            self.gallery_image.setImage(tile(thumbnails, GALLERY_COLUMNS, GAP), levels=(0.0, 1.0))
        self.gallery_image.setVisible(shown)
        ev = self._evaluation
        if ev is not None and k:
            true, predicted = ev.labels[indices], ev.predicted[indices]
            sure = ev.confidence[indices]
        for n in range(GALLERY_MAX):
            label, certainty = self.thumbnail_captions[n], self.confidence_captions[n]
            if ev is None or n >= k:
                _show(label, False)
                _show(certainty, False)
                self._mistake_frames[n].setVisible(False)
                continue
            wrong = bool(true[n] != predicted[n])
            _set_caption(label, f"{true[n]}→{predicted[n]}" if wrong else f"{true[n]}",
                         theme.TEST if wrong else theme.MUTED)
            if confidence:
                _set_caption(certainty, f"{sure[n]:.0%}", theme.TEST if wrong else theme.MUTED)
            _show(certainty, confidence)
            self._mistake_frames[n].setVisible(wrong)

    def _fit_counts(self) -> None:
        """Counts in a font that fits their cells: three digits in about 0.45 of a cell's
        width, at most COUNT_FONT_PX, none below COUNT_MIN_PX (a matrix squeezed into a small
        screen's dock would otherwise have its counts run into each other)."""
        width = self.matrix_plot.getViewBox().width()
        px = min(COUNT_FONT_PX, int(0.45 * width / DIGITS))
        if px != self.counts_item.px:
            self.counts_item.px = px
            self.counts_item.update()

    def resizeEvent(self, event) -> None:
        """Captions only where a thumbnail is wide enough on screen to hold them; a narrow
        gallery keeps its red frames round the mistakes."""
        super().resizeEvent(event)
        fits = self.gallery_view.width() / GALLERY_COLUMNS >= CAPTION_MIN_PX
        for item in (*self.thumbnail_captions, *self.confidence_captions):
            item.setOpacity(1.0 if fits else 0.0)

    # --- the user ---------------------------------------------------------------------------

    def _matrix_clicked(self, row: float, col: float) -> None:
        if self._evaluation is not None and 0 <= row < DIGITS and 0 <= col < DIGITS:
            self.select_cell(int(row), int(col))

    def _gallery_clicked(self, row: float, col: float) -> None:
        k = tile_at(row, col, GALLERY_COLUMNS, len(self._indices), h=TILE_HEIGHT, w=SIDE, gap=GAP)
        if k is not None:
            self.digit_chosen.emit(int(self._indices[k]))
