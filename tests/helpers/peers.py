"""Two nodes in one process over real TLS on 127.0.0.1, and a raw peer that breaks the rules."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.net.channel import Channel, PeerInfo, TrustError
from anydesk_invite.net.handshake import dial
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.listener import Listener
from anydesk_invite.net.wire import HEADER, Chat, Decoder, Message, frame

LOOPBACK = "127.0.0.1"


def peer_info(identity: Identity, device_id: DeviceId | None = None, alias: str = "") -> PeerInfo:
    """What the channel layer hands a trust store once ``identity`` has authenticated
    (claiming ``device_id`` instead of its own, to stand for a colliding key)."""
    return PeerInfo(
        fingerprint=identity.fingerprint,
        public_key_der=identity.public_key_der,
        device_id=device_id or identity.device_id,
        alias=alias,
        version=(1, 0),
        address=("127.0.0.1", 1),
    )


class TrustEveryone:
    """A trust store that accepts every authenticated peer and remembers whom it saw."""

    def __init__(self) -> None:
        self.seen: list[PeerInfo] = []

    def check(self, peer: PeerInfo) -> None:
        self.seen.append(peer)


class RefuseFingerprints:
    """Refuses the given keys, as a pinned-peer store refuses a colliding new key."""

    def __init__(self, *fingerprints: bytes, reason: str = "collides with a pinned peer") -> None:
        self.fingerprints = set(fingerprints)
        self.reason = reason

    def check(self, peer: PeerInfo) -> None:
        if peer.fingerprint in self.fingerprints:
            raise TrustError(self.reason)


@dataclass
class Node:
    """A listening device: its identity, listener, address, and the channels it accepted."""

    identity: Identity
    listener: Listener
    address: tuple[str, int]
    accepted: asyncio.Queue[Channel] = field(default_factory=asyncio.Queue)

    async def next_channel(self, timeout: float = 5.0) -> Channel:
        return await asyncio.wait_for(self.accepted.get(), timeout)


@contextlib.asynccontextmanager
async def listening_node(
    limits: Limits | None = None,
    trust: object | None = None,
    alias: str = "host@ad",
) -> AsyncIterator[Node]:
    identity = Identity.generate()
    accepted: asyncio.Queue[Channel] = asyncio.Queue()

    async def on_channel(channel: Channel) -> None:
        await accepted.put(channel)

    listener = Listener(
        identity,
        lambda: alias,
        trust if trust is not None else TrustEveryone(),  # type: ignore[arg-type]
        on_channel,
        limits or Limits(),
    )
    [address] = await listener.start([LOOPBACK])
    try:
        yield Node(identity, listener, address, accepted)
    finally:
        await listener.stop()


async def dial_node(
    node: Node,
    identity: Identity | None = None,
    *,
    limits: Limits | None = None,
    trust: object | None = None,
    expected: bytes | bool | None = True,
) -> Channel:
    """Dial the node; by default pinning its real fingerprint."""
    fp = node.identity.fingerprint if expected is True else expected or None
    return await dial(
        identity or Identity.generate(),
        "guest@ad",
        node.address[0],
        node.address[1],
        expected_fingerprint=fp if isinstance(fp, bytes) else None,
        trust=trust if trust is not None else TrustEveryone(),  # type: ignore[arg-type]
        limits=limits or Limits(),
    )


async def assert_serves_good_client(node: Node) -> None:
    """The listener still completes a handshake and passes messages after a bad peer."""
    guest = Identity.generate()
    channel = await dial_node(node, guest)
    accepted = await node.next_channel()
    try:
        assert accepted.peer.fingerprint == guest.fingerprint
        assert channel.peer.fingerprint == node.identity.fingerprint
        await channel.send(Chat("still here"))
        assert await asyncio.wait_for(accepted.receive(), 5) == Chat("still here")
    finally:
        await channel.close("done")
        await accepted.wait_closed()


class RawPeer:
    """A client that speaks the wire format by hand, to send what a good client never would."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.decoder = Decoder()

    @classmethod
    async def connect(
        cls,
        address: tuple[str, int],
        *,
        tls: bool = True,
        tls_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
        source: str | None = None,
    ) -> RawPeer:
        ctx: ssl.SSLContext | None = None
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.minimum_version = tls_version
            ctx.maximum_version = tls_version
        reader, writer = await asyncio.open_connection(
            address[0],
            address[1],
            ssl=ctx,
            server_hostname="" if tls else None,
            local_addr=(source, 0) if source else None,
        )
        return cls(reader, writer)

    def send_bytes(self, data: bytes) -> None:
        self.writer.write(data)

    def send(self, msg: Message) -> None:
        self.writer.write(frame(msg))

    def send_body(self, body: bytes) -> None:
        self.writer.write(HEADER.pack(len(body)) + body)

    async def read(self, timeout: float = 5.0) -> Message:
        async with asyncio.timeout(timeout):
            header = await self.reader.readexactly(HEADER.size)
            length = self.decoder.body_length(header)
            return self.decoder.decode(await self.reader.readexactly(length))

    async def closed_by_peer(self, timeout: float = 5.0) -> bool:
        """True once the other side has closed (EOF or reset), reading and dropping any data."""
        async with asyncio.timeout(timeout):
            try:
                while await self.reader.read(65536):
                    pass
            except (ConnectionError, ssl.SSLError):
                pass
        return True

    async def close(self) -> None:
        self.writer.transport.abort()
        await asyncio.sleep(0)
