"""Watch a neural network learn: ``python main.py`` opens the window (``--screenshot PNG`` makes
a picture of it without a screen); ``train``, ``evaluate``, ``predict`` and ``--help`` work
without one (``app.cli``). This file only hands over."""
import os
import sys

# One BLAS thread unless the user says otherwise. At these matrix sizes a second thread gains
# about a quarter on an idle machine, but when anything else wants a core (the window's GUI
# thread, another program) OpenBLAS's spinning threads make an epoch up to fifty times slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

COMMANDS = {"train", "evaluate", "predict", "-h", "--help"}  # everything else opens the window


def main(argv: list[str]) -> int:
    if argv[:1] == ["window"]:  # the window by name: 'main.py window --help' lists its options
        argv = argv[1:]
    elif argv and (argv[0] in COMMANDS or not argv[0].startswith("-")):
        from app.cli import main as cli_main  # no Qt on this path: it starts fast
        return cli_main(argv)
    from app.launch import main as window_main
    return window_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
