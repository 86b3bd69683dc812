"""Authenticated channels to peers: one reader task per channel, messages handed to a router.

Every channel, dialled or accepted, belongs to this object, which cancels its reader and
closes it on stop. A channel can be claimed by a session; its messages then go to the
session's handler instead of the general router.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from anydesk_invite.net.channel import Channel, ChannelClosed, ConnectError, PeerInfo
from anydesk_invite.net.wire import Bye, Message, Ping, Pong

_log = logging.getLogger(__name__)

Handler = Callable[[Channel, Message], Awaitable[None]]
Dialer = Callable[[str, int, bytes | None], Awaitable[Channel]]


class Unreachable(Exception):
    """No address of the peer answered; the message lists what was tried."""


@dataclass(frozen=True, slots=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


class Links:
    """Owner of every open channel.

    Signals: none; ``on_closed`` is called with each channel that closes.
    """

    def __init__(
        self,
        dial: Dialer,
        router: Handler,
        on_authenticated: Callable[[Channel], None] = lambda ch: None,
        on_closed: Callable[[Channel], None] = lambda ch: None,
    ) -> None:
        self._dial = dial
        self._router = router
        self._on_authenticated = on_authenticated
        self._on_closed = on_closed
        self._readers: dict[Channel, asyncio.Task[None]] = {}
        self._claims: dict[Channel, Handler] = {}
        self._closing = False

    def channels(self) -> list[Channel]:
        return [ch for ch in self._readers if not ch.closed]

    def channel_for(self, fingerprint: bytes) -> Channel | None:
        """The newest open, unclaimed channel to this peer."""
        for ch in reversed(list(self._readers)):
            if not ch.closed and ch not in self._claims and ch.peer.fingerprint == fingerprint:
                return ch
        return None

    async def adopt(self, channel: Channel) -> None:
        """Take over a channel the listener accepted (or one just dialled)."""
        if self._closing:
            await channel.close("shutting down")
            return
        self._on_authenticated(channel)
        self._readers[channel] = asyncio.create_task(
            self._read(channel), name=f"link-reader-{channel.peer.device_id}"
        )

    async def dial(self, addresses: list[Address], expected_fingerprint: bytes | None) -> Channel:
        """A fresh channel to the first address that answers with the expected key."""
        errors = []
        for addr in addresses:
            try:
                channel = await self._dial(addr.host, addr.port, expected_fingerprint)
            except (ConnectError, OSError, TimeoutError) as exc:
                errors.append(f"{addr}: {exc}")
                continue
            await self.adopt(channel)
            return channel
        tried = "; ".join(errors) if errors else "no known address"
        raise Unreachable(tried)

    async def channel_to(self, fingerprint: bytes | None, addresses: list[Address]) -> Channel:
        """An open channel to the peer, reusing one when there is one."""
        if fingerprint is not None:
            existing = self.channel_for(fingerprint)
            if existing is not None:
                return existing
        return await self.dial(addresses, fingerprint)

    def claim(self, channel: Channel, handler: Handler) -> None:
        """Route this channel's messages to ``handler`` from now on (a session)."""
        self._claims[channel] = handler

    async def _read(self, channel: Channel) -> None:
        try:
            async for msg in channel:
                if isinstance(msg, Ping | Pong | Bye):
                    continue
                handler = self._claims.get(channel, self._router)
                try:
                    await handler(channel, msg)
                except ChannelClosed:
                    break
                except Exception:
                    # A handler bug must cost this peer its channel, never the client.
                    _log.exception("handling %s from %s failed", type(msg).__name__, channel.peer)
                    await channel.close("internal error")
                    break
        finally:
            self._readers.pop(channel, None)
            self._claims.pop(channel, None)
            self._on_closed(channel)

    async def stop(self) -> None:
        self._closing = True
        channels = list(self._readers)
        for ch in channels:
            await ch.close("shutting down")
        tasks = list(self._readers.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._readers.clear()


def peer_label(peer: PeerInfo) -> str:
    return f"{peer.alias or '?'} ({peer.device_id.grouped()})"
