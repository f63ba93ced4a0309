"""Where the panels sit: the docks around the central weights panel, their default sizes for the
screen the window opens on, and the View menu that hides, shows and resets them.

The window makes the panels and the controls; this module only arranges them, so the layout
can change without touching what the panels do.

The arrangement, in three columns, the side columns full height:

    Training          Weights                      Neuron inspector
    ----------        ---------------------        ----------------
    Cost and          Activations | Network        Drawing pad |
    accuracy |        diagram | What a layer    Second run (tabs)
    Gradient flow |   sees | Confusion and
    Neuron health     mistakes | Probes | What
    (tabs)            it is fed (tabs)

On a screen less than ``ROOMY_HEIGHT`` pixels high (1366x768, 1280x720, 1920x1080 at 125%) the
right column has room for only one of its panels (each needs about 350 pixels of the 560 or so
left by the menu, the timeline and the status bar), so the **inspector and the pad share it as
tabs**, the pad in front; a click on a neuron brings the inspector forward. Those two, because
each is a close look at one thing (a neuron, a drawing) that a user turns to in turn, while the
training form and the cost curve are both wanted at once while training runs (the settings and
the progress) and the weights, the centre, stay in sight. There the training form also folds its less-used rows
(activations, loss, optimiser and schedule constants, dropout, augmentation, mixup, batch size,
seed) behind "More settings", which keeps
the cost curve about 200 pixels taller. Any dock can be hidden (its title
bar's close button, or the View menu), floated, moved, or tabbed with another; View → Reset
layout puts them all back.

Every panel's minimum size is set so that the whole window's fits a 1280x720 screen: about
1100x560 pixels for the docks (tests/test_layout.py checks it).
"""
from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QWidget

# The panels by the window's attribute for each, with their titles (each but the central weights
# panel sits in the dock ``<name>_dock``): what --panel and the time-lapse dialog offer.
PANELS = {"weights": "Weights", "cost": "Cost and accuracy", "activations": "Activations",
          "inspector": "Neuron inspector", "pad": "Drawing pad",
          "evaluation": "Confusion and mistakes", "diagram": "Diagram",
          "layermap": "Layer map", "flow": "Gradient flow", "health": "Neuron health",
          "probes": "Probes", "augmented": "What it is fed",
          "second": "Second run"}

LAYOUT_VERSION = 6  # of the docks' arrangement saved in the settings: a new one ignores old ones

MAX_WIDTH, MAX_HEIGHT = 1600, 1000  # the window's first size on a large screen
TITLE_BAR = 32  # pixels a window manager adds above the window (resize sets only the inside)
ROOMY_HEIGHT = 950  # available pixels from which the inspector and the pad sit one over the other

DOCKS = ("training_dock", "cost_dock", "flow_dock", "health_dock", "activations_dock", "diagram_dock",
         "layermap_dock", "evaluation_dock", "probes_dock", "augmented_dock", "inspector_dock", "pad_dock",
         "second_dock")  # attributes, in the View menu's order


def dock(window: QMainWindow, title: str, widget: QWidget, area) -> QDockWidget:
    d = QDockWidget(title, window)
    d.setObjectName(title)  # saveState needs names
    d.setWidget(widget)
    d.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable
                  | QDockWidget.DockWidgetClosable)  # closed, it comes back from the View menu
    window.addDockWidget(area, d)
    return d


def docks(window) -> list[QDockWidget]:
    """The window's docks, in the View menu's order."""
    return [getattr(window, name) for name in DOCKS]


def install_docks(window) -> None:
    """Put ``window.weights`` in the centre and the other panels in docks around it:
    ``training_dock`` (``window.controls``) over ``cost_dock`` tabbed with ``flow_dock`` and
    ``health_dock`` on the left, ``activations_dock``
    tabbed with ``diagram_dock``, ``layermap_dock`` and ``evaluation_dock`` at the bottom, ``inspector_dock`` and ``pad_dock`` on the
    right, one over the other or tabbed (see the module's docstring)."""
    window.weights.setMinimumSize(300, 200)
    window.setCentralWidget(window.weights)
    window.setDockNestingEnabled(True)
    window.setCorner(Qt.BottomLeftCorner, Qt.LeftDockWidgetArea)  # the side columns are full height
    window.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)
    window.training_dock = dock(window, "Training", window.controls, Qt.LeftDockWidgetArea)
    window.form.more_button.toggled.connect(lambda _: _fit_training(window))
    window.cost_dock = dock(window, "Cost and accuracy", window.cost, Qt.LeftDockWidgetArea)
    window.flow_dock = dock(window, "Gradient flow", window.flow, Qt.LeftDockWidgetArea)
    window.health_dock = dock(window, "Neuron health", window.health, Qt.LeftDockWidgetArea)
    window.activations_dock = dock(window, "Activations", window.activations, Qt.BottomDockWidgetArea)
    window.diagram_dock = dock(window, "Diagram", window.diagram, Qt.BottomDockWidgetArea)
    window.layermap_dock = dock(window, "Layer map", window.layermap, Qt.BottomDockWidgetArea)
    window.evaluation_dock = dock(window, "Confusion and mistakes", window.evaluation, Qt.BottomDockWidgetArea)
    window.probes_dock = dock(window, "Probes", window.probes, Qt.BottomDockWidgetArea)
    window.augmented_dock = dock(window, "What it is fed", window.augmented, Qt.BottomDockWidgetArea)
    window.inspector_dock = dock(window, "Neuron inspector", window.inspector, Qt.RightDockWidgetArea)
    window.pad_dock = dock(window, "Drawing pad", window.pad, Qt.RightDockWidgetArea)
    window.second_dock = dock(window, "Second run", window.second, Qt.RightDockWidgetArea)
    _arrange(window, compact=_is_compact(_available(window)))
    for signal in (window.weights.neuron_clicked, window.activations.neuron_clicked):
        signal.connect(lambda *_: _bring_forward(window, window.inspector_dock))


def default_layout(window, available: QRect | None = None) -> None:
    """The window's size and the docks' arrangement and sizes when nothing is remembered (and
    View → Reset layout), for a screen whose free area is ``available`` (by default that of the
    screen the window is on): the window as large as fits, up to MAX_WIDTH x MAX_HEIGHT, centred;
    the docks in proportion to it."""
    available = available or _available(window)
    compact = _is_compact(available)
    _arrange(window, compact)
    window.form.set_details_visible(not compact)  # the cost curve needs the rows on a small screen
    width = min(MAX_WIDTH, available.width())
    height = min(MAX_HEIGHT, available.height() - TITLE_BAR)
    window.resize(width, height)
    window.move(available.x() + (available.width() - width) // 2,
                available.y() + max(0, (available.height() - height - TITLE_BAR) // 2))
    window.layout().activate()  # the docks at the window's new size, before sizing them
    _size_docks(window, width, height, compact)


def settle(window) -> None:
    """Once the window is first shown with the default layout: the split of the left column
    again (before the window is shown, Qt keeps the training dock at its earlier height)."""
    _fit_training(window)


def reset_layout(window) -> None:
    """View → Reset layout: every dock (and the timeline) back where it starts, shown, and the
    window sized as on first start."""
    if window.isMaximized() or window.isFullScreen():
        window.showNormal()
    bar = _timeline(window)
    if bar is not None:
        window.addToolBar(Qt.BottomToolBarArea, bar)  # moves it back if it was moved
        bar.show()
    default_layout(window)


def install_view_menu(window, menu: QMenu) -> None:
    """View: show or hide each dock (and the timeline), and Reset layout."""
    for d in docks(window):
        menu.addAction(d.toggleViewAction())
    bar = _timeline(window)
    if bar is not None:
        menu.addSeparator()
        action = bar.toggleViewAction()
        action.setText("Timeline")
        menu.addAction(action)
    menu.addSeparator()
    window.reset_layout_action = menu.addAction("Reset &layout")
    window.reset_layout_action.triggered.connect(lambda: reset_layout(window))


# --- helpers ----------------------------------------------------------------------------------

def _available(window) -> QRect:
    screen = window.screen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, MAX_WIDTH, MAX_HEIGHT)


def _is_compact(available: QRect) -> bool:
    return available.height() < ROOMY_HEIGHT


def _timeline(window):
    """The timeline toolbar, if the window has one."""
    return getattr(window, "timeline_bar", None)


def _arrange(window, compact: bool) -> None:
    """Every dock docked, shown and in its place: first taken out, so that no tab or split of
    before survives."""
    for d in docks(window):
        d.setFloating(False)
        window.removeDockWidget(d)
    window.addDockWidget(Qt.LeftDockWidgetArea, window.training_dock)
    window.splitDockWidget(window.training_dock, window.cost_dock, Qt.Vertical)
    for d in (window.flow_dock, window.health_dock):  # curves over training, as the cost's
        window.tabifyDockWidget(window.cost_dock, d)
    window.addDockWidget(Qt.BottomDockWidgetArea, window.activations_dock)
    for d in (window.diagram_dock, window.layermap_dock, window.evaluation_dock, window.probes_dock,
              window.augmented_dock):
        window.tabifyDockWidget(window.activations_dock, d)
    window.addDockWidget(Qt.RightDockWidgetArea, window.inspector_dock)
    if compact:
        window.tabifyDockWidget(window.inspector_dock, window.pad_dock)
    else:
        window.splitDockWidget(window.inspector_dock, window.pad_dock, Qt.Vertical)
    window.tabifyDockWidget(window.inspector_dock, window.second_dock)  # in front while comparing
    for d in docks(window):
        d.show()
    window.layout().activate()  # makes the tab bars, without which a raise is forgotten
    window.activations_dock.raise_()
    window.cost_dock.raise_()
    window.pad_dock.raise_()  # in front when tabbed: the inspector has nothing until a click


def _size_docks(window, width: int, height: int, compact: bool) -> None:
    """Dock sizes in proportion to a window of width x height: the side columns about a quarter
    and a third of the width (never below what their panels need), the bottom row under half
    of the docks' height."""
    chrome = window.menuBar().sizeHint().height() + window.statusBar().sizeHint().height()
    bar = _timeline(window)
    if bar is not None and bar.isVisibleTo(window):
        chrome += bar.sizeHint().height()
    docks_height = height - chrome
    left = max(int(0.24 * width), window.training_dock.minimumSizeHint().width())
    right = max(int(0.32 * width), window.pad_dock.minimumSizeHint().width(),
                window.inspector_dock.minimumSizeHint().width())
    window.resizeDocks([window.training_dock, window.inspector_dock], [left, right], Qt.Horizontal)
    _fit_training(window, docks_height)
    window.resizeDocks([window.activations_dock], [int((0.45 if compact else 0.42) * docks_height)],
                       Qt.Vertical)
    if not compact:
        inspector = int(0.45 * docks_height)
        window.resizeDocks([window.inspector_dock, window.pad_dock],
                           [inspector, docks_height - inspector], Qt.Vertical)


def _fit_training(window, docks_height: int | None = None) -> None:
    """The training dock as tall as its form needs, the cost curve the rest of the column (also
    when the form folds or unfolds its rows)."""
    window.controls.layout().activate()  # the form's rows as they are now shown
    training = window.training_dock.sizeHint().height()
    if docks_height is None:
        docks_height = window.training_dock.height() + window.cost_dock.height()
    window.resizeDocks([window.training_dock, window.cost_dock],
                       [training, max(docks_height - training, 0)], Qt.Vertical)


def _bring_forward(window, d: QDockWidget) -> None:
    """Show ``d``'s tab if it shares a place with others (a click asked to see it)."""
    if window.tabifiedDockWidgets(d):
        d.raise_()

