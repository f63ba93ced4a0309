"""``python main.py``: open the window (``--open FILE`` with a saved model in it), or make
pictures of it without a screen: ``--screenshot PNG`` and ``--timelapse GIF`` (``app.screenshot``).
``dispatch`` is the whole command line, of ``main.py`` and of the installed ``watch-it-learn``
(``installed``, which guards it as ``main.py`` does).

The window's settings file is looked at before Qt reads it (``app.files.open_settings``: a FIFO
would block the start for ever). Ctrl+C in the terminal ends the window at any moment with exit
code 130 (``Interrupt``, ``MainWindow.interrupt``). Qt's own messages are kept in a log and
printed once (``QtMessages``), and an exception that escapes a slot is a dialog with its
traceback (``_report_bugs``). Pictures made offscreen keep their own settings and Ctrl+C's
default."""
from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import tempfile
from pathlib import Path

from core.commandline import USER_ERROR, Parser

APP_NAME = "watch-it-learn"
COMMANDS = {"train", "evaluate", "predict", "compare", "-h", "--help"}  # everything else opens the window


def dispatch(argv: list[str] | None = None) -> int:
    """Hand the command line over: a command to ``app.cli`` (which loads no Qt, so it starts
    fast), anything else to the window (``main``); 'window --help' lists the window's options.
    ``python main.py`` runs this, and so does the installed command (``installed``)."""
    # One BLAS thread unless the user says otherwise, set before NumPy loads. At these matrix
    # sizes a second thread gains about a quarter on an idle machine, but when anything else wants
    # a core (the window's GUI thread, another program) OpenBLAS's spinning threads make an epoch
    # up to fifty times slower.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["window"]:
        argv = argv[1:]
    elif argv and (argv[0] in COMMANDS or not argv[0].startswith("-")):
        from app.cli import main as cli_main
        return cli_main(argv)
    return main(argv)


def installed() -> int:
    """The installed ``watch-it-learn`` command (pyproject.toml): ``dispatch`` as ``main.py``
    runs it, under ``core.commandline.guarded`` (streams protected, Ctrl+C one line and 130)."""
    from core.commandline import guarded
    return guarded(lambda: dispatch(sys.argv[1:]))


def build_parser() -> argparse.ArgumentParser:
    # what can be pictured, named where it is pictured (imported here: Qt comes with it)
    from app.timelapse import DEFAULT_FRAME_MS, TARGETS
    from core.config import PRESETS

    parser = Parser(prog="main.py [window]", description="Open the window. Commands without a window: "
                    "'main.py train', 'main.py evaluate' (see 'main.py --help').",
                    epilog="--screenshot and --timelapse work without a screen: they picture "
                    "the model opened with --open, or else train --epochs N first (default 1).")
    parser.add_argument("--open", metavar="FILE",
                        help="open a brain.npz saved by 'main.py train' or the window, with the "
                        "history of its training if it was saved with it")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="offscreen: open the --open model or train, select a neuron and "
                        "save a picture of the whole window (or of --panel)")
    parser.add_argument("--moment", type=float, metavar="E",
                        help="with --screenshot: picture the recorded moment nearest E epochs "
                        "into the run (0: the initial weights; 0.25; 3) rather than the newest weights")
    parser.add_argument("--timelapse", metavar="GIF",
                        help="offscreen: save an animated GIF of every recorded moment of the "
                        "run, of the --open model's history or of the --epochs just trained")
    parser.add_argument("--panel", choices=tuple(TARGETS), metavar="NAME",
                        help=f"what --screenshot and --timelapse picture: {', '.join(TARGETS)} "
                        f"(default: window)")
    parser.add_argument("--frame-ms", type=int, metavar="MS",
                        help=f"how long each moment of --timelapse shows (default: {DEFAULT_FRAME_MS})")
    parser.add_argument("--epochs", type=int, help="epochs to train for --screenshot and "
                        "--timelapse without --open (default: 1)")
    parser.add_argument("--preset", choices=tuple(PRESETS), help="the preset to start from")
    parser.add_argument("--dataset", choices=("mnist", "fashion"),
                        help="mnist: handwritten digits (the default); fashion: Fashion-MNIST's "
                        "clothes")
    parser.add_argument("--data", metavar="PATH",
                        help="the --dataset as a Keras-style .npz or a folder of IDX files")
    parser.add_argument("--limit", type=int, metavar="N", help="use only the first N training and test images")
    parser.add_argument("--thread", action="store_true",
                        help="train on a thread of the window's process instead of a process of its own")
    return parser


def check(args) -> str | None:
    """What is wrong with a combination of flags, in one sentence, or None."""
    for flag in ("epochs", "limit"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            return f"--{flag} must be at least 1, got {value}"
    pictures = args.screenshot or args.timelapse
    if args.moment is not None:
        if not args.screenshot:
            return "--moment says which moment --screenshot pictures; give --screenshot PNG too"
        if not args.moment >= 0:  # also NaN
            return f"--moment must be 0 or more epochs, got {args.moment:g}"
    if args.frame_ms is not None:
        from app.timelapse import MAX_FRAME_MS, MIN_FRAME_MS
        if not args.timelapse:
            return "--frame-ms says how long each frame of --timelapse lasts; give --timelapse GIF too"
        if not MIN_FRAME_MS <= args.frame_ms <= MAX_FRAME_MS:
            return f"--frame-ms must be {MIN_FRAME_MS} to {MAX_FRAME_MS}, got {args.frame_ms}"
    if args.panel is not None and not pictures:
        return "--panel says what --screenshot or --timelapse pictures; give one of them too"
    if args.open and args.epochs is not None:
        return "--epochs trains a new run, but --open pictures the model as it was saved; give one of them"
    return None


def no_display() -> bool:
    """True on Linux and the BSDs when Qt has nowhere to draw: no X, no Wayland, no platform chosen."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return False
    return not any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


# Qt's offscreen platform says these whenever a window, a tooltip or a menu is shown; nothing is
# wrong (as pytest.ini says). They are kept in the log, not printed.
HARMLESS = ("This plugin does not support propagateSizeHints", "This plugin does not support raise")
OFFSCREEN_NOISE = HARMLESS[0]
INTERRUPTED = 130  # the exit code of a program ended by Ctrl+C (128 + SIGINT), as shells expect
KEPT_MESSAGES = 1000  # Qt messages written to the log in one session; after that only counted


class QtMessages:
    """Qt's own messages (``qInstallMessageHandler``): each is kept, appended to ``qt.log`` in
    ``core.child.log_folder()`` (at most KEPT_MESSAGES a session), and printed on stderr as one
    line, once, unless it is known to be harmless (``HARMLESS``): an error of a picture made
    offscreen stays one sentence, and a warning repeated a thousand times is printed once."""

    def __init__(self):
        self.seen: set[str] = set()
        self.count = 0
        self._log = None  # opened at the first message

    def __call__(self, kind, context, message: str) -> None:
        self.count += 1
        self._keep(f"{getattr(kind, 'name', kind)}: {message}")
        if message.startswith(HARMLESS) or message in self.seen:
            return
        self.seen.add(message)
        try:
            print(f"Qt: {message}" if "\n" not in message else f"Qt: {message!r}", file=sys.stderr)
        except (OSError, ValueError):
            pass  # no stderr to write to

    def _keep(self, line: str) -> None:
        if self.count > KEPT_MESSAGES:
            return
        try:
            if self._log is None:
                from core.child import log_folder
                folder = log_folder()
                folder.mkdir(parents=True, exist_ok=True)
                self._log = open(folder / "qt.log", "a", encoding="utf-8",  # noqa: SIM115 (open all session)
                                 errors="backslashreplace")
                self._log.write(f"--- process {os.getpid()}\n")
            self._log.write(line + "\n")
            self._log.flush()
        except (OSError, ValueError):
            self._log = None
            self.count = KEPT_MESSAGES + 1  # no log here: do not try at every message


class Interrupt:
    """Ctrl+C (SIGINT) for a program in Qt's event loop, at any moment. Python runs a signal
    handler only between two instructions of bytecode, which never come while Qt waits; so the
    signal's C handler writes a byte to a socket (``signal.set_wakeup_fd``) that a
    ``QSocketNotifier`` watches, and the event loop wakes at once and calls ``then`` (the
    window's ``interrupt``, then the exit with code 130). The Python handler itself only notes
    the signal: no KeyboardInterrupt is ever raised. Made before Qt is imported, so a Ctrl+C
    during start-up is noted too and acted on as soon as the event loop runs."""

    def __init__(self):
        self.received = False
        self._read, self._write = socket.socketpair()
        for end in (self._read, self._write):
            end.setblocking(False)
        self._old_fd = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        self._old_handler = signal.signal(signal.SIGINT, self._note)
        self._notifier = None

    def _note(self, signum, frame) -> None:
        self.received = True

    def connect(self, then) -> None:
        """Call ``then()`` from the event loop when SIGINT comes (or came already)."""
        from PySide6.QtCore import QSocketNotifier

        def woken() -> None:
            try:
                data = self._read.recv(512)
            except OSError:
                data = b""
            if self.received or bytes([signal.SIGINT]) in data:
                self._notifier.setEnabled(False)  # once: the program is ending
                then()
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(woken)

    def close(self) -> None:
        """Back to how signals were before (SIGINT stays noted, never raised, until exit)."""
        if self._notifier is not None:
            self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._old_fd)
        for end in (self._read, self._write):
            end.close()


def _report_bugs(window):
    """An exception that escapes a slot (a bug) is a dialog with its traceback, kept in a file
    too, instead of a traceback on stderr that nobody sees."""
    from core.child import describe_failure

    def hook(kind, exc, tb) -> None:
        if issubclass(kind, (KeyboardInterrupt, SystemExit)):
            return sys.__excepthook__(kind, exc, tb)
        try:
            window.show_failure(*describe_failure("an action of the window", exc.with_traceback(tb)))
        except Exception:  # noqa: BLE001 (the window itself is broken: at least the traceback)
            sys.__excepthook__(kind, exc, tb)
    sys.excepthook = hook


def main(argv: list[str]) -> int:
    """Open the window, and return its exit code once it is closed: 0, 2 for a bad flag, 130
    after Ctrl+C in the terminal (``MainWindow.interrupt``: the run stops, the network is not
    saved, the settings are)."""
    args = build_parser().parse_args(argv)
    problem = check(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return USER_ERROR
    offscreen = bool(args.screenshot or args.timelapse)
    if offscreen:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif no_display():
        print("error: there is no display to open the window on (neither DISPLAY nor "
              "WAYLAND_DISPLAY is set); to see the window without a screen, run "
              "'python main.py --screenshot window.png'", file=sys.stderr)
        return USER_ERROR
    interrupt = None if offscreen else Interrupt()  # first: a Ctrl+C while Qt loads is noted

    from PySide6.QtCore import QSettings, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from app import files, theme

    messages = QtMessages()
    qInstallMessageHandler(messages)
    app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    theme.configure()
    theme.apply_palette(app)
    from app.window import (  # after configure(): plots take the theme when made
        MainWindow,
        remembered_dataset,
    )

    # the window reads the dataset on a thread: --dataset's, else the one chosen last in its
    # File ▸ Dataset, unless --data names a file without saying of what (MNIST, as it always was);
    # a picture, made with settings of its own, takes MNIST unless told
    if offscreen:
        from app.screenshot import take_pictures
        with tempfile.TemporaryDirectory() as folder:  # a picture must not change the user's settings
            settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.IniFormat)
            window = MainWindow(settings, args.data, args.limit, process=not args.thread,
                                dataset=args.dataset or "mnist")
            window.confirm_discard = False  # nobody is there to answer: the network is in the picture
            return take_pictures(app, window, args)
    # the settings file is looked at before QSettings reads it (a FIFO would block it for ever);
    # the scratch folder holds a copy of a linked one, or the defaults of one that cannot be read
    with tempfile.TemporaryDirectory(prefix=f"{APP_NAME}-") as scratch:
        settings, note = files.open_settings(files.default_settings_path(APP_NAME, APP_NAME), scratch)
        window = MainWindow(settings, args.data, args.limit, process=not args.thread,
                            dataset=args.dataset or ("mnist" if args.data else remembered_dataset(settings)),
                            settings_note=note)
        _report_bugs(window)
        if args.preset:
            window.form.preset.setCurrentText(args.preset)
        if args.open:  # once the dataset is there (the first time only): opening a model makes a trainer on it
            if window.data is not None:
                window.open_model(args.open)
            else:
                def open_once() -> None:
                    window.data_ready.disconnect(open_once)
                    window.open_model(args.open)
                window.data_ready.connect(open_once)

        def interrupted() -> None:
            window.interrupt()
            app.exit(INTERRUPTED)
        interrupt.connect(interrupted)
        window.show()
        code = app.exec()
        if interrupt.received:  # (also if the window was closed just before)
            code = INTERRUPTED
        interrupt.close()
        sys.excepthook = sys.__excepthook__
        settings.sync()  # written now, while the scratch folder is still there: nothing is left to write
        return code
