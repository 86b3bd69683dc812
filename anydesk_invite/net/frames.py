"""Reading and writing length-prefixed frames on an authenticated connection.

After the handshake a Channel moves its TLS transport from asyncio's StreamReader to
``FrameProtocol``, an ``asyncio.BufferedProtocol``: TLS decrypts straight into the buffers it
hands out. Small frames are gathered in one reusable buffer and copied out one by one; a large
frame (a file chunk, a screen frame) gets a buffer of its own that TLS fills directly and that
is handed on as it is, so its bytes are not copied again on their way to the decoder. Every
length is checked against the decoder's limit before any room is made for the frame.

The protocol also carries the transport's write flow control (``drain``) and its end
(``connection_lost``, EOF), which the StreamWriter no longer sees once the protocol changed.
"""

from __future__ import annotations

import asyncio
import collections

from anydesk_invite.net.wire import HEADER, Decoder, WireError

SCRATCH = 256 * 1024
"""The reusable buffer small frames are gathered in."""
LARGE = 64 * 1024
"""A frame body of at least this many bytes gets a buffer of its own, filled in place."""
READ_SIZE = 16 * 1024
"""The most the scratch buffer takes at a time: one TLS record. A large frame's first bytes
arrive here before its header is known, so at most this much of it is copied."""
PAUSE_AT = 4 * 1024 * 1024
"""Bytes of complete frames waiting for the reader past which reading pauses (TCP pushes back)."""


class PeerClosed(Exception):
    """The connection ended: the peer closed it (EOF) or it was lost (``reason``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FrameProtocol(asyncio.BufferedProtocol):
    """Cuts the incoming byte stream into frame bodies; ``next_body`` hands them out in order."""

    def __init__(self, decoder: Decoder) -> None:
        self._loop = asyncio.get_running_loop()
        self._decoder = decoder
        self._transport: asyncio.BaseTransport | None = None
        self._scratch = bytearray(SCRATCH)
        self._view = memoryview(self._scratch)
        self._start = 0
        """Where the first unparsed byte is in the scratch buffer."""
        self._fill = 0
        """Where the scratch buffer's received bytes end."""
        self._body: bytearray | None = None
        """The large frame being received into its own buffer."""
        self._body_fill = 0
        self._bodies: collections.deque[bytes | bytearray] = collections.deque()
        self._queued = 0
        self._paused = False
        self._end: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._can_write = asyncio.Event()
        self._can_write.set()
        self._lost = asyncio.Event()

    # --- the consumer's side -------------------------------------------------------------

    def attach(self, transport: asyncio.BaseTransport, already: bytes) -> None:
        """Take over ``transport`` with the bytes its previous protocol received but left."""
        self._transport = transport
        rest = memoryview(already)
        while rest and self._end is None:
            room = self.get_buffer(len(rest))
            n = min(len(room), len(rest))
            room[:n] = rest[:n]
            rest = rest[n:]
            self.buffer_updated(n)

    async def next_body(self) -> bytes | bytearray:
        """The next frame's body; WireError for a bad frame, PeerClosed once the stream ended."""
        while not self._bodies:
            if self._end is not None:
                raise self._end
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        body = self._bodies.popleft()
        self._queued -= len(body)
        if self._paused and self._queued < PAUSE_AT // 2 and self._end is None:
            self._paused = False
            assert isinstance(self._transport, asyncio.ReadTransport)
            self._transport.resume_reading()
        return body

    async def drain(self) -> None:
        """Return once the transport takes more data; PeerClosed when it never will."""
        if not self._can_write.is_set():
            await self._can_write.wait()
        if isinstance(self._end, PeerClosed):
            raise self._end

    async def wait_lost(self) -> None:
        """Return once the transport is closed (its connection_lost came)."""
        await self._lost.wait()

    # --- the transport's side ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._body is not None:
            return memoryview(self._body)[self._body_fill :]
        if SCRATCH - self._fill < LARGE:
            # Move the unparsed tail to the front; a small frame always fits after that.
            tail = self._fill - self._start
            self._scratch[:tail] = self._scratch[self._start : self._fill]
            self._start, self._fill = 0, tail
        return self._view[self._fill : self._fill + READ_SIZE]

    def buffer_updated(self, nbytes: int) -> None:
        if self._end is not None:
            return
        try:
            if self._body is not None:
                self._body_fill += nbytes
                if self._body_fill == len(self._body):
                    self._queue(self._body)
                    self._body = None
                    self._body_fill = 0
            else:
                self._fill += nbytes
                self._parse()
        except WireError as exc:
            self._finish(exc)
            return
        if self._queued >= PAUSE_AT and not self._paused and self._transport is not None:
            self._paused = True
            assert isinstance(self._transport, asyncio.ReadTransport)
            self._transport.pause_reading()

    def eof_received(self) -> bool:
        self._finish(PeerClosed("the peer closed the connection"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is None:
            self._finish(PeerClosed("the peer closed the connection"))
        else:
            self._finish(PeerClosed(f"the connection was lost: {str(exc) or type(exc).__name__}"))
        self._can_write.set()
        self._lost.set()

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    # --- inside --------------------------------------------------------------------------

    def _parse(self) -> None:
        view = self._view
        while self._fill - self._start >= HEADER.size:
            at = self._start
            length = self._decoder.body_length(bytes(view[at : at + HEADER.size]))
            body_at = at + HEADER.size
            have = self._fill - body_at
            if have >= length:
                self._queue(bytes(view[body_at : body_at + length]))
                self._start = body_at + length
            elif length >= LARGE:
                body = bytearray(length)
                body[:have] = view[body_at : self._fill]
                self._body, self._body_fill = body, have
                self._start = self._fill
                break
            else:
                break
        if self._start == self._fill:
            self._start = self._fill = 0

    def _queue(self, body: bytes | bytearray) -> None:
        self._bodies.append(body)
        self._queued += len(body)
        self._wake()

    def _finish(self, end: Exception) -> None:
        if self._end is None:
            self._end = end
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
