"""The probe strip: a few images followed over the whole of training, and teaching the network.

Each probe is a cell: its picture and true class, and for each run shown (one, or two when runs
are compared) a line of text, the class it reads now and how sure it is, over a small timeline
of the probability it gives the true class at every moment of the history (the last point is
the present). A tick marks the moment the probe became right and stayed right
(``core.probes.settled``); a cell whose run reads it wrong is framed in red. The moment shown on
the timeline is a line across every cell. A click on a cell selects the probe everywhere (the
window shows it as the input of every panel); the buttons above pin the test digit or the
drawing shown as a new probe, remove the selected one, and teach the drawing with a label.

The panel only draws what it is given (``set_probes``, ``set_runs``, ``set_cursor``); the
window computes the timelines (``core.probes.Timeline``). Painted with QPainter: 12 cells of
two timelines each repaint in about a millisecond.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSpinBox, QToolButton,
                               QVBoxLayout, QWidget)

from app import theme
from core.probes import MAX_PROBES, Probe, settled

COLUMNS = 6  # cells in a row: two rows hold the twelve probes
THUMB = 28  # pixels of a probe's picture: its own size
LINE = 13  # pixels of a run's line of text
SPARK = 16  # pixels of a run's timeline
WRONG = theme.TEST


@dataclass(frozen=True)
class RunLine:
    """What a run answers for every probe: its name (A, B), colour, the outputs (M, k, C) at its
    moments, and the live outputs (k, C) or None (the last moment is the present)."""
    name: str
    colour: str
    outputs: np.ndarray
    live: np.ndarray | None = None

    def series(self) -> np.ndarray:
        """(M', k, C): the moments' outputs, then the present's if it is newer."""
        if self.live is None:
            return self.outputs
        return np.concatenate([self.outputs, self.live[np.newaxis]])


class ProbeCells(QWidget):
    """The cells, painted. ``chosen`` is the selected probe's index, or None."""

    clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.probes: tuple[Probe, ...] = ()
        self.runs: tuple[RunLine, ...] = ()
        self.cursor: tuple[int | None, ...] = ()  # per run, the moment index shown (None: live)
        self.chosen: int | None = None
        self.class_names = tuple(str(d) for d in range(10))
        self._thumbs: list[QImage] = []
        self.setMinimumSize(COLUMNS * 60, 2 * (THUMB + 8))
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMouseTracking(False)

    def set_probes(self, probes: tuple[Probe, ...]) -> None:
        self.probes = tuple(probes)
        self._thumbs = [_thumbnail(p.image) for p in self.probes]
        if self.chosen is not None and self.chosen >= len(self.probes):
            self.chosen = None
        self.update()

    def cell_rect(self, i: int) -> QRect:
        rows = max(1, -(-max(len(self.probes), 1) // COLUMNS))
        w, h = self.width() // COLUMNS, self.height() // rows
        return QRect((i % COLUMNS) * w, (i // COLUMNS) * h, w, h)

    def answers(self, run: RunLine) -> tuple[np.ndarray, np.ndarray]:
        """(predicted (k,), probability of it (k,)) at the moment the run shows."""
        series = run.series()
        at = self.cursor[self.runs.index(run)] if len(self.cursor) == len(self.runs) else None
        row = series[-1] if at is None else run.outputs[at]
        return row.argmax(axis=1), row.max(axis=1)

    def settled(self, run: RunLine) -> np.ndarray:
        """(k,) the moment each probe settled on its class in ``run`` (-1: not)."""
        labels = np.array([p.label for p in self.probes])
        return settled(run.series().argmax(axis=2), labels)

    def mousePressEvent(self, event) -> None:
        for i in range(len(self.probes)):
            if self.cell_rect(i).contains(event.position().toPoint()):
                self.chosen = i
                self.update()
                self.clicked.emit(i)
                return

    def sizeHint(self) -> QSize:
        return QSize(COLUMNS * 96, 2 * (THUMB + 2 * (LINE + SPARK) + 10))

    def paintEvent(self, _) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(theme.BACKGROUND))
        font = QFont(self.font())
        font.setPointSizeF(7.5)
        p.setFont(font)
        if not self.probes:
            p.setPen(QColor(theme.MUTED))
            p.drawText(self.rect(), Qt.AlignCenter, "No probes: pin a test digit or a drawing.")
            return
        answers = [self.answers(run) for run in self.runs]
        settled_at = [self.settled(run) for run in self.runs]
        for i, probe in enumerate(self.probes):
            self._paint_cell(p, i, probe, answers, settled_at)

    def _paint_cell(self, p: QPainter, i: int, probe: Probe, answers, settled_at) -> None:
        r = self.cell_rect(i).adjusted(2, 2, -2, -2)
        wrong = any(probe.label >= 0 and a[0][i] != probe.label for a in answers)
        frame = QColor(theme.ACCENT if i == self.chosen else WRONG if wrong else theme.MUTED)
        p.setPen(QPen(frame, 2 if i == self.chosen or wrong else 1))
        p.drawRect(r)
        thumb = min(THUMB, r.height() - 16)
        p.drawImage(QRect(r.x() + 3, r.y() + 3, thumb, thumb), self._thumbs[i])
        p.setPen(QColor(theme.FOREGROUND))
        label = self.class_names[probe.label] if probe.label >= 0 else "?"
        p.drawText(QRect(r.x() + 3, r.y() + 4 + thumb, thumb + 4, LINE), Qt.AlignLeft, f"is {label}")
        x0 = r.x() + thumb + 6
        width = r.right() - x0 - 1
        block = max(1, (r.height() - 6) // max(len(self.runs), 1))
        for n, run in enumerate(self.runs):
            y0 = r.y() + 3 + n * block
            predicted, probability = answers[n][0][i], answers[n][1][i]
            right = probe.label < 0 or predicted == probe.label
            p.setPen(QColor(run.colour if right else WRONG))
            text = f"{self.class_names[predicted]} {probability:.0%}"  # the colour says which run
            if width > 60:
                text = f"{run.name} {text}"
            p.drawText(QRect(x0, y0, width, LINE), Qt.AlignLeft | Qt.AlignVCenter,
                       p.fontMetrics().elidedText(text, Qt.ElideRight, width))
            spark = QRectF(x0, y0 + LINE, width, min(SPARK, block - LINE - 2))
            self._paint_timeline(p, spark, run, n, i, probe, int(settled_at[n][i]))

    def _paint_timeline(self, p: QPainter, box: QRectF, run: RunLine, n: int, i: int, probe: Probe,
                        settled_at: int) -> None:
        series = run.series()
        M = len(series)
        if M == 0 or box.height() < 4:
            return
        p.setPen(QPen(QColor(theme.MUTED), 1, Qt.DotLine))
        p.drawLine(QPointF(box.left(), box.top()), QPointF(box.right(), box.top()))  # probability 1
        cls = probe.label if probe.label >= 0 else int(series[-1, i].argmax())
        values = np.nan_to_num(series[:, i, cls], nan=0.0)
        xs = box.left() + box.width() * (np.arange(M) / max(M - 1, 1))
        ys = box.bottom() - box.height() * np.clip(values, 0.0, 1.0)
        p.setPen(QPen(QColor(run.colour), 1.0))
        p.drawPolyline(QPolygonF([QPointF(float(x), float(y)) for x, y in zip(xs, ys)]))
        if settled_at >= 0:  # where it became right and stayed so
            x = float(xs[settled_at])
            p.setPen(QPen(QColor(theme.TRAIN), 2))
            p.drawLine(QPointF(x, box.top()), QPointF(x, box.bottom()))
        at = self.cursor[n] if n < len(self.cursor) else None
        if at is not None and M > 1:
            x = float(xs[min(at, M - 1)])
            p.setPen(QPen(QColor(theme.ACCENT), 1))
            p.drawLine(QPointF(x, box.top() - 1), QPointF(x, box.bottom() + 1))


class ProbesPanel(QWidget):
    """The cells, with a row of commands above them."""

    probe_chosen = Signal(int)  # a cell was clicked
    pin_digit = Signal()  # pin the test digit shown
    pin_drawing = Signal()
    remove_probe = Signal(int)
    reset_probes = Signal()
    teach = Signal(int)  # teach the drawing as this class
    forget_taught = Signal(int)  # the taught drawing at this index is taken back

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.cells = ProbeCells()
        self.cells.clicked.connect(self._on_clicked)
        self.pin_digit_button = _button("Pin digit", "Follow the test digit shown, as a new probe "
                                        f"(up to {MAX_PROBES})", self.pin_digit.emit)
        self.pin_drawing_button = _button("Pin drawing", "Follow the drawing on the pad as a new "
                                          "probe, with the label chosen on the right", self.pin_drawing.emit)
        self.remove_button = _button("Remove", "Stop following the selected probe",
                                     lambda: self.remove_probe.emit(self.cells.chosen))
        self.defaults_button = _button("Defaults", "Follow the twelve default test digits again",
                                       self.reset_probes.emit)
        self.label_box = QSpinBox()
        self.label_box.setRange(0, 9)
        self.label_box.setToolTip("The class the drawing is: what it is taught as, or pinned with")
        self.teach_button = _button("Teach drawing", "Add the drawing on the pad to the training data "
                                    "with this label, with eight slightly shifted and turned "
                                    "copies: every batch from now on trains on a few of them. "
                                    "It is pinned as a probe, so you can watch it being learned.",
                                    lambda: self.teach.emit(self.label_box.value()))
        self.taught_box = QComboBox()
        self.taught_box.setToolTip("The drawings taught to this run, saved with it")
        self.taught_box.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.forget_button = _button("Forget", "Take the chosen taught drawing out of the training data",
                                     lambda: self.forget_taught.emit(self.taught_box.currentIndex()))
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        for widgets in ((self.pin_digit_button, self.pin_drawing_button, self.remove_button,
                         self.defaults_button),
                        (QLabel("label"), self.label_box, self.teach_button, self.taught_box,
                         self.forget_button)):  # two short rows: the dock is as narrow as 560 px
            row = QHBoxLayout()
            row.setContentsMargins(2, 0, 2, 0)
            for widget in widgets:
                row.addWidget(widget)
            row.addStretch(1)
            column.addLayout(row)
        column.addWidget(self.cells, 1)
        self.set_taught(())
        self._update_buttons()

    # --- what the window gives it ------------------------------------------------------------

    def set_probes(self, probes: tuple[Probe, ...]) -> None:
        self.cells.set_probes(probes)
        self._update_buttons()

    def set_runs(self, runs: tuple[RunLine, ...], cursor: tuple[int | None, ...] = ()) -> None:
        self.cells.runs, self.cells.cursor = tuple(runs), tuple(cursor)
        self.cells.update()

    def set_taught(self, taught: tuple[Probe, ...]) -> None:
        self.taught_box.clear()
        for n, probe in enumerate(taught, 1):
            self.taught_box.addItem(f"taught {n}: {self.cells.class_names[probe.label]}")
        if not taught:
            self.taught_box.addItem("nothing taught")
        self.taught_box.setEnabled(bool(taught))
        self.forget_button.setEnabled(bool(taught))

    def set_choice(self, index: int | None) -> None:
        self.cells.chosen = index
        self.cells.update()
        self._update_buttons()

    def _on_clicked(self, i: int) -> None:
        self._update_buttons()
        self.probe_chosen.emit(i)

    def _update_buttons(self) -> None:
        full = len(self.cells.probes) >= MAX_PROBES
        self.pin_digit_button.setEnabled(not full)
        self.remove_button.setEnabled(self.cells.chosen is not None)


def _button(text: str, tip: str, slot) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.clicked.connect(lambda *_: slot())
    return button


def _thumbnail(image: np.ndarray) -> QImage:
    """A probe's 28x28 picture, white ink on black as the network sees it."""
    pixels = np.ascontiguousarray((np.clip(image, 0, 1) * 255).astype(np.uint8).reshape(28, 28))
    return QImage(pixels.data, 28, 28, 28, QImage.Format_Grayscale8).copy()
