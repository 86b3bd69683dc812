"""Receiving a file: an offer checked (permission, size, name, bounds), the chunks taken off
the wire and acknowledged while the writer thread keeps up, the hash compared, and only then
the file given its final name."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from typing import TYPE_CHECKING

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.wire import (
    FileAccept,
    FileAck,
    FileCancel,
    FileChunk,
    FileOffer,
    FileRefused,
    FileSaved,
)
from anydesk_invite.services.refusals import RefusalKind, RefusedWithKind
from anydesk_invite.services.sessions.file_io import (
    CHUNK,
    O_BINARY,
    FileWriter,
)
from anydesk_invite.services.sessions.filenames import claim_final, safe_file_name
from anydesk_invite.services.views import Role, TransferDirection, TransferState, TransferView

if TYPE_CHECKING:
    from anydesk_invite.services.sessions.session import Session
from anydesk_invite.services.sessions.transfer_book import (
    ACK_EVERY,
    DISK_AHEAD,
    MAX_ACTIVE_PER_SESSION,
    MAX_OFFERS_PER_SESSION,
    WINDOW,
    Transfer,
    TransferBook,
    write_reason,
)

_log = logging.getLogger(__name__)


_TRANSFER_TAKEN = {
    TransferState.OFFERED: "that file is offered and waiting for an answer",
    TransferState.RUNNING: "that file is being transferred already",
    TransferState.DONE: "that file has been transferred already",
    TransferState.FAILED: "that transfer has ended; ask for the file to be offered again",
    TransferState.CANCELLED: "that transfer has ended; ask for the file to be offered again",
}
"""Why a file cannot be fetched in each state of its transfer, in words for a person."""


class Receiving(TransferBook):
    """The receiving side of the file transfers."""

    async def fetch(self, session: Session, transfer_id: str) -> TransferView:
        """Guest: take a file the host offers; it is saved in the incoming folder."""
        t = self._find(transfer_id)
        if t.session is not session or t.direction is not TransferDirection.RECEIVE:
            raise RefusedWithKind(RefusalKind.STATE, "that is not a file offered to this device")
        if t.state is not TransferState.OFFERED:
            raise RefusedWithKind(RefusalKind.STATE, _TRANSFER_TAKEN[t.state])
        if Permission.FILE_TRANSFER not in session.permissions:
            raise RefusedWithKind(RefusalKind.POLICY, "not permitted: file transfer")
        problem = self._start_receiving(t)
        if problem is not None:
            self._finish(t, TransferState.FAILED, problem[1])
            raise RefusedWithKind(RefusalKind.INVALID, problem[1])
        await self._send(session, FileAccept(t.transfer_id))
        return t.view()

    async def _offered(self, session: Session, msg: FileOffer, t: Transfer | None) -> None:
        tid = msg.transfer_id
        if t is not None or tid in self._transfers:
            await self._send(session, FileRefused(tid, "duplicate", "that transfer id is in use"))
            return
        if Permission.FILE_TRANSFER not in session.permissions:
            # A guest whose view of the permissions is gone ignores a late host offer.
            await self._send(
                session, FileRefused(tid, "not_permitted", "not permitted: file transfer")
            )
            return
        mine = [x for x in self._transfers.values() if x.session is session]
        if session.role is Role.GUEST:
            offers = [x for x in mine if x.state is TransferState.OFFERED]
            if len(offers) >= MAX_OFFERS_PER_SESSION:
                await self._send(session, FileRefused(tid, "too_many", "too many offers"))
                return
        t = Transfer(
            transfer_id=tid,
            session=session,
            direction=TransferDirection.RECEIVE,
            name=safe_file_name(msg.name),
            size=msg.size,
            state=TransferState.OFFERED,
        )
        if session.role is Role.GUEST:
            self._add(t)  # listed; the guest's user fetches it
            return
        running = [x for x in mine if x.state is TransferState.RUNNING]
        problem = (
            ("too_many", "too many transfers at once")
            if len(running) >= MAX_ACTIVE_PER_SESSION
            else self._start_receiving(t)
        )
        self._add(t)
        if problem is not None:
            _log.warning("refused file %r from %s: %s", t.name, session.peer.device_id, problem[1])
            self._finish(t, TransferState.FAILED, problem[1])
            await self._send(session, FileRefused(tid, problem[0], problem[1]))
            return
        await self._send(session, FileAccept(tid))

    def _start_receiving(self, t: Transfer) -> tuple[str, str] | None:
        """Open the temporary file; (code, reason) when this device cannot take the file."""
        if t.size > self.size_limit:
            return "too_large", f"the file is over the size limit of {self.size_limit} bytes"
        folder = self.incoming_folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
            free = shutil.disk_usage(folder).free
            if t.size > free:
                return (
                    "disk_full",
                    f"the receiving side's disk is full ({t.size} bytes needed, {free} free)",
                )
            temp = folder / f".{t.transfer_id.hex()}.adinvite-part"
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_BINARY, 0o644)
            t.temp = temp
        except OSError as exc:
            return "cannot_write", write_reason(exc)
        t.writer = FileWriter(fd, t.name, t.progress)
        t.state = TransferState.RUNNING
        t.task = asyncio.get_running_loop().create_task(
            self._write_loop(t), name=f"file-receive-{t.transfer_id.hex()[:8]}"
        )
        self._changed(t)
        return None

    async def _chunk(self, session: Session, msg: FileChunk, t: Transfer | None) -> None:
        if t is None or t.direction is not TransferDirection.RECEIVE or t.state.final:
            if t is None or t.state is not TransferState.CANCELLED:
                # Straggling chunks of a transfer stopped here are dropped quietly.
                _log.warning(
                    "refused FileChunk from %s: no accepted transfer %s",
                    session.peer.device_id,
                    msg.transfer_id.hex()[:8],
                )
                await self._send(
                    session,
                    FileRefused(msg.transfer_id, "not_accepted", "no accepted transfer"),
                )
            return
        if t.state is not TransferState.RUNNING:
            _log.warning("refused FileChunk from %s: transfer not accepted", session.peer.device_id)
            await self._send(
                session, FileRefused(msg.transfer_id, "not_accepted", "no accepted transfer")
            )
            return
        problem = ""
        if msg.offset != t.received or t.received + len(msg.data) > t.size:
            problem = "a chunk arrived out of order or past the announced size"
        elif t.received + len(msg.data) - t.acked > WINDOW + CHUNK:
            # The sender starts a chunk only while less than WINDOW is unacknowledged.
            problem = "the sender ignored flow control"
        if problem:
            _log.warning("stopping file %r from %s: %s", t.name, session.peer.device_id, problem)
            self._finish(t, TransferState.FAILED, problem)
            await self._send(session, FileCancel(t.transfer_id, problem))
            return
        t.received += len(msg.data)
        assert t.writer is not None
        t.writer.put(msg.data)
        await self._acknowledge(t)

    async def _acknowledge(self, t: Transfer) -> None:
        """Receiver: acknowledge what came off the wire while the disk keeps up."""
        due = t.received - t.acked >= ACK_EVERY or (t.received == t.size > t.acked)
        if due and t.received - t.done <= DISK_AHEAD:
            t.acked = t.received
            await self._send(t.session, FileAck(t.transfer_id, t.acked))

    async def _write_loop(self, t: Transfer) -> None:
        """Follow the writer thread (progress, acknowledgements held back for the disk); once
        it ended, check the file and give it its name."""
        writer = t.writer
        assert writer is not None and t.temp is not None
        ended = False
        while not ended:
            await t.progress.wait()
            t.progress.clear()
            # Read before written: the thread sets ended only after its last write counted.
            ended = writer.ended
            if writer.error is not None:
                await self._fail(t, write_reason(writer.error))
                return
            if writer.written > t.done:
                t.done = writer.written
                self._progressed(t)
                if not t.state.final:
                    await self._acknowledge(t)
        problem = ""
        if t.done != t.size:
            problem = f"the file ended after {t.done} of {t.size} bytes"
        elif writer.digest != t.sha256:
            problem = "the SHA-256 of the received file does not match; it was removed"
        if problem:
            await self._fail(t, problem)
            return
        try:
            final = await asyncio.to_thread(claim_final, self.incoming_folder, t.name, t.temp)
        except OSError as exc:
            await self._fail(t, write_reason(exc))
            return
        t.temp = None
        t.path = final
        self._finish(t, TransferState.DONE, "")
        _log.info("saved %s (%d bytes) from %s", final, t.size, t.session.peer.device_id)
        await self._send(t.session, FileSaved(t.transfer_id))
