"""The window's files as a desktop program keeps them: File → Open Recent, the folder the last
dialog was in, and the question before a trained network that is not saved would be lost.

Both lists live in the window's QSettings, so they survive a restart.
"""
from __future__ import annotations

import os

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

RECENT_KEY = "files/recent"
FOLDER_KEY = "files/last_folder"
MAX_RECENT = 8


class RecentFiles:
    """The models last opened or saved, newest first, at most MAX_RECENT."""

    def __init__(self, settings: QSettings):
        self.settings = settings

    def paths(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):  # QSettings gives a one-item list back as a string
            value = [value]
        return [p for p in value if isinstance(p, str) and p][:MAX_RECENT] if isinstance(value, list) else []

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
    folder = settings.value(FOLDER_KEY, "")
    return folder if isinstance(folder, str) and os.path.isdir(folder) else os.getcwd()


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
