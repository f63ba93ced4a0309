"""Data augmentation (core.augment): the transforms keep what a digit means, invert where they
should, leave an identity exact, and are seeded. Synthetic images made here; the oracles are
np.roll, hand-computed bilinear means and a direct convolution, not the module's own code."""
import math

import numpy as np
import pytest

from core.augment import (AUGMENTATIONS, BLOCK, CENTRE, Augmentation, affine, augmentation, compose,
                          elastic_field, invert, random_affine, sampling_points, warp)
from core.errors import ConfigError

SIDE = 28
IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def one() -> np.ndarray:
    """A vertical stroke, a "1": columns 13-14, rows 4-23, centre of mass (13.5, 13.5)."""
    image = np.zeros((SIDE, SIDE), np.float32)
    image[4:24, 13:15] = 1.0
    return image


def smooth_digit(width: float = 1.0) -> np.ndarray:
    """A "9": a ring with a tail, strokes of a Gaussian profile of ``width`` pixels."""
    r, c = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64)
    ring = np.exp(-((np.hypot(r - 11, c - 13.5) - 5) ** 2) / (2.0 * width ** 2))
    beyond_ends = np.maximum(np.abs(r - 17) - 5, 0)  # the tail runs down column 18, rows 12-22
    tail = np.exp(-((c - 18) ** 2 + beyond_ends ** 2) / (2.0 * width ** 2))
    return np.clip(ring + tail, 0, 1).astype(np.float32)


def centre_of_mass(image: np.ndarray) -> np.ndarray:
    r, c = np.mgrid[0:SIDE, 0:SIDE]
    m = image.sum()
    return np.array([(r * image).sum() / m, (c * image).sum() / m])


def warped(image: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """One image (28, 28) moved by forward maps (n, 2, 3): (n, 28, 28)."""
    n = len(forward)
    images = np.broadcast_to(image, (n, SIDE, SIDE))
    return warp(images, sampling_points(invert(forward))).reshape(n, SIDE, SIDE)


def test_the_identity_returns_a_new_array_bit_for_bit():
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    aug = Augmentation()
    assert aug.identity and not AUGMENTATIONS["affine"].identity
    out = aug(x, np.random.default_rng(1))
    assert out.dtype == np.float32 and out is not x and not np.shares_memory(out, x)
    assert out.tobytes() == x.tobytes()
    # and the machinery itself is exact for an identity map, not only the short cut
    maps = affine(np.zeros(5), 0, 0, 1, 0)
    np.testing.assert_array_equal(maps, np.broadcast_to(IDENTITY, (5, 2, 3)))
    assert warp(x.reshape(5, SIDE, SIDE), sampling_points(invert(maps))).tobytes() == x.tobytes()


@pytest.mark.parametrize("dr, dc", [(2, -3), (-1, 1), (0, 5), (-14, 0)])
def test_a_whole_pixel_shift_moves_the_pixels_exactly(dr, dc):
    image = np.random.default_rng(1).random((SIDE, SIDE), dtype=np.float32)
    padded = np.pad(image, SIDE)  # room to move into, so that np.roll wraps nothing back in
    expected = np.roll(padded, (dr, dc), axis=(0, 1))[SIDE:2 * SIDE, SIDE:2 * SIDE]
    out = warped(image, affine([dr], dc, 0, 1, 0))[0]
    np.testing.assert_array_equal(out, expected)


def test_rotation_turns_anticlockwise_about_the_centre():
    """A dot right of the centre goes above it under +90 degrees (rows grow downwards)."""
    T = affine([0.0], 0, 90, 1, 0)[0]
    np.testing.assert_allclose(T @ [CENTRE, CENTRE + 6, 1], [CENTRE - 6, CENTRE], atol=1e-12)
    np.testing.assert_allclose(T @ [CENTRE, CENTRE, 1], [CENTRE, CENTRE], atol=1e-12)  # the pivot stays
    image = np.zeros((SIDE, SIDE), np.float32)
    image[13:15, 20:22] = 1.0  # a dot right of the centre: its centre of mass (13.5, 20.5)
    np.testing.assert_allclose(centre_of_mass(warped(image, T[None])[0]), [6.5, 13.5], atol=1e-5)


def test_maps_invert_and_compose():
    """T^-1 T = I for random maps; rotations by +t and -t, scales by k and 1/k, shears by h
    and -h, shifts by d and -d undo each other."""
    T = random_affine(64, np.random.default_rng(2), shift=3, rotation=30, scale=0.3, shear=0.4)
    np.testing.assert_allclose(compose(invert(T), T), np.broadcast_to(IDENTITY, T.shape), atol=1e-12)
    np.testing.assert_allclose(compose(T, invert(T)), np.broadcast_to(IDENTITY, T.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.inv(T[:, :, :2]), invert(T)[:, :, :2], atol=1e-12)
    undo = compose(affine([0.0], 0, -17, 1, 0), affine([0.0], 0, 17, 1, 0))
    undo = compose(affine([0.0], 0, 0, 1 / 1.2, 0), compose(affine([0.0], 0, 0, 1.2, 0), undo))
    undo = compose(affine([0.0], 0, 0, 1, -0.3), compose(affine([0.0], 0, 0, 1, 0.3), undo))
    undo = compose(affine([-2.5], 1, 0, 1, 0), compose(affine([2.5], -1, 0, 1, 0), undo))
    np.testing.assert_allclose(undo[0], IDENTITY, atol=1e-12)


def test_rotating_by_plus_then_minus_theta_returns_the_image_on_the_interior():
    """Up to the blur of interpolating twice: strokes 2 px wide (MNIST's are 1-2 px)."""
    image = smooth_digit(width=2.0)
    there = warped(image, affine([0.0], 0, 12, 1, 0))
    back = warped(there[0], affine([0.0], 0, -12, 1, 0))[0]
    r, c = np.mgrid[0:SIDE, 0:SIDE]
    interior = np.hypot(r - CENTRE, c - CENTRE) < 11
    error = np.abs(back - image)[interior]
    assert error.max() < 0.15 and error.mean() < 0.025, (error.max(), error.mean())
    assert np.abs(there[0] - image)[interior].mean() > 3 * error.mean()  # it did turn


def test_bilinear_reads_the_mean_of_its_neighbours_and_zero_outside():
    image = np.random.default_rng(3).random((1, SIDE, SIDE), dtype=np.float32)
    points = np.zeros((2, 1, 784), np.float32)
    points[:, 0, 0] = (5.5, 7.5)  # between rows 5-6 and columns 7-8
    points[:, 0, 1] = (5.25, 7.0)  # a quarter of the way to row 6, on column 7
    points[:, 0, 2] = (-0.5, 3.0)  # half a pixel above the field: half of row 0
    points[:, 0, 3] = (27.0, 27.5)  # half a pixel past the last column
    points[:, 0, 4:] = np.array([-40.0, 100.0])[:, None]  # far outside
    out = warp(image, points)[0]
    I = image[0].astype(np.float64)
    np.testing.assert_allclose(out[0], I[5:7, 7:9].mean(), rtol=1e-6)
    np.testing.assert_allclose(out[1], 0.75 * I[5, 7] + 0.25 * I[6, 7], rtol=1e-6)
    np.testing.assert_allclose(out[2], 0.5 * I[0, 3], rtol=1e-6)
    np.testing.assert_allclose(out[3], 0.5 * I[27, 27], rtol=1e-6)
    assert (out[4:] == 0).all()


def test_a_shifted_one_stays_in_the_frame_and_near_where_it_was():
    """By the largest shift or less: all its ink still inside the 28x28 frame (nothing lost),
    its centre of mass within `shift` pixels on each axis."""
    stroke = one()
    x = np.tile(stroke.reshape(1, 784), (128, 1))
    out = Augmentation(shift=2.0)(x, np.random.default_rng(4)).reshape(-1, SIDE, SIDE)
    np.testing.assert_allclose(out.sum(axis=(1, 2)), stroke.sum(), rtol=1e-5)
    moves = np.array([centre_of_mass(o) for o in out]) - centre_of_mass(stroke)
    assert np.abs(moves).max() <= 2.0 + 1e-4
    assert np.abs(moves).max() > 1.5  # the range is used, not ignored
    # The named settings keep a "1" whole and near the middle. The affine one scales its ink
    # with the area, k^2 for k in [0.9, 1.1]; the elastic one thins and thickens the stroke
    # (by up to half at Simard's alpha), but takes no ink away on average.
    for name in ("affine", "elastic"):
        out = augmentation(name)(x, np.random.default_rng(5)).reshape(-1, SIDE, SIDE)
        mass = out.sum(axis=(1, 2)) / stroke.sum()
        if name == "affine":
            assert mass.min() > 0.9 ** 2 - 0.02 and mass.max() < 1.1 ** 2 + 0.02, (mass.min(), mass.max())
        assert 0.95 < mass.mean() < 1.05, (name, mass.mean())
        moves = np.array([centre_of_mass(o) for o in out]) - centre_of_mass(stroke)
        assert np.hypot(*moves.T).max() < 4.0, name


def test_rotation_keeps_the_ink():
    image = smooth_digit()
    x = np.tile(image.reshape(1, 784), (64, 1))
    out = Augmentation(rotation=15.0)(x, np.random.default_rng(6))
    ratio = out.sum(axis=1) / image.sum()
    assert 0.9 < ratio.min() and ratio.max() < 1.1, (ratio.min(), ratio.max())


def test_elastic_with_alpha_zero_is_the_affine_transform_alone():
    x = np.random.default_rng(7).random((40, 784), dtype=np.float32)
    affine_only = Augmentation(shift=2, rotation=10, scale=0.1, shear=0.1)
    no_elastic = Augmentation(shift=2, rotation=10, scale=0.1, shear=0.1, elastic_alpha=0.0,
                              elastic_sigma=6.0)
    a = affine_only(x, np.random.default_rng(8))
    np.testing.assert_array_equal(no_elastic(x, np.random.default_rng(8)), a)
    bent = Augmentation(shift=2, rotation=10, scale=0.1, shear=0.1, elastic_alpha=34.0)
    bent = bent(x, np.random.default_rng(8))
    assert not np.array_equal(bent, a)


def test_the_elastic_field_is_smoothed_noise_as_a_direct_convolution_makes_it():
    """The field against a 2D convolution written out tap by tap (zeros outside), from the
    same noise drawn the same way."""
    alpha, sigma, n = 34.0, 4.0, 3
    field = elastic_field(n, np.random.default_rng(9), alpha, sigma)  # (2, n, 28, 28)
    noise = np.random.default_rng(9).random((2 * n, SIDE, SIDE), dtype=np.float32) * 2.0 - 1.0
    radius = int(4 * sigma + 0.5)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    padded = np.pad(noise.astype(np.float64), ((0, 0), (radius, radius), (radius, radius)))
    expected = np.zeros_like(noise, dtype=np.float64)
    for i, wi in enumerate(taps):
        for j, wj in enumerate(taps):
            expected += wi * wj * padded[:, i:i + SIDE, j:j + SIDE]
    np.testing.assert_allclose(field.reshape(2 * n, SIDE, SIDE), alpha * expected, atol=1e-4)
    # Simard's alpha 34 at sigma 4: displacements of a pixel or two, not of a digit
    many = elastic_field(200, np.random.default_rng(10), alpha, sigma)
    spread = many[:, :, 10:18, 10:18].std()
    assert 1.0 < spread < 2.0, spread


@pytest.mark.parametrize("name", ["affine", "elastic"])
def test_outputs_keep_shape_type_range_and_the_input(name):
    rng = np.random.default_rng(11)
    x = rng.random((BLOCK + 13, 784), dtype=np.float32)  # not a whole number of blocks
    x[0] = 1.0  # saturated ink stays within [0, 1]
    x.flags.writeable = False
    before = x.copy()
    out = augmentation(name)(x, rng)
    assert out.shape == x.shape and out.dtype == np.float32 and out.flags.writeable
    assert out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_array_equal(x, before)
    as_float64 = augmentation(name)(x.astype(np.float64), np.random.default_rng(1))
    assert as_float64.dtype == np.float32
    assert augmentation(name)(np.zeros((0, 784), np.float32), rng).shape == (0, 784)


@pytest.mark.parametrize("name", ["affine", "elastic"])
def test_the_same_seed_gives_the_same_images_and_another_seed_others(name):
    x = np.random.default_rng(12).random((50, 784), dtype=np.float32)
    aug = augmentation(name)
    a = aug(x, np.random.default_rng(13))
    assert aug(x, np.random.default_rng(13)).tobytes() == a.tobytes()
    assert not np.array_equal(aug(x, np.random.default_rng(14)), a)
    rng = np.random.default_rng(13)
    aug(x, rng)
    assert not np.array_equal(aug(x, rng), a)  # the generator moves on: the next batch differs


def test_each_image_of_a_batch_gets_its_own_transform():
    x = np.tile(smooth_digit().reshape(1, 784), (128, 1))
    out = augmentation("affine")(x, np.random.default_rng(15))
    assert len(np.unique(out, axis=0)) == 128


@pytest.mark.parametrize("bad, words", [
    (dict(shift=-1.0), "shift"), (dict(rotation=float("nan")), "rotation"),
    (dict(scale=float("inf")), "scale"), (dict(shear=-0.1), "shear"),
    (dict(elastic_alpha=-34.0), "elastic alpha"), (dict(elastic_sigma=0.0), "elastic sigma"),
    (dict(scale=1.0), "from 0 to 0.9"), (dict(shift=30.0), "shift"), (dict(rotation="10"), "number"),
    (dict(shift=True), "number"),
])
def test_bad_settings_are_refused_with_one_sentence(bad, words):
    with pytest.raises(ConfigError, match=words) as error:
        Augmentation(**bad)
    message = str(error.value)
    assert message.count(". ") == 0 and "\n" not in message


def test_named_settings():
    assert augmentation("none") is None
    assert augmentation("elastic").elastic_alpha > 0 and augmentation("affine").elastic_alpha == 0
    with pytest.raises(ConfigError, match="'wobbly'; choose one of none, auto, affine, elastic"):
        augmentation("wobbly")
    assert all(isinstance(a, Augmentation) for a in AUGMENTATIONS.values() if a is not None)
    assert math.isclose(Augmentation(shift=2).shift, 2.0) and isinstance(Augmentation(shift=2).shift, float)


def test_a_mirror_turns_columns_exactly_and_twice_is_the_identity():
    """Mirroring maps column c to 27 - c, about the field's centre, with no interpolation."""
    x = np.random.default_rng(16).random((40, 784), dtype=np.float32)
    out = Augmentation(mirror=1.0)(x, np.random.default_rng(17))
    np.testing.assert_array_equal(out.reshape(-1, SIDE, SIDE), x.reshape(-1, SIDE, SIDE)[:, :, ::-1])
    assert Augmentation(mirror=1.0)(out, np.random.default_rng(18)).tobytes() == x.tobytes()
    half = Augmentation(mirror=0.5)(x, np.random.default_rng(19)).reshape(-1, SIDE, SIDE)
    mirrored = [np.array_equal(h, i[:, ::-1]) for h, i in zip(half, x.reshape(-1, SIDE, SIDE))]
    kept = [np.array_equal(h, i) for h, i in zip(half, x.reshape(-1, SIDE, SIDE))]
    assert all(m != k for m, k in zip(mirrored, kept)) and 10 <= sum(mirrored) <= 30


@pytest.mark.parametrize("name", ["affine", "elastic"])
def test_drawing_apart_from_the_arithmetic_gives_the_same_images(name):
    """What a trainer does on a thread (``apply``) with what it drew (``draw``) is the call."""
    x = np.random.default_rng(20).random((70, 784), dtype=np.float32)
    aug = augmentation(name)
    rng = np.random.default_rng(21)
    drawn = aug.draw(len(x), rng)
    after = rng.bit_generator.state
    again = np.random.default_rng(21)
    assert aug.apply(x, drawn).tobytes() == aug(x, again).tobytes()
    assert again.bit_generator.state == after  # the call draws exactly what draw drew
    with pytest.raises(ValueError, match="70 transforms drawn for 69 images"):
        aug.apply(x[:69], drawn)
