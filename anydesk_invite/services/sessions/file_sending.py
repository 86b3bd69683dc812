"""Sending a file: a guest's offer the host takes, or a host's offer the guest fetches; the
reader thread's chunks go out within the window the receiver acknowledges."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.wire import (
    FileChunk,
    FileDone,
    FileOffer,
    FileRefused,
)
from anydesk_invite.services.refusals import RefusalKind, RefusedWithKind
from anydesk_invite.services.sessions.file_io import (
    FileReader,
    SourceChanged,
    snapshot,
)
from anydesk_invite.services.sessions.filenames import safe_file_name
from anydesk_invite.services.views import TransferDirection, TransferState, TransferView

if TYPE_CHECKING:
    from anydesk_invite.services.sessions.session import Session
from anydesk_invite.services.sessions.transfer_book import (
    WINDOW,
    Transfer,
    TransferBook,
    short,
)

_log = logging.getLogger(__name__)


class Sending(TransferBook):
    """The sending side of the file transfers."""

    async def send_file(self, session: Session, path: Path) -> TransferView:
        """Offer a local file to the peer: a guest's is taken by the host, a host's listed."""
        if session.ended:
            raise RefusedWithKind(RefusalKind.STATE, "the session has ended")
        if Permission.FILE_TRANSFER not in session.permissions:
            raise RefusedWithKind(RefusalKind.POLICY, "not permitted: file transfer")
        try:
            if not path.is_file():
                raise RefusedWithKind(RefusalKind.INVALID, f"{path} is not a file")
            st = await asyncio.to_thread(snapshot, path)
        except OSError as exc:
            raise RefusedWithKind(
                RefusalKind.INVALID, f"cannot read {path}: {exc.strerror or exc}"
            ) from None
        t = Transfer(
            transfer_id=self._random(16),
            session=session,
            direction=TransferDirection.SEND,
            name=safe_file_name(path.name),
            size=st.st_size,
            state=TransferState.OFFERED,
            mtime_ns=st.st_mtime_ns,
            path=path,
        )
        self._add(t)
        await self._send(session, FileOffer(t.transfer_id, t.name, t.size))
        return t.view()

    async def _accepted(self, session: Session, t: Transfer | None, tid: bytes) -> None:
        if (
            t is None
            or t.direction is not TransferDirection.SEND
            or t.state is not TransferState.OFFERED
        ):
            _log.warning("refused FileAccept from %s: no such offer", session.peer.device_id)
            await self._send(session, FileRefused(tid, "unknown_transfer", "no such offer"))
            return
        t.state = TransferState.RUNNING
        t.task = asyncio.get_running_loop().create_task(
            self._send_loop(t), name=f"file-send-{t.transfer_id.hex()[:8]}"
        )
        self._changed(t)

    async def _send_loop(self, t: Transfer) -> None:
        assert t.path is not None
        reader = t.reader = FileReader(t.path, t.size, t.mtime_ns)
        offset = 0
        try:
            while offset < t.size:
                while offset - t.acked >= WINDOW:
                    t.acked_event.clear()
                    await t.acked_event.wait()
                data = await reader.next()
                if not data:
                    await self._fail(t, "the file got shorter while it was sent")
                    return
                await self._send(t.session, FileChunk(t.transfer_id, offset, data))
                offset += len(data)
            end = await reader.end()
        except OSError as exc:
            await self._fail(t, short(f"cannot read the file: {exc.strerror or exc}"))
            return
        except SourceChanged:
            await self._fail(t, "the file was changed after it was offered")
            return
        if end.changed:
            await self._fail(t, "the file was changed while it was sent")
            return
        t.sha256 = end.digest
        await self._send(t.session, FileDone(t.transfer_id, t.sha256))
