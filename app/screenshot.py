"""Pictures of the window made without a screen: a PNG of the window (or one panel) at one moment
of a run, and the time-lapse GIF of all of them (``app.timelapse``).

The run is either a model file opened with its history (``--open FILE``) or a few epochs trained
offscreen first. Either way a 7 is drawn on the pad and the neuron that answers it most strongly
is selected, so the activations and the inspector have something to show; then the moment asked
for is shown (``--moment E``: the recorded moment nearest E epochs into the run) and pictured.
"""
from __future__ import annotations

import sys

from PySide6.QtCore import QBuffer, QEventLoop, QIODevice, QTimer

from app import timelapse
from core.commandline import USER_ERROR
from core.errors import UserError

TIMEOUT_MS = 30 * 60 * 1000
SEVEN = [(70, 70), (120, 66), (175, 64), (210, 66), (196, 110), (172, 160), (152, 205), (140, 235)]
SEVEN_BAR = [(120, 150), (200, 148)]
SIZE = (1600, 1000)  # px: the window as pictured, and as docs/window.png shows it


def wait_for(signal, timeout_ms: int = TIMEOUT_MS) -> bool:
    """Run the event loop until ``signal`` fires; False on time-out."""
    loop = QEventLoop()
    fired = []
    signal.connect(lambda *args: (fired.append(args), loop.quit()))
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    return bool(fired)


def wait_for_data(window, errors: list[str], timeout_ms: int = 120_000) -> None:
    """Run the event loop until MNIST is loaded or the window says why it is not. Both reach the
    window as queued calls from the loader's thread, so both happen inside ``loop.exec()``,
    even when the loader finished before we got here."""
    if window.data is None and not errors:
        loop = QEventLoop()
        window.data_ready.connect(loop.quit)
        window.show_error = lambda message: (errors.append(message), loop.quit())
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        window.show_error = errors.append
    if window.data is None:
        raise UserError(errors[-1] if errors else "MNIST could not be loaded in time for the picture")


def take_pictures(app, window, args) -> int:
    """``--screenshot`` and/or ``--timelapse`` as ``app.launch`` parsed them: an exit code, and a
    user error as one sentence on stderr."""
    errors: list[str] = []
    window.show_error = errors.append  # no one to click a dialog away: say it on stderr instead
    try:
        prepare(window, args, errors)
        if args.screenshot:
            index = moment_index(window.history, args.moment, args.open)
            save_png(app, window, args.screenshot, args.panel or "window", index)
            print(f"saved {args.screenshot}{_at(window.history, index)}")
        if args.timelapse:
            frames = timelapse.export_timelapse(window, args.timelapse, args.panel or "window",
                                                args.frame_ms or timelapse.DEFAULT_FRAME_MS)
            first, last = window.history.moments[0], window.history.moments[-1]
            print(f"saved {args.timelapse}: {frames} frames, epoch {_epochs(first.position)} to "
                  f"{_epochs(last.position)} (step {first.step} to {last.step})")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USER_ERROR
    finally:
        app.processEvents()  # what the window still had to do, before it goes
        window.close()
    return 0


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
