"""Channels between clients in one process, without TCP or TLS (for tests).

A ``MemoryNetwork`` is where ``MemoryListener``s register their addresses and dials go. A dial
makes the very ``Channel`` of channel.py on both sides, over a pair of in-memory transports:
the same framing, frame-size limits, heartbeats, Bye and Error, flow control and close. What
it leaves out is the wire under the handshake: TCP, TLS and the signature proving the
dialler's key, which cannot be forged in one process, since each side hands over its own
``Identity``. What the handshake decides is kept: the dialler gets the listened-on key's
fingerprint (and a ConnectError when it is not the one expected); both Hellos pass the same
checks (version, ID derived from the key, alias) and each side's trust store is asked, with
the refusal texts a TLS handshake gives. The listener's per-address and handshake caps are
not kept: their tests use TLS (tests/net, tests/security).
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import logging
from collections.abc import Callable

from anydesk_invite.core.alias import sanitize_display
from anydesk_invite.core.ids import fingerprint_of, short_fingerprint
from anydesk_invite.net.channel import Channel, ConnectError, PeerInfo, PeerTrust
from anydesk_invite.net.handshake import Refusal, check_hello, check_trust, peer_info
from anydesk_invite.net.identity import Identity, new_nonce
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.memory_pipe import Pipe, stream
from anydesk_invite.net.network import OnChannel
from anydesk_invite.net.wire import (
    HEADER,
    PROTOCOL_VERSION,
    Decoder,
    Hello,
    WireError,
    frame,
)

_log = logging.getLogger(__name__)

LISTEN_PORTS = 40000
DIAL_PORTS = 50000


async def _channel(
    transport: Pipe, decoder: Decoder, peer: PeerInfo, *, initiator: bool, limits: Limits
) -> Channel:
    reader, writer = stream(transport)
    decoder.authenticated(peer.version)
    channel = Channel(reader, writer, decoder, peer, initiator=initiator, limits=limits)
    await channel._start()
    return channel


def _sent(hello: Hello, decoder: Decoder) -> Hello:
    """``hello`` as the other side decodes it (WireError where a real peer's would be refused)."""
    received = decoder.decode(frame(hello)[HEADER.size :])
    assert isinstance(received, Hello)
    return received


def _refused_by_peer(refusal: Refusal) -> Refusal:
    """What the other side of a handshake sees of ``refusal``: its Error, or the close."""
    if refusal.code is None:
        return Refusal("the peer closed the connection during the handshake")
    return Refusal(f"the peer refused: {refusal.code}: {sanitize_display(refusal.message)}")


class MemoryListener:
    """A listener on a MemoryNetwork; the counterpart of net/listener.py's Listener."""

    def __init__(
        self,
        network: MemoryNetwork,
        identity: Identity,
        alias: Callable[[], str],
        trust: PeerTrust,
        on_channel: OnChannel,
        limits: Limits,
    ) -> None:
        self.identity = identity
        self.alias = alias
        self.limits = limits
        self._network = network
        self._trust = trust
        self._on_channel = on_channel
        self._bound: list[tuple[str, int]] = []
        self._channels: set[Channel] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.stopping = False

    @property
    def channels(self) -> list[Channel]:
        return [c for c in self._channels if not c.closed]

    @property
    def unauthenticated(self) -> int:
        return 0

    async def start(self, hosts: list[str], port: int = 0) -> list[tuple[str, int]]:
        if not hosts:
            raise ValueError("listen on at least one address")
        port = port or self._network.free_port()
        for host in hosts:
            self._network.register((host, port), self)
            self._bound.append((host, port))
        _log.info("listening on %s (in memory)", ", ".join(f"{h}:{p}" for h, p in self._bound))
        return list(self._bound)

    async def stop(self) -> None:
        self.stopping = True
        for address in self._bound:
            self._network.unregister(address, self)
        self._bound.clear()
        await asyncio.gather(
            *(c.close("the device is going offline") for c in list(self._channels)),
            return_exceptions=True,
        )
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._channels.clear()

    def check_hello(self, hello: Hello, where: str) -> tuple[Decoder, PeerInfo]:
        """The listener's checks of the dialler's Hello; the Refusal the dialler sees if not."""
        decoder = Decoder(self.limits.pre_auth_frame_limit, self.limits.post_auth_frame_limit)
        try:
            received = _sent(hello, decoder)
            fp, device_id = check_hello(received)
        except WireError as exc:
            _log.warning("refused connection from %s: bad data: %s", where, exc)
            raise _refused_by_peer(Refusal(str(exc), exc.code, exc.message)) from None
        except Refusal as refusal:
            _log.warning("refused connection from %s: %s", where, refusal.reason)
            raise _refused_by_peer(refusal) from None
        host, port = where.rsplit(":", 1)
        return decoder, peer_info(received, fp, device_id, (host, int(port)))

    def check_trust(self, peer: PeerInfo, where: str) -> None:
        try:
            check_trust(self._trust, peer)
        except Refusal as refusal:
            _log.warning("refused connection from %s: %s", where, refusal.reason)
            raise _refused_by_peer(refusal) from None

    def refused_by_dialler(self, refusal: Refusal, where: str) -> None:
        seen = _refused_by_peer(refusal)
        _log.warning("refused connection from %s: %s", where, seen.reason)

    def accepted(self, channel: Channel) -> None:
        self._channels = {c for c in self._channels if not c.closed}
        self._channels.add(channel)
        _log.info("accepted %s", channel)
        task = asyncio.get_running_loop().create_task(self._hand_on(channel))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _hand_on(self, channel: Channel) -> None:
        try:
            await self._on_channel(channel)
        except Exception:
            _log.exception("handling channel %s failed", channel)
            await channel.close("internal error")


class MemoryNetwork:
    """The in-process network of one test: listeners register here, dials go through here."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        """The address dialled channels come from."""
        self._listeners: dict[tuple[str, int], MemoryListener] = {}
        self._next_listen = LISTEN_PORTS
        self._next_dial = DIAL_PORTS
        self.dials = 0
        """Channels dialled, for tests that count connections."""

    def free_port(self) -> int:
        self._next_listen += 1
        return self._next_listen

    def register(self, address: tuple[str, int], listener: MemoryListener) -> None:
        if address in self._listeners:
            raise OSError(errno.EADDRINUSE, f"address already in use: {address[0]}:{address[1]}")
        self._listeners[address] = listener

    def unregister(self, address: tuple[str, int], listener: MemoryListener) -> None:
        if self._listeners.get(address) is listener:
            del self._listeners[address]

    def listener(
        self,
        identity: Identity,
        alias: Callable[[], str],
        trust: PeerTrust,
        on_channel: OnChannel,
        limits: Limits,
    ) -> MemoryListener:
        return MemoryListener(self, identity, alias, trust, on_channel, limits)

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
        """As net/handshake.py's dial: a Channel to the listener at host:port whose peer is
        the listener's key, or ConnectError with the reason a TLS dial gives."""
        where = f"{host}:{port}"
        await asyncio.sleep(0)  # a connection is never made within the caller's turn
        try:
            return await self._connect(
                identity, alias, host, port, expected_fingerprint, trust, limits
            )
        except (Refusal, WireError) as exc:
            reason = exc.reason if isinstance(exc, Refusal) else f"bad data from the peer: {exc}"
        _log.warning("could not connect to %s: %s", where, reason)
        raise ConnectError(reason)

    async def _connect(
        self,
        identity: Identity,
        alias: str,
        host: str,
        port: int,
        expected: bytes | None,
        trust: PeerTrust,
        limits: Limits,
    ) -> Channel:
        listener = self._listeners.get((host, port))
        if listener is None or listener.stopping:
            raise Refusal(f"cannot connect: Connect call failed ('{host}', {port})")
        self.dials += 1
        self._next_dial += 1
        source = (self._host, self._next_dial)
        where = f"{source[0]}:{source[1]}"
        listener_key = listener.identity.public_key_der
        listener_fp = fingerprint_of(listener_key)
        # Checked before anything is sent, as the dialler checks the TLS certificate.
        if expected is not None and not hmac.compare_digest(listener_fp, expected):
            raise Refusal(
                f"the peer's key fingerprint is {short_fingerprint(listener_fp)}, "
                f"expected {short_fingerprint(expected)}"
            )
        ours = Hello(
            PROTOCOL_VERSION, identity.public_key_der, identity.device_id.digits, alias, new_nonce()
        )
        their_decoder, dialler = listener.check_hello(ours, where)
        theirs = Hello(
            PROTOCOL_VERSION,
            listener_key,
            listener.identity.device_id.digits,
            listener.alias(),
            new_nonce(),
        )
        decoder = Decoder(limits.pre_auth_frame_limit, limits.post_auth_frame_limit)
        try:
            fp, device_id = check_hello(_sent(theirs, decoder))
            peer = peer_info(theirs, fp, device_id, (host, port))
            check_trust(trust, peer)
        except Refusal as refusal:
            listener.refused_by_dialler(refusal, where)
            raise
        listener.check_trust(dialler, where)
        near = Pipe(source, (host, port))
        far = Pipe((host, port), source)
        near.other, far.other = far, near
        theirs_channel = await _channel(
            far, their_decoder, dialler, initiator=False, limits=listener.limits
        )
        channel = await _channel(near, decoder, peer, initiator=True, limits=limits)
        listener.accepted(theirs_channel)
        _log.info("connected to %s", channel)
        return channel
