"""How a client reaches its peers: a listener that accepts channels and a dial that opens
them. ``TlsNetwork`` is the real one (TCP + TLS 1.3, handshake.py and listener.py);
``memory.MemoryNetwork`` carries the same channels between clients in one process.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from anydesk_invite.net.channel import Channel, PeerTrust
from anydesk_invite.net.handshake import dial
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.listener import Listener

OnChannel = Callable[[Channel], Awaitable[None]]


class ChannelListener(Protocol):
    """Accepts channels on addresses and hands each authenticated one on (net/listener.py)."""

    @property
    def channels(self) -> list[Channel]:
        """The accepted channels that are still open."""
        ...

    async def start(self, hosts: list[str], port: int = 0) -> list[tuple[str, int]]:
        """Listen on each host; the addresses in use."""
        ...

    async def stop(self) -> None:
        """Stop listening and close every channel accepted."""
        ...


class Network(Protocol):
    """Where listeners listen and dials go."""

    def listener(
        self,
        identity: Identity,
        alias: Callable[[], str],
        trust: PeerTrust,
        on_channel: OnChannel,
        limits: Limits,
    ) -> ChannelListener: ...

    async def dial(
        self,
        identity: Identity,
        alias: str,
        host: str,
        port: int,
        *,
        expected_fingerprint: bytes | None,
        trust: PeerTrust,
        limits: Limits,
    ) -> Channel:
        """An authenticated channel to the listener at host:port; ConnectError(reason) if not."""
        ...


class TlsNetwork:
    """The network a running client uses: TCP + TLS 1.3 and the handshake of PROTOCOL.md."""

    def listener(
        self,
        identity: Identity,
        alias: Callable[[], str],
        trust: PeerTrust,
        on_channel: OnChannel,
        limits: Limits,
    ) -> Listener:
        return Listener(identity, alias, trust, on_channel, limits)

    async def dial(
        self,
        identity: Identity,
        alias: str,
        host: str,
        port: int,
        *,
        expected_fingerprint: bytes | None,
        trust: PeerTrust,
        limits: Limits,
    ) -> Channel:
        return await dial(
            identity,
            alias,
            host,
            port,
            expected_fingerprint=expected_fingerprint,
            trust=trust,
            limits=limits,
        )
