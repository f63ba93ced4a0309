"""What every command line of this program shares, the window's and the benchmarks' alike: an
argparse parser whose mistakes are one sentence, bounded whole-number flags, the exit codes,
standard streams that cannot break a run (``protected_streams``), a check that an output file
can be written before the work that makes it (``core.npzio.check_can_save``), and ``guarded``, which runs
a command with all of that. Standard library only: importing it loads no Qt and not even NumPy.

The streams. Python ignores SIGPIPE, so a write to a pipe whose reader has gone (``| head -1``)
raises BrokenPipeError, and a write to a full disk (``> /dev/full``) OSError, from whichever
``print`` meets it, and again when the interpreter flushes stdout at exit ("Exception ignored
... BrokenPipeError"). Under ``guarded``, ``sys.stdout`` and ``sys.stderr`` are wrapped so that
the first failed write points the stream's file descriptor at /dev/null (``os.dup2``, as the
Python documentation's note on SIGPIPE does): nothing raises, later writes and the flush at exit
go nowhere, and the command goes on, so ``train`` still trains and saves its model. At the end,
a broken pipe on stdout is exit code 141 (128 + SIGPIPE, what a shell reports for a program a
closed pipe ended, as ``yes | head -1`` is) and any other failure of stdout one sentence on
stderr and exit code 2, unless the command failed already. A stream that was closed before the
program started (``2>&-``) is /dev/null: it is not an error, and no file the program opens
takes its descriptor. A failed stderr changes no exit code: there is nowhere to say so.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import io
import os
import signal
import sys

from core.errors import UserError, one_sentence, whole_number

USER_ERROR = 2  # a bad flag, file or dataset
INTERRUPTED = 130  # Ctrl+C, as a shell reports SIGINT (128 + 2)
BROKEN_PIPE = 141  # stdout's reader went away, as a shell reports SIGPIPE (128 + 13)


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one sentence rather than a usage block."""

    def error(self, message):
        self.exit(USER_ERROR, f"{self.prog}: {one_sentence(message)} (see '{self.prog} --help')\n")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    return bounded_int(1)(text)


def bounded_int(low: int, high: int | None = None, unit: str = ""):
    """An argparse type: a whole number from ``low`` to ``high`` (None: no upper bound), each
    bound said in the sentence that refuses a number outside them."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low:,}{unit}, got {whole_number(value)}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high:,}{unit}, got {whole_number(value)}")
        return value
    parse.__name__ = "whole number"  # what argparse calls the type in its own messages
    return parse


# --- the streams ------------------------------------------------------------------------------

class SafeStream:
    """A text stream (sys.stdout, sys.stderr) whose writes never raise: the first that fails
    keeps its error in ``fault``, points the stream's descriptor at /dev/null and drops every
    later write. Anything else (``isatty``, ``encoding``, ``fileno``) is the stream's own."""

    def __init__(self, stream, fd: int):
        self.stream, self.fd = stream, fd
        self.fault: OSError | None = None

    def write(self, text: str) -> int:
        if self.fault is None:
            try:
                self.stream.write(text)
            except OSError as exc:
                self._lose(exc)
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self.fault is None:
            try:
                self.stream.flush()
            except OSError as exc:
                self._lose(exc)

    @property
    def broken_pipe(self) -> bool:
        return isinstance(self.fault, BrokenPipeError) or getattr(self.fault, "errno", None) == errno.EPIPE

    def _lose(self, exc: OSError) -> None:
        self.fault = exc
        _point_at_null(self.fd)  # what the stream still holds is flushed there at exit, quietly

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _point_at_null(fd: int) -> None:
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        if null != fd:
            os.dup2(null, fd)
    finally:
        if null != fd:
            os.close(null)


def _open_missing_descriptors() -> None:
    """/dev/null on each of descriptors 0, 1 and 2 that is closed: otherwise the next file this
    program opens would take it, and a print, or a C library's complaint, would land in it.
    (In order: os.open takes the lowest free descriptor, so each lands where it belongs.)"""
    for fd, flags in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
        try:
            os.fstat(fd)
        except OSError:
            try:
                null = os.open(os.devnull, flags)
            except OSError:
                continue
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def _descriptor(stream) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both of the last
        return None


@contextlib.contextmanager
def protected_streams():
    """Run the block with sys.stdout and sys.stderr as ``SafeStream``s (see the module's
    docstring); yields the stdout stream, whose ``fault`` says how it failed, if it did. A
    stream closed at start becomes /dev/null; stdout writes a name that is not UTF-8 as the
    bytes it was (``surrogateescape``, as ``ls`` does). Streams that are not files (a test's
    capture) are left as they are. Nested, the outer protection serves."""
    if isinstance(sys.stdout, SafeStream):
        yield sys.stdout
        return
    _open_missing_descriptors()
    saved = sys.stdout, sys.stderr
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name)
        if stream is None:  # closed when Python started: it is /dev/null now
            stream = open(fd, "w", encoding="utf-8", errors="backslashreplace",  # noqa: SIM115
                          closefd=False)  # for the rest of the run: sys.stderr from now on
        if name == "stdout" and isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(OSError, ValueError):
                stream.reconfigure(errors="surrogateescape")
        setattr(sys, name, SafeStream(stream, fd) if _descriptor(stream) == fd else stream)
    try:
        yield sys.stdout
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = saved


def exit_code(code: int, stdout) -> int:
    """``code``, or what a failed stdout makes of a success: BROKEN_PIPE, or USER_ERROR with a
    sentence on stderr saying what failed."""
    fault = getattr(stdout, "fault", None)
    if code != 0 or fault is None:
        return code
    if stdout.broken_pipe:
        return BROKEN_PIPE
    print(f"error: cannot write to standard output: {fault.strerror or fault}; what was printed "
          f"after that is lost", file=sys.stderr)
    return USER_ERROR


def guarded(command, interrupted: str = "interrupted") -> int:
    """Run ``command`` (returning an exit code) with ``protected_streams``; a UserError is one
    sentence and exit code 2, Ctrl+C one line and 130 (the KeyboardInterrupt's own words if it
    carries some, else ``interrupted``), a failed stdout as ``exit_code`` says. Anything else is a
    bug and keeps its traceback."""
    with protected_streams() as stdout:
        try:
            code = command()
        except UserError as exc:
            print(f"error: {exc}", file=sys.stderr)
            code = USER_ERROR
        except KeyboardInterrupt as exc:
            print(f"\n{one_sentence(str(exc) or interrupted)}", file=sys.stderr)
            code = INTERRUPTED
        except SystemExit as exc:  # argparse's --help and mistakes: their code, the stream checked
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        stdout.flush()
        return exit_code(code, stdout)


@contextlib.contextmanager
def interrupt_deferred(said: str = "interrupted"):
    """Ctrl+C held back while the block runs (a save, under a second), then raised as a
    KeyboardInterrupt saying ``said``: a save is finished, not cut short. In a thread other
    than the main one, where Python handles no signals, the block simply runs."""
    caught = []
    try:
        previous = signal.signal(signal.SIGINT, lambda *_: caught.append(True))
    except ValueError:
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt(said)
