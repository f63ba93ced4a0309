"""core.strokes: strokes drawn again at MNIST's width for the digit's size. The same strokes at
any size and place give the same 28x28 input; the disc dilation matches a brute-force distance
oracle; thinning leaves a one-pixel skeleton that keeps the ink's pieces."""
import numpy as np
import pytest

from core.photo import label
from core.preprocess import BOX, preprocess
from core.strokes import (
    GRID,
    PEN_FRACTION,
    dilate_disc,
    paint_strokes,
    render_strokes,
    skeleton_segments,
    thin,
)

FOUR = [np.array([[150, 40], [60, 170], [220, 170]], float), np.array([[175, 90], [175, 250]], float)]


def test_no_points_is_nothing():
    assert render_strokes([]) is None and render_strokes([np.zeros((0, 2))]) is None


@pytest.mark.parametrize("k,at", [(0.2, (10, 10)), (0.5, (100, 30)), (1.0, (0, 0)), (3.0, (-50, 7))])
def test_the_same_strokes_at_any_size_and_place_give_the_same_input(k, at):
    """Scaled by k and moved: the 28x28 input is the same to within a grey level on average,
    where the strokes painted with a fixed 28-pixel pen differ a lot at a fifth of the size."""
    reference = preprocess(render_strokes(FOUR)).x
    moved = [s * k + at for s in FOUR]
    x = preprocess(render_strokes(moved)).x
    assert np.abs(x - reference).mean() < 0.01


def test_a_fixed_pen_would_not_be_scale_free():
    big = preprocess(paint_strokes(FOUR, 28, 280)).x
    small = preprocess(paint_strokes([s * 0.25 for s in FOUR], 28, 280)).x
    assert np.abs(big - small).mean() > 0.1


def test_the_pen_is_mnists_width_of_the_box():
    """A long straight stroke: its ink box is GRID long and PEN_FRACTION GRID wide (to a pixel),
    so after preprocess it is BOX long and 2.8 pixels thick."""
    grid = render_strokes([np.array([[0, 0], [100, 0]], float)])
    rows, cols = np.flatnonzero(grid.any(axis=1)), np.flatnonzero(grid.any(axis=0))
    assert abs((cols[-1] - cols[0] + 1) - GRID) <= 1
    assert abs((rows[-1] - rows[0] + 1) - PEN_FRACTION * GRID) <= 1
    stages = preprocess(grid)
    assert max(stages.scaled.shape) == BOX
    assert stages.scaled.sum() == pytest.approx(BOX * PEN_FRACTION * BOX, rel=0.08)


def test_a_dot_is_a_disc():
    grid = render_strokes([np.array([[5.0, 5.0]])])
    assert grid.sum() == pytest.approx(np.pi * (PEN_FRACTION * GRID / 2) ** 2, rel=0.15)


@pytest.mark.parametrize("r", [0.5, 1.0, 2.7, 5.6])
def test_disc_dilation_matches_a_distance_oracle(r):
    rng = np.random.default_rng(int(r * 10))
    mask = np.zeros((40, 50), dtype=bool)
    mask[8:-8, 8:-8] = rng.random((24, 34)) < 0.03
    ys, xs = np.nonzero(mask)
    yy, xx = np.mgrid[0:40, 0:50]
    d2 = ((yy[..., None] - ys) ** 2 + (xx[..., None] - xs) ** 2).min(axis=-1)
    np.testing.assert_array_equal(dilate_disc(mask, r), d2 <= r * r)


def test_thinning_leaves_a_one_pixel_skeleton_in_one_piece_per_piece():
    mask = np.zeros((60, 80), dtype=bool)
    mask[10:20, 5:70] = True  # a thick bar
    mask[30:55, 20:30] = True  # a thick post, apart
    skeleton = thin(mask)
    assert (skeleton <= mask).all()
    assert label(skeleton)[1] == label(mask)[1] == 2
    assert skeleton.sum() < 0.15 * mask.sum()
    block = np.lib.stride_tricks.sliding_window_view(np.pad(skeleton, 1), (2, 2)).all(axis=(2, 3))
    assert not block.any()  # nowhere two pixels thick


def test_skeleton_segments_join_neighbours():
    skeleton = np.eye(5, dtype=bool)
    a, b = skeleton_segments(skeleton)
    assert len(a) == 5 + 4  # a dot for each pixel, a segment for each diagonal pair
    assert np.abs(b - a).max() == 1
