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

Disk work runs in one long-lived thread per transfer (a reader that hashes ahead of the
sender, a writer that hashes behind the receiver), each owning its file and fed through a
bounded queue: the event loop only moves chunks between the thread and the channel, never
waits for a disk or a hash.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import os
import queue
import shutil
import sys
import threading
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
    FILE_CHUNK_MAX,
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
from anydesk_invite.services.sessions.filenames import claim_final, safe_file_name
from anydesk_invite.services.views import Role, TransferDirection, TransferState, TransferView
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
CHUNK = FILE_CHUNK_MAX
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
READ_BLOCK = 4 * CHUNK
"""What the sender's reader thread reads at a time."""
READ_AHEAD = 2
"""Blocks the sender's reader thread keeps ready; with WINDOW it bounds a transfer's memory."""
PROGRESS_INTERVAL = 0.05
"""Progress reports a transfer makes at most: 20 a second are smooth and cost nothing."""
DEFAULT_SIZE_LIMIT = 4 * 1024**3
MAX_ACTIVE_PER_SESSION = 8
MAX_OFFERS_PER_SESSION = 64
HISTORY = 200
_REASON_MAX = 200
PERMISSION_REVOKED = "the file transfer permission was revoked"


def _snapshot(path: Path) -> os.stat_result:
    """The file's size and time stamp, after showing it can be opened for reading."""
    with open(path, "rb") as f:
        return os.fstat(f.fileno())


_TRANSFER_TAKEN = {
    TransferState.OFFERED: "that file is offered and waiting for an answer",
    TransferState.RUNNING: "that file is being transferred already",
    TransferState.DONE: "that file has been transferred already",
    TransferState.FAILED: "that transfer has ended; ask for the file to be offered again",
    TransferState.CANCELLED: "that transfer has ended; ask for the file to be offered again",
}
"""Why a file cannot be fetched in each state of its transfer, in words for a person."""


class _SourceChanged(Exception):
    """The file to send was changed after it was offered."""


@dataclass(frozen=True, slots=True)
class _ReadEnd:
    """The reader thread read every byte: their SHA-256, and whether the file changed."""

    digest: bytes
    changed: bool


_O_BINARY = getattr(os, "O_BINARY", 0)


FILE_THREAD_NICENESS = 10
"""How much lower the disk and hash threads run than the event loop, where Linux lets a thread
have its own priority: when they compete for a core, input, screen and the window come first."""


def _yield_to_the_event_loop() -> None:
    """Lower the calling thread's priority (Linux threads only; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return  # elsewhere setpriority would reach the whole process, or another one
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), FILE_THREAD_NICENESS)
    except OSError as exc:
        _log.debug("cannot lower a file thread's priority: %s", exc)


def _short(text: str) -> str:
    return text[:_REASON_MAX]


def _write_reason(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the receiving side's disk is full"
    return _short(f"cannot write the file: {exc.strerror or exc}")


class _FileReader:
    """Reads ``size`` bytes of a file in its own thread, at most READ_AHEAD blocks ahead,
    and hashes them on the way.

    The thread reads READ_BLOCK bytes at a time and the event loop cuts them into chunks, so
    the two threads meet once a block, not once a chunk. The thread owns the file: it opens
    and closes it, so stopping never closes a file under a read still running. The file must
    still have the size and time stamp it had when it was offered (``mtime_ns``), at the start
    and at the end; a file changed in between fails the transfer rather than arriving torn.
    """

    def __init__(self, path: Path, size: int, mtime_ns: int) -> None:
        self._path = path
        self._size = size
        self._mtime_ns = mtime_ns
        self._loop = asyncio.get_running_loop()
        self._blocks: asyncio.Queue[bytes | OSError | _SourceChanged | _ReadEnd] = asyncio.Queue()
        self._room: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(READ_AHEAD):
            self._room.put(None)
        self._current = memoryview(b"")
        self._stopped = False
        self._thread = threading.Thread(
            target=self._run, name=f"file-read {path.name}", daemon=True
        )
        self._thread.start()

    async def next(self) -> memoryview:
        """The next chunk; empty when the file ended early.

        OSError when the file cannot be read, _SourceChanged when it is not the one offered.
        """
        if not self._current:
            item = await self._take()
            # The thread ends with _ReadEnd only after all ``size`` bytes, and no chunk is
            # asked for after those.
            assert not isinstance(item, _ReadEnd), "next() after the last chunk"
            self._room.put(None)
            self._current = memoryview(item)
        chunk, self._current = self._current[:CHUNK], self._current[CHUNK:]
        return chunk

    async def end(self) -> _ReadEnd:
        """After the last chunk: the SHA-256 of everything read, and whether the file changed."""
        item = await self._take()
        assert isinstance(item, _ReadEnd), "end() before the last chunk"
        return item

    async def _take(self) -> bytes | _ReadEnd:
        item = await self._blocks.get()
        if isinstance(item, OSError | _SourceChanged):
            raise item
        return item

    def stop(self) -> None:
        self._stopped = True
        self._room.put(None)

    def _unchanged(self, st: os.stat_result) -> bool:
        return st.st_size == self._size and st.st_mtime_ns == self._mtime_ns

    def _run(self) -> None:
        _yield_to_the_event_loop()
        hasher = hashlib.sha256()
        try:
            with open(self._path, "rb", buffering=0) as f:
                if not self._unchanged(os.fstat(f.fileno())):
                    self._deliver(_SourceChanged())
                    return
                left = self._size
                while left > 0:
                    self._room.get()
                    if self._stopped:
                        return
                    data = f.read(min(READ_BLOCK, left)) or b""
                    self._deliver(data)
                    if not data:
                        return
                    hasher.update(data)  # while the event loop already sends it
                    left -= len(data)
                changed = not self._unchanged(os.fstat(f.fileno()))
            self._deliver(_ReadEnd(hasher.digest(), changed))
        except OSError as exc:
            self._deliver(exc)

    def _deliver(self, item: bytes | OSError | _SourceChanged | _ReadEnd) -> None:
        try:
            self._loop.call_soon_threadsafe(self._blocks.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            self._stopped = True


class _FileWriter:
    """Writes an incoming file in its own thread and hashes it on the way.

    ``put`` never blocks: the queue is bounded by the flow control window, which the receiver
    enforces. The thread owns the file descriptor and closes it when it ends; ``progress`` is
    set on the event loop whenever ``written`` moves or the thread ends.
    """

    def __init__(self, fd: int, name: str, progress: asyncio.Event) -> None:
        self.written = 0
        self.error: OSError | None = None
        self.digest: bytes | None = None
        """The SHA-256 of everything written, once the thread ended after ``finish``."""
        self.ended = False
        self._fd = fd
        self._progress = progress
        self._loop = asyncio.get_running_loop()
        self._queue: queue.SimpleQueue[bytes | memoryview | None] = queue.SimpleQueue()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=f"file-write {name}", daemon=True)
        self._thread.start()

    def put(self, data: bytes | memoryview) -> None:
        self._queue.put(data)

    def finish(self) -> None:
        """No more data: end the thread once everything queued is written."""
        self._queue.put(None)

    def stop(self) -> None:
        """Drop whatever is queued and end the thread."""
        self._stopped = True
        self._queue.put(None)

    def _run(self) -> None:
        _yield_to_the_event_loop()
        hasher = hashlib.sha256()
        try:
            while not self._stopped:
                # Everything queued at once, with one report; each chunk is hashed and written
                # while it is still in the CPU's cache.
                batch = [self._queue.get()]
                while batch[-1] is not None and not self._queue.empty():
                    batch.append(self._queue.get())
                last = batch[-1]
                blocks = [b for b in batch if b is not None]
                if blocks and not self._stopped:
                    for block in blocks:
                        hasher.update(block)
                        self._write(block)
                    self.written += sum(len(b) for b in blocks)
                    self._report()
                if last is None:
                    break
            if not self._stopped:
                self.digest = hasher.digest()
        except OSError as exc:
            self.error = exc
        finally:
            try:
                os.close(self._fd)
            except OSError as exc:
                if self.error is None:
                    self.error = exc
            self.ended = True
            self._report()

    def _write(self, block: bytes | memoryview) -> None:
        view = memoryview(block)
        while view:
            n = os.write(self._fd, view)
            if n <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            view = view[n:]

    def _report(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._progress.set)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            self._stopped = True


@dataclass(eq=False)
class _Transfer:
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
    reader: _FileReader | None = None
    writer: _FileWriter | None = None
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


class FileTransfers:
    """Every transfer of every session on this device.

    Signals: changed (TransferView: a new transfer, progress, or its end), view_changed
    (Session; never emitted: transfers have views of their own).
    """

    name = "files"
    permission: Permission | None = Permission.FILE_TRANSFER
    from_guest: tuple[type[Message], ...] = FILE_MESSAGES
    from_host: tuple[type[Message], ...] = FILE_MESSAGES
    refusal_interval = 0.0

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
        self._transfers: OrderedDict[bytes, _Transfer] = OrderedDict()
        self.changed: Signal[TransferView] = Signal("transfers.changed")
        self.view_changed: Signal[Session] = Signal("transfers.view_changed")

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

    # --- queries --------------------------------------------------------------------------

    def views(self, session_id: str | None = None) -> list[TransferView]:
        return [
            t.view()
            for t in self._transfers.values()
            if session_id is None or t.session.session_id.hex() == session_id
        ]

    def find(self, transfer_id: str) -> TransferView:
        return self._find(transfer_id).view()

    def _find(self, text: str) -> _Transfer:
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

    # --- actions --------------------------------------------------------------------------

    async def send_file(self, session: Session, path: Path) -> TransferView:
        """Offer a local file to the peer: a guest's is taken by the host, a host's listed."""
        if session.ended:
            raise RefusedWithKind(RefusalKind.STATE, "the session has ended")
        if Permission.FILE_TRANSFER not in session.permissions:
            raise RefusedWithKind(RefusalKind.POLICY, "not permitted: file transfer")
        try:
            if not path.is_file():
                raise RefusedWithKind(RefusalKind.INVALID, f"{path} is not a file")
            st = await asyncio.to_thread(_snapshot, path)
        except OSError as exc:
            raise RefusedWithKind(
                RefusalKind.INVALID, f"cannot read {path}: {exc.strerror or exc}"
            ) from None
        t = _Transfer(
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

    async def cancel(self, transfer_id: str, reason: str = "cancelled") -> TransferView:
        t = self._find(transfer_id)
        if not t.state.final:
            self._finish(t, TransferState.CANCELLED, reason)
            await self._send(t.session, FileCancel(t.transfer_id, _short(reason)))
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

    # --- messages from the peer ---------------------------------------------------------

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
                    self._finish(t, TransferState.CANCELLED, _short(f"the peer cancelled: {said}"))
            case FileRefused():
                if t is not None and not t.state.final:
                    said = "".join(c for c in msg.reason if c.isprintable())
                    self._finish(t, TransferState.FAILED, _short(f"the peer refused: {said}"))

    async def _offered(self, session: Session, msg: FileOffer, t: _Transfer | None) -> None:
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
        t = _Transfer(
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

    def _start_receiving(self, t: _Transfer) -> tuple[str, str] | None:
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
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o644)
            t.temp = temp
        except OSError as exc:
            return "cannot_write", _write_reason(exc)
        t.writer = _FileWriter(fd, t.name, t.progress)
        t.state = TransferState.RUNNING
        t.task = asyncio.get_running_loop().create_task(
            self._write_loop(t), name=f"file-receive-{t.transfer_id.hex()[:8]}"
        )
        self._changed(t)
        return None

    async def _accepted(self, session: Session, t: _Transfer | None, tid: bytes) -> None:
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

    async def _chunk(self, session: Session, msg: FileChunk, t: _Transfer | None) -> None:
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
            _log.warning("refused FileChunk from %s: transfer not accepted", session.peer)
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

    async def _acknowledge(self, t: _Transfer) -> None:
        """Receiver: acknowledge what came off the wire while the disk keeps up."""
        due = t.received - t.acked >= ACK_EVERY or (t.received == t.size > t.acked)
        if due and t.received - t.done <= DISK_AHEAD:
            t.acked = t.received
            await self._send(t.session, FileAck(t.transfer_id, t.acked))

    # --- the two loops --------------------------------------------------------------------

    async def _write_loop(self, t: _Transfer) -> None:
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
                await self._fail(t, _write_reason(writer.error))
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
            await self._fail(t, _write_reason(exc))
            return
        t.temp = None
        t.path = final
        self._finish(t, TransferState.DONE, "")
        _log.info("saved %s (%d bytes) from %s", final, t.size, t.session.peer.device_id)
        await self._send(t.session, FileSaved(t.transfer_id))

    async def _send_loop(self, t: _Transfer) -> None:
        assert t.path is not None
        reader = t.reader = _FileReader(t.path, t.size, t.mtime_ns)
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
            await self._fail(t, _short(f"cannot read the file: {exc.strerror or exc}"))
            return
        except _SourceChanged:
            await self._fail(t, "the file was changed after it was offered")
            return
        if end.changed:
            await self._fail(t, "the file was changed while it was sent")
            return
        t.sha256 = end.digest
        await self._send(t.session, FileDone(t.transfer_id, t.sha256))

    # --- bookkeeping ------------------------------------------------------------------------

    def _add(self, t: _Transfer) -> None:
        self._transfers[t.transfer_id] = t
        while len(self._transfers) > HISTORY:
            oldest = next(iter(self._transfers.values()))
            if not oldest.state.final:
                break
            self._transfers.popitem(last=False)
        self._changed(t)

    async def _fail(self, t: _Transfer, reason: str) -> None:
        if t.state.final:
            return
        _log.warning("file transfer %r failed: %s", t.name, reason)
        self._finish(t, TransferState.FAILED, reason)
        await self._send(t.session, FileCancel(t.transfer_id, _short(reason)))

    def _finish(self, t: _Transfer, state: TransferState, reason: str) -> None:
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

    def _changed(self, t: _Transfer) -> None:
        t.reported = self._clock.now()
        self.changed.emit(t.view())

    def _progressed(self, t: _Transfer) -> None:
        """Report progress, at most once every progress_interval per transfer."""
        if self._clock.now() - t.reported >= self.progress_interval:
            self._changed(t)

    async def _send(self, session: Session, msg: Message) -> None:
        try:
            await session.channel.send(msg)
        except ChannelClosed:
            self.ended(session)
