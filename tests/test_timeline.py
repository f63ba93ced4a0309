"""The timeline: scrubbing a run's moments with the slider, keys, Live and play; synthetic moments."""
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QHelpEvent, QMouseEvent
from PySide6.QtWidgets import QToolTip

from app.timeline import Timeline, epoch_marks, format_epoch

# As a run keeps them: log-spaced inside epoch 1, then one per epoch; 469 batches per epoch.
POSITIONS = [0, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, *range(1, 16)]
STEPS = [round(p * 469) for p in POSITIONS]
M = len(POSITIONS)  # 25


@pytest.fixture
def timeline(qtbot):
    timeline = Timeline()
    qtbot.addWidget(timeline)
    timeline.set_moments(POSITIONS, STEPS)
    return timeline


def record(timeline) -> list:
    """Every index (or None) the timeline emits from now on."""
    chosen = []
    timeline.moment_chosen.connect(chosen.append)
    return chosen


def drag(slider, xs):
    """Press at xs[0], move through the rest and release, with the left button (QTest's moves
    carry no buttons offscreen)."""
    y = slider.height() / 2
    events = [(QEvent.Type.MouseButtonPress, xs[0])]
    events += [(QEvent.Type.MouseMove, x) for x in xs[1:]]
    events += [(QEvent.Type.MouseButtonRelease, xs[-1])]
    for kind, x in events:
        point = QPointF(x, y)
        buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease \
            else Qt.MouseButton.LeftButton
        QCoreApplication.sendEvent(slider, QMouseEvent(
            kind, point, slider.mapToGlobal(point), Qt.MouseButton.LeftButton, buttons,
            Qt.KeyboardModifier.NoModifier))


def test_starts_live(timeline):
    """A new timeline shows the present: current is None, the handle on the last stop, Live
    checked, nothing playing."""
    assert timeline.current is None
    assert timeline.slider.maximum() == M and timeline.slider.value() == M
    assert timeline.live_button.isChecked()
    assert not timeline.playing


def test_setting_the_slider_emits_the_moment(qtbot, timeline):
    """The slider's stops 0..M-1 are the moments and stop M is live; moving it emits which."""
    with qtbot.waitSignal(timeline.moment_chosen, timeout=1000) as blocker:
        timeline.slider.setValue(3)
    assert blocker.args == [3] and timeline.current == 3
    assert not timeline.live_button.isChecked()
    with qtbot.waitSignal(timeline.moment_chosen, timeout=1000) as blocker:
        timeline.slider.setValue(M)
    assert blocker.args == [None] and timeline.current is None
    assert timeline.live_button.isChecked()


def test_dragging_emits_each_moment_passed(qtbot, timeline):
    """A press on the groove jumps to the stop under the mouse (not a page step), and dragging
    emits each stop the handle lands on."""
    timeline.resize(1000, 30)
    timeline.show()
    qtbot.waitExposed(timeline)
    slider = timeline.slider
    chosen = record(timeline)
    drag(slider, [slider.x_of(2), slider.x_of(5), slider.x_of(12)])
    assert chosen == [2, 5, 12]
    assert timeline.current == 12 and not slider.isSliderDown()
    # Stops are equally spaced, whatever their epochs: epoch 1's ten moments are not squeezed.
    xs = [slider.x_of(stop) for stop in range(M + 1)]
    gaps = [b - a for a, b in zip(xs, xs[1:])]
    assert max(gaps) - min(gaps) <= 1


def test_set_moments_keeps_the_shown_moment_and_is_silent(qtbot, timeline):
    """While training adds moments, a shown moment stays shown and live stays live (the handle
    moves to the new last stop); set_moments and set_current never emit."""
    with qtbot.assertNotEmitted(timeline.moment_chosen):
        timeline.set_current(4)
        timeline.set_moments([*POSITIONS, 16, 17], [*STEPS, 16 * 469, 17 * 469])
        assert timeline.current == 4 and timeline.slider.value() == 4
        assert timeline.slider.maximum() == M + 2
        timeline.set_current(None)
        timeline.set_moments([*POSITIONS, 16, 17, 18], [*STEPS, 16 * 469, 17 * 469, 18 * 469])
        assert timeline.current is None and timeline.slider.value() == M + 3


def test_a_shorter_history_goes_live_silently(qtbot, timeline):
    """If the shown moment no longer exists (a new run), the timeline goes live, emitting
    nothing: the window that replaced the history decides what to show."""
    timeline.set_current(20)
    with qtbot.assertNotEmitted(timeline.moment_chosen):
        timeline.set_moments(POSITIONS[:5], STEPS[:5])
    assert timeline.current is None and timeline.slider.value() == 5


@pytest.mark.parametrize("key, start, expected", [
    (Qt.Key.Key_Left, None, M - 1),   # from live, the last moment
    (Qt.Key.Key_Right, M - 1, None),  # from the last moment, live
    (Qt.Key.Key_Right, 3, 4),
    (Qt.Key.Key_Left, 3, 2),
    (Qt.Key.Key_Home, 7, 0),
    (Qt.Key.Key_End, 7, None),
])
def test_keys_on_the_slider_step_through_the_moments(qtbot, timeline, key, start, expected):
    """Left/Right step to the previous/next moment, with Live after the last one; Home is the
    first moment, End is live."""
    timeline.set_current(start)
    with qtbot.waitSignal(timeline.moment_chosen, timeout=1000) as blocker:
        qtbot.keyClick(timeline.slider, key)
    assert blocker.args == [expected] and timeline.current == expected


def test_keys_do_not_run_off_the_ends(qtbot, timeline):
    """Left on the first moment and Right while live change nothing, and emit nothing."""
    timeline.set_current(0)
    with qtbot.assertNotEmitted(timeline.moment_chosen):
        qtbot.keyClick(timeline.slider, Qt.Key.Key_Left)
        assert timeline.current == 0
        timeline.set_current(None)
        qtbot.keyClick(timeline.slider, Qt.Key.Key_Right)
        assert timeline.current is None


def test_keys_work_with_the_focus_on_a_button(qtbot, timeline):
    """With the focus on Play or Live rather than the slider, the keys still scrub."""
    chosen = record(timeline)
    qtbot.keyClick(timeline.play_button, Qt.Key.Key_Left)
    qtbot.keyClick(timeline.live_button, Qt.Key.Key_Home)
    qtbot.keyClick(timeline.play_button, Qt.Key.Key_Right)
    qtbot.keyClick(timeline.speed_box, Qt.Key.Key_Right)
    qtbot.keyClick(timeline.live_button, Qt.Key.Key_End)
    assert chosen == [M - 1, 0, 1, 2, None]


def test_public_steps_emit_as_the_user_would(timeline):
    """step_back, step_forward, go_first and go_live, which the window's shortcuts call, emit
    moment_chosen like the keys do, and only when the moment changes."""
    chosen = record(timeline)
    timeline.step_back()      # live -> last
    timeline.step_forward()   # last -> live
    timeline.step_forward()   # live: nothing
    timeline.go_first()
    timeline.step_back()      # first: nothing
    timeline.step_forward()
    timeline.go_live()
    timeline.go_live()        # live: nothing
    assert chosen == [M - 1, None, 0, 1, None]


def test_live_button_goes_live(qtbot, timeline):
    """Clicking Live from a past moment emits None and checks Live; clicking it while live
    keeps it checked and emits nothing."""
    timeline.set_current(6)
    assert not timeline.live_button.isChecked()
    with qtbot.waitSignal(timeline.moment_chosen, timeout=1000) as blocker:
        qtbot.mouseClick(timeline.live_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [None] and timeline.current is None
    assert timeline.live_button.isChecked()
    with qtbot.assertNotEmitted(timeline.moment_chosen):
        qtbot.mouseClick(timeline.live_button, Qt.MouseButton.LeftButton)
    assert timeline.live_button.isChecked() and timeline.current is None


def test_play_from_live_runs_through_every_moment_then_goes_live(qtbot, timeline):
    """Play from live starts at the first moment, emits each moment in turn at the chosen speed,
    shows the last one, then goes live, stops and says Play again."""
    timeline.set_moments(POSITIONS[:6], STEPS[:6])
    timeline.speed_box.setCurrentIndex(timeline.speed_box.findData(20))
    assert timeline.speed == 20
    chosen = record(timeline)
    with qtbot.waitSignal(timeline.playing_changed, timeout=1000) as started:
        qtbot.mouseClick(timeline.play_button, Qt.MouseButton.LeftButton)
    assert started.args == [True] and timeline.playing
    assert timeline.play_button.text() == "Pause"
    with qtbot.waitSignal(timeline.playing_changed, timeout=3000) as stopped:
        pass
    assert stopped.args == [False] and not timeline.playing
    assert chosen == [0, 1, 2, 3, 4, 5, None]
    assert timeline.current is None and timeline.play_button.text() == "Play"


def test_play_from_a_moment_goes_on_from_there(qtbot, timeline):
    """Play from a past moment continues with the next one."""
    timeline.set_moments(POSITIONS[:6], STEPS[:6])
    timeline.speed_box.setCurrentIndex(timeline.speed_box.findData(20))
    timeline.set_current(3)
    chosen = record(timeline)
    with qtbot.waitSignal(timeline.playing_changed, timeout=3000,
                          check_params_cb=lambda playing: not playing):
        timeline.toggle_play()
    assert chosen == [4, 5, None]


def test_touching_the_slider_stops_play(qtbot, timeline):
    """A user's move of the slider (or a step key) stops play on the moment chosen; toggle_play
    twice pauses where it was."""
    with qtbot.waitSignal(timeline.moment_chosen, timeout=1000):
        timeline.toggle_play()
    with qtbot.waitSignal(timeline.playing_changed, timeout=1000) as stopped:
        timeline.slider.setValue(10)
    assert stopped.args == [False] and timeline.current == 10
    timeline.toggle_play()
    with qtbot.waitSignal(timeline.playing_changed, timeout=1000):
        timeline.step_back()
    assert not timeline.playing and timeline.current == 9
    timeline.toggle_play()
    timeline.toggle_play()
    assert not timeline.playing and timeline.current == 9


@pytest.mark.parametrize("positions", [[], [0.0]])
def test_without_moments_to_scrub_only_live_is_enabled(qtbot, positions):
    """With no moments or one, nothing raises and nothing is emitted: only Live is enabled and
    the steps, keys and play do nothing."""
    timeline = Timeline()
    qtbot.addWidget(timeline)
    with qtbot.assertNotEmitted(timeline.moment_chosen), \
            qtbot.assertNotEmitted(timeline.playing_changed):
        timeline.set_moments(positions, [0] * len(positions))
        for action in (timeline.step_back, timeline.step_forward, timeline.go_first,
                       timeline.go_live, timeline.toggle_play):
            action()
        for key in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Home, Qt.Key.Key_End):
            qtbot.keyClick(timeline, key)
        timeline.live_text("live · epoch 0")
    assert timeline.current is None and not timeline.playing
    assert timeline.live_button.isEnabled()
    assert not any(w.isEnabled() for w in (timeline.slider, timeline.play_button,
                                            timeline.speed_box))
    assert timeline.label.text() == "live · epoch 0"


def test_label_names_the_moment_shown(timeline):
    """A past moment's label names its epoch, step and place; live shows the live text."""
    timeline.live_text("live · epoch 3.4")
    assert timeline.label.text() == "live · epoch 3.4"
    timeline.set_current(8)
    assert timeline.label.text() == "epoch 0.256 · step 120 · moment 9 of 25"
    timeline.live_text("live · epoch 3.5")  # kept for later, not shown over a past moment
    assert timeline.label.text().startswith("epoch 0.256")
    timeline.set_current(None)
    assert timeline.label.text() == "live · epoch 3.5"


@pytest.mark.parametrize("epoch, text", [
    (0, "0"), (0.002, "0.002"), (0.0021, "0.0021"), (0.27, "0.27"), (0.546, "0.546"),
    (0.9999999, "1"), (1, "1"), (3, "3"), (3.4, "3.4"), (12.25, "12.25"), (1234.0, "1234"),
])
def test_epochs_read_well(epoch, text):
    """Three significant digits below one epoch, at most two decimals above, no trailing zeros."""
    assert format_epoch(epoch) == text


def test_marks_stand_at_each_epochs_first_moment():
    """Epoch boundaries are marked at the first moment of each whole epoch."""
    assert epoch_marks([0, 0.5, 0.9999999999, 2, 2.5, 3]) == ((2, 1), (3, 2), (5, 3))
    assert epoch_marks(POSITIONS) == tuple((9 + e, e) for e in range(1, 16))
    assert epoch_marks([]) == ()


def test_bad_input_is_named(timeline):
    """A moment that does not exist, unequal positions and steps, or positions that go back
    each get a ValueError naming the numbers."""
    with pytest.raises(ValueError, match="moment 25 does not exist: the timeline has 25"):
        timeline.set_current(M)
    with pytest.raises(ValueError, match="got 2 positions and 1 steps"):
        timeline.set_moments([0, 1], [0])
    with pytest.raises(ValueError, match="moment 2 is at epoch 0.5 after epoch 1.0"):
        timeline.set_moments([0, 1, 0.5], [0, 1, 2])
    assert timeline.current is None and timeline.slider.maximum() == M


def test_fits_a_toolbar_row(timeline):
    """The row is at most 40 px tall and fits a 1280 px window."""
    hint = timeline.minimumSizeHint()
    assert hint.height() <= 40 and hint.width() <= 1000


def test_tooltip_names_the_moment_under_the_mouse(qtbot, timeline):
    """Hovering the slider names the moment under the mouse, so epoch boundaries can be found."""
    timeline.resize(1000, 30)
    timeline.show()
    qtbot.waitExposed(timeline)
    slider = timeline.slider
    for stop, text in ((10, "epoch 1 · step 469 · moment 11 of 25"), (M, "live")):
        point = QPoint(slider.x_of(stop), slider.height() // 2)
        QCoreApplication.sendEvent(slider, QHelpEvent(QEvent.Type.ToolTip, point,
                                                      slider.mapToGlobal(point)))
        qtbot.waitUntil(lambda: QToolTip.text() == text, timeout=1000)
    QToolTip.hideText()
