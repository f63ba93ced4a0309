"""Where the panels sit: the docks around the central weights panel, their default sizes for the
screen the window opens on, and the View menu that hides, shows and resets them.

The window makes the panels and the controls; this module only arranges them, so the layout
can change without touching what the panels do.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QWidget

LAYOUT_VERSION = 2  # of the docks' arrangement saved in the settings: a new one ignores old ones


def dock(window: QMainWindow, title: str, widget: QWidget, area) -> QDockWidget:
    d = QDockWidget(title, window)
    d.setObjectName(title)  # saveState needs names
    d.setWidget(widget)
    d.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
    window.addDockWidget(area, d)
    return d


def install_docks(window) -> None:
    """Put ``window.weights`` in the centre and the other panels in docks around it:
    ``training_dock`` (``window.controls``) over ``cost_dock`` on the left, ``activations_dock``
    tabbed with ``evaluation_dock`` at the bottom, ``inspector_dock`` over ``pad_dock`` on the
    right."""
    window.weights.setMinimumSize(360, 300)
    window.setCentralWidget(window.weights)
    window.setDockNestingEnabled(True)
    window.setCorner(Qt.BottomLeftCorner, Qt.LeftDockWidgetArea)  # the side columns are full height
    window.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)
    window.cost_dock = dock(window, "Cost and accuracy", window.cost, Qt.LeftDockWidgetArea)
    window.activations_dock = dock(window, "Activations", window.activations, Qt.BottomDockWidgetArea)
    window.evaluation_dock = dock(window, "Confusion and mistakes", window.evaluation, Qt.BottomDockWidgetArea)
    window.tabifyDockWidget(window.activations_dock, window.evaluation_dock)
    window.inspector_dock = dock(window, "Neuron inspector", window.inspector, Qt.RightDockWidgetArea)
    window.pad_dock = dock(window, "Drawing pad", window.pad, Qt.RightDockWidgetArea)
    window.splitDockWidget(window.inspector_dock, window.pad_dock, Qt.Vertical)
    window.training_dock = dock(window, "Training", window.controls, Qt.LeftDockWidgetArea)
    window.splitDockWidget(window.training_dock, window.cost_dock, Qt.Vertical)


def default_layout(window) -> None:
    """The window's size and the docks' sizes when nothing is remembered (and View → Reset
    layout)."""
    window.resize(1500, 950)
    window.resizeDocks([window.training_dock, window.inspector_dock], [390, 440], Qt.Horizontal)
    window.resizeDocks([window.inspector_dock, window.pad_dock], [420, 520], Qt.Vertical)
    window.resizeDocks([window.training_dock, window.cost_dock], [400, 520], Qt.Vertical)
    window.resizeDocks([window.activations_dock], [380], Qt.Vertical)
    window.activations_dock.raise_()


def install_view_menu(window, menu: QMenu) -> None:
    """View: show or hide each dock, and Reset layout."""
    for d in (window.training_dock, window.cost_dock, window.activations_dock,
              window.evaluation_dock, window.inspector_dock, window.pad_dock):
        menu.addAction(d.toggleViewAction())
    menu.addSeparator()
    reset = menu.addAction("Reset &layout")
    reset.triggered.connect(lambda: default_layout(window))
