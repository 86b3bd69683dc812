"""What every file transfer shares: the transfers of all sessions and their views, the flow
control constants, and how a transfer fails or finishes. files.py puts the sending side
(file_sending.py) and the receiving side (file_receiving.py) together behind the Feature."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from anydesk_invite.core.clock import Clock
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.channel import ChannelClosed
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
from anydesk_invite.services.refusals import RefusalKind, RefusedWithKind
from anydesk_invite.services.sessions.file_io import (
    CHUNK,
    FileReader,
    FileWriter,
)
from anydesk_invite.services.views import TransferDirection, TransferState, TransferView
from anydesk_invite.storage.home import default_incoming_folder

if TYPE_CHECKING:
    from anydesk_invite.services.sessions.session import Session

_log = logging.getLogger(__name__)

FILE_MESSAGES = (
    FileOffer,
    FileAccept,
    FileChunk,
    FileAck,
    FileDone,
    FileSaved,
    FileCancel,
    FileRefused,
)
WINDOW = 4 * CHUNK
"""Bytes sent but not yet acknowledged; bounds the data ahead of any control message.

The receiver acknowledges data as it takes it off the wire, so the window counts only bytes
on their way, not bytes waiting for the disk."""
ACK_EVERY = 3 * CHUNK
"""The receiver acknowledges once this much (or the end of the file) arrived unacknowledged.

Three of the window's four chunks, by measurement (bench/transfer.py): each FileAck costs
both event loops a message, and a third fewer of them made transfers 6-10 % faster than
acknowledging every two chunks, while the window, and so the wait of a control message behind
file data, stayed the same (bench/input_latency.py p99 9-12 ms)."""
DISK_AHEAD = 8 * CHUNK
"""Received bytes the receiver holds for its writer thread at most before it stops
acknowledging; with WINDOW it bounds a receiving transfer's memory."""
PROGRESS_INTERVAL = 0.05
"""Progress reports a transfer makes at most: 20 a second are smooth and cost nothing."""
DEFAULT_SIZE_LIMIT = 4 * 1024**3
MAX_ACTIVE_PER_SESSION = 8
MAX_OFFERS_PER_SESSION = 64
HISTORY = 200
REASON_MAX = 200
PERMISSION_REVOKED = "the file transfer permission was revoked"


def short(text: str) -> str:
    return text[:REASON_MAX]


def write_reason(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the receiving side's disk is full"
    return short(f"cannot write the file: {exc.strerror or exc}")


@dataclass(eq=False)
class Transfer:
    transfer_id: bytes
    session: Session
    direction: TransferDirection
    name: str
    size: int
    state: TransferState
    sha256: bytes = b""
    """The SHA-256 of the file's bytes, from FileDone (known once every chunk is sent)."""
    mtime_ns: int = 0
    """Sender: the file's time stamp when it was offered."""
    path: Path | None = None
    """Sender: the source. Receiver: the final file once saved."""
    temp: Path | None = None
    reader: FileReader | None = None
    writer: FileWriter | None = None
    done: int = 0
    received: int = 0
    """Receiver: bytes taken from the wire (queued or written)."""
    acked: int = 0
    """Sender: the peer's last acknowledged offset. Receiver: the last one it sent."""
    reason: str = ""
    progress: asyncio.Event = field(default_factory=asyncio.Event)
    """Receiver: set by the writer thread when it wrote more or ended."""
    acked_event: asyncio.Event = field(default_factory=asyncio.Event)
    reported: float = float("-inf")
    """When the last TransferView went out (time.monotonic)."""
    task: asyncio.Task[None] | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def view(self) -> TransferView:
        return TransferView(
            transfer_id=self.transfer_id.hex(),
            session_id=self.session.session_id.hex(),
            direction=self.direction,
            name=self.name,
            size=self.size,
            done=self.done,
            state=self.state,
            reason=self.reason,
            path=str(self.path) if self.path is not None else "",
        )


class TransferBook:
    """The transfers of every session on this device.

    Signals: changed (TransferView: a new transfer, progress, or its end), view_changed
    (Session; never emitted: transfers have views of their own).
    """

    def __init__(
        self,
        clock: Clock,
        incoming_folder: Path | None = None,
        size_limit: int = DEFAULT_SIZE_LIMIT,
        random_bytes: Callable[[int], bytes] = os.urandom,
        progress_interval: float = PROGRESS_INTERVAL,
    ) -> None:
        self.incoming_folder = incoming_folder or default_incoming_folder()
        """Where received files are saved (a setting; default the platform's Downloads)."""
        self.size_limit = size_limit
        """The largest file this device receives, in bytes (a setting)."""
        self._random = random_bytes
        self._clock = clock
        self.progress_interval = progress_interval
        """Seconds between two progress reports of one transfer; state changes always go out."""
        self._transfers: OrderedDict[bytes, Transfer] = OrderedDict()
        self.changed: Signal[TransferView] = Signal("transfers.changed")
        self.view_changed: Signal[Session] = Signal("transfers.view_changed")

    def views(self, session_id: str | None = None) -> list[TransferView]:
        return [
            t.view()
            for t in self._transfers.values()
            if session_id is None or t.session.session_id.hex() == session_id
        ]

    def _find(self, text: str) -> Transfer:
        key = text.strip().lower()
        found = [t for i, t in self._transfers.items() if i.hex().startswith(key)]
        if len(key) < 4 or not found:
            raise RefusedWithKind(RefusalKind.UNKNOWN, f"no transfer {text}")
        if len(found) > 1:
            raise RefusedWithKind(RefusalKind.AMBIGUOUS, f"{text} matches several transfers")
        return found[0]

    async def wait(self, transfer_id: str) -> TransferView:
        """The transfer once it is done, failed or cancelled."""
        t = self._find(transfer_id)
        await t.finished.wait()
        return t.view()

    async def cancel(self, transfer_id: str, reason: str) -> TransferView:
        t = self._find(transfer_id)
        if not t.state.final:
            self._finish(t, TransferState.CANCELLED, reason)
            await self._send(t.session, FileCancel(t.transfer_id, short(reason)))
        return t.view()

    def permissions_changed(self, session: Session) -> None:
        """Stop every transfer of the session at once when the permission is gone."""
        if Permission.FILE_TRANSFER in session.permissions:
            return
        for t in list(self._transfers.values()):
            if t.session is session and not t.state.final:
                self._finish(t, TransferState.CANCELLED, PERMISSION_REVOKED)

    def ended(self, session: Session) -> None:
        for t in list(self._transfers.values()):
            if t.session is session and not t.state.final:
                self._finish(t, TransferState.FAILED, "the session ended")

    def stop(self) -> None:
        for t in list(self._transfers.values()):
            if not t.state.final:
                self._finish(t, TransferState.CANCELLED, "this device is shutting down")

    def _add(self, t: Transfer) -> None:
        self._transfers[t.transfer_id] = t
        while len(self._transfers) > HISTORY:
            oldest = next(iter(self._transfers.values()))
            if not oldest.state.final:
                break
            self._transfers.popitem(last=False)
        self._changed(t)

    async def _fail(self, t: Transfer, reason: str) -> None:
        if t.state.final:
            return
        _log.warning("file transfer %r failed: %s", t.name, reason)
        self._finish(t, TransferState.FAILED, reason)
        await self._send(t.session, FileCancel(t.transfer_id, short(reason)))

    def _finish(self, t: Transfer, state: TransferState, reason: str) -> None:
        """End a transfer here: stop its task, close its file, remove a partial file."""
        if t.state.final:
            return
        t.state = state
        t.reason = reason
        task = t.task
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()
        # Each thread closes its own file as it ends; a partial file can go before that.
        if t.reader is not None:
            t.reader.stop()
        if t.writer is not None:
            t.writer.stop()
        if t.temp is not None:
            try:
                t.temp.unlink(missing_ok=True)
            except OSError as exc:
                _log.warning("cannot remove the partial file %s: %s", t.temp, exc)
            t.temp = None
        t.acked_event.set()
        t.finished.set()
        self._changed(t)

    def _changed(self, t: Transfer) -> None:
        t.reported = self._clock.now()
        self.changed.emit(t.view())

    def _progressed(self, t: Transfer) -> None:
        """Report progress, at most once every progress_interval per transfer."""
        if self._clock.now() - t.reported >= self.progress_interval:
            self._changed(t)

    async def _send(self, session: Session, msg: Message) -> None:
        try:
            await session.channel.send(msg)
        except ChannelClosed:
            self.ended(session)
