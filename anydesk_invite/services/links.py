"""Authenticated channels to peers: one reader task per channel, messages handed to a router.

Every channel, dialled or accepted, belongs to this object, which cancels its reader and
closes it on stop. A channel can be claimed by a session; its messages then go to the
session's handler instead of the general router.

Channels that peers open to us are capped (docs/PROTOCOL.md, "Limits"): per key, in total
(per address the listener caps them before TLS), and one of an unknown peer that carries
neither an invitation nor a session is closed after ``unused_channel_timeout``. At a cap,
the oldest such unused channel makes room, so a good peer always gets through; a new channel
is refused only when every other one is in use.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from anydesk_invite.net.channel import Channel, ChannelClosed, ConnectError, PeerInfo, PeerTrust
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.network import Network
from anydesk_invite.net.wire import Bye, Message, Ping, Pong, describe

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
        *,
        limits: Limits | None = None,
        in_use: Callable[[Channel], bool] = lambda ch: False,
        known: Callable[[bytes], bool] = lambda fp: False,
    ) -> None:
        self._dial = dial
        self._router = router
        self._on_authenticated = on_authenticated
        self._on_closed = on_closed
        self._limits = limits or Limits()
        self._in_use = in_use
        """True while a channel carries an invitation or request of its peer."""
        self._known = known
        """True for a peer in the address book or with a past session."""
        self._readers: dict[Channel, asyncio.Task[None]] = {}
        self._claims: dict[Channel, Handler] = {}
        self._unused_timers: dict[Channel, asyncio.TimerHandle] = {}
        self._closers: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def limits(self) -> Limits:
        return self._limits

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
        if not channel.initiator and not await self._make_room(channel):
            return
        self._on_authenticated(channel)
        self._readers[channel] = asyncio.create_task(
            self._read(channel), name=f"link-reader-{channel.peer.device_id}"
        )
        if not channel.initiator:
            self._arm_unused(channel)

    def _accepted(self) -> list[Channel]:
        return [ch for ch in self._readers if not ch.closed and not ch.initiator]

    def _busy(self, channel: Channel) -> bool:
        return channel in self._claims or self._in_use(channel)

    async def _make_room(self, channel: Channel) -> bool:
        """Keep the caps for an accepted channel; False when it was refused and closed."""
        limits = self._limits
        fp = channel.peer.fingerprint
        same_key = [ch for ch in self._accepted() if ch.peer.fingerprint == fp]
        if len(same_key) >= limits.max_channels_per_key:
            victim = next((ch for ch in same_key if not self._busy(ch)), None)
            if victim is None:
                _log.warning(
                    "refused a channel from %s: %d channels from this key, all in use",
                    peer_label(channel.peer),
                    limits.max_channels_per_key,
                )
                await channel.close("too many channels from this key")
                return False
            _log.info("closing an unused channel %s to make room for its peer's new one", victim)
            await victim.close("replaced by a newer channel")
        accepted = self._accepted()
        if len(accepted) >= limits.max_channels_total:
            unused = [ch for ch in accepted if not self._busy(ch)]
            # Unknown peers' channels go first: address-book peers are never crowded out.
            unused.sort(key=lambda ch: self._known(ch.peer.fingerprint))
            if not unused:
                _log.warning(
                    "refused a channel from %s: %d channels open, all in use",
                    peer_label(channel.peer),
                    limits.max_channels_total,
                )
                await channel.close("too many channels")
                return False
            _log.warning(
                "%d channels open: closing the unused %s to make room",
                limits.max_channels_total,
                unused[0],
            )
            await unused[0].close("too many channels")
        return True

    def _arm_unused(self, channel: Channel) -> None:
        loop = asyncio.get_running_loop()
        self._unused_timers[channel] = loop.call_later(
            self._limits.unused_channel_timeout, self._check_unused, channel
        )

    def _check_unused(self, channel: Channel) -> None:
        self._unused_timers.pop(channel, None)
        if channel.closed or channel not in self._readers:
            return
        if self._busy(channel) or self._known(channel.peer.fingerprint):
            self._arm_unused(channel)
            return
        _log.info("closing %s: no invitation and no session on it", channel)
        task = asyncio.get_running_loop().create_task(channel.close("unused channel"))
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

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
                if _log.isEnabledFor(logging.DEBUG):
                    _log.debug("%s from %s", describe(msg), channel)
                handler = self._claims.get(channel, self._router)
                try:
                    await handler(channel, msg)
                except ChannelClosed:
                    break
                except Exception:
                    # A handler bug must cost this peer its channel, never the client.
                    _log.exception("handling %s from %s failed", describe(msg), channel.peer)
                    await channel.close("internal error")
                    break
        finally:
            self._readers.pop(channel, None)
            self._claims.pop(channel, None)
            timer = self._unused_timers.pop(channel, None)
            if timer is not None:
                timer.cancel()
            self._on_closed(channel)

    async def stop(self) -> None:
        self._closing = True
        for timer in self._unused_timers.values():
            timer.cancel()
        self._unused_timers.clear()
        channels = list(self._readers)
        for ch in channels:
            await ch.close("shutting down")
        tasks = list(self._readers.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, *self._closers, return_exceptions=True)
        self._readers.clear()


def peer_label(peer: PeerInfo) -> str:
    return f"{peer.alias or '?'} ({peer.device_id.grouped()})"


class ChannelDialer:
    """Dials a peer as this device over ``network``: its identity and alias in force, pinned
    trust, the limits."""

    def __init__(
        self,
        network: Network,
        identity: Identity,
        alias: Callable[[], str],
        trust: PeerTrust,
        limits: Limits,
    ) -> None:
        self._network = network
        self._identity = identity
        self._alias = alias
        self._trust = trust
        self._limits = limits

    async def __call__(self, host: str, port: int, expected: bytes | None) -> Channel:
        return await self._network.dial(
            self._identity,
            self._alias(),
            host,
            port,
            expected_fingerprint=expected,
            trust=self._trust,
            limits=self._limits,
        )
