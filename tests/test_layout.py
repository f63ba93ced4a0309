"""The docks' arrangement (app.layout) on the smallest screen the window supports, offscreen.

The offscreen platform's screen is 800x800 pixels, so no test relies on it: each passes the
screen's free area to ``default_layout`` explicitly (1280x720, as a laptop's; 1920x1040, as a
full-HD screen's less a taskbar) and then shows the window. What is asserted is what a person
would see: no panel squeezed below the size it needs, every pyqtgraph view holding its whole
scene (a scene larger than its view is cut off at the edge: the output bars 8 and 9, a title's
end), all ten output bars, and the View menu bringing back what was hidden.
"""
import pytest
from PySide6.QtCore import QRect, QSettings, QSize, Qt
from PySide6.QtWidgets import QDockWidget, QSizePolicy, QToolBar, QWidget

from app import layout

SMALL = QRect(0, 0, 1280, 720)
LARGE = QRect(0, 0, 1920, 1040)
CHROME = 40  # pixels of a 720-pixel screen taken by a taskbar (or a window's title bar)
MIN_PX_PER_BAR = 10  # an output bar and its digit label need about this much width


@pytest.fixture(scope="session", autouse=True)
def themed():
    from app import theme
    theme.configure()


def make_window(qtbot, tmp_path, data, available):
    from app.window import MainWindow
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat), data=data)
    qtbot.addWidget(window)
    layout.default_layout(window, available)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def small(qtbot, tmp_path, small_mnist):
    window = make_window(qtbot, tmp_path, small_mnist, SMALL)
    yield window
    window.close()


def docks(window):
    return layout.docks(window)


def in_sight(widget) -> bool:
    """Whether some of ``widget`` is on screen: not hidden, nor behind another dock's tab (a
    widget wholly covered by its children has an empty visible region of its own)."""
    return widget.isVisible() and any(not w.visibleRegion().isEmpty()
                                      for w in [widget, *widget.findChildren(QWidget)])


def each_tab(qtbot, window):
    """Bring every dock to the front in turn (those that share a place with others are
    hidden behind them), yielding each once it is in sight."""
    for d in docks(window):
        d.raise_()
        qtbot.waitUntil(lambda: in_sight(d.widget()))
        yield d


def test_the_window_fits_a_1280x720_screen(small):
    """The window's least size leaves room for a taskbar on a 1280x720 screen, and its first
    size fits inside the screen with a title bar above it."""
    least = small.minimumSizeHint()
    assert least.width() <= SMALL.width() and least.height() <= SMALL.height() - CHROME, least
    assert small.width() <= SMALL.width()
    assert small.height() + layout.TITLE_BAR <= SMALL.height()


def test_on_a_small_screen_the_inspector_and_the_pad_share_a_place(small):
    """Below ROOMY_HEIGHT the inspector and the pad are tabs of one dock area, the pad in front;
    the activations share theirs with the diagram, the layer map, the confusion matrix, the
    probes and what it is fed; the second run of a comparison is a tab behind the inspector."""
    assert set(small.tabifiedDockWidgets(small.pad_dock)) == {small.inspector_dock, small.second_dock}
    assert small.tabifiedDockWidgets(small.activations_dock) == [small.diagram_dock, small.layermap_dock,
                                                                small.evaluation_dock, small.probes_dock,
                                                                small.augmented_dock]
    assert in_sight(small.pad) and not in_sight(small.inspector)


def test_a_click_on_a_neuron_brings_the_inspector_forward(small, qtbot):
    """The inspector behind the pad comes to the front when a neuron is asked for."""
    small.activations.neuron_clicked.emit(1, 3)
    qtbot.waitUntil(lambda: in_sight(small.inspector))


def in_layout(box, widget) -> bool:
    """Whether a layout, or one nested in it, places ``widget``."""
    if box.indexOf(widget) >= 0:
        return True
    return any(box.itemAt(i).layout() is not None and in_layout(box.itemAt(i).layout(), widget)
               for i in range(box.count()))


def test_no_panel_is_squeezed_below_its_minimum(small, qtbot):
    """At 1280x720 every panel, brought to the front in turn, and the weights in the centre are at
    least their minimum size; so is every widget shown inside them that a layout places (the
    parts of a spin box or a scroll area are placed by their owner, not by a layout)."""
    def check(widget):
        for child in [widget, *widget.findChildren(QWidget)]:
            if not child.isVisible() or child.isWindow():
                continue
            parent = child.parentWidget()
            if child is not widget and (parent.layout() is None or not in_layout(parent.layout(), child)):
                continue
            hint, explicit = child.minimumSizeHint(), child.minimumSize()  # as a layout takes them:
            least = QSize(explicit.width() or hint.width(), explicit.height() or hint.height())
            policy = child.sizePolicy()  # Ignored: may be cut on purpose (a caption, say)
            wide = policy.horizontalPolicy() == QSizePolicy.Policy.Ignored or child.width() >= least.width()
            tall = policy.verticalPolicy() == QSizePolicy.Policy.Ignored or child.height() >= least.height()
            assert wide and tall, f"{type(child).__name__} in {type(widget).__name__}: {child.size()} < {least}"

    check(small.weights)
    for d in each_tab(qtbot, small):
        check(d.widget())


def test_every_plot_view_holds_its_whole_scene(small, qtbot):
    """No pyqtgraph view of any panel is smaller than its layout of plots needs, so no title,
    axis or bar lies past its edge."""
    import pyqtgraph as pg

    for d in each_tab(qtbot, small):
        for view in d.widget().findChildren(pg.GraphicsLayoutWidget):
            if not view.isVisible():
                continue
            least = view.ci.effectiveSizeHint(Qt.SizeHint.MinimumSize)
            viewport = view.viewport().size()
            assert least.width() <= viewport.width() + 0.5 and least.height() <= viewport.height() + 0.5, \
                f"{view} in {d.windowTitle()}: scene needs {least}, view has {viewport}"


@pytest.mark.parametrize("panel", ["activations", "pad"])
def test_all_ten_output_bars_show(small, qtbot, panel):
    """The output plot of the activations panel and of the pad shows digits 0 to 9 whole: its x
    range covers -0.5..9.5, its bars' box lies inside the view, and each bar has at least
    MIN_PX_PER_BAR pixels."""
    dock = small.activations_dock if panel == "activations" else small.pad_dock
    dock.raise_()
    owner = getattr(small, panel)
    qtbot.waitUntil(lambda: in_sight(owner))
    bars = owner.layers[-1] if panel == "activations" else owner.bars
    assert bars.n == 10
    box = bars.plot.getViewBox()
    (x0, x1), _ = box.viewRange()
    assert x0 <= -0.5 and x1 >= 9.5
    view = owner.bar_view
    shown = view.mapFromScene(box.sceneBoundingRect()).boundingRect()
    assert view.viewport().rect().contains(shown), (shown, view.viewport().rect())
    assert shown.width() >= 10 * MIN_PX_PER_BAR


def test_view_hides_a_dock_and_reset_layout_brings_everything_back(small, qtbot):
    """View → a dock's entry hides it; Reset layout shows every dock again, docked where it
    started (a floated one too), and the timeline if the window has one."""
    hide = small.cost_dock.toggleViewAction()
    assert hide.isCheckable() and hide.isChecked()
    hide.trigger()
    assert not small.cost_dock.isVisible()
    small.pad_dock.setFloating(True)
    bar = getattr(small, "timeline_bar", None)
    if isinstance(bar, QToolBar):
        bar.toggleViewAction().trigger()
        assert not bar.isVisible()
    small.reset_layout_action.trigger()
    assert small.cost_dock.isVisible() and hide.isChecked()
    assert not small.pad_dock.isFloating()
    assert small.dockWidgetArea(small.cost_dock) == Qt.LeftDockWidgetArea
    assert small.dockWidgetArea(small.pad_dock) == Qt.RightDockWidgetArea
    assert all(not d.isHidden() for d in docks(small))
    if isinstance(bar, QToolBar):
        assert bar.isVisible() and small.toolBarArea(bar) == Qt.BottomToolBarArea


def test_the_view_menu_lists_every_dock(small):
    """One checkable entry per dock, the timeline's if there is one, Reset layout, and then the
    views that open a window of their own (Loss along the way)."""
    menu = next(a.menu() for a in small.menuBar().actions() if a.text() == "&View")
    actions = [a for a in menu.actions() if not a.isSeparator()]
    expected = [d.toggleViewAction() for d in docks(small)]
    bar = getattr(small, "timeline_bar", None)
    if isinstance(bar, QToolBar):
        expected.append(bar.toggleViewAction())
    assert actions == [*expected, small.reset_layout_action, small.landscape_action]
    assert all(a.isCheckable() for a in expected)
    assert all(isinstance(d, QDockWidget) for d in docks(small))


def test_on_a_large_screen_the_inspector_sits_over_the_pad(qtbot, tmp_path, small_mnist):
    """On a 1920x1040 free area the window is 1600x1000 and centred, and the inspector and the
    pad are both in sight, one over the other."""
    window = make_window(qtbot, tmp_path, small_mnist, LARGE)
    assert (window.width(), window.height()) == (layout.MAX_WIDTH, layout.MAX_HEIGHT)
    assert window.x() == (LARGE.width() - layout.MAX_WIDTH) // 2
    assert window.tabifiedDockWidgets(window.pad_dock) == []
    assert window.tabifiedDockWidgets(window.inspector_dock) == [window.second_dock]
    assert in_sight(window.pad) and in_sight(window.inspector)
    assert window.inspector_dock.geometry().bottom() < window.pad_dock.geometry().top()
    window.close()


def test_a_dataset_of_clothes_fits_a_1280x720_screen_too(qtbot, tmp_path, small_mnist):
    """Fashion-MNIST's class names are longer than digits ("Sneaker 0.18 · Sandal 0.13 ·
    Trouser 0.11" under the test image, and the pad's sentence that it reads digits only): they
    wrap, and the window still fits, every test image caption inside its panel."""
    import dataclasses

    from core.data import DATASETS
    clothes = dataclasses.replace(small_mnist, name="fashion", class_names=DATASETS["fashion"].class_names)
    window = make_window(qtbot, tmp_path, clothes, SMALL)
    least = window.minimumSizeHint()
    assert least.width() <= SMALL.width() and window.width() <= SMALL.width(), least
    panel = window.activations
    for label in (panel.true_label, panel.predicted_label, panel.top_label):
        assert label.text() and label.width() <= panel.width()
    window.close()
