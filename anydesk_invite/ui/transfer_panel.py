"""File transfers of one session, for the guest's session window and the host's Accept Window:
Send file… (guest) or Offer file… (host), a progress bar and Cancel per transfer, Fetch for
the host's offers on the guest."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QCoreApplication, QLocale, QMimeData, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from anydesk_invite.core.alias import escape_invisible
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.signal import Signal as CoreSignal
from anydesk_invite.services.facade import ActionRefused
from anydesk_invite.services.views import Role, TransferDirection, TransferState, TransferView
from anydesk_invite.ui.qt_loop import asyncSlot

STEPS = 1000
"""Progress bars count in thousandths: QProgressBar takes 32-bit ints, files can be larger."""
RATE_AFTER = 1.0
"""Seconds of a running transfer before its speed and time left are shown (steadier)."""


class Transfers(Protocol):
    """What the panel asks of the client (services.client.Client has these)."""

    transfer_changed: CoreSignal[TransferView]

    def transfers(self, session_id: str | None = None) -> list[TransferView]: ...
    async def send_file(self, session_id: str, path: str) -> TransferView: ...
    async def fetch_file(self, session_id: str, transfer_id: str) -> TransferView: ...
    async def cancel_transfer(
        self, transfer_id: str, reason: str = "cancelled"
    ) -> TransferView: ...


def choose_file_dialog(parent: QWidget) -> str | None:
    path, _ = QFileDialog.getOpenFileName(
        parent, QCoreApplication.translate("TransferPanel", "Choose a file to send")
    )
    return path or None


@dataclass
class _Row:
    widget: QWidget
    label: QLabel
    bar: QProgressBar
    cancel: QPushButton
    fetch: QPushButton | None
    show_folder: QPushButton | None = None
    started: tuple[float, int] | None = None
    """(when, bytes done) at the first running view: the speed is measured from there."""


def local_files(mime: QMimeData) -> list[str]:
    """The local files (not folders) among dragged or dropped URLs."""
    return [
        url.toLocalFile()
        for url in mime.urls()
        if url.isLocalFile() and Path(url.toLocalFile()).is_file()
    ]


def size_text(n: int) -> str:
    """A size as people read it, in the user's language: "1.5 MB", "1,5 MB"."""
    return QLocale().formattedDataSize(n, 1, QLocale.DataSizeFormat.DataSizeSIFormat)


def time_left_text(seconds: float) -> str:
    s = max(1, round(seconds))
    if s < 60:
        return QCoreApplication.translate("TransferPanel", "{n} s left").format(n=s)
    if s < 3600:
        return QCoreApplication.translate("TransferPanel", "{n} min left").format(n=round(s / 60))
    return QCoreApplication.translate("TransferPanel", "{h} h {m} min left").format(
        h=s // 3600, m=s % 3600 // 60
    )


def _state_text(v: TransferView, rate: float | None = None) -> str:
    """The row's line; ``rate`` in bytes a second once it is known."""
    arrow = "↑" if v.direction is TransferDirection.SEND else "↓"
    if v.state is TransferState.DONE:
        text = QCoreApplication.translate("TransferPanel", "{name}: done ({size})")
    elif v.state is TransferState.FAILED:
        # The reason comes from the client in English.
        text = QCoreApplication.translate("TransferPanel", "{name}: failed — {reason}")
    elif v.state is TransferState.CANCELLED:
        text = QCoreApplication.translate("TransferPanel", "{name}: cancelled — {reason}")
    elif v.state is TransferState.OFFERED:
        text = QCoreApplication.translate("TransferPanel", "{name} ({size}) offered")
    elif rate:
        text = QCoreApplication.translate(
            "TransferPanel", "{name}: {done} of {size} — {rate}/s, {left}"
        )
    else:
        text = QCoreApplication.translate("TransferPanel", "{name}: {done} of {size}")
    return f"{arrow} " + text.format(
        name=escape_invisible(v.name),
        reason=v.reason,
        size=size_text(v.size),
        done=size_text(v.done),
        rate=size_text(round(rate or 0)),
        left=time_left_text((v.size - v.done) / rate) if rate else "",
    )


class DropsToTransferPanel:
    """For a window with a transfer panel: files dropped anywhere on it go to the panel (sent
    or offered). Put it before QWidget in the window's bases."""

    transfer_panel: TransferPanel | None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        panel = self.transfer_panel
        if panel is not None and panel.accepts(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        panel = self.transfer_panel
        if panel is not None and panel.drop(event.mimeData()):
            event.acceptProposedAction()


class TransferPanel(QWidget):
    """The transfers of one session, live from the client's transfer_changed signal."""

    grown = Signal()
    """A row or a message was added: the window around may need more height."""

    def __init__(
        self,
        client: Transfers,
        session_id: str,
        role: Role,
        choose_file: Callable[[QWidget], str | None] = choose_file_dialog,
        parent: QWidget | None = None,
        clock: Callable[[], float] = time.monotonic,
        open_url: Callable[[QUrl], object] = QDesktopServices.openUrl,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("transferPanel")
        self._client = client
        self._clock = clock
        self._open_url = open_url
        self._session_id = session_id
        self._role = role
        self._choose_file = choose_file
        self._rows: dict[str, _Row] = {}
        if role is Role.GUEST:
            label, name = self.tr("Send file…"), self.tr("Send file")
        else:
            label, name = self.tr("Offer file…"), self.tr("Offer file")
        self.send_button = QPushButton(label, self)
        self.send_button.setObjectName("sendFileButton")
        self.send_button.setAccessibleName(name)
        self.send_button.clicked.connect(self._send)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("transferError")
        self.error_label.setWordWrap(True)
        self._list = QVBoxLayout()
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.send_button)
        box.addWidget(self.error_label)
        box.addLayout(self._list)
        for view in client.transfers(session_id):
            self.show_transfer(view)
        client.transfer_changed.connect(self.show_transfer)

    def set_permissions(self, permissions: frozenset[Permission]) -> None:
        allowed = Permission.FILE_TRANSFER in permissions
        self.send_button.setEnabled(allowed)
        self.send_button.setToolTip("" if allowed else self.tr("File transfer is not granted"))

    # --- files dropped on the window, which forwards them here (DropsToTransferPanel) -------

    def accepts(self, mime: QMimeData) -> bool:
        """Whether dropping these would send something: local files, and the permission."""
        return self.send_button.isEnabled() and bool(local_files(mime))

    def drop(self, mime: QMimeData) -> bool:
        """Send (guest) or offer (host) each dropped local file; False when nothing goes."""
        if not self.accepts(mime):
            return False
        for path in local_files(mime):
            self._send_path(path)
        return True

    def detach(self) -> None:
        """Stop following the client (the window closes)."""
        self._client.transfer_changed.disconnect(self.show_transfer)

    def show_transfer(self, view: TransferView) -> None:
        if view.session_id != self._session_id:
            return
        row = self._rows.get(view.transfer_id) or self._add_row(view)
        row.label.setText(_state_text(view, self._rate(row, view)))
        row.bar.setValue(STEPS if view.size == 0 else view.done * STEPS // view.size)
        if view.state is TransferState.DONE:
            row.bar.setValue(STEPS)
        row.cancel.setVisible(not view.state.final)
        if row.fetch is not None:
            row.fetch.setVisible(view.state is TransferState.OFFERED)
        if row.show_folder is not None:
            row.show_folder.setVisible(view.state is TransferState.DONE and bool(view.path))

    def _rate(self, row: _Row, view: TransferView) -> float | None:
        """Bytes a second since the transfer started running, once RATE_AFTER has passed."""
        if view.state is not TransferState.RUNNING:
            return None
        now = self._clock()
        if row.started is None:
            row.started = (now, view.done)
            return None
        since, done = row.started
        if now - since < RATE_AFTER or view.done <= done:
            return None
        return (view.done - done) / (now - since)

    def progress_bar(self, transfer_id: str) -> QProgressBar:
        return self._rows[transfer_id].bar

    def _add_row(self, view: TransferView) -> _Row:
        tid = view.transfer_id
        widget = QWidget(self)
        label = QLabel(widget)
        label.setObjectName(f"transferLabel_{tid}")
        bar = QProgressBar(widget)
        bar.setObjectName(f"transferProgress_{tid}")
        bar.setRange(0, STEPS)
        bar.setTextVisible(False)
        shown = escape_invisible(view.name)
        bar.setAccessibleName(self.tr("Progress of {name}").format(name=shown))
        cancel = QPushButton(self.tr("Cancel"), widget)
        cancel.setObjectName(f"transferCancel_{tid}")
        cancel.setAccessibleName(self.tr("Cancel {name}").format(name=shown))
        cancel.clicked.connect(lambda: self._cancel(tid))
        fetch: QPushButton | None = None
        line = QHBoxLayout()
        line.addWidget(bar, 1)
        if view.direction is TransferDirection.RECEIVE and self._role is Role.GUEST:
            fetch = QPushButton(self.tr("Fetch"), widget)
            fetch.setObjectName(f"transferFetch_{tid}")
            fetch.setAccessibleName(self.tr("Fetch {name}").format(name=shown))
            fetch.clicked.connect(lambda: self._fetch(tid))
            line.addWidget(fetch)
        show_folder: QPushButton | None = None
        if view.direction is TransferDirection.RECEIVE:
            show_folder = QPushButton(self.tr("Show in folder"), widget)
            show_folder.setObjectName(f"transferShowFolder_{tid}")
            show_folder.setAccessibleName(self.tr("Show {name} in its folder").format(name=shown))
            show_folder.setVisible(False)
            show_folder.clicked.connect(lambda: self._show_folder(tid))
            line.addWidget(show_folder)
        line.addWidget(cancel)
        box = QVBoxLayout(widget)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(label)
        box.addLayout(line)
        self._list.addWidget(widget)
        row = _Row(widget, label, bar, cancel, fetch, show_folder)
        self._rows[tid] = row
        self.grown.emit()
        return row

    async def _attempt(self, call: Callable[[], Awaitable[object]]) -> None:
        self.error_label.clear()
        try:
            await call()
        except ActionRefused as exc:
            self.error_label.setText(str(exc))
            self.grown.emit()

    def _show_folder(self, transfer_id: str) -> None:
        saved = next(
            (
                v.path
                for v in self._client.transfers(self._session_id)
                if v.transfer_id == transfer_id
            ),
            "",
        )
        if saved:
            self._open_url(QUrl.fromLocalFile(str(Path(saved).parent)))

    @asyncSlot()
    async def _send(self) -> None:
        path = self._choose_file(self)
        if path is not None:
            await self._attempt(lambda: self._client.send_file(self._session_id, path))

    @asyncSlot(str)
    async def _send_path(self, path: str) -> None:
        await self._attempt(lambda: self._client.send_file(self._session_id, path))

    @asyncSlot(str)
    async def _cancel(self, transfer_id: str) -> None:
        await self._attempt(lambda: self._client.cancel_transfer(transfer_id))

    @asyncSlot(str)
    async def _fetch(self, transfer_id: str) -> None:
        await self._attempt(lambda: self._client.fetch_file(self._session_id, transfer_id))
