"""The local clipboard, through Qt's clipboard (QtGui)."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication


class QtClipboard:
    def text(self) -> str:
        return QGuiApplication.clipboard().text()

    def set_text(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
