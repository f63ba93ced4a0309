"""Pressing Train on the window's default network grows strokes in its first layer's tiles
within 3 epochs, where 'fast' (the same network without weight decay) shows noise.

The measure: for each tile (a first-layer neuron's 784 weights as 28x28 pixels), the Pearson
correlation between the weights of neighbouring pixels, over every horizontally and vertically
adjacent pair (1,512 pairs). A stroke is a run of neighbouring pixels weighted alike, so a tile
of strokes scores high; independent random weights, as a fresh network's, score 0 whatever
their spread (within ±0.03 for 1,512 pairs: 1/sqrt(1512) = 0.026). It does not depend on the
colour scale (it is unchanged by w -> a w + c, a > 0), so it says what either contrast setting
of the panel can show. Measured on the full MNIST, median of the tiles: MNIST's digits
themselves 0.80; classic's tiles, which the issue saw as strokes, 0.78 after 1 epoch and 0.77
after 3; 'fast' after 3 epochs, which it saw as noise, 0.24 (10th percentile 0.16); 'watch'
after 3 epochs 0.73 (10th percentile 0.60; seeds 1 and 2: 0.72 and 0.73). The bar, a median
of 0.5 and a 10th percentile of 0.4, lies between what looked like noise and what looked like
strokes, with room on both sides.

The window trains on the full MNIST, so these tests do too: 3 epochs of 784-256-128-10 take
about 3 seconds each on one thread.
"""
import numpy as np
import pytest

from core.config import preset
from core.train import Trainer

MEDIAN_BAR = 0.5  # of a trained layer's tiles' neighbour correlation: see the docstring
LOW_BAR = 0.4  # its 10th percentile: most tiles, not only half of them
NOISE = 0.05  # |median| of independent weights: 0 within twice 0.026


def neighbour_correlation(tiles: np.ndarray) -> np.ndarray:
    """(n, 28, 28) pictures -> (n,) the correlation of each picture's horizontally and vertically
    neighbouring pixels, taken as pairs (a, b): sum((a - mean a)(b - mean b)) / sqrt(...)."""
    t = np.asarray(tiles, dtype=np.float64)
    n = len(t)
    a = np.concatenate([t[:, :, :-1].reshape(n, -1), t[:, :-1, :].reshape(n, -1)], axis=1)  # (n, 1512)
    b = np.concatenate([t[:, :, 1:].reshape(n, -1), t[:, 1:, :].reshape(n, -1)], axis=1)
    a -= a.mean(axis=1, keepdims=True)
    b -= b.mean(axis=1, keepdims=True)
    return (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))


def tiles_of(W0: np.ndarray) -> np.ndarray:
    """The first layer's weights as the panel draws them: column k of W0 is tile k."""
    return W0.T.reshape(-1, 28, 28)  # (784, n_1) -> (n_1, 28, 28), written out here on purpose


def first_layer_after(mnist, name: str, epochs: int, **changes) -> tuple[np.ndarray, np.ndarray]:
    """The first layer's tiles of preset ``name`` (with ``changes``) fresh, and after ``epochs``
    on the full data."""
    trainer = Trainer(mnist, preset(name).replace(epochs=epochs, **changes))
    initial = tiles_of(trainer.net.W[0].copy())
    for _ in trainer.run():
        pass
    return initial, tiles_of(trainer.net.W[0])


def test_the_measure_scores_noise_zero_and_digits_high(mnist):
    """Its calibration, with no network: independent Gaussian weights score 0 at any spread;
    MNIST's digits themselves, and a thick line, score high; scaling and shifting change nothing."""
    rng = np.random.default_rng(0)
    noise = neighbour_correlation(rng.normal(0.0, 0.05, size=(256, 28, 28)))
    assert abs(np.median(noise)) < NOISE and np.abs(noise).max() < 0.15
    digits = neighbour_correlation(mnist.x_train[:500].reshape(-1, 28, 28))
    assert np.median(digits) > 0.7
    line = np.zeros((1, 28, 28))
    line[0, 12:15, 4:24] = 1.0  # a 3-pixel-thick stroke
    assert neighbour_correlation(line)[0] > 0.7  # 0.79
    assert neighbour_correlation(3.0 * line - 1.0)[0] == pytest.approx(neighbour_correlation(line)[0])


def test_the_window_default_grows_strokes_within_3_epochs(mnist):
    """'watch': the fresh tiles are noise (median correlation about 0); after 3 epochs on the
    full MNIST most are strokes (median at least 0.5, 10th percentile at least 0.4)."""
    initial, trained = first_layer_after(mnist, "watch", 3)
    before, after = neighbour_correlation(initial), neighbour_correlation(trained)
    assert abs(np.median(before)) < NOISE
    assert np.median(after) >= MEDIAN_BAR, np.median(after)
    assert np.percentile(after, 10) >= LOW_BAR, np.percentile(after, 10)


def test_without_weight_decay_the_tiles_stay_near_noise(mnist):
    """The measure tells what the issue saw: 'fast' as it was then, 'watch' without weight decay,
    has tiles far below the bar after 3 epochs (0.24), so the bar is not met by any training.
    ('fast' at 0.003 halved every epoch, as it was before its warm-up, reached 0.40 after 3 epochs,
    still below the bar.)"""
    _, trained = first_layer_after(mnist, "watch", 3, weight_decay=0.0)
    assert np.median(neighbour_correlation(trained)) < 0.35


def test_the_window_trains_watch_by_default(qtbot):
    """The settings form the window opens with holds the 'watch' preset, so that pressing Train
    trains the network the tests above measure."""
    from app.controls import SettingsForm
    form = SettingsForm()
    qtbot.addWidget(form)
    assert form.config() == preset("watch")
