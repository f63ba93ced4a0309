"""View → Loss along the way: the test cost on the straight line from the initial weights to
those of the moment shown (``core.landscape``), in a window of its own, computed when asked
(about 0.15 s for 'fast' on 2,000 test digits) rather than with every frame."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app import theme


class LandscapeDialog(QDialog):
    """The curve C(alpha), alpha = 0 the initial network and 1 the moment, with both marked;
    ``recompute`` asks the window for the line of the moment it now shows."""

    recompute = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Loss along the way")
        self.graphics = pg.PlotWidget(background=theme.BACKGROUND)
        plot = self.plot = self.graphics.getPlotItem()
        plot.setLogMode(y=True)
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLabel("bottom", "α: 0 the initial weights, 1 the moment's")
        plot.setLabel("left", "test cost")
        self.curve = plot.plot([], [], pen=pg.mkPen(theme.COST, width=2), symbol="o", symbolSize=4,
                               symbolBrush=theme.COST, symbolPen=None)
        self.ends = [pg.InfiniteLine(pos=p, angle=90, movable=False, label=text,
                                     pen=pg.mkPen(theme.MUTED, width=1),
                                     labelOpts={"position": 0.9, "color": theme.MUTED})
                     for p, text in ((0.0, "start"), (1.0, "moment"))]
        for line in self.ends:
            plot.addItem(line, ignoreBounds=True)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        again = QPushButton("For the moment shown")
        again.setToolTip("Draw the line again, to the moment the timeline shows now")
        again.clicked.connect(self.recompute)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        row = QHBoxLayout()
        row.addWidget(self.caption, 1)
        row.addWidget(again)
        row.addWidget(close)
        column = QVBoxLayout(self)
        column.addWidget(self.graphics)
        column.addLayout(row)
        self.resize(620, 380)

    def show_line(self, alphas: np.ndarray, costs: np.ndarray, step: int) -> None:
        """Draw C(alpha) for the line from the initial weights to those of ``step``."""
        finite = np.isfinite(costs) & (costs > 0)  # log scale: what cannot be drawn is left out
        self.curve.setData(alphas[finite], costs[finite])
        self.ends[1].label.setFormat(f"step {step:,}")
        i0, i1 = int(np.argmin(np.abs(alphas))), int(np.argmin(np.abs(alphas - 1)))
        lowest = int(np.nanargmin(np.where(finite, costs, np.nan))) if finite.any() else i1
        self.caption.setText(f"From the initial weights (cost {costs[i0]:.3g}) to step {step:,} "
                             f"({costs[i1]:.3g}); lowest at α = {alphas[lowest]:g}. On 2,000 test "
                             "digits, 200 of each.")
