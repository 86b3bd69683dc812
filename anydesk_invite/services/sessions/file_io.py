"""The disk side of a file transfer: one long-lived thread per transfer, a reader that hashes
ahead of the sender or a writer that hashes behind the receiver, each owning its file and fed
through a bounded queue, so the event loop only moves chunks and never waits for a disk or a
hash. files.py speaks the transfer protocol over these."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import os
import queue
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from anydesk_invite.net.wire import FILE_CHUNK_MAX

_log = logging.getLogger(__name__)

CHUNK = FILE_CHUNK_MAX
READ_BLOCK = 4 * CHUNK
"""What the sender's reader thread reads at a time."""
READ_AHEAD = 2
"""Blocks the sender's reader thread keeps ready; with files.WINDOW it bounds a transfer's
memory."""


def snapshot(path: Path) -> os.stat_result:
    """The file's size and time stamp, after showing it can be opened for reading."""
    with open(path, "rb") as f:
        return os.fstat(f.fileno())


class SourceChanged(Exception):
    """The file to send was changed after it was offered."""


@dataclass(frozen=True, slots=True)
class ReadEnd:
    """The reader thread read every byte: their SHA-256, and whether the file changed."""

    digest: bytes
    changed: bool


O_BINARY = getattr(os, "O_BINARY", 0)
"""Where the OS tells text from binary files (Windows): open received files as binary."""


FILE_THREAD_NICENESS = 10
"""How much lower the disk and hash threads run than the event loop, where Linux lets a thread
have its own priority: when they compete for a core, input, screen and the window come first."""


def yield_to_the_event_loop() -> None:
    """Run the calling thread FILE_THREAD_NICENESS below the event loop's thread (the main
    thread, whose id is the process id), also when the whole client was started with nice
    (Linux threads only; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return  # elsewhere setpriority would reach the whole process, or another one
    try:
        loop_priority = os.getpriority(os.PRIO_PROCESS, os.getpid())
        lowered = min(19, loop_priority + FILE_THREAD_NICENESS)
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), lowered)
    except OSError as exc:
        _log.debug("cannot lower a file thread's priority: %s", exc)


class FileReader:
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
        self._blocks: asyncio.Queue[bytes | OSError | SourceChanged | ReadEnd] = asyncio.Queue()
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

        OSError when the file cannot be read, SourceChanged when it is not the one offered.
        """
        if not self._current:
            item = await self._take()
            # The thread ends with ReadEnd only after all ``size`` bytes, and no chunk is
            # asked for after those.
            assert not isinstance(item, ReadEnd), "next() after the last chunk"
            self._room.put(None)
            self._current = memoryview(item)
        chunk, self._current = self._current[:CHUNK], self._current[CHUNK:]
        return chunk

    async def end(self) -> ReadEnd:
        """After the last chunk: the SHA-256 of everything read, and whether the file changed."""
        item = await self._take()
        assert isinstance(item, ReadEnd), "end() before the last chunk"
        return item

    async def _take(self) -> bytes | ReadEnd:
        item = await self._blocks.get()
        if isinstance(item, OSError | SourceChanged):
            raise item
        return item

    def stop(self) -> None:
        self._stopped = True
        self._room.put(None)

    def _unchanged(self, st: os.stat_result) -> bool:
        return st.st_size == self._size and st.st_mtime_ns == self._mtime_ns

    def _run(self) -> None:
        yield_to_the_event_loop()
        hasher = hashlib.sha256()
        try:
            with open(self._path, "rb", buffering=0) as f:
                if not self._unchanged(os.fstat(f.fileno())):
                    self._deliver(SourceChanged())
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
            self._deliver(ReadEnd(hasher.digest(), changed))
        except OSError as exc:
            self._deliver(exc)

    def _deliver(self, item: bytes | OSError | SourceChanged | ReadEnd) -> None:
        try:
            self._loop.call_soon_threadsafe(self._blocks.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            self._stopped = True


class FileWriter:
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
        yield_to_the_event_loop()
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
