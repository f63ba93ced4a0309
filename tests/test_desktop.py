"""The window as a desktop program: shortcuts that work wherever the focus is and never take a
key a text field needs, the question before a trained network is lost, the title, recent files
and the last folder, Help (the maths, About, each panel's "?"), the first-run hint, settings
that wait for Train or Reset, marks on the cost curve, the arrow keys and Step's message."""
import os

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QSettings, Qt, QTimer
from PySide6.QtGui import QFontInfo, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox, QSpinBox

from core.config import preset
from tests.test_window import WAIT_MS, make_window


@pytest.fixture
def window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path / "settings.ini", process=False)
    w.form.preset.setCurrentText("fast")
    w.show()
    w.activateWindow()
    qtbot.waitExposed(w)
    yield w
    w.confirm_discard = False
    w.close()


def train_batches(qtbot, window, n=3):
    """n batches trained by Step, the run then stopped: a trained network, not saved."""
    start = window.run.step
    for i in range(n):
        window.step()
        qtbot.waitUntil(lambda: window.run.step == start + i + 1, timeout=WAIT_MS)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.stop()


def press(qtbot, widget, key, modifiers=Qt.NoModifier):
    widget.setFocus()
    qtbot.keyClick(widget, key, modifiers)


# --- shortcuts ------------------------------------------------------------------------------------

def test_no_shortcut_is_a_key_a_text_field_uses(window):
    """Against the keys a line edit and a spin box claim here (Qt asks them first, with a
    ShortcutOverride event) and those Qt's X11 bindings add (Ctrl+E end of line, Ctrl+U)."""
    from app.menus import X11_FIELD_KEYS
    taken = set(X11_FIELD_KEYS)
    for field in (QLineEdit("some text"), QSpinBox()):
        for action in window.findChildren(type(window.train_action)):
            for sequence in action.shortcuts():
                combo = sequence[0]
                event = QKeyEvent(QEvent.ShortcutOverride, combo.key(), combo.keyboardModifiers())
                event.ignore()
                QApplication.sendEvent(field, event)
                if event.isAccepted():
                    taken.add(sequence.toString())
    used = {s.toString() for a in window.findChildren(type(window.train_action)) for s in a.shortcuts()}
    # Space is handled by the form (next tests); Ctrl+Z is Undo in both: a field undoes its
    # typing, the pad its last stroke, as in any editor
    assert used & taken == {"Space", "Ctrl+Z"}
    assert "Ctrl+E" not in used and window.export_action.shortcut().toString() == "Ctrl+Shift+P"


def test_space_in_a_number_field_commits_it_and_pauses(qtbot, window):
    window.form.epochs.setValue(500)
    step_at = window.step_button.mapTo(window, window.step_button.rect().topLeft()).x()
    window.train()
    qtbot.waitUntil(lambda: window.run.step > 2, timeout=WAIT_MS)
    lr = window.form.lr
    lr.setFocus()
    lr.lineEdit().selectAll()
    qtbot.keyClicks(lr, "0.002")
    press(qtbot, lr, Qt.Key_Space)
    assert lr.value() == pytest.approx(0.002) and lr.text() == "0.002000"  # taken, not cleared
    assert window.training.control.paused and window.pause_button.text() == "Resume"
    window.training_bar.layout().activate()
    assert window.step_button.mapTo(window, window.step_button.rect().topLeft()).x() == step_at  # kept still
    press(qtbot, lr, Qt.Key_Space)
    assert not window.training.control.paused
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.stop()


def test_a_space_typed_in_the_layers_field_is_typed(qtbot, window):
    layers = window.form.layers
    layers.setFocus()
    layers.end(False)
    press(qtbot, layers, Qt.Key_Space)
    assert layers.text().endswith(" ") and window.training is None


@pytest.mark.parametrize("field", ["lr", "layers"])
def test_the_training_shortcuts_work_with_the_focus_in_a_field(qtbot, window, tmp_path, field, monkeypatch):
    widget = getattr(window.form, field)
    window.form.epochs.setValue(500)
    press(qtbot, widget, Qt.Key_T, Qt.ControlModifier)  # Train
    assert window.training is not None
    qtbot.waitUntil(lambda: window.run.step > 0, timeout=WAIT_MS)
    press(qtbot, widget, Qt.Key_Space) if field == "lr" else window.toggle_pause()  # Space types there
    assert window.training.control.paused
    with qtbot.waitSignal(window.step_action.triggered, timeout=1000):
        press(qtbot, widget, Qt.Key_B, Qt.ControlModifier)  # Step one batch
    assert window.run.status == "Stepped"
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        press(qtbot, widget, Qt.Key_Period, Qt.ControlModifier)  # Stop
    path = str(tmp_path / "k.npz")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (path, "")))
    press(qtbot, widget, Qt.Key_S, Qt.ControlModifier)  # Save
    assert os.path.exists(path) and not window.run.unsaved
    picture = str(tmp_path / "w.png")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (picture, "")))
    press(qtbot, widget, Qt.Key_P, Qt.ControlModifier | Qt.ShiftModifier)  # Export
    assert os.path.getsize(picture) > 0
    old = window.run
    press(qtbot, widget, Qt.Key_R, Qt.ControlModifier)  # Reset
    assert window.run is not old and window.run.step == 0
    press(qtbot, widget, Qt.Key_Q, Qt.ControlModifier)  # Quit
    assert not window.isVisible()


def test_the_arrow_keys_move_the_selected_neuron(qtbot, window):
    window.select_neuron(1, 5)
    view = window.weights
    for key, expected in ((Qt.Key_Right, (1, 6)), (Qt.Key_Left, (1, 5)), (Qt.Key_Down, (2, 5)),
                          (Qt.Key_Down, (3, 5)), (Qt.Key_Down, (3, 5)), (Qt.Key_Up, (2, 5))):
        window.setFocus()
        qtbot.keyClick(window, key)
        assert window.view.neuron == expected
    window.select_neuron(3, 9)
    qtbot.keyClick(window, Qt.Key_Right)
    assert window.view.neuron == (3, 9)  # the last of its layer
    assert view is window.weights


# --- protecting work ------------------------------------------------------------------------------

def answer(qtbot, button):
    """Answer the next modal question with ``button`` (QMessageBox.Save / Discard / Cancel)."""
    asked = []

    def click():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, click)  # not shown yet
            return
        asked.append(box.text())
        box.button(button).click()
    QTimer.singleShot(0, click)
    return asked


@pytest.mark.parametrize("what", ["reset", "open", "quit"])
def test_a_trained_network_not_saved_is_asked_about(qtbot, window, tmp_path, monkeypatch, what):
    saved = str(tmp_path / "other.npz")
    window.save_model(saved)  # a model to open
    window.confirm_discard = True
    train_batches(qtbot, window)
    assert window.run.unsaved and window.isWindowModified()

    def do():
        if what == "reset":
            window.reset()
        elif what == "open":
            window.open_model(saved)
        else:
            window.close()

    trained = window.run
    asked = answer(qtbot, QMessageBox.Cancel)
    do()
    assert asked and "has trained since it was last saved" in asked[0]
    assert window.run is trained and window.isVisible()  # Cancel: nothing happened

    answer(qtbot, QMessageBox.Save)
    do()
    from core.model_io import load_run
    assert load_run(saved)[1]["step"] == trained.step == 3  # saved first, to its file
    if what == "quit":
        assert not window.isVisible()
    else:
        assert window.run is not trained


def test_discard_goes_ahead_without_saving(qtbot, window, tmp_path):
    window.confirm_discard = True
    train_batches(qtbot, window)
    trained = window.run
    answer(qtbot, QMessageBox.Discard)
    window.reset()
    assert window.run is not trained and not window.run.unsaved
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".npz")]


def test_an_untrained_network_is_thrown_away_without_a_question(qtbot, window):
    window.confirm_discard = True
    old = window.run
    window.reset()  # a modal question would block here, and the test time out
    assert window.run is not old


def test_the_title_shows_the_file_and_an_unsaved_mark(qtbot, window, tmp_path):
    assert window.windowTitle().startswith("untitled") and not window.isWindowModified()
    train_batches(qtbot, window, 1)
    assert window.isWindowModified()
    path = str(tmp_path / "brain7.npz")
    window.save_model(path)
    assert window.windowTitle().startswith("brain7.npz[*]") and not window.isWindowModified()
    train_batches(qtbot, window, 1)
    assert window.isWindowModified()


def test_recent_files_survive_a_restart_and_open(qtbot, window, tmp_path):
    paths = [str(tmp_path / f"m{i}.npz") for i in range(3)]
    for p in paths:
        window.save_model(p)
    window.close()
    again = make_window(qtbot, tmp_path / "settings.ini", process=False)
    again.recent.fill(again.recent_menu, again.open_recent)
    names = [a.text() for a in again.recent_menu.actions() if a.text()]
    assert names[:3] == ["&1 m2.npz", "&2 m1.npz", "&3 m0.npz"] and names[-1] == "&Clear the list"
    again.recent_menu.actions()[1].trigger()  # m1
    assert again.run.path == os.path.abspath(paths[1])
    os.remove(paths[0])
    assert not again.open_model(paths[0], asked=True)  # gone: one sentence, and off the list
    assert os.path.abspath(paths[0]) not in again.recent.paths()
    again.close()


def test_dialogs_open_in_the_last_folder(qtbot, window, tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    seen = []

    def dialog(parent, caption, start, *rest):
        seen.append(start)
        return str(folder / "b.npz"), ""
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(dialog))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(dialog))
    window.save_model_dialog()
    window.open_model_dialog()
    window.save_model_dialog()
    assert seen[1] == str(folder) and seen[2] == str(folder / "b.npz")


# --- teaching -------------------------------------------------------------------------------------

def test_the_maths_renders_maths_md_with_no_markup_left(qtbot, window):
    window.show_maths()
    browser = window.maths_dialog.browser
    text = browser.toPlainText()
    for markup in ("```", "|---", "**", "## ", "`", "\n# "):
        assert markup not in text, markup
    assert "z[l+1] = a[l] @ W[l] + b[l]" in text and "σ(z) = 1 / (1 + e^(−z))" in text
    assert "Forward pass — core/network.py: Network.forward" in text  # a heading, as words
    assert browser.document().toMarkdown().count("|") > 20  # its tables are tables
    cursor = browser.document().find("z[l+1] = a[l] @ W[l] + b[l]")
    assert QFontInfo(cursor.charFormat().font()).fixedPitch()  # formulas stay aligned
    window.maths_dialog.close()


def test_about_gives_the_versions_and_copies_them(qtbot, window):
    import numpy
    import PySide6
    window.show_about()
    about = window.about_dialog
    assert f"NumPy {numpy.__version__}" in about.info and f"PySide6 {PySide6.__version__}" in about.info
    assert "Python 3." in about.info
    about.copy_button.click()
    assert QGuiApplication.clipboard().text() == about.info
    about.close()


@pytest.mark.parametrize("name", ["weights", "cost", "activations", "evaluation", "inspector", "pad",
                                  "training"])
def test_every_panel_says_what_it_shows_in_one_click(qtbot, window, name):
    from app.help import PANELS
    button = window.help_buttons[name]
    assert button.isVisible()
    button.click()
    assert button.box.isVisible() and PANELS[name][1][:40] in button.box.text()
    button.box.close()


def test_every_setting_is_explained(window):
    form = window.form
    for name, label in form.labels.items():
        assert len(label.toolTip()) > 60, name
    assert "cross-entropy" in form.loss.toolTip() and "squared error" in form.loss.toolTip()
    assert "Adam" in form.optimizer.toolTip() or "adam" in form.optimizer.toolTip()
    assert "1990s" in form.preset.toolTip()


def test_the_first_run_hint_points_at_train_until_it_is_pressed(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path / "s.ini", process=False)
    w.show()
    qtbot.waitExposed(w)
    assert w.hint.isVisible() and "Train" in w.hint.label.text()
    hint = w.hint.mapTo(w, w.hint.rect().topLeft())
    train = w.train_button.mapTo(w, w.train_button.rect().topRight())
    assert hint.x() >= train.x() and abs(hint.y() - train.y()) < w.train_button.height()  # beside it
    w.form.epochs.setValue(1)
    with qtbot.waitSignal(w.run_ended, timeout=WAIT_MS):
        w.train()
    assert not w.hint.isVisible()
    w.close()
    again = make_window(qtbot, tmp_path / "s.ini", process=False)
    again.show()
    qtbot.waitExposed(again)
    assert not again.hint.isVisible()
    again.close()


# --- settings, marks, Step ------------------------------------------------------------------------

def test_a_new_preset_remakes_an_untrained_network_at_once(qtbot, window):
    window.form.preset.setCurrentText("classic")
    assert window.run.live.sizes == (784, 20, 20, 20, 10) and window.run.step == 0
    assert not window.form.pending_note.isVisible()


def test_settings_that_wait_for_train_or_reset_are_marked(qtbot, window):
    train_batches(qtbot, window, 1)
    form = window.form
    form.layers.setText("784,64,10")
    form.layers.textEdited.emit(form.layers.text())
    form.batch_size.setValue(64)
    assert window.run.live.sizes == (784, 256, 128, 10)  # kept: it has trained
    assert form.labels["sizes"].text().startswith("•") and form.labels["batch_size"].text().startswith("•")
    assert not form.labels["lr"].text().startswith("•")
    note = form.pending_note.text()
    assert form.pending_note.isVisibleTo(form) and "Reset" in note and "Train" in note
    window.reset()
    assert window.run.live.sizes == (784, 64, 10)
    assert not form.pending_note.isVisibleTo(form) and not form.labels["sizes"].text().startswith("•")


def test_the_cost_curve_marks_a_pause_and_a_new_learning_rate(qtbot, window):
    window.form.epochs.setValue(500)
    window.train()
    qtbot.waitUntil(lambda: window.run.step > 2, timeout=WAIT_MS)
    window.form.lr.setValue(0.004)
    window.toggle_pause()
    words = [m.label.format for m in window.cost.marks]
    assert words == ["lr 0.004", "paused"] and [w for _, w in window.run.marks] == words
    now = window._live_position()  # where training was when the window last heard, in epochs
    assert [m.value() for m in window.cost.marks] == [p for p, _ in window.run.marks]
    assert all(0 < m.value() <= now for m in window.cost.marks)
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.stop()
    window.reset()
    assert window.cost.marks == []


def test_step_says_what_the_batch_did(qtbot, window):
    window.step()
    qtbot.waitUntil(lambda: window.run.step == 1 and window.snapshot.step == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "Trained one batch (step 1" in window.status.currentMessage(), timeout=WAIT_MS)
    assert "cost was" in window.status.currentMessage()
    with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
        window.stop()


def test_every_action_is_in_a_menu_with_its_shortcut(window):
    menus = [a.menu() for a in window.menuBar().actions()]
    in_menus = {a for m in menus for a in m.actions()}
    for name in ("train", "pause", "step", "stop", "reset", "save", "open", "export", "quit", "new"):
        action = getattr(window, f"{name}_action")
        assert action in in_menus and not action.shortcut().isEmpty(), name
    assert window.quit_action.shortcut() == QKeySequence("Ctrl+Q")
    toolbar = {a for a in window.training_bar.actions()}
    assert {window.train_action, window.pause_action, window.step_action, window.stop_action,
            window.reset_action} <= toolbar
    assert np.all([window.training_bar.widgetForAction(a).focusPolicy() == Qt.TabFocus
                   for a in (window.train_action, window.reset_action)])


def test_settings_files_stay_apart(tmp_path):
    """The recent list is the window's settings' (tests use their own files)."""
    from app.files import RecentFiles
    a = RecentFiles(QSettings(str(tmp_path / "a.ini"), QSettings.IniFormat))
    b = RecentFiles(QSettings(str(tmp_path / "b.ini"), QSettings.IniFormat))
    a.add(str(tmp_path / "x.npz"))
    assert a.paths() == [str(tmp_path / "x.npz")] and b.paths() == []
    for i in range(12):
        a.add(str(tmp_path / f"{i}.npz"))
    assert len(a.paths()) == 8 and a.paths()[0].endswith("11.npz")


@pytest.mark.parametrize("field", ["lr", "layers"])
def test_every_shortcut_reaches_its_action_from_a_field(qtbot, window, monkeypatch, field):
    """Each action with a shortcut (dialogs answered with Cancel), pressed with the focus in a
    number field and in the layers field, is triggered; the field keeps its text. (Not the
    pad's Undo: in a field, Ctrl+Z undoes the typing; nor the pad's Esc, which is the pad's
    only while it has the focus; nor Side by side, which sets the form to classic: it is pressed
    once, alone, at the end.)"""
    import app.timelapse
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("", "")))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("", "")))
    monkeypatch.setattr(app.timelapse, "export_dialog", lambda w: None)
    widget = getattr(window.form, field)
    text = widget.text()
    actions = [a for a in window.findChildren(type(window.train_action))
               if not a.shortcut().isEmpty()
               and a not in (window.quit_action, window.pause_action, window.side_by_side_action)
               and a.shortcut() != QKeySequence.Undo
               and a.shortcutContext() in (Qt.WindowShortcut, Qt.ApplicationShortcut)]  # not a panel's own
    assert len(actions) >= 15
    for action in actions:
        if not widget.isEnabled():  # a run started by Train disables all but the rate
            with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
                window.stop()
        if not action.isEnabled():
            continue
        combo = action.shortcut()[0]
        fired = []
        action.triggered.connect(lambda *_: fired.append(True))
        press(qtbot, widget, combo.key(), combo.keyboardModifiers())
        assert fired, (action.text(), action.shortcut().toString(), action.parent())
        for box in (window.maths_dialog, window.about_dialog):
            if box is not None:
                box.close()
        window.activateWindow()
    if window.training is not None:
        with qtbot.waitSignal(window.run_ended, timeout=WAIT_MS):
            window.stop()
    assert widget.text() == text
    fired = []
    window.side_by_side_action.triggered.connect(lambda *_: fired.append(True))
    combo = window.side_by_side_action.shortcut()[0]
    press(qtbot, widget, combo.key(), combo.keyboardModifiers())
    assert fired and window.comparison is not None
    window._stop_and_wait()


def test_a_preset_for_other_epochs_is_still_that_preset(window):
    """Epochs say how long to train and the seed from which start, not which network: the
    picker keeps its name, and another preset chosen keeps the seed; any other setting makes
    it custom."""
    form = window.form
    form.preset.setCurrentText("classic")
    form.epochs.setValue(3)
    form.seed.setValue(5)
    assert form.preset.currentText() == "classic" and form.config().epochs == 3
    form.preset.setCurrentText("fast")
    assert form.config() == preset("fast").replace(seed=5)
    form.batch_size.setValue(11)
    assert form.preset.currentText() == "custom"
