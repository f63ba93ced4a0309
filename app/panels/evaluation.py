"""The network's answers on the test set after each epoch: the confusion matrix with each true
digit's recall beside it and each answer's precision under it, and a gallery of test digits to
look at (the first ones, the mistakes the network is surest of, or those of one cell of the
matrix), each thumbnail at least THUMBNAIL_MIN_PX wide with its caption.

The numbers come from ``core.evaluation.Evaluation``, built by the worker once per epoch; the
panel only draws them and keeps the user's choices (the gallery's mode, the cell selected)
across epochs.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QFont, QFontMetricsF
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.panels.activations import SquareView, style_plot
from app.panels.weights import _PixelImage
from core.evaluation import Evaluation
from core.inspect import SIDE, tile, tile_at

DIGITS = 10
MODES = ("samples", "mistakes", "cell")
GALLERY_MAX = 48  # thumbnails shown at most
THUMBNAIL_MIN_PX = 40  # a thumbnail's least width on screen: a 28-pixel digit at 1.4 screen
# pixels a pixel, its caption's "7→2" and "100%" (8 pt, about 25 px wide) within its width
CAPTION_ROWS = 20  # image rows of background under each thumbnail: two lines of caption, at
# least 28 screen pixels at the least scale (two 8-pt lines are about 26)
CAPTION_FONT_PT = 8
COUNT_FONT_PX = 13  # the cells' font in a large matrix; in a smaller one, what fits (COUNT_FILL)
COUNT_FILL = 0.9  # the widest text of a cell (a count such as "1135", or "99.4") takes at most
# this share of the cell's width, so neighbours stay apart by a tenth of a cell or more
COUNT_MIN_PX = 6  # below this the texts are not drawn (the colours and tooltips remain)
MATRIX_SHARE = 0.6  # of the panel's width, at most, for the matrix; the gallery has the rest
RIGHT_AXIS_PX = 20  # an axis with only its name, turned: a line of 9-pt text and a gap
MARGIN = 0.25  # cells between the matrix and its recall column and precision row
RATES_AT = DIGITS + MARGIN  # where the recall column and the precision row begin
EXTENT = RATES_AT + 1  # the view's range across and down, in cells
TILE_HEIGHT = SIDE + CAPTION_ROWS
GAP = 1  # as core.inspect.tile draws it
CELL_EMPTY = "#1e2128"  # a zero count: a shade off the background, so the matrix reads as a grid
# The diagonal (right) and the off-diagonal (wrong) each scaled to their own largest count, so
# a dozen confusions stand out beside a thousand right answers. Both end at mid tones, so the
# light count written over a cell stays readable. Precision and recall take the diagonal's
# green, from the lowest rate shown (0.8, or lower) to 1.
RIGHT_MAP = pg.ColorMap(np.array([0.0, 1.0]),
                        np.array([[30, 33, 40], [58, 120, 72]], dtype=np.ubyte))
WRONG_MAP = pg.ColorMap(np.array([0.0, 0.15, 1.0]),
                        np.array([[30, 33, 40], [88, 48, 62], [196, 56, 84]], dtype=np.ubyte))
HINT_CELL = "click a cell of the confusion matrix to see its test digits"
NO_EVALUATION = "the test digits appear here after the first epoch"
CAPTION_STYLE = f"color: {theme.MUTED}"
MATRIX_TIP = ("Rows: the true digit; columns: the network's answer. The diagonal counts the "
              "right answers, the red cells the confusions. Recall (right): the share of each "
              "true digit answered right. Precision (below): the share of each answer that is "
              "right. Click a cell to see its test digits.")


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


def _percent(rate: float) -> str:
    """A rate as a percentage of at most four characters: "97.3", "100", "–" if undefined."""
    if not np.isfinite(rate):
        return "–"
    return "100" if rate >= 0.9995 else f"{100 * rate:.1f}"


def gallery_grid(width: float, height: float, n: int = GALLERY_MAX,
                 least_px: float = THUMBNAIL_MIN_PX) -> tuple[int, int]:
    """(columns, rows) of thumbnails for a view of width x height pixels: the n thumbnails as
    large as they fit, if that is at least ``least_px`` wide; else as many as fit at least_px
    (fewer than n, one at least)."""
    step_x, step_y = SIDE + GAP, TILE_HEIGHT + GAP
    scale, columns = max((min(width / (c * step_x), height / (-(-n // c) * step_y)), c)
                         for c in range(1, n + 1))
    if scale * SIDE >= least_px:
        return columns, -(-n // columns)
    least = least_px / SIDE  # screen pixels per image pixel
    return (max(1, min(n, int(width / (least * step_x)))),
            max(1, int(height / (least * step_y))))


class _MatrixView(SquareView):
    """The matrix's view, asking for the width its square of cells needs (``wanted``, set by
    the panel as its height changes)."""
    wanted = 0

    def sizeHint(self) -> QSize:
        return QSize(self.wanted, self.wanted) if self.wanted else super().sizeHint()


class _GalleryView(pg.GraphicsLayoutWidget):
    """The gallery's view, asking for no more than its least size: a QGraphicsView asks for
    hundreds of pixels, which kept the matrix beside it narrower than its cells need."""

    def sizeHint(self) -> QSize:
        return self.minimumSize()


class _CellTexts(pg.GraphicsObject):
    """The count of every cell and the rates of the recall column and the precision row, each
    written at its cell's centre in one font for all, as large as the widest text allows
    (COUNT_FILL of a cell) and at most COUNT_FONT_PX, whatever the zoom: one item painting 120
    short texts. (A TextItem per cell laid out its own text document for every change: 12 ms
    of every step of the timeline.)"""

    def __init__(self):
        super().__init__()
        self.counts: np.ndarray | None = None
        self._texts: list[tuple[QPointF, str, QColor]] = []  # centre (view), text, colour
        self._counts_text: list[list[str]] = [[""] * DIGITS for _ in range(DIGITS)]
        self._rates_text: tuple[list[str], list[str]] = ([""] * DIGITS, [""] * DIGITS)
        self._font = QFont()
        self._per_px = 1.0  # the widest text's width per pixel of font size
        self._muted, self._plain = QColor(theme.MUTED), QColor(theme.FOREGROUND)

    def set_counts(self, counts: np.ndarray | None, recall: np.ndarray | None = None,
                   precision: np.ndarray | None = None) -> None:
        """The (10, 10) counts and the (10,) recall and precision, or None for empty cells."""
        self.counts = counts
        self._texts = []
        if counts is None:
            self._counts_text = [[""] * DIGITS for _ in range(DIGITS)]
            self._rates_text = ([""] * DIGITS, [""] * DIGITS)
        else:
            self._counts_text = [[str(c) for c in row] for row in counts.tolist()]
            self._rates_text = ([_percent(r) for r in recall], [_percent(p) for p in precision])
            for i, row in enumerate(self._counts_text):
                for j, text in enumerate(row):
                    self._texts.append((QPointF(j + 0.5, i + 0.5), text,
                                        self._plain if counts[i, j] else self._muted))
            for d in range(DIGITS):
                for centre, text in ((QPointF(RATES_AT + 0.5, d + 0.5), self._rates_text[0][d]),
                                     (QPointF(d + 0.5, RATES_AT + 0.5), self._rates_text[1][d])):
                    self._texts.append((centre, text, self._muted if text == "–" else self._plain))
            widest = max((t for _, t, _ in self._texts), key=len)
            font = QFont(self._font)
            font.setPixelSize(100)
            self._per_px = QFontMetricsF(font).horizontalAdvance(widest) / 100
        self.update()

    def texts(self) -> list[list[str]]:
        """What each cell of the matrix says: its count, or nothing before there is one."""
        return self._counts_text

    def rates(self) -> tuple[list[str], list[str]]:
        """What the recall column (by true digit) and the precision row (by answer) say."""
        return self._rates_text

    def font_px(self, cell_px: float) -> int:
        """The texts' font size in pixels for cells ``cell_px`` wide on screen."""
        return min(COUNT_FONT_PX, int(COUNT_FILL * cell_px / self._per_px))

    def font(self, px: int) -> QFont:
        font = QFont(self._font)
        font.setPixelSize(max(px, 1))
        return font

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, EXTENT, EXTENT)

    def paint(self, painter, *args) -> None:
        if not self._texts:
            return
        to_screen = painter.transform()
        cell_px = abs(to_screen.m11())  # screen pixels per cell: the view keeps cells square
        px = self.font_px(cell_px)
        if px < COUNT_MIN_PX:
            return
        painter.resetTransform()  # draw in screen pixels, so the text is not scaled with the cells
        painter.setFont(self.font(px))
        box = QRectF(0, 0, cell_px, cell_px)
        for centre, text, colour in self._texts:
            box.moveCenter(to_screen.map(centre))
            painter.setPen(colour)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


class EvaluationPanel(QWidget):
    """What the network gets right and wrong on the test set.

    ``set_images(x_test)``
        once: the test images (N, 784) that the evaluations' indices point into.
    ``show_evaluation(evaluation)``
        after every epoch: redraws the matrix, its recall column and precision row, and the
        gallery, keeping the gallery's mode and the cell selected.
    ``clear()``
        no evaluation (a new network): empty matrix and gallery, no cell selected.
    ``select_cell(true, predicted)`` / ``set_mode(mode)``
        what a click on the matrix and the mode box do.
    ``gallery_indices`` (property)
        the test-set indices of the thumbnails shown, in order.
    ``gallery_columns`` / ``gallery_capacity`` (properties)
        the gallery's grid for the view's size now: thumbnails at least THUMBNAIL_MIN_PX wide.
    signal ``digit_chosen(int index)``
        a thumbnail was clicked: the test-set index of its digit.
    """

    digit_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._x_test: np.ndarray | None = None
        self._evaluation: Evaluation | None = None
        self._cell: tuple[int, int] | None = None
        self._names: tuple[str, ...] = tuple(str(d) for d in range(DIGITS))  # the classes' names
        self._indices = np.empty(0, dtype=np.intp)
        self._diagonal = np.eye(DIGITS, dtype=bool)
        self._columns, self._rows = 12, 4  # until the view has a size
        self._build_matrix()
        self._build_gallery()
        self._arrange()
        self.clear()

    # --- building ---------------------------------------------------------------------------

    def _build_matrix(self) -> None:
        self.matrix_view = _MatrixView()
        self.matrix_view.setMinimumSize(240, 200)  # the cells, the rates beside them and the axes
        self.matrix_view.setToolTip(MATRIX_TIP)
        self.matrix_view.ci.setContentsMargins(0, 0, 0, 0)  # every pixel for the cells
        plot = self.matrix_view.addPlot()
        style_plot(plot, "confusion matrix")
        plot.layout.setContentsMargins(0, 0, 0, 0)
        plot.layout.setSpacing(0)
        self.matrix_plot = plot
        box = plot.getViewBox()
        box.invertY(True)
        box.setAspectLocked(True)
        box.setBackgroundColor(theme.BACKGROUND)  # the gap before the rates reads as a gap
        # The digits and the rates' names, without tick marks or axis lines: a tick beside the
        # first column's counts read as a minus sign ("-15").
        # "precision" names its row at the left; "recall", its column from the right, turned as
        # the axes' names are (under the column it ran into the 9 of a small matrix).
        names = {"bottom": ("predicted", []), "left": ("true", [(RATES_AT + 0.5, "precision")])}
        plot.showAxis("right")
        plot.getAxis("right").setStyle(showValues=False)
        plot.getAxis("right").setWidth(RIGHT_AXIS_PX)
        for side in ("bottom", "left", "right"):
            axis = plot.getAxis(side)
            name, rate = names.get(side, ("recall", []))
            axis.setTicks([[(d + 0.5, str(d)) for d in range(DIGITS)] + rate, []])
            # tickAlpha 0: with a pen of its own the tick's alpha would be set again; and the
            # rates' names may reach past the axis's end (by at most 15 pixels)
            axis.setStyle(tickLength=0, tickAlpha=0)
            axis.setPen(pg.mkPen(None))
            axis.setTextPen(pg.mkPen(theme.FOREGROUND))
            axis.setLabel(name)
        bottom = plot.getAxis("bottom")
        bottom.setHeight(2 * QFontMetricsF(bottom.font()).height() + 4)  # the digits and the name
        left = plot.getAxis("left")
        left.setWidth(_text_width(left, "precision") + RIGHT_AXIS_PX)  # the word and the turned label
        # The right answers underneath, the wrong ones on top; NaN is transparent in each.
        self.right_image = pg.ImageItem(axisOrder="row-major")
        self.right_image.setColorMap(RIGHT_MAP)
        self.matrix_image = _PixelImage()  # takes the clicks and carries the selection outline
        self.matrix_image.setColorMap(WRONG_MAP)
        self.matrix_image.clicked.connect(self._matrix_clicked)
        self.matrix_image.hovered.connect(self._matrix_hovered)
        # Recall, a column (10, 1) right of the rows; precision, a row (1, 10) under the columns.
        self.recall_image = _PixelImage()
        self.precision_image = _PixelImage()
        for image, shape, rect in ((self.recall_image, (DIGITS, 1), QRectF(RATES_AT, 0, 1, DIGITS)),
                                   (self.precision_image, (1, DIGITS), QRectF(0, RATES_AT, DIGITS, 1))):
            image.setColorMap(RIGHT_MAP)
            image.setImage(np.full(shape, np.nan, dtype=np.float32), levels=(0.0, 1.0))
            image.setRect(rect)
        self.recall_image.hovered.connect(lambda row, col: self._rate_hovered("recall", int(row)))
        self.precision_image.hovered.connect(lambda row, col: self._rate_hovered("precision", int(col)))
        for item in (self.right_image, self.matrix_image, self.recall_image, self.precision_image):
            plot.addItem(item)
        self.counts_item = _CellTexts()
        plot.addItem(self.counts_item)
        box.setRange(xRange=(0, EXTENT), yRange=(0, EXTENT), padding=0)
        box.sigResized.connect(self._fit_matrix)  # its chrome known once laid out: converges, as
        # the width wanted depends on the view's height and the axes only

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
        self.gallery_view = _GalleryView()
        self.gallery_view.setMinimumSize(2 * THUMBNAIL_MIN_PX, 2 * THUMBNAIL_MIN_PX)
        box = self.gallery_view.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        box.setMenuEnabled(False)
        self.gallery_box = box
        self.gallery_image = _PixelImage()
        self.gallery_image.setColorMap(theme.GRAY)
        self.gallery_image.clicked.connect(self._gallery_clicked)
        box.addItem(self.gallery_image)
        pen = pg.mkPen(theme.TEST, width=1.5)
        pen.setCosmetic(True)
        # Under each thumbnail: "true→predicted" (or the digit, if right), and the network's
        # confidence in its answer where the gallery is sorted by it. Made once, placed by
        # _place_thumbnails when the grid changes.
        self.thumbnail_captions: list[pg.TextItem] = []
        self.confidence_captions: list[pg.TextItem] = []
        self._mistake_frames: list[QGraphicsRectItem] = []
        for _ in range(GALLERY_MAX):
            for items in (self.thumbnail_captions, self.confidence_captions):
                caption = _caption_item()
                caption.setVisible(False)
                box.addItem(caption)
                items.append(caption)
            frame = QGraphicsRectItem(self.gallery_image)
            frame.setPen(pen)
            frame.hide()
            self._mistake_frames.append(frame)
        self._place_thumbnails()
        box.sigResized.connect(self._fit_gallery)

    def _arrange(self) -> None:
        header = QHBoxLayout()
        header.addWidget(QLabel("Test digits"))
        header.addWidget(self.mode_box)
        header.addWidget(self.gallery_caption, 1)
        right = QVBoxLayout()
        right.addLayout(header)
        right.addWidget(self.gallery_view, 1)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(self.matrix_view)  # as wide as its height needs (_fit_matrix) ...
        outer.addLayout(right, 1)  # ... and the gallery the rest

    def _thumbnail_origin(self, k: int) -> tuple[int, int]:
        """(x, y) of thumbnail k's top-left pixel in the gallery image."""
        r, c = divmod(k, self._columns)
        return c * (SIDE + GAP), r * (TILE_HEIGHT + GAP)

    def _place_thumbnails(self) -> None:
        """Captions and frames where the grid puts each thumbnail, and the view's range."""
        for k in range(GALLERY_MAX):
            x, y = self._thumbnail_origin(k)
            self.thumbnail_captions[k].setPos(x + SIDE / 2, y + SIDE + 0.5)
            self.confidence_captions[k].setPos(x + SIDE / 2, y + SIDE + 0.5 + CAPTION_ROWS / 2)
            self._mistake_frames[k].setRect(x - GAP / 2, y - GAP / 2, SIDE + GAP, SIDE + GAP)
        width = self._columns * (SIDE + GAP) - GAP
        height = self._rows * (TILE_HEIGHT + GAP) - GAP
        self.gallery_box.setRange(xRange=(0, width), yRange=(0, height), padding=0)

    # --- what the window calls --------------------------------------------------------------

    def set_class_names(self, names) -> None:
        """The classes' names (default: the digits): the true classes along the matrix's side
        and the gallery's captions say them; the answers along its foot are numbered when they
        are not digits (ten words would overlap)."""
        self._names = tuple(names)
        digits = self._names == tuple(str(d) for d in range(DIGITS))
        for side, shown in (("left", self._names),
                            ("bottom", self._names if digits else [str(d) for d in range(DIGITS)])):
            rate = [(RATES_AT + 0.5, "precision")] if side == "left" else []
            self.matrix_plot.getAxis(side).setTicks([[(d + 0.5, s) for d, s in enumerate(shown)] + rate, []])
        self._show_gallery()

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
        self._show_gallery()

    def clear(self) -> None:
        """No evaluation and no cell selected; the gallery's mode stays."""
        self._evaluation = None
        self._cell = None
        self.matrix_image.outline.hide()
        self.matrix_image.clear()
        self.right_image.clear()
        for image in (self.recall_image, self.precision_image):
            image.setImage(np.full_like(image.image, np.nan), levels=(0.0, 1.0))
        self.counts_item.set_counts(None)
        self.matrix_plot.setTitle("confusion matrix", size="9pt")
        self._show_gallery()

    def select_cell(self, true: int, predicted: int) -> None:
        """Outline cell (true, predicted) and show its digits in the gallery."""
        self._cell = (true, predicted)
        self.matrix_image.show_outline(QRectF(predicted, true, 1, 1))
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
    def gallery_columns(self) -> int:
        return self._columns

    @property
    def gallery_capacity(self) -> int:
        """How many thumbnails the gallery shows at most at its size now."""
        return min(GALLERY_MAX, self._columns * self._rows)

    @property
    def evaluation(self) -> Evaluation | None:
        return self._evaluation

    def cell_px(self) -> float:
        """A cell's width on screen, in pixels."""
        return 1.0 / self.matrix_plot.getViewBox().viewPixelSize()[0]

    # --- drawing ----------------------------------------------------------------------------

    def _show_matrix(self, ev: Evaluation) -> None:
        counts = ev.counts
        right = np.where(self._diagonal, counts, np.nan)  # (10, 10), NaN off the diagonal
        wrong = np.where(self._diagonal, np.nan, counts)
        self.right_image.setImage(right, levels=(0.0, max(float(np.diag(counts).max()), 1.0)))
        self.matrix_image.setImage(wrong, levels=(0.0, max(float(np.nanmax(wrong)), 1.0)))
        recall, precision = ev.recall, ev.precision
        rates = np.concatenate([recall, precision])
        lowest = float(np.nanmin(rates)) if np.isfinite(rates).any() else 1.0
        levels = (min(0.8, np.floor(lowest * 10) / 10), 1.0)  # from 0.8, or lower to tell all apart
        self.recall_image.setImage(recall[:, None], levels=levels)  # (10, 1)
        self.precision_image.setImage(precision[None, :], levels=levels)  # (1, 10)
        self.counts_item.set_counts(counts, recall, precision)
        # Short: a plot is at least as wide as its title, and a long one cut the matrix off.
        self.matrix_plot.setTitle(f"epoch {ev.epoch}: {ev.accuracy:.2%} right", size="9pt")

    def _show_gallery(self) -> None:
        ev, mode, most = self._evaluation, self.mode, self.gallery_capacity
        nothing = np.empty(0, dtype=np.intp)
        if ev is None:
            self._fill_gallery(nothing, NO_EVALUATION)
        elif mode == "samples":
            indices = ev.samples(0, most)
            self._fill_gallery(indices, f"the first {len(indices)}: true→predicted, mistakes in red")
        elif mode == "mistakes":
            every = ev.mistakes()
            self._fill_gallery(every[:most], f"{_plural(len(every), 'mistake')}, surest "
                               f"first{self._shown(len(every))}: true→predicted, confidence",
                               confidence=True)
        elif self._cell is None:
            self._fill_gallery(nothing, HINT_CELL)
        else:
            i, j = self._cell
            every = ev.cell(i, j)
            self._fill_gallery(every[:most], f"true {i}, predicted {j}: "
                               f"{_plural(len(every), 'image')}{self._shown(len(every))}",
                               confidence=True)

    def _shown(self, n: int) -> str:
        return f" ({self.gallery_capacity} shown)" if n > self.gallery_capacity else ""

    def _fill_gallery(self, indices: np.ndarray, caption: str, confidence: bool = False) -> None:
        """Thumbnails of the test digits ``indices`` (at most the gallery's capacity), each
        captioned with its labels (red and framed if wrong) and, with ``confidence``, the
        network's confidence."""
        self._indices = indices
        self.gallery_caption.setText(caption)
        self.gallery_caption.setToolTip(caption)
        k = len(indices)
        shown = self._x_test is not None and k > 0
        if shown:
            thumbnails = np.full((k, TILE_HEIGHT, SIDE), np.nan, dtype=np.float32)
            thumbnails[:, :SIDE] = self._x_test[indices].reshape(k, SIDE, SIDE)
            self.gallery_image.setImage(tile(thumbnails, self._columns, GAP), levels=(0.0, 1.0))
        self.gallery_image.setVisible(shown)
        ev = self._evaluation
        if ev is not None and k:
            true, predicted = ev.labels[indices], ev.predicted[indices]
            sure = ev.confidence[indices]
        for n in range(GALLERY_MAX):
            label, certainty = self.thumbnail_captions[n], self.confidence_captions[n]
            if ev is None or n >= k or not shown:
                _show(label, False)
                _show(certainty, False)
                self._mistake_frames[n].setVisible(False)
                continue
            wrong = bool(true[n] != predicted[n])
            names = self._names
            _set_caption(label, f"{names[true[n]]}→{names[predicted[n]]}" if wrong else names[true[n]],
                         theme.TEST if wrong else theme.MUTED)
            if confidence:
                _set_caption(certainty, f"{sure[n]:.0%}", theme.TEST if wrong else theme.MUTED)
            _show(certainty, confidence)
            self._mistake_frames[n].setVisible(wrong)

    def _fit_gallery(self) -> None:
        """A grid for the gallery's new size (thumbnails at least THUMBNAIL_MIN_PX wide), and
        the thumbnails laid out again if it changed: on a resize, never per frame."""
        box = self.gallery_box
        grid = gallery_grid(box.width(), box.height())
        if grid != (self._columns, self._rows) and box.width() > 0 and box.height() > 0:
            self._columns, self._rows = grid
            self._place_thumbnails()
            self._show_gallery()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_matrix()

    def _fit_matrix(self) -> None:
        """The matrix's view no wider than its square of cells needs at the view's height (the
        axes' widths added), nor than MATRIX_SHARE of the panel: a wider view only left blank
        bands beside the cells, which the gallery's thumbnails need."""
        view, box = self.matrix_view, self.matrix_plot.getViewBox()
        across = view.width() - box.width()  # the axes, the frame: pixels beside the cells
        down = view.height() - box.height()  # the title, the bottom axis
        square = view.height() - down + across
        wanted = max(view.minimumWidth(), min(round(square), int(MATRIX_SHARE * self.width())))
        if wanted != view.wanted:
            view.wanted = wanted
            view.setMaximumWidth(wanted)
            view.updateGeometry()

    # --- the user ---------------------------------------------------------------------------

    def _matrix_clicked(self, row: float, col: float) -> None:
        if self._evaluation is not None and 0 <= row < DIGITS and 0 <= col < DIGITS:
            self.select_cell(int(row), int(col))

    def _matrix_hovered(self, row: float, col: float) -> None:
        ev = self._evaluation
        if ev is None or not (0 <= row < DIGITS and 0 <= col < DIGITS):
            return
        i, j = int(row), int(col)
        n = int(ev.counts[i].sum())
        share = f" ({ev.counts[i, j] / n:.1%})" if n else ""
        self._tip(f"true {i}, predicted {j}: {_plural(int(ev.counts[i, j]), 'image')} of the "
                  f"{n:,} test {i}s{share}")

    def _rate_hovered(self, which: str, d: int) -> None:
        ev = self._evaluation
        if ev is None or not 0 <= d < DIGITS:
            return
        right = int(ev.counts[d, d])
        if which == "recall":
            n = int(ev.counts[d].sum())
            self._tip(f"recall of {d}: {_percent(ev.recall[d])}% — of the {n:,} test {d}s, "
                      f"{right:,} answered {d}" if n else f"recall of {d}: no test {d}s")
        else:
            n = int(ev.counts[:, d].sum())
            self._tip(f"precision of {d}: {_percent(ev.precision[d])}% — of the {n:,} answers "
                      f"{d}, {right:,} right" if n else f"precision of {d}: never answered {d}")

    def _tip(self, text: str) -> None:
        QToolTip.showText(QCursor.pos(), text, self.matrix_view)

    def _gallery_clicked(self, row: float, col: float) -> None:
        k = tile_at(row, col, self._columns, len(self._indices), h=TILE_HEIGHT, w=SIDE, gap=GAP)
        if k is not None:
            self.digit_chosen.emit(int(self._indices[k]))


def _text_width(axis: pg.AxisItem, text: str) -> int:
    """The width in pixels of ``text`` in the axis's tick font."""
    font = axis.style["tickFont"] or axis.font()
    return int(np.ceil(QFontMetricsF(font).horizontalAdvance(text)))
