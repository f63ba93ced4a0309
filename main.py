"""Watch a neural network learn: ``python main.py`` opens the window (``--screenshot PNG`` makes
a picture of it without a screen); ``train``, ``evaluate``, ``predict``, ``compare`` and ``--help`` work
without one (``app.cli``). This file only hands over, to ``app.launch.dispatch``: the installed
``watch-it-learn`` command (pyproject.toml) runs the same function."""
import sys

from app.launch import dispatch as main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
