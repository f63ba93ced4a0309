"""The drawing pad: draw a digit with the mouse or a pen and watch the network read it.

The canvas keeps its strokes as lists of points and paints them into a QImage, white ink on black
as in MNIST. What the network sees is made from the points: strokes whose columns overlap are one
digit (several side by side are read as a number), and each digit's strokes are drawn again with
a pen as wide, for the digit's size, as MNIST's strokes are (``core.strokes``), then turned stage
by stage by ``core.preprocess`` into the 784 inputs; unticking "MNIST's width" uses the painted
image instead. ``open_image`` shows a photo's cleaned ink (``core.photo``) in place of strokes.
The panel shows the stages, the image the network sees, the ten outputs and the predicted digit.

A prediction follows the pen at most once per pass of the event loop: a change of the canvas only
marks it dirty and queues one call of ``_predict``, which then serves every change that arrived
meanwhile. The call is a queued signal, not a zero timer, so it runs before the repaint that the
stroke asked for (a low-priority posted event) and the bars are painted with the stroke.
``show_snapshot`` re-runs the same input through new weights (one forward pass), so a person
can watch their own digit become recognised epoch by epoch while training runs.
"""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.panels import readout
from app.panels.activations import LayerBars, SquareView, fit_to_scene, style_plot
from core.data import reads_digits
from core.errors import UserError
from core.inspect import SIDE
from core.photo import NotADigit, read_number
from core.preprocess import Stages, preprocess
from core.strokes import render_strokes
from core.train import Snapshot

CANVAS_SIDE = 280  # logical pixels, ten times MNIST's 28
# The canvas may be shown smaller on a small screen, down to this many pixels square; what is
# drawn stays in canvas coordinates (0 to CANVAS_SIDE) and the image stays CANVAS_SIDE square,
# so the pen width below and the preprocessing see the same drawing at every size. 168 is 0.6 of
# the canvas: the pad then fits a 1280x720 screen's dock (app.layout).
CANVAS_MIN_SIDE = 168
# Chosen so that strokes come out as thick as MNIST's once preprocessing has scaled the digit to
# 20 pixels: the ones of MNIST's test set are 2.8 pixels wide (the median of the ink of a row,
# corrected for slant), which for a digit drawn 200 of the canvas's 280 pixels tall is a pen of
# 2.8 * 200 / 20 = 28 pixels. A 7, 3, 0 and 4 drawn that tall get 88-96% of the mean ink of
# MNIST's digits of their class.
PEN_WIDTH = 28.0
# That pen is right only for a digit drawn that tall: a 4 drawn 50 pixels tall in a corner got
# strokes 28 / 50 * 20 = 11 of its 20 pixels wide, its loop closed, and was read as 9 at 1.00.
# So, unless "MNIST's stroke width" is unticked, the strokes (kept as points) are drawn again
# with a pen 14% of the digit's own size (``core.strokes.render_strokes``): drawn at 20-35%,
# 45-60% or 75-95% of the pad, the pen paths of the first 2,000 test digits are read at 0.9615
# at every size, 1.45 points under the 28x28 originals (a fully trained fast network), against
# 0.41 of them right at the smallest size with the fixed pen (``python -m app.readbench``). The
# pen set here is then only what the canvas shows.
PEN_CHOICES = (8, 40)  # the pen's width, pixels, that the spin box offers
LATENCY_SAMPLES = 1000  # how many input-to-bars latencies ``latencies_ms`` keeps
INK = QColor(255, 255, 255)
PAPER = QColor(0, 0, 0)
HINT = "draw a digit"
CANVAS_HINT = "draw a digit here\nwith the mouse or a pen"
STAGE_NAMES = ("raw", "cropped", "scaled", "centred")
STAGE_WIDTH = 64  # pixels for each stage's picture and caption, at least
INPUT_VIEW_SIDE = 104  # pixels for the 28x28 image the network sees: nearly four per pixel
BAR_MIN_PX = 12  # the output plot's width per digit, at least: ten bars and their labels
CAPTION_HEIGHT = 15  # pixels for a line of 8 pt caption under a stage
CAPTION_STYLE = f"color: {theme.MUTED}"


class Canvas(QWidget):
    """A square of black paper to draw white digits on with the left button (or a pen, whose
    events arrive as mouse events); the right button clears it.

    The strokes are kept as lists of points in canvas coordinates (logical pixels of a canvas
    ``side`` square) and painted, round and antialiased, into a Format_Grayscale8 image of that
    size at the screen's pixel density: the image is what is shown and what ``canvas_array``
    hands out. The widget shows the image in ``paper()``, the largest square that fits, at most
    ``side`` and at least ``min_side`` pixels, and maps the mouse into canvas coordinates, so the
    drawing does not depend on how big the canvas is shown. ``changed(t)`` is emitted after every
    change of the image, with ``time.perf_counter()`` taken when the input that caused it arrived.
    """

    changed = Signal(float)

    def __init__(self, parent: QWidget | None = None, side: int = CANVAS_SIDE,
                 pen_width: float = PEN_WIDTH, min_side: int | None = None):
        super().__init__(parent)
        self.side = side
        self.min_side = min(side, CANVAS_MIN_SIDE) if min_side is None else min_side
        self.pen = QPen(INK, pen_width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                        Qt.PenJoinStyle.RoundJoin)
        self._strokes: list[list[QPointF]] = []
        self._drawing = False  # a stroke is being drawn: moves extend it
        self._picture = False  # an opened picture is shown instead of strokes
        self._image = self._new_image()
        self.setMinimumSize(self.min_side, self.min_side)
        self.setMaximumSize(side, side)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)  # right-click clears
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setToolTip("Draw a digit with the left button or a pen; right-click clears")

    # --- what is drawn ------------------------------------------------------------------------

    @property
    def strokes(self) -> tuple[tuple[tuple[float, float], ...], ...]:
        """The strokes drawn, oldest first, as (x, y) points in logical pixels."""
        return tuple(tuple((p.x(), p.y()) for p in stroke) for stroke in self._strokes)

    def is_empty(self) -> bool:
        return not self._strokes and not self._picture

    @property
    def showing_picture(self) -> bool:
        """An opened picture is shown (``show_picture``), not strokes."""
        return self._picture

    @property
    def image(self) -> QImage:
        """The image drawn on: Format_Grayscale8, ``side`` logical pixels square at the screen's
        pixel density."""
        return self._image

    def paper(self) -> QRectF:
        """Where the canvas is shown in the widget: the largest square that fits, at most
        ``side``, centred across and at the top."""
        n = min(self.width(), self.height(), self.side)
        return QRectF((self.width() - n) / 2, 0, n, n)

    def to_canvas(self, point: QPointF) -> QPointF:
        """A point of the widget in canvas coordinates (0 to ``side`` across the paper)."""
        paper = self.paper()
        scale = self.side / paper.width() if paper.width() > 0 else 1.0
        return QPointF((point.x() - paper.x()) * scale, (point.y() - paper.y()) * scale)

    def canvas_array(self) -> np.ndarray:
        """The image as (H, W) float32 in [0, 1], ink = 1: a copy, rows read past their padding."""
        image = self._image
        h, w, stride = image.height(), image.width(), image.bytesPerLine()
        bits = np.frombuffer(image.constBits(), np.uint8, count=stride * h).reshape(h, stride)
        return bits[:, :w].astype(np.float32) * np.float32(1 / 255)

    # --- drawing: the mouse and ``PadPanel.stroke`` both come through here --------------------

    def begin_stroke(self, point: QPointF, t: float | None = None) -> None:
        """A new stroke starting with a dot at ``point``."""
        self._drawing = True
        if self._picture:  # drawing on an opened picture starts a new drawing
            self._picture = False
            self._image.fill(PAPER)
        first = not self._strokes
        self._strokes.append([QPointF(point)])
        with self._painter() as painter:
            painter.drawPoint(point)
        if first:
            self.update()  # the whole canvas: the hint drawn across it must go
        else:
            self._update_around(point, point)
        self.changed.emit(time.perf_counter() if t is None else t)

    def extend_stroke(self, point: QPointF, t: float | None = None) -> None:
        """The stroke being drawn goes on to ``point``: one more segment is painted."""
        if not self._drawing:
            return
        stroke = self._strokes[-1]
        last = stroke[-1]
        stroke.append(QPointF(point))
        with self._painter() as painter:
            painter.drawLine(last, point)
        self._update_around(last, point)
        self.changed.emit(time.perf_counter() if t is None else t)

    def end_stroke(self) -> None:
        self._drawing = False

    def undo(self) -> bool:
        """Remove the last stroke; False if there was none."""
        if not self._strokes:
            return False
        t = time.perf_counter()
        self._drawing = False
        self._strokes.pop()
        self._repaint_strokes()
        self.changed.emit(t)
        return True

    def clear(self) -> bool:
        """Remove every stroke, or the picture shown; False if there was none."""
        if self.is_empty():
            return False
        self._picture = False
        t = time.perf_counter()
        self._drawing = False
        self._strokes.clear()
        self._repaint_strokes()
        self.changed.emit(t)
        return True

    def set_pen_width(self, width: float) -> None:
        """Paint with a pen ``width`` pixels wide from now on; what is drawn is painted again."""
        self.pen.setWidthF(width)
        self._repaint_strokes()
        if self._strokes:
            self.changed.emit(time.perf_counter())

    def show_picture(self, ink: np.ndarray) -> None:
        """Show a picture (h, w) in [0, 1], ink = 1, fitted into the canvas, instead of
        strokes (the strokes are removed): an opened photo's cleaned ink."""
        self._strokes.clear()
        self._drawing = False
        self._picture = True
        self._image.fill(PAPER)
        h, w = ink.shape
        pixels = np.ascontiguousarray(np.rint(np.clip(ink, 0, 1) * 255).astype(np.uint8))
        picture = QImage(pixels.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
        scale = self.side / max(h, w)
        target = QRectF((self.side - w * scale) / 2, (self.side - h * scale) / 2, w * scale, h * scale)
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, picture)
        painter.end()
        self.update()

    def _new_image(self) -> QImage:
        ratio = self.devicePixelRatioF()
        n = round(self.side * ratio)
        image = QImage(n, n, QImage.Format.Format_Grayscale8)
        image.setDevicePixelRatio(ratio)  # so that painters draw in logical pixels
        image.fill(PAPER)
        return image

    @contextmanager
    def _painter(self) -> Iterator[QPainter]:
        """A painter on the image with the round antialiased pen, ended on leaving."""
        painter = QPainter(self._image)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(self.pen)
            yield painter
        finally:
            painter.end()

    def _repaint_strokes(self) -> None:
        """Paint every stroke afresh, with the very calls that painted it while it was drawn,
        so that the image after an undo is the image before the stroke undone."""
        if self._picture:
            return  # a picture is not strokes: it stays as it is
        self._image.fill(PAPER)
        with self._painter() as painter:
            for stroke in self._strokes:
                painter.drawPoint(stroke[0])
                for a, b in pairwise(stroke):
                    painter.drawLine(a, b)
        self.update()

    def _update_around(self, a: QPointF, b: QPointF) -> None:
        """Repaint the part of the widget showing the segment from a to b (canvas coordinates)."""
        margin = self.pen.widthF() / 2 + 2
        rect = QRectF(a, b).normalized().adjusted(-margin, -margin, margin, margin)
        paper = self.paper()
        scale = paper.width() / self.side
        shown = QRectF(paper.x() + rect.x() * scale, paper.y() + rect.y() * scale,
                       rect.width() * scale, rect.height() * scale)
        self.update(shown.toAlignedRect().adjusted(-1, -1, 1, 1))

    # --- Qt -----------------------------------------------------------------------------------

    def sizeHint(self):
        return self.maximumSize()

    def minimumSizeHint(self):
        return self.minimumSize()

    def paintEvent(self, _) -> None:
        if abs(self._image.devicePixelRatio() - self.devicePixelRatioF()) > 1e-6:
            # Moved to a screen of another density: the same strokes, as sharp as the screen.
            self._image = self._new_image()
            self._repaint_strokes()
            self.changed.emit(time.perf_counter())
        painter = QPainter(self)
        paper = self.paper()
        if paper.width() < self.width() or paper.height() < self.height():
            painter.fillRect(self.rect(), self.palette().window())  # beside and under the paper
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)  # shown smaller: averaged
        painter.drawImage(paper, self._image)
        if self.is_empty():
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(paper, Qt.AlignmentFlag.AlignCenter, CANVAS_HINT)
        painter.setPen(QColor(theme.MUTED))
        painter.drawRect(paper.adjusted(0, 0, -1, -1))
        painter.end()

    def mousePressEvent(self, event) -> None:
        t = time.perf_counter()
        if event.button() == Qt.MouseButton.LeftButton:
            self.begin_stroke(self.to_canvas(event.position()), t)
        elif event.button() == Qt.MouseButton.RightButton:
            self.clear()
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        t = time.perf_counter()
        if self._drawing and event.buttons() & Qt.MouseButton.LeftButton:
            self.extend_stroke(self.to_canvas(event.position()), t)
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.end_stroke()
        event.accept()


class StageView:
    """One stage of the preprocessing, small: the image at its own size, the stage's name and
    that size under it."""

    def __init__(self, layout: pg.GraphicsLayout, col: int, name: str):
        self.name = name
        self.box = layout.addViewBox(row=0, col=col, lockAspect=True, invertY=True, enableMouse=False)
        self.box.setMenuEnabled(False)
        self.image = pg.ImageItem(np.zeros((1, 1), dtype=np.float32), axisOrder="row-major",
                                  levels=(0.0, 1.0))
        self.image.setColorMap(theme.GRAY)
        self.box.addItem(self.image)
        self.frame = pg.QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self.frame.setPen(pg.mkPen(theme.MUTED, width=1, cosmetic=True))
        self.box.addItem(self.frame)
        self.caption = layout.addLabel(name, row=1, col=col, size="8pt", color=theme.MUTED)
        self.size_label = layout.addLabel("", row=2, col=col, size="8pt", color=theme.MUTED)
        self._shape: tuple[int, int] | None = None
        self.show(None)

    def show(self, a: np.ndarray | None) -> None:
        self.image.setVisible(a is not None)
        self.frame.setVisible(a is not None)
        shape = None if a is None else a.shape
        if a is not None:
            self.image.setImage(a, levels=(0.0, 1.0))
        if shape != self._shape:  # re-frame and re-caption only when the size changes
            self._shape = shape
            h, w = shape or (SIDE, SIDE)
            self.frame.setRect(0, 0, w, h)
            side = max(h, w)
            self.box.setRange(xRange=((w - side) / 2, (w + side) / 2),
                              yRange=((h - side) / 2, (h + side) / 2), padding=0.04)
            self.size_label.setText("" if shape is None else f"{w}×{h}")


def digit_groups(strokes, pen_width: float) -> list[list[np.ndarray]]:
    """Strokes ((x, y) points each) grouped into digits written side by side, left to right:
    a stroke whose columns (widened by the pen) overlap a group's by half of the narrower one's
    width belongs to it, so a 4 or a 5 drawn in two strokes stays one digit."""
    spans = sorted(((min(x for x, _ in s) - pen_width / 2, max(x for x, _ in s) + pen_width / 2,
                     np.asarray(s, dtype=np.float64)) for s in strokes if s), key=lambda t: t[0])
    groups: list[tuple[float, float, list[np.ndarray]]] = []
    for lo, hi, points in spans:
        if groups:
            g_lo, g_hi, members = groups[-1]
            if min(g_hi, hi) - max(g_lo, lo) >= 0.5 * min(g_hi - g_lo, hi - lo):
                groups[-1] = (g_lo, max(g_hi, hi), members + [points])
                continue
        groups.append((lo, hi, [points]))
    return [members for _, _, members in groups]


class _BarView(pg.GraphicsLayoutWidget):
    """The output bars' view, asking for no more than its least size: a QGraphicsView asks for
    hundreds of pixels, which kept the canvas beside it at its smallest."""

    def sizeHint(self):
        return self.minimumSize()


class PadPanel(QWidget):
    """A canvas to draw a digit on, what preprocessing makes of it, and what the latest
    snapshot's network says it is.

    ``show_snapshot(snapshot)``
        the weights to predict with: the drawing shown, if any, is predicted again at once.
    ``stroke(points)``
        draw a stroke through these (x, y) points of the canvas (logical pixels, 0 to
        ``CANVAS_SIDE``), as the mouse would; the prediction follows on the event loop.
    ``undo()``, ``clear()``
        as Ctrl+Z, and as the Clear button, Esc or a right-click on the canvas.
    ``current_input()``
        the (784,) input the network sees (read-only), or None when nothing is drawn.
    ``stages`` (property)
        the ``core.preprocess.Stages`` of the drawing, or None.
    ``following`` (property)
        whether "Activations follow the drawing" is ticked.
    ``latencies_ms`` (property)
        milliseconds from each input that changed the canvas (press, move, undo, clear) to the
        bars showing its prediction, the latest ``LATENCY_SAMPLES``; moves coalesced into one
        prediction count from the first of them.
    signal ``drawing_changed(object)``
        the (784,) input, or None when the canvas is cleared, whenever it changes.
    signal ``follow_changed(bool)``
        the checkbox was ticked or unticked.
    """

    drawing_changed = Signal(object)
    follow_changed = Signal(bool)
    _predict_requested = Signal()  # connected queued: one call of _predict on the event loop

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._snapshot: Snapshot | None = None
        self._network = None  # the snapshot's forward-only Network, made once per snapshot
        self._not_digits: str | None = None  # said instead of a reading, for a network of no digits
        self._stages: Stages | None = None
        self._digits: tuple[Stages, ...] = ()  # every digit read, left to right; _stages is the first
        self._picture_digits: tuple[Stages, ...] = ()  # an opened picture's, while it is shown
        self._input: np.ndarray | None = None
        self._changed_since: float | None = None  # perf_counter of the first change not yet predicted
        self._latencies: deque[float] = deque(maxlen=LATENCY_SAMPLES)
        self._picture_note = ""
        self.canvas = Canvas()
        self.canvas.changed.connect(self._on_canvas_changed)
        self._predict_requested.connect(self._predict, Qt.ConnectionType.QueuedConnection)
        self._build_controls()
        self._build_prediction()
        self._build_stages()
        self._arrange()
        self._show_stages()
        self._show_prediction()

    # --- building -----------------------------------------------------------------------------

    def _build_controls(self) -> None:
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Remove the last stroke (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove the whole drawing (Esc, or right-click the canvas)")
        self.clear_button.clicked.connect(self.clear)
        for button in (self.undo_button, self.clear_button):  # the style's 80 pixels, unneeded
            button.setMinimumWidth(button.fontMetrics().horizontalAdvance(button.text()) + 20)
        self.follow_box = QCheckBox("Activations follow the drawing")
        self.follow_box.setToolTip("Show the drawn digit, instead of a test digit, in the "
                                   "activations and the neuron inspector")
        self.follow_box.toggled.connect(self.follow_changed)
        self.pen_box = QSpinBox()
        self.pen_box.setRange(*PEN_CHOICES)
        self.pen_box.setValue(round(PEN_WIDTH))
        self.pen_box.setSuffix(" px pen")
        self.pen_box.setToolTip("The pen's width on the canvas. With \"MNIST's width\" ticked it "
                                "is only what you see: the strokes are drawn again as thick as "
                                "MNIST's for the digit's size")
        self.pen_box.valueChanged.connect(lambda w: self.canvas.set_pen_width(float(w)))
        self.mnist_width_box = QCheckBox("MNIST's width")
        self.mnist_width_box.setChecked(True)
        self.mnist_width_box.setToolTip("Draw the strokes again 14% as wide as the digit is tall, "
                                        "as MNIST's are, whatever size you drew it; unticked, "
                                        "the network sees the strokes as painted with the pen")
        self.mnist_width_box.toggled.connect(lambda _: self._on_canvas_changed(time.perf_counter()))
        self.undo_action = self._shortcut(QKeySequence.StandardKey.Undo, self.undo)
        self.clear_action = self._shortcut(QKeySequence(Qt.Key.Key_Escape), self.clear)

    def _shortcut(self, keys, slot) -> QAction:
        """A key that works while the focus is anywhere in the panel."""
        action = QAction(self)
        action.setShortcut(keys)
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_prediction(self) -> None:
        self.input_view = SquareView()
        self.input_view.setFixedSize(INPUT_VIEW_SIDE, INPUT_VIEW_SIDE)
        self.input_view.setToolTip("The 28×28 image the network sees")
        box = self.input_view.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        box.setMenuEnabled(False)
        self.image = pg.ImageItem(np.zeros((SIDE, SIDE), dtype=np.float32), axisOrder="row-major",
                                  levels=(0.0, 1.0))
        self.image.setColorMap(theme.GRAY)
        box.addItem(self.image)
        box.setRange(xRange=(0, SIDE), yRange=(0, SIDE), padding=0.02)
        self.input_caption = QLabel("the network sees")
        self.input_caption.setStyleSheet(CAPTION_STYLE)
        self.digit_label = QLabel("")
        self.digit_label.setStyleSheet(f"color: {theme.ACCENT}; font-size: 40pt; font-weight: bold")
        self.digit_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.digit_label.setMinimumWidth(70)
        self.probability_label = QLabel("")
        self.probability_label.setStyleSheet("font-size: 12pt")
        self.runner_up_label = QLabel("")
        self.runner_up_label.setStyleSheet(CAPTION_STYLE)
        for label in (self.probability_label, self.runner_up_label):
            # "untrained guess, 0.12" and the top three would widen the pad, and with it the
            # column, so the weights panel would change size between moments: wrap, don't ask
            label.setWordWrap(True)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.hint_label = QLabel("")
        self.hint_label.setStyleSheet(f"color: {theme.MUTED}; font-size: 12pt")
        self.hint_label.setWordWrap(True)  # "the network's outputs are not finite" would widen the pad
        self.hint_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # nor
        # ask for its width: the canvas has the first claim on it
        self.hint_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.bar_view = _BarView()
        plot = self.bar_view.addPlot()
        style_plot(plot, "output")
        plot.getAxis("bottom").setTicks([[(d, str(d)) for d in range(10)]])
        plot.getViewBox().setMinimumSize(10 * BAR_MIN_PX, 40)  # all ten bars (not the plot's
        # minimum, which would override that of its title)
        self.bars = LayerBars(plot, 10, "softmax")  # softmax and sigmoid outputs both lie in [0, 1]
        fit_to_scene(self.bar_view)

    def _build_stages(self) -> None:
        self.stage_view = pg.GraphicsLayoutWidget()
        self.stage_view.setFixedHeight(104)
        self.stage_view.setMinimumWidth(4 * STAGE_WIDTH)
        self.stage_view.setToolTip("What preprocessing did to the drawing: the ink's bounding box "
                                   "cut out, scaled so its longer side is 20 pixels, and placed "
                                   "in 28×28 with its centre of mass in the middle")
        self.stage_note = QLabel("")  # what was done before the stages: strokes drawn again, a photo cleaned
        self.stage_note.setStyleSheet(CAPTION_STYLE)
        self.stage_note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = self.stage_view.ci
        layout.setContentsMargins(2, 2, 2, 2)
        self.stage_views = {name: StageView(layout, col, name) for col, name in enumerate(STAGE_NAMES)}
        layout.setSpacing(0)
        for row in (1, 2):  # the two lines of captions, tight under the pictures
            layout.layout.setRowFixedHeight(row, CAPTION_HEIGHT)

    def _arrange(self) -> None:
        """The canvas with what the network says beside it, the buttons under both, and the
        stages across the bottom: about 360x370 pixels at the least (the canvas shown at
        ``CANVAS_MIN_SIDE``), so the pad fits a dock of a 1280x720 screen; given room, the
        canvas grows to its full ``CANVAS_SIDE`` and the bars take the rest."""
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.clear_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.follow_box)
        buttons.addStretch(1)

        seen = QVBoxLayout()
        seen.addWidget(self.input_view)
        seen.addWidget(self.input_caption, 0, Qt.AlignmentFlag.AlignHCenter)
        said = QVBoxLayout()
        said.addStretch(1)
        said.addWidget(self.digit_label, 0, Qt.AlignmentFlag.AlignHCenter)
        said.addWidget(self.probability_label, 0, Qt.AlignmentFlag.AlignHCenter)
        said.addWidget(self.runner_up_label, 0, Qt.AlignmentFlag.AlignHCenter)
        said.addWidget(self.hint_label, 0, Qt.AlignmentFlag.AlignHCenter)
        said.addStretch(1)
        top = QHBoxLayout()
        top.addLayout(seen)
        top.addLayout(said)
        right = QVBoxLayout()
        right.addLayout(top)
        right.addWidget(self.bar_view, 1)

        outer = QGridLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(self.canvas, 0, 0, Qt.AlignmentFlag.AlignTop)  # paper at the top, by the buttons
        outer.addLayout(right, 0, 1)
        outer.addLayout(buttons, 1, 0, 1, 2)
        pen = QHBoxLayout()
        pen.addWidget(self.pen_box)
        pen.addWidget(self.mnist_width_box)
        pen.addSpacing(12)
        pen.addWidget(self.stage_note, 1)
        outer.addLayout(pen, 2, 0, 1, 2)
        outer.addWidget(self.stage_view, 3, 0, 1, 2)
        outer.setColumnStretch(0, 1)  # the canvas grows first, to its full size; then the bars
        outer.setRowStretch(0, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    # --- what the window and the user call ----------------------------------------------------

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Predict with these weights from now on; the drawing shown, if any, at once."""
        if self._snapshot is None or snapshot.output != self._snapshot.output:
            style_plot(self.bars.plot, "probabilities (softmax)" if snapshot.output == "softmax"
                       else f"outputs ({snapshot.output})")
            fit_to_scene(self.bar_view)  # the title is part of the plot's least width
        self._snapshot = snapshot
        self._network = snapshot.network()
        self._show_prediction()

    def stroke(self, points: list[tuple[float, float]]) -> None:
        """Draw a stroke through these (x, y) canvas points, as the mouse would."""
        if not points:
            return
        self.canvas.begin_stroke(QPointF(*points[0]))
        for p in points[1:]:
            self.canvas.extend_stroke(QPointF(*p))
        self.canvas.end_stroke()

    def undo(self) -> None:
        """Remove the last stroke."""
        self.canvas.undo()

    def clear(self) -> None:
        """Remove the whole drawing."""
        self.canvas.clear()

    def current_input(self) -> np.ndarray | None:
        """The (784,) input the network sees, or None when nothing is drawn."""
        return self._input

    @property
    def stages(self) -> Stages | None:
        return self._stages

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    @property
    def following(self) -> bool:
        return self.follow_box.isChecked()

    @property
    def latencies_ms(self) -> np.ndarray:
        return np.array(self._latencies)

    # --- predicting ---------------------------------------------------------------------------

    def _on_canvas_changed(self, t: float) -> None:
        if self._changed_since is None:
            self._changed_since = t
            self._predict_requested.emit()

    def _predict(self) -> None:
        """Prepare the drawing and show what the network makes of it: the one prediction for
        every change since the last."""
        since, self._changed_since = self._changed_since, None
        self._digits = self._prepare()
        stages = self._digits[0] if self._digits else None
        x = None if stages is None else stages.x  # read-only, so other panels may keep it
        changed = (x is None) != (self._input is None) or \
            (x is not None and not np.array_equal(x, self._input))
        self._stages, self._input = stages, x
        self._show_stages()
        self._show_prediction()
        if since is not None:
            self._latencies.append((time.perf_counter() - since) * 1000)
        if changed:
            self.drawing_changed.emit(x)

    def _prepare(self) -> tuple[Stages, ...]:
        """The digits drawn, left to right, each as MNIST's: strokes whose columns overlap are
        one digit; with "MNIST's width", each digit's strokes drawn again at MNIST's width for
        its size, else the canvas as painted."""
        canvas = self.canvas
        if canvas.showing_picture:
            self.stage_note.setText(self._picture_note)
            return self._picture_digits
        if canvas.is_empty():
            self.stage_note.setText("")
            return ()
        if not self.mnist_width_box.isChecked():
            stages = preprocess(canvas.canvas_array())
            self.stage_note.setText(f"the strokes as painted, {canvas.pen.widthF():g} px wide")
            return () if stages is None else (stages,)
        groups = digit_groups(canvas.strokes, canvas.pen.widthF())
        digits = tuple(preprocess(render_strokes(group)) for group in groups)
        several = f"{len(groups)} digits side by side, read as a number; " if len(groups) > 1 else ""
        self.stage_note.setText(f"{several}strokes drawn again 14% as wide as the digit is tall "
                                "(MNIST's width)")
        return digits

    def open_image(self, path: str) -> str | None:
        """Read the digit or number in an image file, as ``predict`` does (a photo's paper
        removed, its EXIF orientation applied), show its cleaned ink on the canvas and its
        stages, and predict it; None, or one sentence saying why nothing could be read (the
        drawing shown is then kept)."""
        from app.images import (
            read_grey_levels,  # Qt's readers; the pad loads them when asked
        )

        try:
            # with a network, it chooses where touching digits are cut (core.photo.surest_cuts)
            probabilities = self._network.predict_proba if self._network is not None else None
            photo, digits = read_number(read_grey_levels(path), probabilities)
        except UserError as exc:
            return str(exc)
        except NotADigit as exc:
            return f"no digit in image '{path}': {exc}"
        self._picture_digits = tuple(digits)
        n = len(digits)
        self._picture_note = (f"{Path(path).name}: paper removed, "
                              f"{'light' if photo.light_ink else 'dark'} ink kept"
                              + (f", {n} digits read as a number" if n > 1 else ""))
        self.canvas.show_picture(photo.ink)
        self._on_canvas_changed(time.perf_counter())
        return None

    def _show_stages(self) -> None:
        stages = self._stages
        for name, view in self.stage_views.items():
            view.show(None if stages is None else getattr(stages, name))
        self.undo_button.setEnabled(not self.canvas.is_empty())
        self.clear_button.setEnabled(not self.canvas.is_empty())

    def set_class_names(self, names, dataset: str = "MNIST") -> None:
        """The classes of the network's outputs and the name of its dataset. The pad reads
        digits: for classes that are not the digits 0-9 it says so instead of guessing."""
        self._not_digits = None if reads_digits(names) else \
            f"The pad reads digits; this network was trained on {dataset}."
        self._show_prediction()

    @property
    def not_digits(self) -> str | None:
        """What the pad says instead of a reading, or None when it reads digits."""
        return self._not_digits

    def _show_prediction(self) -> None:
        x = self._input
        self.image.setImage(np.zeros((SIDE, SIDE), np.float32) if x is None else x.reshape(SIDE, SIDE),
                            levels=(0.0, 1.0))
        outputs = None
        if self._not_digits is not None:  # no guessing: a drawn 7 is no Sneaker
            self.bars.show_values(np.zeros(10, np.float32))
            self.bars.mark(None)
            for label in (self.digit_label, self.probability_label, self.runner_up_label):
                label.setText("")
            self.hint_label.setText(self._not_digits)
            return
        if x is not None and self._network is not None:
            with np.errstate(over="ignore", invalid="ignore"):  # near divergence: show, don't warn
                outputs = self._network.predict_proba(x[None, :])[0]
            if not np.isfinite(outputs).all():
                outputs = None
        if outputs is None:
            self.bars.show_values(np.zeros(10, np.float32))
            self.bars.mark(None)
            self.digit_label.setText("")
            self.probability_label.setText("")
            self.runner_up_label.setText("")
            self.hint_label.setText(HINT if x is None else
                                    "no network yet" if self._network is None else
                                    "the network's outputs are not finite")
            return
        reading = readout.read(outputs, self._snapshot.step, self._snapshot.epoch)
        self.bars.show_values(outputs)
        self.bars.mark(reading.digit)
        self.hint_label.setText("")
        if len(self._digits) > 1:  # a number: every digit, and how sure of each
            with np.errstate(over="ignore", invalid="ignore"):
                p = self._network.predict_proba(np.stack([d.x for d in self._digits]))
            read = p.argmax(axis=1)
            self.digit_label.setText("".join(map(str, read)))
            self.probability_label.setText(" ".join(f"{q:.2f}" for q in p[np.arange(len(read)), read]))
            self.runner_up_label.setText("the bars: the first digit")
            self._style_digit(True, theme.ACCENT)
            return
        # sure: the digit bold in the accent colour; unsure or untrained: plain, and said so
        sure = reading.trained and not reading.unsure
        self.digit_label.setText(str(reading.digit))
        self._style_digit(sure, reading.colour)
        p = f"{reading.values[0]:.2f}"
        said = "" if sure else "unsure, " if reading.trained else "untrained guess, "
        self.probability_label.setText(said + p)
        self.runner_up_label.setText(reading.top_line)

    def _style_digit(self, sure: bool, colour: str) -> None:
        style = f"color: {colour}; font-size: 40pt; font-weight: {'bold' if sure else 'normal'}"
        if self.digit_label.styleSheet() != style:  # a style sheet set polishes the label again
            self.digit_label.setStyleSheet(style)
