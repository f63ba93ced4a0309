"""``python main.py [--screenshot PNG]``: open the window, or make a picture of it without a screen."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from core.cli import USER_ERROR, Parser

APP_NAME = "watch-it-learn"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="main.py", description="Open the window. Commands without a window: "
                    "'main.py train', 'main.py evaluate' (see 'main.py --help').")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="train offscreen, select a neuron and save a picture of the whole window")
    parser.add_argument("--epochs", type=int, help="epochs to train for --screenshot (default: 1)")
    parser.add_argument("--preset", choices=("classic", "fast"), help="the preset to start from")
    parser.add_argument("--data", metavar="PATH", help="MNIST as a Keras-style .npz or a folder of IDX files")
    parser.add_argument("--limit", type=int, metavar="N", help="use only the first N training and test images")
    return parser


def no_display() -> bool:
    """True on Linux and the BSDs when Qt has nowhere to draw: no X, no Wayland, no platform chosen."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return False
    return not any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    for flag in ("epochs", "limit"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            print(f"error: --{flag} must be at least 1, got {value}", file=sys.stderr)
            return USER_ERROR
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif no_display():
        print("error: there is no display to open the window on (neither DISPLAY nor "
              "WAYLAND_DISPLAY is set); to see the window without a screen, run "
              "'python main.py --screenshot window.png'", file=sys.stderr)
        return USER_ERROR

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app import theme

    app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    theme.configure()
    theme.apply_palette(app)
    from app.window import (
        MainWindow,  # after configure(): plots take the theme when made
    )

    if args.screenshot:
        from app.screenshot import take_screenshot
        with tempfile.TemporaryDirectory() as folder:  # a picture must not change the user's settings
            settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.IniFormat)
            window = MainWindow(settings, args.data, args.limit)
            return take_screenshot(app, window, args.screenshot, args.epochs or 1, args.preset)
    window = MainWindow(QSettings(), args.data, args.limit)
    if args.preset:
        window.form.preset.setCurrentText(args.preset)
    window.show()
    return app.exec()
