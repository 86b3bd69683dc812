"""The transport under net/memory.py's channels: a pair of in-memory byte streams that behave
as a TLS connection does towards its protocol (asyncio.Transport): data in order on a later
turn of the loop, a BufferedProtocol filled through get_buffer, the writer paused past a high
water mark while the reader does not take, close as a clean end of stream after what was
written, abort as a reset."""

from __future__ import annotations

import asyncio
import collections

HIGH_WATER = 256 * 1024
"""Bytes written and not yet taken by the other end past which the writer is paused."""
LOW_WATER = 64 * 1024
"""... and below which it may write again."""


class Pipe(asyncio.Transport):
    """One end of an in-memory byte stream: what it writes, the other end's protocol receives,
    in order and on a later turn of the event loop."""

    def __init__(self, address: tuple[str, int], peer_address: tuple[str, int]) -> None:
        super().__init__({"sockname": address, "peername": peer_address})
        self._loop = asyncio.get_running_loop()
        self._protocol: asyncio.BaseProtocol | None = None
        self.other: Pipe | None = None
        self._incoming: collections.deque[bytes] = collections.deque()
        self._incoming_size = 0
        self._reading_paused = False
        self._writing_paused = False
        self._scheduled = False
        self._closing = False
        self._lost = False
        self._eof_in = False
        self._eof_told = False

    # --- asyncio.Transport ------------------------------------------------------------------

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        assert self._protocol is not None
        return self._protocol

    def is_closing(self) -> bool:
        return self._closing

    def is_reading(self) -> bool:
        return not self._reading_paused and not self._closing

    def pause_reading(self) -> None:
        self._reading_paused = True

    def resume_reading(self) -> None:
        self._reading_paused = False
        self._schedule()

    def get_write_buffer_size(self) -> int:
        return self.other._incoming_size if self.other is not None else 0

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (LOW_WATER, HIGH_WATER)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def can_write_eof(self) -> bool:
        return False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        other = self.other
        if self._closing or not data or other is None or other._lost:
            return
        other._incoming.append(bytes(data))
        other._incoming_size += len(data)
        other._schedule()
        if other._incoming_size > HIGH_WATER and not self._writing_paused:
            self._writing_paused = True
            assert isinstance(self._protocol, asyncio.Protocol | asyncio.BufferedProtocol)
            self._protocol.pause_writing()

    def close(self) -> None:
        """As a TLS close: the other end reads what was written, then the end of the stream."""
        if self._closing:
            return
        self._closing = True
        other = self.other
        if other is not None and not other._lost:
            other._eof_in = True
            other._schedule()
        self._loop.call_soon(self._connection_lost, None)

    def abort(self) -> None:
        """As a reset: the other end's connection is lost at once, with what it had not read."""
        if self._lost:
            return
        self._closing = True
        other = self.other
        if other is not None and not other._lost:
            other._closing = True
            self._loop.call_soon(other._connection_lost, ConnectionResetError("reset by peer"))
        self._loop.call_soon(self._connection_lost, None)

    # --- inside -----------------------------------------------------------------------------

    def _schedule(self) -> None:
        if not self._scheduled and not self._lost:
            self._scheduled = True
            self._loop.call_soon(self._deliver)

    def _deliver(self) -> None:
        self._scheduled = False
        if self._lost:
            return
        while self._incoming and not self._reading_paused:
            chunk = self._incoming.popleft()
            self._incoming_size -= len(chunk)
            protocol = self._protocol
            if isinstance(protocol, asyncio.BufferedProtocol):
                rest = memoryview(chunk)
                while rest:
                    room = memoryview(protocol.get_buffer(len(rest)))
                    n = min(len(room), len(rest))
                    room[:n] = rest[:n]
                    rest = rest[n:]
                    protocol.buffer_updated(n)
                    if self._is_lost():
                        return
                    if self._reading_paused_now() and rest:
                        self._incoming.appendleft(bytes(rest))
                        self._incoming_size += len(rest)
                        break
            else:
                assert isinstance(protocol, asyncio.Protocol)
                protocol.data_received(chunk)
            if self._is_lost():
                return
        self._resume_writer()
        if self._eof_in and not self._incoming and not self._eof_told:
            self._eof_told = True
            assert isinstance(self._protocol, asyncio.Protocol | asyncio.BufferedProtocol)
            if not self._protocol.eof_received():
                self.close()

    # Asked afresh while delivering: the protocol may pause reading or lose the connection.
    def _reading_paused_now(self) -> bool:
        return self._reading_paused

    def _is_lost(self) -> bool:
        return self._lost

    def _resume_writer(self) -> None:
        other = self.other
        if other is not None and other._writing_paused and self._incoming_size <= LOW_WATER:
            other._writing_paused = False
            assert isinstance(other._protocol, asyncio.Protocol | asyncio.BufferedProtocol)
            other._protocol.resume_writing()

    def _connection_lost(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._closing = True
        self._incoming.clear()
        self._incoming_size = 0
        self._resume_writer()
        if self._protocol is not None:
            self._protocol.connection_lost(exc)


def stream(transport: Pipe) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A StreamReader and StreamWriter over ``transport``, as asyncio.open_connection gives."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    protocol = asyncio.StreamReaderProtocol(reader)
    transport.set_protocol(protocol)
    protocol.connection_made(transport)
    return reader, asyncio.StreamWriter(transport, protocol, reader, loop)
