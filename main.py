"""Watch a neural network learn: ``python main.py`` opens the window (``--screenshot PNG`` makes
a picture of it without a screen); ``train``, ``evaluate``, ``predict``, ``compare`` and ``--help`` work
without one (``app.cli``). This file only hands over, to ``app.launch.dispatch`` (the installed
``watch-it-learn`` command runs it the same way: ``app.launch.installed``), under
``core.commandline.guarded``: the streams protected for the window too, and Ctrl+C one line and
exit code 130 even while NumPy or Qt is still being imported, before any command began."""
import sys

try:
    from app.launch import dispatch as main
    from core.commandline import INTERRUPTED, guarded
except KeyboardInterrupt:  # Ctrl+C while Python was still reading this program: nothing began
    if __name__ != "__main__":
        raise
    if sys.stderr is not None:
        try:
            print("\ninterrupted", file=sys.stderr)
        except OSError:
            pass
    sys.exit(130)

if __name__ == "__main__":
    try:
        code = guarded(lambda: main(sys.argv[1:]))
    except KeyboardInterrupt:  # a second Ctrl+C while the first was being reported
        code = INTERRUPTED
    sys.exit(code)
