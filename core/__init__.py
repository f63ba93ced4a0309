"""The network, its training and its data: NumPy and the standard library only.

Nothing in this package imports Qt, pyqtgraph or TensorFlow at module level, so the
command line starts fast and every piece runs without a display.
"""
