"""The window's actions: every command in a menu, with its shortcut, and the training commands
also in a toolbar (whose buttons are the window's ``train_button`` … ``reset_button``).

Shortcuts never take a key a text field needs. Measured under X11 (``xcb``; offscreen Qt
binds fewer): the fields take Space and '.', the arrows, Home and End with or without Ctrl
or Shift, and Ctrl+A, C, E (end of line), U, V, X, Y and Z. So Export is not Ctrl+E, Step and
Stop are Ctrl+B and Ctrl+. ; Space pauses from anywhere but a text field, and in a number field
it commits what was typed and then pauses (``app.controls``). tests/test_shortcuts.py presses
each with the focus in a number field and in the layers field.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QStyle, QToolBar

from app import help as texts
from app import layout, theme

# What text fields take under X11 beyond what they take everywhere (measured, see above): no
# shortcut may be one of these.
X11_FIELD_KEYS = ("Ctrl+E", "Ctrl+U")
# (attribute, text, shortcut, tooltip)
TRAINING = (
    ("train", "&Train", "Ctrl+T", "Train the network for the epochs set, going on from where it is"),
    ("pause", "&Pause", "Space", "Pause or resume training"),
    ("step", "&Step one batch", "Ctrl+B", "Train one batch, then pause: watch a single step"),
    ("stop", "St&op", "Ctrl+.", "Stop training; Train goes on from here"),
    ("reset", "&Reset", "Ctrl+R", "A new network: fresh weights from the seed, with the settings"),
)
ICONS = {"train": QStyle.SP_MediaPlay, "pause": QStyle.SP_MediaPause, "step": QStyle.SP_MediaSeekForward,
         "stop": QStyle.SP_MediaStop, "reset": QStyle.SP_BrowserReload}


def install(window) -> None:
    """Make the window's menus (File, Training, Timeline, View, Help) and training toolbar."""
    bar = window.menuBar()
    _file_menu(window, bar.addMenu("&File"))
    _training(window, bar.addMenu("&Training"))
    _timeline_menu(window, bar.addMenu("T&imeline"))
    view = bar.addMenu("&View")
    layout.install_view_menu(window, view)
    view.addSeparator()
    window.landscape_action = action(window, view, "Loss along the &way…", None, window.show_landscape,
                                     "The test cost on the straight line from the initial weights "
                                     "to those of the moment shown")
    _help_menu(window, bar.addMenu("&Help"))


def action(window, menu, text: str, shortcut, slot, tip: str = "") -> QAction:
    a = QAction(text, window)
    if shortcut:
        a.setShortcut(QKeySequence(shortcut))
    if tip:
        a.setToolTip(f"{tip} ({a.shortcut().toString(QKeySequence.NativeText)})" if shortcut else tip)
    a.triggered.connect(slot)
    menu.addAction(a)
    return a


def _file_menu(window, menu) -> None:
    window.new_action = action(window, menu, "&New network", QKeySequence.New, window.new_network,
                               "A new network from the settings")
    window.open_action = action(window, menu, "&Open model…", QKeySequence.Open, window.open_model_dialog)
    window.recent_menu = menu.addMenu("Open &recent")
    window.recent_menu.aboutToShow.connect(
        lambda: window.recent.fill(window.recent_menu, window.open_recent))
    window.open_image_action = action(window, menu, "Open &image…", "Ctrl+I", window.open_image_dialog)
    _dataset_menu(window, menu.addMenu("&Dataset"))
    menu.addSeparator()
    window.save_action = action(window, menu, "&Save model", QKeySequence.Save, window.save)
    window.save_as_action = action(window, menu, "Save model &as…", QKeySequence.SaveAs,
                                   window.save_model_dialog)
    menu.addSeparator()
    window.export_action = action(window, menu, "Export window as &PNG…", "Ctrl+Shift+P",
                                  window.export_png_dialog)
    window.timelapse_action = action(window, menu, "Export &time-lapse…", "Ctrl+Shift+E",
                                     window.export_timelapse_dialog)
    menu.addSeparator()
    window.quit_action = action(window, menu, "&Quit", "Ctrl+Q", window.close)


def _dataset_menu(window, menu) -> None:
    """One choice per dataset the program knows (``core.data.DATASETS``), the one trained on
    checked (by the window, ``_check_dataset_action``): ``window.dataset_actions`` by name."""
    from core.data import DATASETS  # noqa: PLC0415
    window.dataset_menu = menu
    group = QActionGroup(window)
    group.setExclusive(True)
    window.dataset_actions = {}
    for name, known in DATASETS.items():
        a = action(window, menu, known.title, None, lambda _=False, n=name: window.choose_dataset(n),
                   f"Train on {known.title}: a new network, once its images are read")
        a.setCheckable(True)
        group.addAction(a)
        window.dataset_actions[name] = a


def _training(window, menu) -> None:
    """The Training menu, and the same actions as the toolbar at the top, Train first and
    coloured: it is the first thing to press."""
    toolbar = QToolBar("Training controls")
    toolbar.setObjectName("Training controls")  # saveState needs names
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
    window.addToolBar(Qt.TopToolBarArea, toolbar)
    window.training_bar = toolbar
    style = window.style()
    for name, text, shortcut, tip in TRAINING:
        slot = window.toggle_pause if name == "pause" else getattr(window, name)
        a = action(window, menu, text, shortcut, slot, tip)
        a.setIcon(style.standardIcon(ICONS[name]))
        if name == "step":
            a.setIconText("Step")  # the toolbar's word; the menu says one batch
        toolbar.addAction(a)
        setattr(window, f"{name}_action", a)
        button = toolbar.widgetForAction(a)
        button.setFocusPolicy(Qt.TabFocus)
        setattr(window, f"{name}_button", button)
        if name == "stop":
            toolbar.addSeparator()
    # Pause becomes Resume: as wide as the longer word from the start, so that the buttons after
    # it, and the hint, do not move when it changes
    metrics, pause = window.pause_button.fontMetrics(), window.pause_button
    pause.setMinimumWidth(pause.sizeHint().width() + metrics.horizontalAdvance("Resume")
                          - metrics.horizontalAdvance("Pause"))
    window.train_button.setObjectName("train_button")
    window.train_button.setStyleSheet(
        "QToolButton#train_button { font-weight: bold; border-radius: 3px; padding: 2px 8px; }"
        f"QToolButton#train_button:enabled {{ background: {theme.ACCENT}; color: #16181d; }}")
    # (bold and padded disabled too: the same width while training, so the row keeps still)
    _compare_menu(window, menu)
    window.hint = texts.FirstRunHint()
    window.hint_action = toolbar.addWidget(window.hint)
    window.hint.dismissed.connect(window.dismiss_hint)


def _compare_menu(window, menu) -> None:
    """Two runs side by side: the story in one click, or any preset or saved run beside this one."""
    menu.addSeparator()
    window.restart_action = action(
        window, menu, "Train &again from the initial weights", None, window.restart,
        "A new run from this run's own initial weights and settings: the same seed repeats it exactly")
    window.side_by_side_action = action(
        window, menu, "Train classic and fast side &by side", "Ctrl+Shift+B", window.side_by_side,
        "A new classic network (the original: sigmoid, squared error, SGD) and a fast one (ReLU, "
        "softmax, Adam) trained together on the same images in the same order")
    compare = menu.addMenu("&Compare with")
    window.compare_menu = compare
    from core.config import PRESETS  # noqa: PLC0415
    for name in PRESETS:
        action(window, compare, name, None, lambda _=False, n=name: window.compare_with(n),
               f"Train the {name} preset beside this network, with the same seed")
    window.compare_file_action = action(window, compare, "A saved &run…", None, window.compare_dialog,
                                        "Show a saved run beside this one, and train it on with it")
    compare.addSeparator()
    window.stop_comparing_action = action(window, compare, "&Stop comparing", None, window.stop_comparing)


def _timeline_menu(window, menu) -> None:
    t = window.timeline
    window.timeline_actions = [
        action(window, menu, "&Previous moment", "Alt+Left", t.step_back),
        action(window, menu, "&Next moment", "Alt+Right", t.step_forward),
        action(window, menu, "&First moment", "Alt+Home", t.go_first),
        action(window, menu, "&Live", "Alt+End", t.go_live),
        action(window, menu, "Play / pause the &time-lapse", "Alt+P", t.toggle_play)]


def _help_menu(window, menu) -> None:
    window.maths_action = action(window, menu, "The &maths", QKeySequence.HelpContents, window.show_maths,
                                 "The equations the network's code implements")
    panels = menu.addMenu("&What am I looking at?")
    for name, (title, _) in texts.PANELS.items():
        a = panels.addAction(title)
        a.triggered.connect(lambda _=False, n=name: window.explain_panel(n))
    menu.addSeparator()
    window.about_action = action(window, menu, "&About", None, window.show_about)

