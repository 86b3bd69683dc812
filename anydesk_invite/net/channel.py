"""The authenticated channel between two devices: TLS 1.3, a signed handshake, heartbeats.

``dial`` (handshake.py) connects to a peer's ``Listener`` (listener.py); both end with a
``Channel`` whose ``peer`` is proven by key. The handshake is specified in docs/PROTOCOL.md
(section "Handshake").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from anydesk_invite.core.alias import sanitize_display
from anydesk_invite.core.ids import DeviceId
from anydesk_invite.net.frames import FrameProtocol, PeerClosed
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.wire import (
    HEADER,
    Bye,
    Decoder,
    Error,
    Message,
    Ping,
    Pong,
    WireError,
    frame,
    frame_parts,
)

_log = logging.getLogger(__name__)

REASON_MAX = 200
# How long a closing side waits for the TLS close to complete before dropping the connection.
CLOSE_GRACE = 1.0
# Messages received but not yet taken by receive(); past this the reader stops reading, so a
# fast peer is slowed down by TCP instead of filling memory.
_INBOX_MAX = 256


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """The other device, as proven in the handshake."""

    fingerprint: bytes
    public_key_der: bytes
    device_id: DeviceId
    alias: str
    version: tuple[int, int]
    address: tuple[str, int]

    def __str__(self) -> str:
        """How a log line names the peer: its proven ID and where it connects from (never its
        key or a repr of the whole record)."""
        return f"{self.device_id} at {self.address[0]}:{self.address[1]}"


class TrustError(Exception):
    """The peer is refused by the trust store; the text is shown to the user."""


class PeerTrust(Protocol):
    def check(self, peer: PeerInfo) -> None:
        """Raise TrustError to refuse this peer (called on both sides after authentication)."""
        ...


class ChannelClosed(Exception):
    """The channel is closed; the text is the reason."""


class ConnectError(Exception):
    """A connection could not be set up; the text is the reason, fit to show to the user."""


class Channel:
    """An authenticated, framed connection to one peer. Made by ``dial`` and ``Listener``.

    The channel answers Pings itself and closes when the peer says Bye, sends bad data or is
    silent for ``idle_timeout``; its reader and heartbeat tasks end with it.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        decoder: Decoder,
        peer: PeerInfo,
        *,
        initiator: bool,
        limits: Limits,
    ) -> None:
        self.peer = peer
        self.initiator = initiator
        self.closed = False
        self.close_reason = ""
        self._reader = reader
        self._writer = writer
        self._decoder = decoder
        self._frames = FrameProtocol(decoder)
        self._limits = limits
        self._inbox: asyncio.Queue[Message | None] = asyncio.Queue()
        self._room = asyncio.Event()
        self._closed_event = asyncio.Event()
        self._closing = False
        self._loop = loop = asyncio.get_running_loop()
        self._last_received = loop.time()
        self._last_sent = loop.time()
        self._tasks: list[asyncio.Task[None]] = []

    def __repr__(self) -> str:
        side = "to" if self.initiator else "from"
        return f"<Channel {side} {self.peer.device_id} at {self.peer.address[0]}>"

    async def _start(self) -> None:
        # From here on frames are read by FrameProtocol; whatever the StreamReader already
        # holds (a peer may send right after the handshake) is handed over first.
        transport = self._writer.transport
        transport.set_protocol(self._frames)
        self._reader.feed_eof()
        self._frames.attach(transport, await self._reader.read())
        if transport.is_closing():
            # The connection ended before the switch; only the old protocol was told.
            self._frames.connection_lost(None)
        name = f"{self.peer.device_id}@{self.peer.address[0]}:{self.peer.address[1]}"
        self._tasks = [
            asyncio.create_task(self._read_loop(), name=f"channel-read {name}"),
            asyncio.create_task(self._heartbeat(), name=f"channel-heartbeat {name}"),
        ]

    async def send(self, msg: Message) -> None:
        """Send one message; ChannelClosed when the channel is (or becomes) closed."""
        if self.closed:
            raise ChannelClosed(self.close_reason)
        parts = frame_parts(msg)
        size = sum(len(p) for p in parts) - HEADER.size
        if size > self._limits.post_auth_frame_limit:
            raise WireError(
                "too_large",
                f"{type(msg).__name__} of {size} bytes is over the limit of "
                f"{self._limits.post_auth_frame_limit}",
            )
        try:
            self._writer.writelines(parts)
            self._last_sent = self._loop.time()
            await self._frames.drain()
        except PeerClosed as exc:
            await self._shutdown(exc.reason)
            raise ChannelClosed(self.close_reason) from None
        except (OSError, RuntimeError) as exc:
            await self._shutdown(f"the connection was lost: {exc or type(exc).__name__}")
            raise ChannelClosed(self.close_reason) from None

    async def receive(self) -> Message:
        """The next message from the peer; ChannelClosed(reason) once closed and drained."""
        item = await self._inbox.get()
        if item is None:
            self._inbox.put_nowait(None)  # every later receive() sees the close too
            raise ChannelClosed(self.close_reason)
        self._room.set()
        return item

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        while True:
            try:
                msg = await self.receive()
            except ChannelClosed:
                return
            yield msg

    async def close(self, reason: str = "") -> None:
        """Say Bye with the reason and close. Safe to call more than once."""
        await self._shutdown(reason or "closed", bye=True)

    async def refuse(self, code: str, message: str) -> None:
        """Send ``Error(code, message)`` and close, without a Bye: the peer sent something
        this side will not take (see PROTOCOL.md, Closing)."""
        await self._shutdown(f"refused: {code}", error=WireError(code, message))

    async def wait_closed(self) -> None:
        await self._closed_event.wait()

    async def _shutdown(
        self, reason: str, *, bye: bool = False, error: WireError | None = None
    ) -> None:
        if self._closing:
            await self._closed_event.wait()
            return
        self._closing = True
        self.closed = True
        self.close_reason = reason
        current = asyncio.current_task()
        others = [t for t in self._tasks if t is not current and not t.done()]
        try:
            for task in others:
                task.cancel()
            farewell: Message | None = None
            if error is not None:
                farewell = Error(error.code, error.message[:REASON_MAX])
            elif bye:
                farewell = Bye(reason[:REASON_MAX])
            if farewell is not None and not self._writer.is_closing():
                with contextlib.suppress(OSError, RuntimeError):
                    self._writer.write(frame(farewell))
            await self._close_transport()
            if others:
                await asyncio.gather(*others, return_exceptions=True)
        finally:
            self._inbox.put_nowait(None)
            self._closed_event.set()
            _log.info("channel %s closed: %s", self, reason)

    async def _close_transport(self) -> None:
        """Close the connection (TLS close first), dropping it if that takes too long."""
        self._writer.close()
        try:
            async with asyncio.timeout(CLOSE_GRACE):
                await self._frames.wait_lost()
        except TimeoutError:
            self._writer.transport.abort()
        except BaseException:
            self._writer.transport.abort()
            raise

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                msg = self._decoder.decode(await self._frames.next_body())
                self._last_received = loop.time()
                if isinstance(msg, Ping):
                    await self.send(Pong(msg.seq))
                elif isinstance(msg, Pong):
                    pass
                elif isinstance(msg, Bye):
                    said = sanitize_display(msg.reason, REASON_MAX)
                    await self._shutdown(f"the peer closed: {said}" if said else "the peer closed")
                    return
                elif isinstance(msg, Error):
                    said = sanitize_display(msg.message, REASON_MAX)
                    await self._shutdown(f"the peer reported an error: {msg.code}: {said}")
                    return
                else:
                    while self._inbox.qsize() >= _INBOX_MAX:
                        self._room.clear()
                        await self._room.wait()
                    self._inbox.put_nowait(msg)
        except WireError as exc:
            _log.warning("closing channel %s: bad data from the peer: %s", self, exc)
            await self._shutdown(f"bad data from the peer: {exc}", error=exc)
        except PeerClosed as exc:
            await self._shutdown(exc.reason)
        except ChannelClosed:
            pass
        except (OSError, RuntimeError) as exc:
            await self._shutdown(f"the connection was lost: {exc or type(exc).__name__}")

    async def _heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self._limits.heartbeat_interval
        idle = self._limits.idle_timeout
        seq = 0
        while True:
            now = loop.time()
            if self._inbox.qsize() >= _INBOX_MAX:
                # We are the slow side, not the peer: its data waits in our socket.
                self._last_received = now
            silent = now - self._last_received
            if silent >= idle:
                _log.warning("closing channel %s: nothing received for %.1f s", self, silent)
                await self._shutdown(
                    f"the peer stopped answering ({silent:.1f} s silent)", bye=True
                )
                return
            if now - self._last_sent >= interval:
                seq += 1
                try:
                    await self.send(Ping(seq))
                except ChannelClosed:
                    return
                continue
            wake = min(self._last_sent + interval, self._last_received + idle)
            await asyncio.sleep(max(0.0, wake - now))
