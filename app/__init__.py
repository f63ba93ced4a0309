"""The window: PySide6 widgets and pyqtgraph panels that draw what ``core`` computes.

Nothing here does maths beyond reshaping for display; the training runs in ``core`` on a worker
thread (``app.worker``) and reaches the window only as immutable snapshots.
"""
