"""A picture of the window made without a screen: train a few epochs offscreen, select the
neuron that answers the shown digit most strongly, and save the whole window as a PNG."""
from __future__ import annotations

import sys

from PySide6.QtCore import QEventLoop, QTimer

from core.cli import USER_ERROR

TIMEOUT_MS = 30 * 60 * 1000
SEVEN = [(70, 70), (120, 66), (175, 64), (210, 66), (196, 110), (172, 160), (152, 205), (140, 235)]
SEVEN_BAR = [(120, 150), (200, 148)]


def wait_for(signal, timeout_ms: int = TIMEOUT_MS) -> bool:
    """Run the event loop until ``signal`` fires; False on time-out."""
    loop = QEventLoop()
    fired = []
    signal.connect(lambda *args: (fired.append(args), loop.quit()))
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    return bool(fired)


def take_screenshot(app, window, path: str, epochs: int, preset: str | None) -> int:
    window.resize(1600, 1000)
    window.show()
    if window.data is None and not wait_for(window.data_ready, 120_000):
        print("error: MNIST could not be loaded for the screenshot", file=sys.stderr)
        return USER_ERROR
    if preset:
        window.form.preset.setCurrentText(preset)
    window.form.epochs.setValue(epochs)
    window.reset()
    window.train()
    failure = []
    window.run_ended.connect(failure.append)
    if window.training is not None and not wait_for(window.run_ended):
        print("error: training did not finish in time for the screenshot", file=sys.stderr)
        return USER_ERROR
    if failure and failure[0]:
        print(f"error: {failure[0]}", file=sys.stderr)
        return USER_ERROR
    window.pad.stroke(SEVEN)  # the pad shows what the trained network makes of a drawn 7
    window.pad.stroke(SEVEN_BAR)
    x = window.activations.current_input()
    strongest = int(window.snapshot.network().forward(x[None])[1][0].argmax())
    window.select_neuron(1, strongest)
    app.processEvents()
    if not window.export_png(path):
        print(f"error: cannot save the picture to '{path}'", file=sys.stderr)
        return USER_ERROR
    print(f"saved {path}")
    window.close()
    return 0
