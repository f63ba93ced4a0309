"""The timeline: scrub a run's history, moment by moment, or watch it live.

A *moment* is a point of training where the weights were kept: its position in epochs (log-spaced
inside epoch 1, then one per epoch) and its step (batches trained). The slider has M + 1 stops
for M moments: stops 0 .. M-1 are the moments, equally spaced, and stop M is Live. Equal spacing,
not epochs, because epoch 1 holds most of the moments: placed by epoch, its ten would share 1/15
of a 15-epoch run's width. The first moment of each epoch gets a mark, so epochs stay findable,
and the tooltip names the moment under the mouse.

The timeline holds only which moment is shown (``current``: an index, or None for live) and the
moments' positions and steps; the window owns the history and decides what showing means. Every
change the user makes (drag, click, key, Live, play) is reported by ``moment_chosen``; changes
the window makes (``set_moments``, ``set_current``) are not, so the window never hears its own
echo.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QStylePainter,
    QToolButton,
    QToolTip,
    QWidget,
)

from app import theme

SPEEDS = (2, 5, 10, 20)  # moments per second that play can show
DEFAULT_SPEED = 5
LIVE = "live"
# The label is as wide as its longest usual text, so the slider does not jump as the text changes.
WIDEST_LABEL = "epoch 0.546 · step 000,000 · moment 000 of 000"


def format_epoch(epoch: float) -> str:
    """An epoch position as a person reads it: 0.002, 0.27, 0.546, 1, 3.4, 12.25. Three
    significant digits below 1, at most two decimals from 1 on, no trailing zeros."""
    if epoch == 0 or not math.isfinite(epoch):
        return "0" if epoch == 0 else f"{epoch}"
    decimals = 2 if abs(epoch) >= 1 else 2 - math.floor(math.log10(abs(epoch)))
    text = f"{epoch:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def epoch_marks(positions: Sequence[float]) -> tuple[tuple[int, int], ...]:
    """(stop, epoch) for the first moment of each whole epoch after the first moment:
    positions 0, 0.5, 1, 2 give ((2, 1), (3, 2))."""
    # A position a rounding error short of a whole epoch (0.9999999) counts as that epoch.
    epochs = [math.floor(p + 1e-9) for p in positions]
    return tuple((i, epochs[i]) for i in range(1, len(epochs)) if epochs[i] > epochs[i - 1])


class _Scale(QSlider):
    """A horizontal slider over the stops that jumps to the stop under the mouse (a click on the
    groove goes there rather than paging), marks epoch boundaries and names the stop under the
    mouse in a tooltip, from ``describe(stop)``."""

    def __init__(self, describe: Callable[[int], str], parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._describe = describe
        self._marks: tuple[tuple[int, int], ...] = ()

    def set_marks(self, marks: tuple[tuple[int, int], ...]) -> None:
        if marks != self._marks:
            self._marks = marks
            self.update()

    def _geometry(self) -> tuple[QStyleOptionSlider, QRect, int, int]:
        """The style option, the groove, the handle's width and the span the handle's left edge
        travels over."""
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        style = self.style()
        groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                      QStyle.SubControl.SC_SliderGroove, self)
        handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                      QStyle.SubControl.SC_SliderHandle, self)
        return opt, groove, handle.width(), max(groove.width() - handle.width(), 1)

    def stop_at(self, x: float) -> int:
        """The stop nearest to x, in the slider's coordinates."""
        opt, groove, handle, span = self._geometry()
        return QStyle.sliderValueFromPosition(self.minimum(), self.maximum(),
                                              round(x - groove.x() - handle / 2), span,
                                              opt.upsideDown)

    def x_of(self, stop: int) -> int:
        """The x of the centre of the handle when it stands at ``stop``."""
        opt, groove, handle, span = self._geometry()
        return groove.x() + handle // 2 + QStyle.sliderPositionFromValue(
            self.minimum(), self.maximum(), stop, span, opt.upsideDown)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.maximum() == self.minimum():
            super().mousePressEvent(event)
            return
        self.setSliderDown(True)  # emits sliderPressed, which stops play
        self.setValue(self.stop_at(event.position().x()))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if not self.isSliderDown():
            super().mouseMoveEvent(event)
            return
        self.setValue(self.stop_at(event.position().x()))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if not self.isSliderDown():
            super().mouseReleaseEvent(event)
            return
        self.setSliderDown(False)
        event.accept()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            QToolTip.showText(event.globalPos(), self._describe(self.stop_at(event.pos().x())), self)
            return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        # The groove, then the marks, then the handle, so the handle covers a mark it stands on.
        painter = QStylePainter(self)
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        opt.subControls = QStyle.SubControl.SC_SliderGroove
        painter.drawComplexControl(QStyle.ComplexControl.CC_Slider, opt)
        if self._marks and self.maximum() > self.minimum():
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            colour = QColor(theme.ACCENT if self.isEnabled() else theme.MUTED)
            painter.setPen(QPen(colour, 1))
            top, bottom = self.height() // 2 - 5, self.height() // 2 + 5
            for stop, _ in self._marks:
                x = self.x_of(stop)
                painter.drawLine(x, top, x, bottom)
        opt.subControls = QStyle.SubControl.SC_SliderHandle
        painter.drawComplexControl(QStyle.ComplexControl.CC_Slider, opt)


class Timeline(QWidget):
    """Play/Pause, a slider over the moments with Live at its right end, a label naming what is
    shown, the play speed and a Live button, in one row about 30 px tall.

    ``moment_chosen(index or None)`` is emitted whenever the user changes the moment shown; the
    window shows that moment (None: the present). With fewer than two moments there is nothing to
    scrub, and only Live is enabled.
    """

    moment_chosen = Signal(object)  # int index into the moments, or None for live
    playing_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._positions: tuple[float, ...] = ()
        self._steps: tuple[int, ...] = ()
        self._current: int | None = None
        self._live_text = LIVE

        self.play_button = QToolButton()
        self.play_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.play_button.setToolTip("A time-lapse through the moments, then live")
        self.slider = _Scale(self._describe)
        self.slider.setRange(0, 0)
        self.slider.setPageStep(1)
        self.slider.setMinimumWidth(120)
        self.label = QLabel()
        self.label.setFixedWidth(self.label.fontMetrics().horizontalAdvance(WIDEST_LABEL) + 8)
        self.speed_box = QComboBox()
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed}/s", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(DEFAULT_SPEED))
        self.speed_box.setToolTip("Moments per second while playing")
        self.live_button = QToolButton()
        self.live_button.setText("Live")
        self.live_button.setCheckable(True)
        self.live_button.setChecked(True)
        self.live_button.setToolTip("Show the present (End)")
        # Fusion draws a checked tool button barely darker; the accent says "live" at a glance.
        self.live_button.setStyleSheet(f"QToolButton:checked {{ color: {theme.ACCENT}; }}")
        # Clicking a button or the speed does not take the focus from the slider, so the keys
        # keep scrubbing; Tab still reaches them, and there too the keys scrub (eventFilter).
        for widget in (self.play_button, self.speed_box, self.live_button):
            widget.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            widget.installEventFilter(self)
        self.setFocusProxy(self.slider)
        # Wide in a toolbar, where the slider takes the room the rest leaves.
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        row.setSpacing(6)
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        row.addWidget(self.speed_box)
        row.addWidget(self.live_button)

        self._timer = QTimer(self)
        self._timer.setInterval(round(1000 / DEFAULT_SPEED))
        self._timer.timeout.connect(self._advance)

        self.play_button.clicked.connect(self.toggle_play)
        self.live_button.clicked.connect(self._live_clicked)
        self.speed_box.currentIndexChanged.connect(
            lambda _: self._timer.setInterval(round(1000 / self.speed)))
        self.slider.valueChanged.connect(self._slider_moved)
        self.slider.sliderPressed.connect(self._stop)
        self._show_playing(False)
        self._refresh()

    # --- what the window calls ------------------------------------------------------------------

    def set_moments(self, positions: Sequence[float], steps: Sequence[int]) -> None:
        """The moments known now: their positions in epochs (not decreasing) and steps. The shown
        moment stays shown and live stays live; nothing is emitted. If the shown moment is gone
        (a new, shorter history), the timeline goes live without emitting, as the window that
        replaced the history decides what to show."""
        positions, steps = tuple(map(float, positions)), tuple(map(int, steps))
        if len(positions) != len(steps):
            raise ValueError(f"each moment needs a position and a step, "
                             f"got {len(positions)} positions and {len(steps)} steps")
        if positions == self._positions and steps == self._steps:
            return
        for i in range(1, len(positions)):
            if positions[i] < positions[i - 1]:
                raise ValueError(f"moment positions must not decrease: moment {i} is at epoch "
                                 f"{positions[i]} after epoch {positions[i - 1]}")
        self._positions, self._steps = positions, steps
        if self._current is not None and self._current >= len(positions):
            self._current = None
        if len(positions) < 2:
            self._stop()
        self.slider.set_marks(epoch_marks(positions))
        self._refresh()

    def set_current(self, index: int | None) -> None:
        """Show moment ``index`` (None: live) without emitting ``moment_chosen``. Play goes on from
        there, or stops (emitting ``playing_changed``) if that is live."""
        if index is not None and not 0 <= index < len(self._positions):
            raise ValueError(f"moment {index} does not exist: the timeline has "
                             f"{len(self._positions)} moments")
        if index is None:
            self._stop()
        self._current = None if index is None else int(index)
        self._refresh()

    @property
    def current(self) -> int | None:
        """The index of the moment shown, or None while live."""
        return self._current

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    @property
    def speed(self) -> float:
        """Moments per second while playing."""
        return float(self.speed_box.currentData())

    def live_text(self, text: str) -> None:
        """What the label says while live, e.g. "live · epoch 3.4"."""
        self._live_text = text
        if self._current is None:
            self._set_label(text)

    # --- what the user does (the window's shortcuts call these too) -----------------------------

    def step_back(self) -> None:
        """The previous moment; from live, the last moment."""
        if self._scrubbable():
            self._stop()
            last = len(self._positions) - 1
            self._choose(last if self._current is None else max(self._current - 1, 0))

    def step_forward(self) -> None:
        """The next moment; from the last moment, live."""
        if self._scrubbable() and self._current is not None:
            self._stop()
            self._choose(self._current + 1 if self._current + 1 < len(self._positions) else None)

    def go_first(self) -> None:
        if self._scrubbable():
            self._stop()
            self._choose(0)

    def go_live(self) -> None:
        self._stop()
        self._choose(None)

    def toggle_play(self) -> None:
        """Play from the shown moment (from the first if live or at the last one), or pause."""
        if self.playing:
            self._stop()
            return
        if not self._scrubbable():
            return
        self._timer.start()
        self._show_playing(True)
        self.playing_changed.emit(True)
        if self._current is None or self._current == len(self._positions) - 1:
            self._choose(0)

    # --- inside -----------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._key(event):
            super().keyPressEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The buttons and the speed would take the arrows for focus moves, and the speed Home and
        # End for its first and last entry: with the focus there, the keys still scrub.
        return event.type() == QEvent.Type.KeyPress and self._key(event)

    def _key(self, event: QKeyEvent) -> bool:
        """Left/Right/Home/End as the slider takes them (its stops being the moments and Live);
        True if the key was one of them."""
        action = {Qt.Key.Key_Left: self.step_back, Qt.Key.Key_Right: self.step_forward,
                  Qt.Key.Key_Home: self.go_first, Qt.Key.Key_End: self.go_live}.get(event.key())
        if action is None or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        action()
        return True

    def _scrubbable(self) -> bool:
        return len(self._positions) >= 2

    def _choose(self, index: int | None) -> None:
        """The user's choice: show it and say so, unless it is shown already."""
        if index != self._current:
            self._current = index
            self._refresh()
            self.moment_chosen.emit(index)

    def _slider_moved(self, stop: int) -> None:
        # Only the user moves the slider with its signals on: _refresh blocks them.
        self._stop()
        self._choose(None if stop >= len(self._positions) else stop)

    def _live_clicked(self) -> None:
        if self._current is None:  # a click on the checked button: stay live, and checked
            self.live_button.setChecked(True)
        else:
            self.go_live()

    def _advance(self) -> None:
        """One frame of play: the next moment, or after the last one, live and stop."""
        if self._current is None or self._current + 1 >= len(self._positions):
            self._stop()
            self._choose(None)
        else:
            self._choose(self._current + 1)

    def _stop(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self._show_playing(False)
            self.playing_changed.emit(False)

    def _show_playing(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play")

    def _refresh(self) -> None:
        """Slider, label, Live and enabled states from the moments and the current one."""
        n = len(self._positions)
        stop = n if self._current is None else self._current
        blocked = self.slider.blockSignals(True)
        self.slider.setMaximum(n)
        self.slider.setValue(stop)
        self.slider.blockSignals(blocked)
        self.live_button.setChecked(self._current is None)
        scrubbable = self._scrubbable()
        for widget in (self.play_button, self.slider, self.speed_box):
            widget.setEnabled(scrubbable)
        self._set_label(self._live_text if self._current is None else self._describe(stop))

    def _describe(self, stop: int) -> str:
        """What stop ``stop`` shows: "epoch 0.27 · step 128 · moment 9 of 25", or live."""
        n = len(self._positions)
        if not 0 <= stop < n:
            return self._live_text
        return (f"epoch {format_epoch(self._positions[stop])} · step {self._steps[stop]:,} · "
                f"moment {stop + 1} of {n}")

    def _set_label(self, text: str) -> None:
        metrics = self.label.fontMetrics()
        shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, self.label.width())
        self.label.setText(shown)
        self.label.setToolTip(text if shown != text else "")
