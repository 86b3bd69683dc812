"""File transfer inside a session, behind the FILE_TRANSFER permission.

A guest offers a file (FileOffer) and the host takes it on its own while the permission is
granted, saving it in its incoming folder; a host offers a file and the guest lists the offers
and fetches one (FileAccept). The host checks every guest message against the session's current
permissions. Data travels in chunks of at most FILE_CHUNK_MAX bytes with at most WINDOW
unacknowledged bytes in flight, so a control message queued behind file data waits for at most
that much; the receiver acknowledges chunks as they arrive while its disk keeps up
(DISK_AHEAD). The receiver writes to a temporary name in its folder, checks the SHA-256 the
sender computed while reading against its own and only then gives the file its final name; any
failure removes the partial file.

Disk work runs in one long-lived thread per transfer (file_io.py): the event loop only moves
chunks between the thread and the channel, never waits for a disk or a hash. This module is
the Feature the session service sees; the sending side is file_sending.py, the receiving side
file_receiving.py, what both share transfer_book.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.wire import (
    FileAccept,
    FileAck,
    FileCancel,
    FileChunk,
    FileDone,
    FileOffer,
    FileRefused,
    FileSaved,
    Message,
)
from anydesk_invite.services.sessions.file_io import CHUNK
from anydesk_invite.services.sessions.file_receiving import Receiving
from anydesk_invite.services.sessions.file_sending import Sending
from anydesk_invite.services.sessions.transfer_book import (
    ACK_EVERY,
    DISK_AHEAD,
    FILE_MESSAGES,
    PERMISSION_REVOKED,
    WINDOW,
    short,
)
from anydesk_invite.services.views import TransferDirection, TransferState, TransferView

if TYPE_CHECKING:
    from anydesk_invite.services.sessions.session import Session

__all__ = [
    "ACK_EVERY",
    "CHUNK",
    "DISK_AHEAD",
    "PERMISSION_REVOKED",
    "WINDOW",
    "FileTransfers",
    "TransferDirection",
    "TransferState",
    "TransferView",
]


class FileTransfers(Sending, Receiving):
    """Every transfer of every session on this device.

    Signals: changed (TransferView: a new transfer, progress, or its end), view_changed
    (Session; never emitted: transfers have views of their own).
    """

    name = "files"
    permission: Permission | None = Permission.FILE_TRANSFER
    from_guest: tuple[type[Message], ...] = FILE_MESSAGES
    from_host: tuple[type[Message], ...] = FILE_MESSAGES
    refusal_interval = 0.0

    def gated(self, msg: Message) -> bool:
        """Everything but a cancel or a refusal needs FILE_TRANSFER: a transfer can always end."""
        return not isinstance(msg, FileCancel | FileRefused)

    def refusal(self, session: Session, msg: Message) -> tuple[str, Message | None]:
        tid = getattr(msg, "transfer_id", b"")
        t = self._transfers.get(tid)
        if t is not None and t.state.final:
            return type(msg).__name__, None
        return type(msg).__name__, FileRefused(tid, "not_permitted", "not permitted: file transfer")

    async def started(self, session: Session) -> None:
        pass

    async def handle(self, session: Session, msg: Message) -> None:
        """One file message from the session's peer (from a guest, only what the service's
        gate let through)."""
        tid = getattr(msg, "transfer_id", b"")
        t = self._transfers.get(tid)
        if t is not None and t.session is not session:
            t = None
        match msg:
            case FileOffer():
                await self._offered(session, msg, t)
            case FileAccept():
                await self._accepted(session, t, tid)
            case FileChunk():
                await self._chunk(session, msg, t)
            case FileAck():
                if t is not None and t.direction is TransferDirection.SEND and not t.state.final:
                    t.acked = max(t.acked, min(msg.offset, t.size))
                    t.done = t.acked
                    t.acked_event.set()
                    self._progressed(t)
            case FileDone():
                if t is not None and t.direction is TransferDirection.RECEIVE:
                    if t.state is TransferState.RUNNING and t.writer is not None:
                        t.sha256 = msg.sha256
                        t.writer.finish()
            case FileSaved():
                if t is not None and t.direction is TransferDirection.SEND:
                    if t.state is TransferState.RUNNING:
                        t.done = t.size
                        self._finish(t, TransferState.DONE, "")
            case FileCancel():
                if t is not None and not t.state.final:
                    said = "".join(c for c in msg.reason if c.isprintable())
                    self._finish(t, TransferState.CANCELLED, short(f"the peer cancelled: {said}"))
            case FileRefused():
                if t is not None and not t.state.final:
                    said = "".join(c for c in msg.reason if c.isprintable())
                    self._finish(t, TransferState.FAILED, short(f"the peer refused: {said}"))
