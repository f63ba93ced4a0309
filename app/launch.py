"""``python main.py``: open the window (``--open FILE`` with a saved model in it), or make
pictures of it without a screen: ``--screenshot PNG`` and ``--timelapse GIF`` (``app.screenshot``).
``dispatch`` is the whole command line, of ``main.py`` and of the installed ``watch-it-learn``."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from pathlib import Path

from core.commandline import USER_ERROR, Parser

APP_NAME = "watch-it-learn"
COMMANDS = {"train", "evaluate", "predict", "compare", "-h", "--help"}  # everything else opens the window


def dispatch(argv: list[str] | None = None) -> int:
    """Hand the command line over: a command to ``app.cli`` (which loads no Qt, so it starts
    fast), anything else to the window (``main``); 'window --help' lists the window's options.
    ``python main.py`` runs this, and so does the installed command (pyproject.toml)."""
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


# Qt's offscreen platform says so whenever a window is shown; nothing is wrong (as pytest.ini says).
OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints"


def _offscreen_message(kind, context, message: str) -> None:
    """Qt's messages on stderr as Qt prints them, less the offscreen platform's noise: an error
    of a picture made offscreen stays one sentence."""
    if not message.startswith(OFFSCREEN_NOISE):
        print(message, file=sys.stderr)


def main(argv: list[str]) -> int:
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

    from PySide6.QtCore import QSettings, QTimer, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from app import theme

    if offscreen:
        qInstallMessageHandler(_offscreen_message)
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
    settings = QSettings()
    window = MainWindow(settings, args.data, args.limit, process=not args.thread,
                        dataset=args.dataset or ("mnist" if args.data else remembered_dataset(settings)))
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
    window.show()
    # Ctrl+C in the terminal closes the window as its own Close does: the run stops, the settings
    # are kept, the training process ends. Python sees a signal only when it runs, so a timer
    # lets it run now and then while Qt waits.
    signal.signal(signal.SIGINT, lambda *_: window.close())
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(200)
    return app.exec()
