"""Watch a neural network learn: ``python main.py`` opens the window, ``python main.py train``,
``evaluate`` and ``--help`` work without one. This file only hands over."""
import os
import sys

# One BLAS thread unless the user says otherwise. At these matrix sizes a second thread gains
# about a quarter on an idle machine, but when anything else wants a core (the window's GUI
# thread, another program) OpenBLAS's spinning threads make an epoch up to fifty times slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

HEADLESS = {"train", "evaluate", "-h", "--help"}


def main(argv: list[str]) -> int:
    if argv and argv[0] in HEADLESS:
        from core.cli import main as cli_main  # no Qt on this path: it starts fast
        return cli_main(argv)
    if argv:
        from core.cli import main as cli_main  # an unknown command gets argparse's sentence
        return cli_main(argv)
    print("The window is not built yet; use 'python main.py train' or 'python main.py evaluate "
          "FILE' (see 'python main.py --help').", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
