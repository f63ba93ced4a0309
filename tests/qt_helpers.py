"""Mouse input for pyqtgraph views in offscreen tests."""
from PySide6.QtCore import QCoreApplication, QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent


def move_mouse(view, scene_point) -> bool:
    """A mouse move without buttons to the view's viewport (QTest.mouseMove sends none
    offscreen). pyqtgraph drops moves that come faster than the screen refreshes, so callers
    repeat it inside ``waitUntil``; returns True to chain with the condition."""
    viewport = view.viewport()
    local = QPointF(view.mapFromScene(scene_point))
    QCoreApplication.sendEvent(viewport, QMouseEvent(
        QEvent.Type.MouseMove, local, viewport.mapToGlobal(local), Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    return True


def click_pixel(qtbot, view, image, x, y):
    """A left click on pixel (x = column, y = row) of ``image`` shown in the GraphicsView ``view``."""
    point = view.mapFromScene(image.mapToScene(QPointF(x, y)))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
