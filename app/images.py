"""Reading image files with Qt's QImageReader (QtGui only: no display, no QtWidgets), for
``main.py predict`` and the pad's File ▸ Open image. The pixels come out as a NumPy array; what
is done with them is core's.

The file is read by this program, not by Qt: ``core.npzio.open_regular`` opens it (a FIFO, a
device or a folder is refused at once, by name, and a name that is not UTF-8 works, since Qt
never sees it), at most ``MAX_FILE_BYTES`` of it, and Qt decodes the bytes from memory. Before
decoding, the size the image's header claims is read: more than ``MAX_PIXELS`` is refused, and
anything over ``DECODED_PIXELS`` is decoded scaled down to it. The readers need no more:
``core.photo`` averages every picture down to 400 pixels on its longer side before it looks for
ink, and a Fashion-MNIST picture ends as 28x28. Measured here, with ``core.photo.read_digit``
after it: a 50 MP JPEG (8160x6120) took 1.56 s and 433 MB at its peak when decoded whole, and
takes 0.20 s and 57 MB; the same PNG 0.91 s and 258 MB (Qt decodes a PNG whole, then scales); an
83 KB PNG of 8190x8190 took 1.7 s and 580 MB only to be found blank, and is refused at once.
Qt's messages while it decodes are caught (``_qt_messages``), never printed: one that says
"premature end" (libjpeg's words for a JPEG cut short, which it would otherwise fill with grey:
"Premature end of JPEG file", "Corrupt JPEG data: premature end of data segment") refuses the
image in one sentence that quotes it; the others (an sRGB profile libpng finds odd) are dropped.
A PNG cut short fails to decode, and is refused as damaged.
"""
from __future__ import annotations

import contextlib
import math
import os
import sys

import numpy as np

from core.errors import UserError
from core.npzio import open_regular
from core.preprocess import over_contrasting_paper

MAX_FILE_BYTES = 100 * 2**20  # a 50 MP phone photo is 10-25 MB as JPEG; a 24 MP scan's PNG 40-70 MB
# A 50 MP phone camera's photo (8160x6120, 49.9 MP) passes; a 200 MP one is refused. Decoding a
# PNG costs its full size (Qt scales after decoding): 50 MP of RGB is 200 MB for a moment, under
# Qt's own allocation limit of 256 MB.
MAX_PIXELS = 50_000_000
# Decoded at most this large (JPEG decodes scaled, by libjpeg's DCT scaling, at a fraction of the
# time): 2,000 pixels on a square's side, five times the 400 ``core.photo`` works at.
DECODED_PIXELS = 4_000_000
CUT_SHORT = ("premature end",)  # libjpeg's words for a file that ends too soon, lower case

READER_FAULTS = {  # QImageReader.ImageReaderError's name -> what it means for the user
    "FileNotFoundError": "no such file",
    "DeviceError": "the file cannot be read",
    "UnsupportedFormatError": "it is not an image in a format Qt reads (PNG, JPEG, ...)",
    "InvalidDataError": "the image data is damaged, cut short, or too large",
}


def read_grey_levels(path) -> np.ndarray:
    """The image at path as grey levels (H, W), uint8, upright (an EXIF orientation tag is
    applied), at most ``DECODED_PIXELS`` (larger images are decoded scaled down, keeping their
    shape); transparent parts are laid on paper that contrasts with the opaque ones. A file that
    is not a regular one, larger than ``MAX_FILE_BYTES``, an image of more than ``MAX_PIXELS``,
    one cut short or that Qt cannot decode is a UserError of one sentence."""
    with open_regular(path, "image", UserError) as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise UserError(f"cannot read image '{path}': it is larger than the "
                        f"{MAX_FILE_BYTES // 2**20} MiB an image may be")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # reading an image needs no screen
    # Imported here only, so that train and evaluate load no Qt. QtGui, never QtWidgets.
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
    from PySide6.QtGui import QImage, QImageReader

    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)  # the format from the content: a PNG named .jpg is a PNG
    reader.setAutoTransform(True)  # a phone's photo stored turned, with an EXIF orientation tag
    with _qt_messages() as messages:
        size = reader.size()  # as stored, before the EXIF turn; invalid if the header is unread
        if size.isValid():
            w, h = size.width(), size.height()
            if w * h > MAX_PIXELS:
                raise UserError(f"cannot read image '{path}': it is {w}x{h} pixels "
                                f"({w * h / 1e6:.0f} MP), more than the {MAX_PIXELS // 10**6} MP "
                                f"this program reads")
            scaled = scaled_size(w, h)
            if scaled != (w, h):
                reader.setScaledSize(QSize(*scaled))
        with _c_stderr_silenced():  # a codec that prints its complaints on stderr itself
            image = reader.read()
    if image.isNull():
        fault = READER_FAULTS.get(reader.error().name, reader.errorString())
        raise UserError(f"cannot read image '{path}': {fault}")
    cut = next((m for m in messages if any(word in m.lower() for word in CUT_SHORT)), None)
    if cut is not None:
        raise UserError(f"cannot read image '{path}': the file is cut short or damaged "
                        f"(the decoder says: {cut.strip().rstrip('.')})")
    if image.hasAlphaChannel():
        rgba = _pixels(image.convertToFormat(QImage.Format.Format_RGBA8888), 4)  # (H, W, 4)
        return over_contrasting_paper(rgba)
    return _pixels(image.convertToFormat(QImage.Format.Format_Grayscale8), 1)[:, :, 0]


def scaled_size(w: int, h: int, most: int = DECODED_PIXELS) -> tuple[int, int]:
    """(w, h) scaled by one factor to at most ``most`` pixels (each side at least 1), or as it
    is if it fits."""
    if w * h <= most:
        return w, h
    f = math.sqrt(most / (w * h))
    return max(1, math.floor(w * f)), max(1, math.floor(h * f))


@contextlib.contextmanager
def _qt_messages():
    """Qt's messages (qWarning and the like: what its image plugins say of a bad file) collected
    into a list while the block runs, rather than printed on stderr; the handler before is put
    back after. Qt has one handler per process, so a message another thread sends meanwhile is
    collected too: harmless here, where only words of a file cut short matter."""
    from PySide6.QtCore import qInstallMessageHandler

    messages: list[str] = []
    previous = qInstallMessageHandler(lambda kind, context, message: messages.append(message))
    try:
        yield messages
    finally:
        qInstallMessageHandler(previous)


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
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # no stderr, or one that is gone
        pass
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
