"""The strip of augmented training images, fed synthetic digits."""
import numpy as np
import pytest
from PySide6.QtGui import QColor

from app.panels.augmented import K, NONE_CAPTION, AugmentedStrip
from core.augment import augmentation
from tests.test_window import themed  # noqa: F401 (the session's theme)


def _digits(k=K):
    """k strokes, one a column, bright on black."""
    x = np.zeros((k, 28, 28), np.float32)
    for j in range(k):
        x[j, 6:22, 8 + 2 * j:10 + 2 * j] = 1.0
    return x.reshape(k, 784)


@pytest.fixture
def strip(qtbot):
    strip = AugmentedStrip()
    qtbot.addWidget(strip)
    strip.resize(520, 200)
    strip.show()
    return strip


def _pixel(strip, row, i, r, c):
    """The grey level painted for pixel (r, c) of tile i of ``row``."""
    image = strip.tiles.grab().toImage()
    rect = strip.tiles.tile_rect(row, i)
    scale = rect.width() / 28
    return QColor(image.pixel(int(rect.x() + (c + 0.5) * scale), int(rect.y() + (r + 0.5) * scale))).red()


def test_without_augmentation_the_network_sees_the_images_as_they_are(strip):
    """No augmentation: both rows are the originals, and the caption says so."""
    x = _digits()
    strip.show_images(x, None, rng_seed=0)
    assert strip.caption.text() == NONE_CAPTION
    np.testing.assert_array_equal(strip.augmented, x)
    for i in range(K):
        for r, c in ((12, 8 + 2 * i), (3, 3)):
            assert _pixel(strip, 0, i, r, c) == _pixel(strip, 1, i, r, c) == round(255 * x[i, r * 28 + c])


def test_with_augmentation_the_bottom_row_differs_and_is_seeded(strip):
    """'elastic': the shown images differ from the originals (on screen too), the caption
    names the transforms, and the same seed draws the same strip."""
    x = _digits()
    strip.show_images(x, augmentation("elastic"), rng_seed=3)
    first = strip.augmented.copy()
    assert first.shape == x.shape and not np.array_equal(first, x)
    assert all(not np.array_equal(a, o) for a, o in zip(first, x))
    text = strip.caption.text()
    assert "shift ±2 px" in text and "rotation ±12°" in text and "elastic α 34 px" in text
    samples = [(r, c) for r in range(0, 28, 3) for c in range(0, 28, 3)]
    painted = [[_pixel(strip, 1, i, r, c) for r, c in samples] for i in range(K)]
    expected = [[round(255 * first[i, r * 28 + c]) for r, c in samples] for i in range(K)]
    assert np.abs(np.array(painted) - np.array(expected)).max() <= 1
    strip.show_images(x, augmentation("elastic"), rng_seed=3)
    np.testing.assert_array_equal(strip.augmented, first)
    strip.show_images(x, augmentation("elastic"), rng_seed=4)
    assert not np.array_equal(strip.augmented, first)
    strip.show_images(x, None)
    assert strip.caption.text() == NONE_CAPTION


def test_with_mixup_each_tile_is_a_blend_of_two_by_the_share_the_caption_gives(strip):
    """mixup after the augmentation, drawn from the same seeded generator: the bottom row is
    lambda times each (augmented) image plus 1 - lambda times another of the row, lambda said
    in the caption; without augmentation the blend is of the originals themselves."""
    from core import mixup
    x = _digits()
    strip.show_images(x, None, rng_seed=5, alpha=0.4)
    lam, partner = mixup.draw(K, 0.4, np.random.default_rng(5))
    np.testing.assert_allclose(strip.augmented, lam * x + (1 - lam) * x[partner], rtol=1e-6)
    text = strip.caption.text()
    assert text.startswith("Top: training images as stored; below: as the network is fed them: blended")
    assert f"here {lam:.0%} the image above, {1 - lam:.0%} another of the row" in text
    rng = np.random.default_rng(6)
    moved = augmentation("affine")(x, rng)
    lam, partner = mixup.draw(K, 2.0, rng)
    strip.show_images(x, augmentation("affine"), rng_seed=6, alpha=2.0)
    np.testing.assert_allclose(strip.augmented, lam * moved + (1 - lam) * moved[partner], rtol=1e-6)
    assert "rotation ±12°" in strip.caption.text() and ", then blended in pairs by mixup (α 2" in strip.caption.text()
