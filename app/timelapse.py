"""A time-lapse of a run: an animated GIF of the window, or of one panel, at every moment of the
run's history (``core.history``), oldest first.

For each moment the window shows it (``window.show_moment(i)``, every panel at once), Qt lays out
and paints what changed, and the target widget is grabbed. Frames wider than ``MAX_WIDTH`` are
scaled down, and every frame is mapped, without dithering, onto one shared palette of 255 colours
made from the first, middle and last frames (the colours of the run's extremes; see
``shared_palette``): a pixel that does not change between moments keeps its palette index, so
nothing shimmers, and Pillow encodes only the rectangle that changed, with the 256th index as
"unchanged" (transparent). Pictures
that are the same as the one before (a panel that shows no moment, say) are merged into one
longer frame. The last frame is held for ``HOLD_MS`` so the trained network can be seen before
the animation loops.

Memory: only palette frames are kept until the file is written, one byte a pixel, so a run's
``MAX_MOMENTS`` (120) frames of a 1280x800 picture are at most 123 MB; a 15-epoch ``fast`` run
has about 25.

The file is written to a temporary file beside the target and renamed over it once complete,
so a failure never leaves half a GIF nor destroys an older one.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from app.files import read_setting
from app.layout import PANELS
from core import npzio
from core.npzio import check_can_save
from core.errors import UserError

if TYPE_CHECKING:
    from PIL import Image

# What can be filmed: the whole window, or one panel (the window's attribute of that name; each
# but the central weights panel sits in the dock ``<name>_dock``).
TARGETS = {"window": "Whole window", **PANELS}
MAX_WIDTH = 1280  # px: the 1600-px window of --screenshot scales by 0.8, its text stays legible
COLOURS = 255  # the palette's size; index 255 stays free for Pillow's "unchanged" pixels
HOLD_MS = 2000  # how long the last frame stays up
# GIF durations are in hundredths of a second, and browsers show frames shorter than 20 ms for
# 100 ms: the shortest frame that plays as asked is 20 ms.
MIN_FRAME_MS, MAX_FRAME_MS = 20, 10_000
DEFAULT_FRAME_MS = 200
# Set on the application by Ctrl+C while pictures are made offscreen (app.screenshot): a
# time-lapse being made then stops between frames, and nothing is written.
INTERRUPTED_PROPERTY = "interrupted"


def target_widget(window, target: str) -> QWidget:
    """The widget to grab for ``target`` ("window" or a panel's name)."""
    if target not in TARGETS:
        raise UserError(f"cannot film '{target}': choose one of {', '.join(TARGETS)}")
    return window if target == "window" else getattr(window, target)


def export_timelapse(window, path, target: str = "window", frame_ms: int = DEFAULT_FRAME_MS) -> int:
    """Write the time-lapse of ``target`` across ``window.history`` to the GIF ``path``, one frame
    per moment (pictures equal to the previous one merged), each ``frame_ms`` long and the last
    held longer; the moment shown before is shown again afterwards. Returns the frames written.
    A fault (too few moments, a bad duration or target, a file that cannot be written) raises
    ``UserError`` with one sentence, and no file is left; Ctrl+C offscreen stops it between
    frames (KeyboardInterrupt, ``check_interrupted``), leaving no file either."""
    widget = target_widget(window, target)
    check_open(window, target)
    if not MIN_FRAME_MS <= frame_ms <= MAX_FRAME_MS:
        raise UserError(f"a frame must last {MIN_FRAME_MS} to {MAX_FRAME_MS} ms, got {frame_ms}")
    history = window.history
    moments = tuple(history.moments) if history is not None else ()
    if len(moments) < 2:
        raise UserError(f"a time-lapse needs at least 2 moments of training, and this run has "
                        f"{len(moments)}; train the network, or open a model saved with its history")
    check_writable(path)
    if target == "window":
        window.status.clearMessage()  # a passing message ("opened …") is not part of the run
    from PIL import (
        Image,  # here, not at import: the window imports this module when it starts
    )
    frames: list[Image.Image] = []
    durations: list[int] = []
    before = window.moment
    shown = moments[before] if before is not None else None
    try:
        ends = (moments[0], moments[len(moments) // 2], moments[-1])
        sampled = {id(m): picture(window, widget, _index(history, m)) for m in ends}
        palette = shared_palette(list(sampled.values()))
        for m in moments:
            i = _index(history, m)
            if i is None:  # thinned away by a run that went on meanwhile
                continue
            check_interrupted()
            rgb = sampled.pop(id(m), None)
            if rgb is None:
                rgb = picture(window, widget, i)
            frame = rgb.quantize(palette=palette, dither=Image.Dither.NONE)
            if frames and frame.tobytes() == frames[-1].tobytes():
                durations[-1] += frame_ms
            else:
                frames.append(frame)
                durations.append(frame_ms)
    finally:
        window.show_moment(_index(history, shown) if shown is not None else None)
    durations[-1] = max(durations[-1], HOLD_MS)
    write_atomically(path, lambda f: frames[0].save(
        f, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0,
        optimize=True, disposal=1), "the time-lapse")
    return len(frames)


def check_interrupted() -> None:
    """KeyboardInterrupt if the application was marked interrupted (``INTERRUPTED_PROPERTY``)."""
    app = QCoreApplication.instance()
    if app is not None and app.property(INTERRUPTED_PROPERTY):
        raise KeyboardInterrupt


def _index(history, moment) -> int | None:
    """Where ``moment`` is in the history now (by identity), or None if it was let go."""
    return next((i for i, m in enumerate(history.moments) if m is moment), None)


def check_open(window, target: str) -> None:
    """A panel whose dock the user closed is not laid out, so it would be pictured at no sensible
    size: an error. A dock tabbed behind another is brought to the front."""
    dock = getattr(window, f"{target}_dock", None)  # None: the window, or the central panel
    if dock is not None and dock.isHidden():
        raise UserError(f"the {TARGETS[target].lower()} panel is closed; open it from the View "
                        f"menu first")
    if dock is not None and window.tabifiedDockWidgets(dock):
        dock.raise_()  # to the front of its tabs: the window draws only the panels it shows
        QCoreApplication.processEvents()


def picture(window, widget: QWidget, index: int | None) -> Image.Image:
    """``widget`` as it looks with moment ``index`` shown, as an RGB image at most MAX_WIDTH wide."""
    from PIL import Image
    window.show_moment(index)
    _settle(window, widget)
    # layouts and pyqtgraph's deferred range updates; not the user's clicks and keys meanwhile
    QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    image = pil_image(widget.grab().toImage())
    if image.width > MAX_WIDTH:
        height = max(1, round(image.height * MAX_WIDTH / image.width))
        image = image.resize((MAX_WIDTH, height), Image.Resampling.LANCZOS)
    return image


def _settle(window, widget: QWidget) -> None:
    """Do now what the window leaves until the view has rested (the inspector's search for the
    test digits that excite the selected neuron, 80 ms after the moment changes), so a frame
    does not say "looking for the test digits…": only when the inspector is in the picture (a
    search is tens of milliseconds)."""
    inspector = getattr(window, "inspector", None)
    if inspector is None or not hasattr(window, "finish_pending"):
        return
    if widget is inspector or (widget is window and not inspector.visibleRegion().isEmpty()):
        window.finish_pending()


def pil_image(image: QImage) -> Image.Image:
    """A QImage as a Pillow RGB image (a copy: the QImage's memory is Qt's)."""
    from PIL import Image
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    return Image.frombytes("RGB", (image.width(), image.height()), bytes(image.constBits()),
                           "raw", "RGB", image.bytesPerLine())


def shared_palette(samples: list[Image.Image]) -> Image.Image:
    """One palette of ``COLOURS`` colours for all frames, made from ``samples`` set side by side
    (each scaled to the first's size).

    By octree rather than median cut: median cut splits the colour space by pixel count, so the
    window's small patches of accent colour (the predicted digit, the train-accuracy curve) lost
    their hue to the large dark areas (the 15-epoch run's last frame: 99.9% of pixels within 49
    levels of the picture, the orange turned salmon, the green grey); octree keeps them (within
    12 levels; mean error 1.7 levels against 2.1) and is seven times faster (0.07 s)."""
    from PIL import Image
    w, h = samples[0].size
    montage = Image.new("RGB", (w * len(samples), h))
    for k, sample in enumerate(samples):
        montage.paste(sample if sample.size == (w, h) else sample.resize((w, h)), (k * w, 0))
    return montage.quantize(COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)


# --- writing ---------------------------------------------------------------------------------

def check_writable(path, what: str = "the time-lapse") -> None:
    """Fail early, before any frame is made, on a target that cannot be a file: a folder, a
    device or FIFO (/dev/null), a symbolic link, a missing or read-only folder, a name too long
    (``core.npzio.check_can_save``, which makes and removes the save's temporary file)."""
    check_can_save(path, what, UserError)


def write_atomically(path, write, what: str) -> None:
    """``write(f)`` into ``path`` all or nothing, as models are saved (``core.npzio``)."""
    npzio.write_atomically(path, write, what, UserError)


# --- the dialog ------------------------------------------------------------------------------

class TimelapseDialog(QDialog):
    """What to film and how fast: a target and a frame duration, remembered in the settings."""

    def __init__(self, window):
        super().__init__(window)
        self.setWindowTitle("Export time-lapse")
        history = window.history
        first, last = history.moments[0], history.moments[-1]
        self.n_moments = len(history.moments)
        self.target = QComboBox()
        for name, label in TARGETS.items():
            self.target.addItem(label, name)
        self.frame_ms = QSpinBox()
        self.frame_ms.setRange(MIN_FRAME_MS, MAX_FRAME_MS)
        self.frame_ms.setSingleStep(50)
        self.frame_ms.setSuffix(" ms")
        self.length = QLabel()
        self.frame_ms.valueChanged.connect(self._update_length)
        settings: QSettings = window.settings
        remembered = self.target.findData(read_setting(settings, "timelapse/target"))
        self.target.setCurrentIndex(max(remembered, 0))
        self.frame_ms.setValue(read_setting(settings, "timelapse/frame_ms") or DEFAULT_FRAME_MS)
        self._update_length()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Film", self.target)
        form.addRow("Each moment", self.frame_ms)
        form.addRow(QLabel(f"{self.n_moments} moments, from epoch {first.position:.3g} "
                           f"(step {first.step}) to epoch {last.position:.3g} (step {last.step})"))
        form.addRow(self.length)
        form.addRow(buttons)

    def _update_length(self) -> None:
        seconds = ((self.n_moments - 1) * self.frame_ms.value() + max(self.frame_ms.value(), HOLD_MS)) / 1000
        self.length.setText(f"about {seconds:.1f} s, the last moment held {HOLD_MS / 1000:g} s")

    def choice(self) -> tuple[str, int]:
        return self.target.currentData(), self.frame_ms.value()


def export_dialog(window) -> None:
    """File → Export time-lapse…: ask what to film and where, then write the GIF; errors in the
    window's error box, success in its status bar."""
    history = window.history
    n = len(history.moments) if history is not None else 0
    if n < 2:
        window.show_error(f"a time-lapse needs at least 2 moments of training, and this run has "
                          f"{n}; train the network, or open a model saved with its history")
        return
    dialog = TimelapseDialog(window)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return
    target, frame_ms = dialog.choice()
    window.settings.setValue("timelapse/target", target)
    window.settings.setValue("timelapse/frame_ms", frame_ms)
    path, _ = QFileDialog.getSaveFileName(window, "Export time-lapse", f"{target}-timelapse.gif",
                                          "GIF animations (*.gif)")
    if not path:
        return
    if not Path(path).suffix:
        path += ".gif"
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        frames = export_timelapse(window, path, target, frame_ms)
    except UserError as exc:
        window.show_error(str(exc))
        return
    finally:
        QApplication.restoreOverrideCursor()
    window.status.showMessage(f"saved {path}: {frames} frames", 8000)
