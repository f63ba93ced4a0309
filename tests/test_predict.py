"""``main.py predict MODEL IMAGE...``, run as a user runs it: real test digits written as PNG
and JPEG files of other sizes and polarities are read right; a file that is missing, not an
image, damaged or blank gets its own error line while the others are still classified."""
import re
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtGui import QImage

from app.images import read_grey_levels
from core.config import preset
from core.model_io import save_model
from core.train import Trainer
from tests.test_cli import ROOT, assert_one_sentence_error, run

LINE = re.compile(r"^(?P<path>.+): (?P<digit>\d) \((?P<p>[01]\.\d\d)\)$")


def write_image(path, grey: np.ndarray, alpha: np.ndarray | None = None, fmt: str | None = None):
    """Save (H, W) uint8 grey levels, with an alpha channel if given, through QImage."""
    h, w = grey.shape
    if alpha is None:
        pixels = np.ascontiguousarray(grey)
        image = QImage(pixels.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    else:
        pixels = np.ascontiguousarray(np.stack([grey, grey, grey, alpha], axis=-1))  # (H, W, 4)
        image = QImage(pixels.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
    assert image.save(str(path), fmt)
    return path


def drawn_big(digit: np.ndarray, shape=(300, 240), at=(30, 50), k=4) -> np.ndarray:
    """A 28x28 uint8 digit (ink high) made k times bigger on a larger black canvas."""
    canvas = np.zeros(shape, dtype=np.uint8)
    big = np.kron(digit, np.ones((k, k), dtype=np.uint8))
    canvas[at[0]:at[0] + big.shape[0], at[1]:at[1] + big.shape[1]] = big
    return canvas


def grey_paper(ink: np.ndarray) -> np.ndarray:
    """Ink (uint8, high) as dark grey (30) on light grey paper (230), like a photo of a page."""
    return (230 - ink.astype(np.int32) * 200 // 255).astype(np.uint8)


@pytest.fixture(scope="module")
def model(mnist, tmp_path_factory):
    """The fast network after two epochs on 10,000 images, saved as a brain.npz."""
    trainer = Trainer(mnist.limit(10_000, 1000), preset("fast").replace(epochs=2))
    for _ in trainer.run():
        pass
    path = tmp_path_factory.mktemp("predict") / "brain.npz"
    save_model(path, trainer.net)
    return path, trainer.net


@pytest.fixture(scope="module")
def images(mnist, model, tmp_path_factory):
    """Good images (path, digit) of test digits the network gets right with confidence, in
    several forms, and bad ones (path, what the error line must say)."""
    _, net = model
    p = net.predict_proba(mnist.x_test[:200])
    confident = np.flatnonzero((p.argmax(axis=1) == mnist.y_test[:200]) & (p.max(axis=1) > 0.9))
    chosen = [int(confident[np.flatnonzero(mnist.y_test[confident] == d)[0]]) for d in (0, 2, 3, 7, 9)]
    folder = tmp_path_factory.mktemp("images")
    digits = {i: np.rint(mnist.x_test[i] * 255).astype(np.uint8).reshape(28, 28) for i in chosen}
    labels = {i: int(mnist.y_test[i]) for i in chosen}
    a, b, c, d, e = chosen
    good = [
        (write_image(folder / "dark_on_light.png", 255 - drawn_big(digits[a])), labels[a]),
        (write_image(folder / "light_on_dark.png", drawn_big(digits[b], (200, 411), (60, 250), 3)), labels[b]),
        (write_image(folder / "photo.jpg", grey_paper(drawn_big(digits[c])), fmt="JPEG"), labels[c]),
        (write_image(folder / "transparent.png", np.zeros((300, 240), np.uint8), alpha=drawn_big(digits[d])), labels[d]),
        (write_image(folder / "odd width 29.png", 255 - drawn_big(digits[e], (29, 29), (0, 0), 1)), labels[e]),
    ]
    not_an_image = folder / "notes.png"
    not_an_image.write_text("this is text, not an image")
    damaged = folder / "damaged.png"
    damaged.write_bytes((folder / "dark_on_light.png").read_bytes()[:200])
    bad = [
        (folder / "missing.png", "no such file"),
        (not_an_image, "not an image"),
        (damaged, "damaged"),
        (write_image(folder / "blank.png", np.full((64, 64), 255, np.uint8)), "holds no ink"),
    ]
    return good, bad


def test_each_image_gets_its_line_and_bad_ones_their_error(model, images):
    """Good and bad files mixed: one stdout line per good image, in order, with the right digit;
    one stderr line per bad one naming it and its fault; exit status 2."""
    path, _ = model
    good, bad = images
    mixed = [good[0][0], bad[0][0], good[1][0], bad[1][0], good[2][0], bad[2][0], good[3][0],
             bad[3][0], good[4][0]]
    result = run("predict", path, *mixed)
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert len(lines) == len(good), result.stdout
    for line, (image, digit) in zip(lines, good):
        match = LINE.match(line)
        assert match, line
        assert match["path"] == str(image) and int(match["digit"]) == digit, line
        assert 0.0 <= float(match["p"]) <= 1.0
    errors = result.stderr.splitlines()
    assert len(errors) == len(bad), result.stderr  # nothing else: no libpng chatter, no traceback
    for line, (image, fault) in zip(errors, bad):
        assert line.startswith("error: ") and f"'{image}'" in line and fault in line, line


def test_all_good_images_exit_0(model, images):
    path, _ = model
    good, _ = images
    result = run("predict", path, *(image for image, _ in good))
    assert result.returncode == 0 and result.stderr == ""
    assert [int(LINE.match(line)["digit"]) for line in result.stdout.splitlines()] == [d for _, d in good]


def test_a_bad_model_is_one_sentence(images, tmp_path):
    good, _ = images
    assert_one_sentence_error(run("predict", tmp_path / "none.npz", good[0][0]),
                              f"cannot read model '{tmp_path / 'none.npz'}': no such file")


def test_predict_needs_an_image(model):
    assert_one_sentence_error(run("predict", model[0]), "required: IMAGE")


def test_rows_are_read_with_their_padding(tmp_path):
    """Qt pads each row of an 8-bit image to a multiple of 4 bytes: 29 pixels wide is 32 bytes."""
    grey = np.arange(29 * 7, dtype=np.uint8).reshape(7, 29)
    np.testing.assert_array_equal(read_grey_levels(str(write_image(tmp_path / "g.png", grey))), grey)


@pytest.mark.parametrize("stroke,paper", [(0, 255), (255, 0)])
def test_transparent_images_are_laid_on_contrasting_paper(tmp_path, stroke, paper):
    """Black or white strokes on a transparent background: the paper under them is the other."""
    alpha = np.zeros((20, 30), dtype=np.uint8)
    alpha[5:15, 10:13] = 255
    path = write_image(tmp_path / "t.png", np.full((20, 30), stroke, np.uint8), alpha=alpha)
    grey = read_grey_levels(str(path))
    assert grey[10, 11] == stroke and grey[0, 0] == paper


@pytest.mark.parametrize("argv,qt", [
    (["predict", "--help"], set()),
    (["predict", "MODEL", "IMAGE"], {"PySide6.QtCore", "PySide6.QtGui"}),
], ids=["help", "a real prediction"])
def test_predict_imports_qtgui_only_when_reading_images_and_never_qtwidgets(model, images, argv, qt):
    """The headless commands start without Qt; predict reads images with QtGui and needs
    nothing of QtWidgets, pyqtgraph or TensorFlow."""
    argv = [{"MODEL": str(model[0]), "IMAGE": str(images[0][0][0])}.get(a, a) for a in argv]
    code = (f"import main, contextlib, io, sys\nwith contextlib.redirect_stdout(io.StringIO()):\n"
            f"    try: main.main({argv!r})\n    except SystemExit: pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'shiboken6', 'pyqtgraph', 'tensorflow', 'keras')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = eval(result.stdout.strip().splitlines()[-1])
    assert {m for m in loaded if m.startswith("PySide6.Qt")} == qt, loaded  # the Qt modules
    assert not [m for m in loaded if m.split(".")[0] in ("pyqtgraph", "tensorflow", "keras")]
    if not qt:
        assert loaded == []
