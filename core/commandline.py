"""What every command line of this program shares, the window's and the benchmarks' alike: an
argparse parser whose mistakes are one sentence, the exit codes, and ``guarded``, which turns a
``UserError`` into that sentence on stderr. Standard library only: importing it loads no Qt and
not even NumPy."""
from __future__ import annotations

import argparse
import sys

from core.errors import UserError

USER_ERROR = 2  # a bad flag, file or dataset
INTERRUPTED = 130  # Ctrl+C, as a shell reports SIGINT (128 + 2)


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one sentence rather than a usage block."""

    def error(self, message):
        self.exit(USER_ERROR, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def guarded(command, interrupted: str = "interrupted") -> int:
    """Run ``command`` (returning an exit code); a UserError is one sentence and exit code 2,
    Ctrl+C one line and 130. Anything else is a bug and keeps its traceback."""
    try:
        return command()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print(f"\n{interrupted}", file=sys.stderr)
        return INTERRUPTED
