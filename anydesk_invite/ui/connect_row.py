"""The main window's Connect field: an ID, an alias or a pasted connect link, completed from the
peers in view, checked before anything is sent, with the reason shown under it."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from anydesk_invite.core.alias import AliasError, parse_alias
from anydesk_invite.core.email_invite import LINK_SCHEME, ConnectLinkError, parse_connect_link
from anydesk_invite.core.ids import IdError, looks_like_id, parse_id
from anydesk_invite.services.views import PeerView
from anydesk_invite.ui.icons import icon
from anydesk_invite.ui.styles import ERROR_STYLE


class ConnectRow(QWidget):
    """Signals: connectRequested(str) with ID digits or an alias; connectLinkRequested(str, str)
    with the device ID (digits) and the key fingerprint (hex) a pasted link names."""

    connectRequested = Signal(str)
    connectLinkRequested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectRow")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        row = QHBoxLayout()
        self.connect_edit = QLineEdit()
        self.connect_edit.setObjectName("connectEdit")
        self.connect_edit.setAccessibleName(self.tr("ID or alias to connect to"))
        self.connect_edit.setPlaceholderText(self.tr("Enter an ID or alias (name@ad) to connect"))
        self.connect_edit.setClearButtonEnabled(True)
        self._completions = QStringListModel(self)
        completer = QCompleter(self._completions, self)
        completer.setObjectName("connectCompleter")
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.connect_edit.setCompleter(completer)
        self.connect_edit.returnPressed.connect(self._on_connect)
        self.connect_edit.textEdited.connect(lambda _t: self.connect_error.hide())
        row.addWidget(self.connect_edit, 1)
        self.connect_button = QPushButton(self.tr("Connect"))
        self.connect_button.setObjectName("connectButton")
        self.connect_button.setAccessibleName(self.tr("Connect"))
        self.connect_button.setIcon(icon("connect"))
        self.connect_button.clicked.connect(self._on_connect)
        row.addWidget(self.connect_button)
        column.addLayout(row)
        self.connect_error = QLabel()
        self.connect_error.setObjectName("connectError")
        self.connect_error.setAccessibleName(self.tr("Connect error"))
        self.connect_error.setStyleSheet(ERROR_STYLE)
        self.connect_error.hide()
        column.addWidget(self.connect_error)

    def offer(self, peers: Iterable[PeerView]) -> None:
        """Complete what is typed from these peers' aliases and IDs."""
        words: list[str] = []
        for p in peers:
            if p.alias:
                words.append(p.alias)
            words.append(p.device_id.grouped())
        self._completions.setStringList(sorted(set(words), key=str.casefold))

    def completions(self) -> list[str]:
        return list(self._completions.stringList())

    def _on_connect(self) -> None:
        text = self.connect_edit.text().strip()
        if text.lower().startswith(LINK_SCHEME + ":"):
            try:
                device_id, fingerprint = parse_connect_link(text)
            except ConnectLinkError as e:
                self.connect_error.setText(str(e))
                self.connect_error.show()
                return
            self.connect_error.hide()
            self.connect_edit.setText(device_id.grouped())
            self.connectLinkRequested.emit(device_id.digits, fingerprint.hex())
            return
        try:
            if not text:
                raise ValueError(self.tr("enter an ID or an alias"))
            target = parse_id(text).digits if looks_like_id(text) else str(parse_alias(text))
        except (IdError, AliasError, ValueError) as e:
            self.connect_error.setText(str(e))
            self.connect_error.show()
            return
        self.connect_error.hide()
        self.connectRequested.emit(target)
