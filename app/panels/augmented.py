"""What the network is fed: a strip of a few training images, each above its augmented copy
(``core.augment``) and, with mixup, blended with another of them (``core.mixup``), with a
caption naming what was done. The top row is the image as stored, the bottom row what one
training batch would make of it, so a person sees how far the transforms go.

The panel draws what it is given (``show_images``); the augmentation itself runs in ``core``,
on k images only (k = 8: well under a millisecond). Painted with QPainter, as the probe strip.
Its method is not called ``show``: that is QWidget's own.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from app import theme
from core import mixup
from core.augment import Augmentation

SIDE = 28  # pixels of an MNIST image
K = 8  # images in the strip
GAP = 4  # pixels between tiles
NONE_CAPTION = "No augmentation: the network sees the images as they are."


def caption_of(augmentation: Augmentation | None, alpha: float = 0.0, lam: float = 1.0) -> str:
    """The augmentation in words, its non-zero ranges only, and mixup's alpha and the lambda
    drawn for the strip."""
    moved = augmentation is not None and not augmentation.identity
    if not moved and not alpha:
        return NONE_CAPTION
    text = "Top: training images as stored; below: as the network is fed them"
    if moved:
        a = augmentation
        parts = [f"shift ±{a.shift:g} px" if a.shift else "",
                 f"rotation ±{a.rotation:g}°" if a.rotation else "",
                 f"scale ±{a.scale:.0%}" if a.scale else "", f"shear ±{a.shear:g}" if a.shear else "",
                 f"elastic α {a.elastic_alpha:g} px, σ {a.elastic_sigma:g} px" if a.elastic_alpha else ""]
        text += " (" + ", ".join(p for p in parts if p) + ", drawn anew for every image of every batch)"
    if alpha:
        text += (f"{', then' if moved else ':'} blended in pairs by mixup (α {alpha:g}, a new share "
                 f"every batch; here {lam:.0%} the image above, {1 - lam:.0%} another of the row)")
    return text + "."


def _tile(image: np.ndarray) -> QImage:
    """A 28x28 picture, white ink on black as the network sees it."""
    pixels = np.ascontiguousarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8).reshape(SIDE, SIDE))
    return QImage(pixels.data, SIDE, SIDE, SIDE, QImage.Format_Grayscale8).copy()


class _Tiles(QWidget):
    """Two rows of k tiles: originals above, augmented copies below."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows: tuple[list[QImage], list[QImage]] = ([], [])
        self.setMinimumSize(K * (SIDE + GAP), 2 * (SIDE + GAP))
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)

    def set_rows(self, top: np.ndarray, bottom: np.ndarray) -> None:
        self.rows = ([_tile(x) for x in top], [_tile(x) for x in bottom])
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(K * (2 * SIDE + GAP), 2 * (2 * SIDE + GAP))

    def tile_rect(self, row: int, i: int) -> QRect:
        k = max(len(self.rows[0]), 1)
        side = max(1, min((self.width() - GAP * (k - 1)) // k, (self.height() - GAP) // 2))
        return QRect(i * (side + GAP), row * (side + GAP), side, side)

    def paintEvent(self, _) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(theme.BACKGROUND))
        for row, tiles in enumerate(self.rows):
            for i, tile in enumerate(tiles):
                p.drawImage(self.tile_rect(row, i), tile)  # nearest pixels: the network's own


class AugmentedStrip(QWidget):
    """``show_images(images, augmentation, rng_seed)`` draws k training images and their
    augmented copies; ``originals`` and ``augmented`` (k, 784) hold what is shown."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.originals = np.zeros((0, SIDE * SIDE), np.float32)
        self.augmented = self.originals
        self.tiles = _Tiles()
        self.caption = QLabel(NONE_CAPTION)
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet(f"color: {theme.MUTED};")
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.tiles)
        column.addWidget(self.caption)

    def show_images(self, images: np.ndarray, augmentation: Augmentation | None, rng_seed: int = 0,
                    alpha: float = 0.0) -> None:
        """Draw ``images`` (k, 784) in [0, 1] above themselves augmented by ``augmentation``
        and then, if mixup's ``alpha`` is above 0, blended in pairs as a training batch is,
        with a generator seeded by ``rng_seed`` (the same seed, the same picture); with
        neither the bottom row repeats the top one."""
        originals = np.asarray(images, dtype=np.float32).reshape(-1, SIDE * SIDE)[:K]
        rng = np.random.default_rng(rng_seed)
        augmented = originals if augmentation is None else augmentation(originals, rng)
        lam = 1.0
        if alpha:
            lam, partner = mixup.draw(len(augmented), alpha, rng)
            augmented = mixup.blend(augmented, lam, partner)
        self.originals, self.augmented = originals, augmented
        self.tiles.set_rows(originals, augmented)
        self.caption.setText(caption_of(augmentation, alpha, lam))
