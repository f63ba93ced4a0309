"""core.preprocess: a canvas becomes what MNIST's recipe would have made of it. A real test digit
drawn bigger and elsewhere comes back as itself; dots, lines, full and tiny canvases and any
fuzzed content give a valid input or None, never an exception."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from core.preprocess import (
    BOX,
    CENTRE,
    FAINTEST_INK,
    INK_THRESHOLD,
    SIDE,
    Stages,
    area_matrix,
    centre_of_mass,
    ink_from_image,
    preprocess,
)


@pytest.fixture(scope="module")
def digits(mnist):
    """The first 1000 test digits as MNIST stores them: uint8 (N, 28, 28), and their labels."""
    images = np.rint(mnist.x_test[:1000] * 255).astype(np.uint8).reshape(-1, SIDE, SIDE)
    return images, mnist.y_test[:1000]


@pytest.fixture(scope="module")
def net(fast_net):
    return fast_net


def assert_valid(stages: Stages, shape):
    """Every stage has the documented shape, type and range, and the input holds ink."""
    assert stages.raw.shape == shape and stages.raw.dtype == np.float32
    assert stages.cropped.ndim == 2 and stages.cropped.size > 0
    assert max(stages.scaled.shape) == BOX and min(stages.scaled.shape) >= 1
    assert stages.centred.shape == (SIDE, SIDE) and stages.x.shape == (SIDE * SIDE,)
    assert stages.x.dtype == np.float32
    for a in (stages.raw, stages.cropped, stages.scaled, stages.centred, stages.x):
        assert np.isfinite(a).all() and a.min() >= 0.0 and a.max() <= 1.0
        assert not a.flags.writeable
    assert stages.x.sum() > 0


def assert_centred(stages: Stages):
    """The centre of mass is within half a pixel of (CENTRE, CENTRE) along each axis."""
    r_bar, c_bar = centre_of_mass(stages.centred)
    assert abs(r_bar - CENTRE) <= 0.5 + 1e-9 and abs(c_bar - CENTRE) <= 0.5 + 1e-9


# --- real digits ------------------------------------------------------------------------------


def test_mnist_digits_have_their_centre_of_mass_where_ours_goes(digits):
    """CENTRE is where MNIST puts it: 14 in pixel indices, each digit within half a pixel."""
    images, _ = digits
    centres = np.array([centre_of_mass(im.astype(np.float64)) for im in images])  # (N, 2)
    assert np.abs(centres.mean(axis=0) - CENTRE).max() < 0.05
    assert np.abs(centres - CENTRE).max() <= 0.5 + 1e-9


def test_a_test_digit_comes_back_as_normalize_made_it(mnist, digits):
    """A test digit is already in MNIST's form, so preprocess changes nothing: x equals
    core.data.normalize of its uint8 image. Only pixels fainter than the box's threshold at the
    rim of the box are lost (they are outside the box), and then the box may be a pixel shorter."""
    images, _ = digits
    exact = 0
    for image, expected in zip(images, mnist.x_test[:1000]):
        ink = image > INK_THRESHOLD * image.max()
        if (ink.any(axis=0) != image.any(axis=0)).any() or (ink.any(axis=1) != image.any(axis=1)).any():
            continue  # a faint rim outside the box
        np.testing.assert_allclose(preprocess(image).x, expected, rtol=0, atol=1e-7)
        exact += 1
    assert exact > 900


@pytest.mark.parametrize("offset", [(0, 0), (37, 71), (116, 116)])
def test_a_digit_drawn_three_times_bigger_elsewhere_comes_back(digits, net, offset):
    """Each of 50 test digits upscaled 3x (np.kron) into a 200x200 canvas at an offset comes
    back close to the original 28x28 image and is classified as the original is."""
    images, _ = digits
    originals = images[:50].astype(np.float32) / 255
    x = np.zeros((50, SIDE * SIDE), dtype=np.float32)
    for k, image in enumerate(images[:50]):
        canvas = np.zeros((200, 200), dtype=np.uint8)
        big = np.kron(image, np.ones((3, 3), dtype=np.uint8))  # (28, 28) -> (84, 84)
        canvas[offset[0]:offset[0] + 84, offset[1]:offset[1] + 84] = big
        stages = preprocess(canvas)
        assert_valid(stages, (200, 200))
        x[k] = stages.x
        difference = np.abs(stages.centred - originals[k])
        assert difference.mean() < 0.01
        assert np.corrcoef(stages.x, originals[k].ravel())[0, 1] > 0.9
    np.testing.assert_array_equal(net.predict(x), net.predict(originals.reshape(50, -1)))


# --- shapes that are not digits ---------------------------------------------------------------


@pytest.mark.parametrize("canvas", [
    np.zeros((280, 280), dtype=np.uint8),
    np.zeros((280, 280), dtype=np.float32),
    np.zeros((1, 1)),
    np.full((50, 50), FAINTEST_INK / 2),
    np.full((50, 50), np.nan),
    np.zeros((0, 5)),
], ids=["uint8", "float32", "1x1", "fainter than 8 bits show", "nan", "no pixels"])
def test_an_empty_canvas_gives_none(canvas):
    assert preprocess(canvas) is None


def test_a_single_dot_fills_the_box_and_is_centred():
    """MNIST scales the ink box to 20 pixels whatever its size: one pixel becomes a 20x20 square."""
    canvas = np.zeros((280, 280), dtype=np.uint8)
    canvas[3, 250] = 255
    stages = preprocess(canvas)
    assert_valid(stages, (280, 280))
    assert stages.cropped.shape == (1, 1)
    np.testing.assert_array_equal(stages.scaled, np.ones((BOX, BOX)))
    assert_centred(stages)


@pytest.mark.parametrize("vertical", [False, True])
def test_a_one_pixel_line_stays_one_whole_pixel_wide(vertical):
    """A line 200 pixels long and 1 wide is 20 long after scaling; its width would be 1/10 of
    a pixel, so it gets one whole pixel at full ink instead of fading away."""
    canvas = np.zeros((280, 280), dtype=np.float32)
    canvas[50, 40:240] = 1.0
    canvas = canvas.T if vertical else canvas
    stages = preprocess(canvas)
    assert_valid(stages, (280, 280))
    assert stages.scaled.shape == ((BOX, 1) if vertical else (1, BOX))
    np.testing.assert_allclose(stages.scaled, 1.0, rtol=1e-6)
    assert_centred(stages)
    assert stages.centred.sum() == pytest.approx(BOX, rel=1e-6)  # nothing clipped


def test_a_diagonal_line_stays_a_diagonal():
    stages = preprocess(np.eye(100))
    assert_valid(stages, (100, 100))
    np.testing.assert_array_equal(stages.scaled.argmax(axis=1), np.arange(BOX))
    assert_centred(stages)


@pytest.mark.parametrize("shape", [(280, 280), (50, 80), (300, 7), (1, 1), (1, 300), (2, 3)])
def test_an_all_ink_canvas_becomes_a_centred_block(shape):
    stages = preprocess(np.ones(shape, dtype=np.float32))
    assert_valid(stages, shape)
    assert stages.cropped.shape == shape
    assert_centred(stages)
    # The shorter side keeps the aspect ratio, with partly covered pixels at its two edges.
    short = min(shape) * BOX / max(shape)
    assert stages.scaled.sum() == pytest.approx(BOX * max(short, 1.0), rel=1e-5)


def test_a_1x1_canvas_with_ink_is_a_square():
    stages = preprocess(np.array([[200]], dtype=np.uint8))
    assert_valid(stages, (1, 1))
    np.testing.assert_allclose(stages.scaled, 200 / 255, rtol=1e-6)


def test_uint8_and_float_canvases_agree(digits):
    images, _ = digits
    canvas = np.zeros((120, 90), dtype=np.uint8)
    canvas[10:66, 20:76] = np.kron(images[7], np.ones((2, 2), dtype=np.uint8))
    from_bytes = preprocess(canvas)
    for dtype in (np.float32, np.float64):
        from_floats = preprocess(canvas.astype(dtype) / 255)
        np.testing.assert_allclose(from_floats.x, from_bytes.x, rtol=0, atol=1e-6)


def test_the_callers_canvas_is_neither_changed_nor_shared():
    canvas = np.zeros((40, 40), dtype=np.float32)
    canvas[10:20, 15:18] = 1.0
    before = canvas.copy()
    stages = preprocess(canvas)
    np.testing.assert_array_equal(canvas, before)
    canvas[:] = 0.5  # the pad draws on: the stages already handed out stay as they were
    np.testing.assert_array_equal(stages.raw, before)


def test_faint_antialiasing_does_not_grow_the_box():
    canvas = np.zeros((100, 100), dtype=np.float32)
    canvas[20:80, 45:55] = 1.0
    canvas[19, :] = canvas[80, :] = canvas[:, 44] = INK_THRESHOLD * 0.9
    assert preprocess(canvas).cropped.shape == (60, 10)


def test_area_averaging_keeps_the_mean_and_covers_every_input_pixel():
    """Each output pixel averages its footprint (rows sum to 1, edges partly covered rows
    less); each input pixel is shared out completely (columns sum to 1 / s)."""
    for n_in, s in [(84, 3.0), (200, 10.0), (13, 0.65), (7, 0.35), (57, 57 / 20)]:
        R = area_matrix(n_in, s)
        inner = R.sum(axis=1)[1:-1]
        np.testing.assert_allclose(inner, 1.0, rtol=1e-5)
        np.testing.assert_allclose(R.sum(axis=0), 1 / s, rtol=1e-5)
    np.testing.assert_array_equal(area_matrix(20, 1.0), np.eye(20))


# --- ink_from_image ---------------------------------------------------------------------------


def test_ink_from_image_reads_both_polarities(digits):
    images, _ = digits
    ink = images[0].astype(np.float32) / images[0].max()  # the strongest ink becomes 1
    np.testing.assert_allclose(ink_from_image(255 - images[0]), ink, atol=1e-6)  # dark on light
    np.testing.assert_allclose(ink_from_image(images[0]), ink, atol=1e-6)  # light on dark
    np.testing.assert_allclose(ink_from_image(1.0 - ink), ink, atol=1e-6)  # floats too


def test_ink_from_image_stretches_grey_ink_on_grey_paper():
    """A pencil (grey 90) on grey paper (200): the paper becomes 0, the pencil 1."""
    gray = np.full((60, 40), 200, dtype=np.uint8)
    gray[20:40, 15:20] = 90
    gray[10, 10] = 145  # half-way
    ink = ink_from_image(gray)
    assert ink.dtype == np.float32
    assert ink[0, 0] == 0.0 and ink[30, 17] == pytest.approx(1.0)
    assert ink[10, 10] == pytest.approx(0.5)


@pytest.mark.parametrize("gray", [
    np.full((50, 50), 255, dtype=np.uint8),
    np.full((1, 1), 0, dtype=np.uint8),
    np.random.default_rng(0).integers(250, 256, size=(50, 50), dtype=np.uint8),  # noise only
], ids=["white", "1x1", "noisy white"])
def test_ink_from_image_finds_no_ink_on_blank_paper(gray):
    assert preprocess(ink_from_image(gray)) is None


def test_the_paper_is_told_by_the_border_even_when_ink_covers_most_of_the_image():
    gray = np.zeros((30, 30), dtype=np.uint8)  # black ink covering all but a white rim
    gray[0, :] = gray[-1, :] = gray[:, 0] = gray[:, -1] = 255
    assert ink_from_image(gray)[15, 15] == 1.0 and ink_from_image(gray)[0, 0] == 0.0


# --- fuzzing ----------------------------------------------------------------------------------


def check_any_canvas(canvas: np.ndarray) -> None:
    stages = preprocess(canvas)
    unit = canvas.astype(np.float32) / (255 if canvas.dtype == np.uint8 else 1)
    has_ink = canvas.size > 0 and np.nan_to_num(unit).max() >= FAINTEST_INK
    if not has_ink:
        assert stages is None
        return
    assert_valid(stages, canvas.shape)
    if stages.centred.sum() == pytest.approx(stages.scaled.sum(), rel=1e-5):  # nothing clipped
        assert_centred(stages)
    ink = ink_from_image(canvas)
    assert ink.shape == canvas.shape and ink.min() >= 0.0 and ink.max() <= 1.0


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300), st.integers(0, 2**32 - 1),
       st.sampled_from(["empty", "full", "sparse", "dense", "rectangle", "dot"]),
       st.sampled_from([np.uint8, np.float32, np.float64]))
def test_any_canvas_size_and_content(h, w, seed, kind, dtype):
    """Canvases of 1 to 300 pixels a side, empty, all ink, speckled or with a block or a dot."""
    rng = np.random.default_rng(seed)
    canvas = np.zeros((h, w))
    if kind == "full":
        canvas[:] = rng.uniform(0.01, 1.0)
    elif kind in ("sparse", "dense"):
        canvas = rng.random((h, w)) * (rng.random((h, w)) < (0.01 if kind == "sparse" else 0.6))
    elif kind == "rectangle":
        r0, c0 = rng.integers(0, h), rng.integers(0, w)
        canvas[r0:rng.integers(r0, h) + 1, c0:rng.integers(c0, w) + 1] = 1.0
    elif kind == "dot":
        canvas[rng.integers(0, h), rng.integers(0, w)] = rng.uniform(0.0, 1.0)
    canvas = np.rint(canvas * 255).astype(np.uint8) if dtype == np.uint8 else canvas.astype(dtype)
    check_any_canvas(canvas)


@settings(max_examples=200, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 6)),
              elements=st.floats(0.0, 1.0, width=32, allow_subnormal=True)))
def test_any_small_canvas_of_any_values(canvas):
    """Small canvases whose every value hypothesis picks, subnormal floats included."""
    check_any_canvas(canvas)
