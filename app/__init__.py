"""The window: PySide6 widgets and pyqtgraph panels that draw what ``core`` computes.

Nothing here does maths beyond reshaping for display; the training runs in ``core``, in a process
of its own driven from a worker thread (``app.worker``, ``core.child``), and reaches the window
only as immutable snapshots.
"""

__version__ = "0.10.0"  # the program's version: Help → About, and pyproject.toml reads it
