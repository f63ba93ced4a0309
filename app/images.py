"""Reading image files with Qt's QImageReader (QtGui only: no display, no QtWidgets), for
``main.py predict``. The pixels come out as a NumPy array; what is done with them is core's."""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import numpy as np

from core.errors import UserError
from core.npzio import check_readable_file
from core.preprocess import over_contrasting_paper

READER_FAULTS = {  # QImageReader.ImageReaderError's name -> what it means for the user
    "FileNotFoundError": "no such file",
    "DeviceError": "the file cannot be read",
    "UnsupportedFormatError": "it is not an image in a format Qt reads (PNG, JPEG, ...)",
    "InvalidDataError": "the image data is damaged, cut short, or too large",
}


def read_grey_levels(path: str) -> np.ndarray:
    """The image at path as grey levels (H, W), uint8, read by Qt's QImageReader, upright (an
    EXIF orientation tag is applied); transparent parts are laid on paper that contrasts with
    the opaque ones."""
    check_readable_file(Path(path), "image", UserError)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # reading an image needs no screen
    # Imported here only, so that train and evaluate load no Qt. QtGui, never QtWidgets.
    from PySide6.QtGui import QImage, QImageReader

    reader = QImageReader(path)
    reader.setDecideFormatFromContent(True)  # a PNG named .jpg is still a PNG
    reader.setAutoTransform(True)  # a phone's photo stored turned, with an EXIF orientation tag
    with _c_stderr_silenced():  # libpng and libjpeg print their own complaints on stderr
        image = reader.read()
    if image.isNull():
        fault = READER_FAULTS.get(reader.error().name, reader.errorString())
        raise UserError(f"cannot read image '{path}': {fault}")
    if image.hasAlphaChannel():
        rgba = _pixels(image.convertToFormat(QImage.Format.Format_RGBA8888), 4)  # (H, W, 4)
        return over_contrasting_paper(rgba)
    return _pixels(image.convertToFormat(QImage.Format.Format_Grayscale8), 1)[:, :, 0]


def _pixels(image, channels: int) -> np.ndarray:
    """A QImage's pixels as a (H, W, channels) uint8 copy. Rows are bytesPerLine apart, which
    may be more than width * channels (Qt pads each row to a multiple of 4 bytes)."""
    h, w = image.height(), image.width()
    rows = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(h, image.bytesPerLine())
    return rows[:, :w * channels].reshape(h, w, channels).copy()  # ours: the QImage goes away


@contextlib.contextmanager
def _c_stderr_silenced():
    """Send what C libraries write to file descriptor 2 to /dev/null for a moment; this
    program's own error lines are enough."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
