"""Pictures of the window made without a screen: a PNG of the window (or one panel) at one moment
of a run, and the time-lapse GIF of all of them (``app.timelapse``).

The run is either a model file opened with its history (``--open FILE``) or a few epochs trained
offscreen first. Either way a 7 is drawn on the pad and the neuron that answers it most strongly
is selected, so the activations and the inspector have something to show; then the moment asked
for is shown (``--moment E``: the recorded moment nearest E epochs into the run) and pictured.

Before anything is trained, the targets are checked (``timelapse.check_writable``: a device
such as /dev/null, a folder, a missing folder, a name too long are one sentence at once) and so
is ``--epochs`` (at most what the window's form takes). Ctrl+C ends whichever event loop is
waiting (``ctrl_c_ends_the_wait``): no picture is saved, the window and its training process
close, and the exit code is 130, with one line on stderr.
"""
from __future__ import annotations

import contextlib
import signal
import sys

from PySide6.QtCore import QBuffer, QEventLoop, QIODevice, QTimer

from app import timelapse
from core.commandline import INTERRUPTED, USER_ERROR
from core.config import check_epochs
from core.errors import UserError

TIMEOUT_MS = 30 * 60 * 1000
WAKE_MS = 100  # Python sees a signal only when it runs: a timer lets it, while Qt waits
SEVEN = [(70, 70), (120, 66), (175, 64), (210, 66), (196, 110), (172, 160), (152, 205), (140, 235)]
SEVEN_BAR = [(120, 150), (200, 148)]
SIZE = (1600, 1000)  # px: the window as pictured, and as docs/window.png shows it


def wait_for(signal, timeout_ms: int = TIMEOUT_MS) -> bool:
    """Run the event loop until ``signal`` fires; False on time-out, KeyboardInterrupt on Ctrl+C."""
    loop = QEventLoop()
    fired = []
    signal.connect(lambda *args: (fired.append(args), loop.quit()))
    QTimer.singleShot(timeout_ms, loop.quit)
    _run(loop)
    return bool(fired)


def _run(loop: QEventLoop) -> None:
    """``loop.exec()``, unless Ctrl+C came (before or during it): then KeyboardInterrupt."""
    timelapse.check_interrupted()
    if loop.exec() == INTERRUPTED:
        raise KeyboardInterrupt
    timelapse.check_interrupted()


@contextlib.contextmanager
def ctrl_c_ends_the_wait(app):
    """While the block runs, SIGINT marks ``app`` interrupted (``timelapse.INTERRUPTED_PROPERTY``,
    which the time-lapse checks between frames) and ends every event loop running
    (``QCoreApplication.exit`` ends them all, nested ones too), so that ``wait_for`` raises
    KeyboardInterrupt from plain Python code rather than from inside a Qt callback, where it
    would be printed as a traceback and lost. A timer lets Python run WAKE_MS after a signal."""
    def interrupt(*_):
        app.setProperty(timelapse.INTERRUPTED_PROPERTY, True)
        app.exit(INTERRUPTED)

    try:
        previous = signal.signal(signal.SIGINT, interrupt)
    except ValueError:  # not the main thread: Python handles no signals here
        yield
        return
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(WAKE_MS)
    try:
        yield
    finally:
        wake.stop()
        signal.signal(signal.SIGINT, previous)


def wait_for_data(window, errors: list[str], timeout_ms: int = 120_000) -> None:
    """Run the event loop until MNIST is loaded or the window says why it is not. Both reach the
    window as queued calls from the loader's thread, so both happen inside ``loop.exec()``,
    even when the loader finished before we got here."""
    if window.data is None and not errors:
        loop = QEventLoop()
        window.data_ready.connect(loop.quit)
        window.show_error = lambda message: (errors.append(message), loop.quit())
        QTimer.singleShot(timeout_ms, loop.quit)
        try:
            _run(loop)
        finally:
            window.show_error = errors.append
    if window.data is None:
        raise UserError(errors[-1] if errors else "MNIST could not be loaded in time for the picture")


def take_pictures(app, window, args) -> int:
    """``--screenshot`` and/or ``--timelapse`` as ``app.launch`` parsed them: an exit code; a
    user error is one sentence on stderr and 2, Ctrl+C one line and 130."""
    errors: list[str] = []
    window.show_error = errors.append  # no one to click a dialog away: say it on stderr instead
    saved = []
    try:
        with ctrl_c_ends_the_wait(app):
            check_args(window, args)
            prepare(window, args, errors)
            timelapse.check_interrupted()
            if args.screenshot:
                index = moment_index(window.history, args.moment, args.open)
                save_png(app, window, args.screenshot, args.panel or "window", index)
                saved.append(args.screenshot)
                print(f"saved {args.screenshot}{_at(window.history, index)}", flush=True)
            if args.timelapse:
                frames = timelapse.export_timelapse(window, args.timelapse, args.panel or "window",
                                                    args.frame_ms or timelapse.DEFAULT_FRAME_MS)
                saved.append(args.timelapse)
                first, last = window.history.moments[0], window.history.moments[-1]
                print(f"saved {args.timelapse}: {frames} frames, epoch {_epochs(first.position)} to "
                      f"{_epochs(last.position)} (step {first.step} to {last.step})", flush=True)
            timelapse.check_interrupted()  # a Ctrl+C that came while the last file was written
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print(f"\ninterrupted; {' and '.join(saved) if saved else 'no picture'} was saved"
              + (" first" if saved else ""), file=sys.stderr)
        return INTERRUPTED
    finally:
        app.setProperty(timelapse.INTERRUPTED_PROPERTY, False)
        app.processEvents()  # what the window still had to do, before it goes
        window.close()
    return 0


def check_args(window, args) -> None:
    """What can be refused before any training: a target that cannot be written, and more
    ``--epochs`` than a run may have (``core.config.MAX_EPOCHS``, what the form takes)."""
    for path, what in ((args.screenshot, "the picture"), (args.timelapse, "the time-lapse")):
        if path:
            timelapse.check_writable(path, what)
    if args.epochs is not None:  # the form would clamp it quietly
        check_epochs(args.epochs, "--epochs")


def prepare(window, args, errors: list[str]) -> None:
    """Open the model or train the run, then draw the 7 and select the neuron it excites most."""
    window.resize(*SIZE)
    window.show()
    wait_for_data(window, errors)
    if args.open:
        if not window.open_model(args.open):
            raise UserError(errors[-1] if errors else f"cannot open the model '{args.open}'")
    else:
        train(window, args.epochs or 1, args.preset)
    window.pad.stroke(SEVEN)  # the pad shows what the network makes of a drawn 7
    window.pad.stroke(SEVEN_BAR)
    x = window.activations.current_input()
    strongest = int(window.snapshot.network().forward(x[None])[1][0].argmax())
    window.select_neuron(1, strongest)


def train(window, epochs: int, preset: str | None) -> None:
    if preset:
        window.form.preset.setCurrentText(preset)
    window.form.epochs.setValue(epochs)
    window.reset()
    failure = []
    window.run_ended.connect(failure.append)
    window.train()
    if window.training is not None and not failure and not wait_for(window.run_ended):
        raise UserError("training did not finish in time for the picture")
    if failure and failure[0]:
        raise UserError(failure[0])


def moment_index(history, epochs: float | None, source: str | None) -> int | None:
    """The index of the recorded moment nearest ``epochs`` into the run, or None (live) when no
    moment is asked for; ``UserError`` for a point outside the recorded run."""
    if epochs is None:
        return None
    if history is None or not history.moments:
        holder = f"'{source}'" if source else "the run"
        raise UserError(f"{holder} holds no history of its training, so there is no moment "
                        f"{_epochs(epochs)} to show; leave out --moment to picture it as it is")
    first, last = history.moments[0].position, history.moments[-1].position
    if epochs > last + 1e-9:
        raise UserError(f"moment {_epochs(epochs)} is beyond the run, which ends at epoch "
                        f"{_epochs(last)}")
    if epochs < first - 1e-9:
        raise UserError(f"moment {_epochs(epochs)} is before the run's history, which starts at "
                        f"epoch {_epochs(first)}")
    return history.nearest(epochs)


def save_png(app, window, path: str, target: str, index: int | None) -> None:
    """Picture ``target`` with moment ``index`` shown (None: live) into the PNG ``path``, all or
    nothing."""
    widget = timelapse.target_widget(window, target)
    timelapse.check_open(window, target)
    timelapse.check_writable(path, "the picture")
    window.show_moment(index)
    app.processEvents()
    timelapse.check_interrupted()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not widget.grab().save(buffer, "PNG"):
        raise UserError(f"cannot make the picture for '{path}'")
    data = bytes(buffer.data())
    timelapse.write_atomically(path, lambda f: f.write(data), "the picture")


def _at(history, index: int | None) -> str:
    if index is None:
        return ""
    moment = history.moments[index]
    return f" at epoch {_epochs(moment.position)} (step {moment.step})"


def _epochs(position: float) -> str:
    """A point in epochs as people write it: 0, 0.27, 3."""
    return f"{position:.2f}".rstrip("0").rstrip(".")
