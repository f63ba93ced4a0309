"""core.fidelity: test digits drawn again on a pad-sized canvas, and the benchmark that compares
the network's accuracy on them with its accuracy on the originals. The benchmark's target (less
than one percentage point lost) is measured by running it, not asserted here."""
import re
import subprocess
import sys

import numpy as np
import pytest

from core.fidelity import CANVAS, MAX_THICKENING, SIZES, bilinear_matrix, draw, thicken
from tests.test_cli import ROOT, assert_one_sentence_error


def fidelity(*args):
    return subprocess.run([sys.executable, "-m", "core.fidelity", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_a_quick_run_prints_both_accuracies_and_their_difference():
    """No model given: the fast preset is trained for one epoch, then 200 digits are drawn."""
    result = fidelity("--limit", "200", "--epochs", "1", "--seed", "7")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("no model given: training the fast preset for 1 epoch on 60000 images")
    assert "seed 7, 200 test digits" in text
    assert re.search(r"^timings: drawing \d+\.\d\d s, preprocessing \d+\.\d\d s \(\d+ µs a digit\)",
                     text, re.M)
    original = float(re.search(r"^accuracy on the 28x28 test images: (\d\.\d{4})$", text, re.M)[1])
    drawn = float(re.search(r"^accuracy on the drawn digits: +(\d\.\d{4})$", text, re.M)[1])
    gap = float(re.search(r"^difference: ([+-]\d+\.\d\d) percentage points \((within|MISSES) "
                          r"the target of 1\)$", text, re.M)[1])
    assert gap == pytest.approx(100 * (drawn - original), abs=0.006)
    assert drawn > 0.8 and original > 0.8  # ten digits: chance is 0.1


@pytest.mark.parametrize("args,phrases", [
    (["--limit", "0"], ["--limit: must be at least 1, got 0"]),
    (["/no/such/brain.npz"], ["cannot read model '/no/such/brain.npz': no such file"]),
])
def test_user_errors_are_one_sentence(args, phrases):
    assert_one_sentence_error(fidelity(*args), *phrases)


def test_a_drawing_is_the_digit_at_the_size_and_thickness_drawn(mnist):
    rng = np.random.default_rng(0)
    for image in mnist.x_test[:30].reshape(-1, 28, 28):
        drawing = draw(image, rng)
        canvas = drawing.canvas
        assert canvas.shape == (CANVAS, CANVAS) and canvas.dtype == np.float32
        assert canvas.min() >= 0.0 and canvas.max() <= 1.0 + 1e-6
        assert SIZES[0] <= drawing.size <= SIZES[1] and 0 <= drawing.thickening <= MAX_THICKENING
        rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
        L = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1  # the digit's longer side, MNIST pixels
        k = drawing.size * CANVAS / L  # canvas pixels per MNIST pixel
        ink = canvas > 0.05 * canvas.max()
        drawn_rows, drawn_cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        longer = max(drawn_rows[-1] - drawn_rows[0], drawn_cols[-1] - drawn_cols[0]) + 1
        assert abs(longer - drawing.size * CANVAS) <= k + 2 * drawing.thickening + 2


def test_the_same_seed_draws_the_same(mnist):
    image = mnist.x_test[0].reshape(28, 28)
    a, b = draw(image, np.random.default_rng(3)), draw(image, np.random.default_rng(3))
    np.testing.assert_array_equal(a.canvas, b.canvas)


@pytest.mark.parametrize("n_in,k", [(22, 5.6), (22, 12.6), (3, 7.0), (1, 4.0)])
def test_bilinear_rows_are_weights_that_sum_to_one(n_in, k):
    B = bilinear_matrix(n_in, k)
    assert B.shape == (round(n_in * k), n_in) and B.min() >= 0.0
    np.testing.assert_allclose(B.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("radius", [0, 1, 2])
def test_thickening_grows_a_dot_into_a_square(radius):
    dot = np.zeros((3, 3), dtype=np.float32)
    dot[1, 1] = 0.7
    thick = thicken(dot, radius)
    assert thick.shape == (3 + 2 * radius, 3 + 2 * radius)
    expected = np.zeros_like(thick)
    expected[1:2 + 2 * radius, 1:2 + 2 * radius] = 0.7
    np.testing.assert_array_equal(thick, expected)
