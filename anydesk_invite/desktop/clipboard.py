"""The local clipboard, through Qt's clipboard (QtGui)."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication

from anydesk_invite.core.signal import Signal


class QtClipboard:
    """Signals: changed (str: the clipboard's new text, also after set_text)."""

    def __init__(self) -> None:
        self.changed: Signal[str] = Signal("clipboard.changed")
        self._clipboard = QGuiApplication.clipboard()
        self._clipboard.dataChanged.connect(self._data_changed)

    def text(self) -> str:
        return self._clipboard.text()

    def set_text(self, text: str) -> None:
        self._clipboard.setText(text)

    def _data_changed(self) -> None:
        self.changed.emit(self._clipboard.text())
