"""The window's files as a desktop program keeps them: its settings file, File → Open Recent,
the folder the last dialog was in, and the question before a trained network that is not saved
would be lost.

The settings are a QSettings file, and a file anyone may have edited: every remembered value is
read through one function, ``read_setting``, which checks its type and range against
``SETTINGS`` and gives the default instead of anything else (``read_settings`` reads them all
at start and names what it ignored, for the status bar). Before QSettings reads the file,
``open_settings`` looks at it: QSettings would block for ever on a FIFO and read a device
without end, so anything but a regular file (or a missing one) is not read, the window starts
with the defaults and does not save them; a file larger than MAX_SETTINGS_BYTES is not read
either. A symbolic link is read but never written through: its settings are copied into a
temporary file and the window works on the copy, so what the window changes is lost at exit
(rather than the link being replaced by a file, or a file elsewhere being changed).
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from core.errors import UserError
from core.npzio import check_readable_file, open_regular

RECENT_KEY = "files/recent"
FOLDER_KEY = "files/last_folder"
MAX_RECENT = 8
MAX_PATH = 4096  # characters of a remembered path: PATH_MAX on Linux
MAX_SETTINGS_BYTES = 1 << 20  # the window's settings file is a few kilobytes
MAX_BLOB = 1 << 16  # bytes of the saved geometry or dock state (Qt's are a few hundred)
MAX_JSON = 1 << 16  # characters of the saved training settings


# --- the settings file ------------------------------------------------------------------------


def default_settings_path(organization: str, application: str) -> str | None:
    """The file ``QSettings()`` would use on Linux and the BSDs (found without making one, which
    reads the file), or None where the settings are not a file of that kind (Windows' registry,
    macOS's property lists)."""
    if sys.platform == "win32" or sys.platform == "darwin":
        return None
    folder = QStandardPaths.writableLocation(QStandardPaths.GenericConfigLocation)
    return os.path.join(folder, organization, f"{application}.conf")


def open_settings(path: str | None, scratch: str) -> tuple[QSettings, str]:
    """The QSettings of the file ``path`` (None: the platform's own, ``QSettings()``), and a
    sentence for the status bar if it is not used as it is, else "". ``scratch`` is a folder
    that outlives the settings: where a copy is kept when the file itself must not be written
    (a symbolic link's), or an empty file when it cannot be read (a FIFO, a device, a folder, a
    file that is unreadable or too large)."""
    if path is None:
        return QSettings(), ""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return QSettings(path, QSettings.NativeFormat), ""  # the first start: made on saving
    except OSError as exc:
        return _scratch(scratch), (f"The settings file '{path}' cannot be read ({exc.strerror or exc}): "
                                   f"the window starts with the default settings and does not save them.")
    link = stat.S_ISLNK(mode)
    try:
        check_readable_file(Path(path), "the settings file")
        size = os.stat(path).st_size
        if size > MAX_SETTINGS_BYTES:
            raise UserError(f"the settings file '{path}' is {size / 2**20:.0f} MiB, more than the "
                            f"{MAX_SETTINGS_BYTES // 2**20} MiB a settings file may be")
    except UserError as exc:
        where = " (a symbolic link)" if link else ""
        return _scratch(scratch), (f"{_capital(str(exc))}{where}: the window starts with the default "
                                   f"settings and does not save them.")
    if not link:
        return QSettings(path, QSettings.NativeFormat), ""
    copy = os.path.join(scratch, "settings.conf")
    try:
        with open_regular(Path(path), "the settings file") as source, open(copy, "wb") as target:
            shutil.copyfileobj(source, target)
    except (UserError, OSError) as exc:
        return _scratch(scratch), (f"The settings file '{path}' (a symbolic link) cannot be read "
                                   f"({exc}): the window starts with the default settings and does not save them.")
    return QSettings(copy, QSettings.NativeFormat), (
        f"The settings file '{path}' is a symbolic link: its settings are read, but what changes is "
        f"not saved (a settings file is never written through a link).")


def _scratch(folder: str) -> QSettings:
    return QSettings(os.path.join(folder, "defaults.conf"), QSettings.NativeFormat)


def _capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


# --- reading a setting ------------------------------------------------------------------------


def _bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError


def _blob(value):
    if isinstance(value, (QByteArray, bytes, bytearray)) and 0 < len(value) <= MAX_BLOB:
        return QByteArray(bytes(value))
    raise ValueError


def _path(value) -> str:
    if isinstance(value, str) and 0 < len(value) <= MAX_PATH and value.isprintable():
        return value
    raise ValueError


def _paths(value) -> list[str]:
    if isinstance(value, str):  # QSettings gives a one-item list back as a string
        value = [value]
    if not isinstance(value, list) or len(value) > 10 * MAX_RECENT:
        raise ValueError
    return [_path(p) for p in value][:MAX_RECENT]


def _json_object(value) -> dict:
    """The saved training settings: a JSON object of at most MAX_JSON characters. A structure
    nested too deep for the parser is refused like any other damage (RecursionError)."""
    if not isinstance(value, str) or len(value) > MAX_JSON:
        raise ValueError
    try:
        parsed = json.loads(value)
    except RecursionError:
        raise ValueError from None
    if not isinstance(parsed, dict):
        raise ValueError  # noqa: TRY004 (read_setting takes ValueError as "not valid", whatever the fault)
    return parsed


def _dataset(value) -> str:
    from core.data import DATASETS
    if isinstance(value, str) and value in DATASETS:
        return value
    raise ValueError


def _frame_ms(value) -> int:
    from app.timelapse import MAX_FRAME_MS, MIN_FRAME_MS
    number = int(value) if isinstance(value, str) and value.strip().isdigit() and len(value) < 10 else value
    if isinstance(number, int) and not isinstance(number, bool) and MIN_FRAME_MS <= number <= MAX_FRAME_MS:
        return number
    raise ValueError


def _target(value) -> str:
    from app.timelapse import TARGETS
    if isinstance(value, str) and value in TARGETS:
        return value
    raise ValueError


# Every setting the window keeps: key -> (the name the status bar gives it, the check that
# turns a stored value into a valid one or raises ValueError, the default).
SETTINGS = {
    "geometry": ("geometry", _blob, None),
    "state": ("layout", _blob, None),
    "training": ("training settings", _json_object, None),
    "hints/first_run_done": ("first-run hint", _bool, False),
    "data/dataset": ("dataset", _dataset, "mnist"),
    RECENT_KEY: ("recent files", _paths, []),
    FOLDER_KEY: ("last folder", _path, ""),
    "timelapse/target": ("time-lapse target", _target, "window"),
    "timelapse/frame_ms": ("time-lapse frame duration", _frame_ms, None),
}


def read_setting(settings: QSettings, key: str, invalid: list[str] | None = None):
    """The setting ``key`` of ``SETTINGS``, checked: its default if it is missing or not what it
    should be (and then, if ``invalid`` is given, its name appended to it). Never raises."""
    name, check, default = SETTINGS[key]
    try:
        value = settings.value(key)
    except Exception:  # noqa: BLE001 (a value Qt cannot turn into Python: damage, like any other)
        value = ...
    if value is None:
        return default
    try:
        if value is ...:
            raise ValueError
        return check(value)
    except (ValueError, TypeError, OverflowError):
        if invalid is not None and name not in invalid:
            invalid.append(name)
        return default


def read_settings(settings: QSettings) -> tuple[dict, list[str]]:
    """Every setting of ``SETTINGS``, checked (``read_setting``), and the names of those that
    were ignored. An ignored value is removed from the settings, so that nothing else (the
    time-lapse dialog) reads it later and it is not saved again."""
    invalid: list[str] = []
    values = {}
    for key in SETTINGS:
        before = len(invalid)
        values[key] = read_setting(settings, key, invalid)
        if len(invalid) > before:
            settings.remove(key)
    return values, invalid


def ignored_sentence(names: list[str]) -> str:
    """'Ignored 2 invalid settings: seed, geometry.' for the status bar, or ""."""
    if not names:
        return ""
    return f"Ignored {len(names)} invalid setting{'s' if len(names) > 1 else ''}: {', '.join(names)}."


class RecentFiles:
    """The models last opened or saved, newest first, at most MAX_RECENT."""

    def __init__(self, settings: QSettings):
        self.settings = settings

    def paths(self) -> list[str]:
        return read_setting(self.settings, RECENT_KEY)

    def add(self, path: str) -> None:
        path = os.path.abspath(path)
        self._set([path, *(p for p in self.paths() if p != path)])

    def remove(self, path: str) -> None:
        self._set([p for p in self.paths() if p != os.path.abspath(path)])

    def clear(self) -> None:
        self._set([])

    def _set(self, paths: list[str]) -> None:
        self.settings.setValue(RECENT_KEY, paths[:MAX_RECENT])
        self.settings.sync()

    def fill(self, menu: QMenu, open_path) -> None:
        """Make ``menu`` list the files (Alt+1 … on the first nine), each opening through
        ``open_path(path)``, then Clear."""
        menu.clear()
        paths = self.paths()
        for i, path in enumerate(paths):
            action = QAction(f"&{i + 1} {os.path.basename(path)}", menu)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: open_path(p))
            menu.addAction(action)
        if not paths:
            menu.addAction("No recent files").setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("&Clear the list")
        clear.setEnabled(bool(paths))
        clear.triggered.connect(self.clear)


def last_folder(settings: QSettings) -> str:
    """Where the next file dialog opens: the folder of the last file chosen in one, if it still
    exists, else the current folder."""
    folder = read_setting(settings, FOLDER_KEY)
    return folder if folder and os.path.isdir(folder) else os.getcwd()


def remember_folder(settings: QSettings, path: str) -> None:
    settings.setValue(FOLDER_KEY, os.path.dirname(os.path.abspath(path)))


def in_last_folder(settings: QSettings, name: str) -> str:
    """A file name suggested by a save dialog, in the last folder."""
    return os.path.join(last_folder(settings), name)


SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


def ask_to_save(parent: QWidget, what: str, name: str) -> str:
    """Save, Discard or Cancel, asked before ``what`` ("Reset", "Open", "New", "Quit") throws
    away the trained network ``name`` that is not saved."""
    box = QMessageBox(QMessageBox.Warning, "Unsaved network",
                      f"The network {name} has trained since it was last saved.",
                      QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, parent)
    box.setInformativeText(f"Save it before {what.lower()}? Discarding loses its weights and the "
                           "history of its training.")
    box.setDefaultButton(QMessageBox.Save)
    box.setEscapeButton(QMessageBox.Cancel)
    box.setObjectName("unsaved_question")
    answer = box.exec()
    return {QMessageBox.Save: SAVE, QMessageBox.Discard: DISCARD}.get(QMessageBox.StandardButton(answer),
                                                                      CANCEL)
