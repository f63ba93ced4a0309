"""Colours and colour maps shared by every panel, so the window reads as one piece."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

BACKGROUND = "#16181d"
FOREGROUND = "#d8dee9"
MUTED = "#6b7280"
ACCENT = "#f0a35e"  # the selection: a neuron, a bar, the predicted digit
COST = "#7aa2f7"
TRAIN = "#9ece6a"
TEST = "#f7768e"
BAR = "#7aa2f7"
# One colour a layer of neurons, layer 1 first (the gradient flow's line of W[l] is layer l+1's)
SECOND = "#bb9af7"  # the second run of a comparison: its curves, its name, its answers
LAYERS = (COST, TRAIN, TEST, "#e0af68", "#bb9af7", "#7dcfff")

# Weights: blue for negative, near-black at zero, red for positive (CET-D1 is blue-white-red on
# white; this dark variant keeps zero dark on the dark background).
WEIGHTS = pg.ColorMap(np.array([0.0, 0.5, 1.0]),
                      np.array([[80, 140, 255], [22, 24, 29], [255, 110, 80]], dtype=np.ubyte))
# Pixel intensities and activations: black to white.
GRAY = pg.ColorMap(np.array([0.0, 1.0]), np.array([[0, 0, 0], [255, 255, 255]], dtype=np.ubyte))


def configure() -> None:
    """Global pyqtgraph options: call once, before any plot is made."""
    pg.setConfigOptions(antialias=True, background=BACKGROUND, foreground=FOREGROUND,
                        useOpenGL=False, imageAxisOrder="row-major")


def apply_palette(app) -> None:
    """A dark Fusion palette for the widgets around the plots, so the window is one piece."""
    from PySide6.QtGui import QColor, QPalette

    app.setStyle("Fusion")
    palette = QPalette()
    roles = {QPalette.Window: "#1e2128", QPalette.WindowText: FOREGROUND, QPalette.Base: "#16181d",
             QPalette.AlternateBase: "#242831", QPalette.Text: FOREGROUND, QPalette.Button: "#2a2e38",
             QPalette.ButtonText: FOREGROUND, QPalette.ToolTipBase: "#2a2e38",
             QPalette.ToolTipText: FOREGROUND, QPalette.Highlight: "#5b7fd9",
             QPalette.HighlightedText: "#ffffff", QPalette.PlaceholderText: MUTED,
             QPalette.BrightText: ACCENT, QPalette.Link: COST}
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        palette.setColor(QPalette.Disabled, role, QColor(MUTED))
    app.setPalette(palette)
    app.setStyleSheet(FOCUS_RING)


# Where the keyboard's focus is. Fields (line edits, spin boxes, combo boxes) get Fusion's own
# focus frame, drawn in the highlight colour, made bright enough to find (a style sheet on them
# would replace their arrows with empty boxes); buttons and check boxes, whose Fusion focus mark
# is a faint dotted line, get a ring in the accent colour.
FOCUS_RING = f"""
QToolButton:focus, QPushButton:focus, QCheckBox:focus {{
    border: 1px solid {ACCENT}; border-radius: 2px; }}
"""


NICE = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def symmetric_levels(values: np.ndarray) -> tuple[float, float]:
    """Colour levels centred on zero, so zero always has the middle colour, reaching the
    largest |value| rounded up to a round number (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a
    power of ten): while training the scale then changes now and then instead of every frame,
    and its colour bar's ticks are not laid out again each time (4 ms of a 13 ms frame of the
    weights panel)."""
    m = round_up(float(np.nanmax(np.abs(values))) if values.size else 0.0)
    return -m, m


def round_up(m: float) -> float:
    """The round number (see NICE) at or above ``m``; 1 for 0, NaN or infinity."""
    if not (np.isfinite(m) and m > 0):
        return 1.0
    power = 10.0 ** np.floor(np.log10(m))
    return next((k for k in NICE if k * power >= m * (1 - 1e-12)), 10.0) * power
