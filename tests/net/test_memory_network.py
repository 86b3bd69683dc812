"""The in-memory network (net/memory.py) that whole-client tests run on gives the services what
real TLS on 127.0.0.1 gives them: each test here runs on both and expects the same result.
Only what has no counterpart in memory (TLS, caps per address, bytes on the wire) is left to
test_channel.py and tests/security."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from anydesk_invite.net.channel import Channel, ChannelClosed, ConnectError, PeerTrust
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.memory import MemoryNetwork
from anydesk_invite.net.memory_pipe import HIGH_WATER
from anydesk_invite.net.network import ChannelListener, Network, TlsNetwork
from anydesk_invite.net.wire import Chat, ClipboardText, WireError
from tests.helpers.peers import LOOPBACK, RefuseFingerprints, TrustEveryone


@pytest.fixture(params=["tls", "memory"])
def network(request: pytest.FixtureRequest) -> Network:
    return TlsNetwork() if request.param == "tls" else MemoryNetwork()


@dataclass
class Listening:
    identity: Identity
    listener: ChannelListener
    address: tuple[str, int]
    accepted: asyncio.Queue[Channel]

    async def next_channel(self) -> Channel:
        return await asyncio.wait_for(self.accepted.get(), 5)


@asynccontextmanager
async def listening(
    network: Network,
    *,
    trust: PeerTrust | None = None,
    alias: str = "host@ad",
    limits: Limits | None = None,
) -> AsyncIterator[Listening]:
    identity = Identity.generate()
    accepted: asyncio.Queue[Channel] = asyncio.Queue()

    async def on_channel(channel: Channel) -> None:
        await accepted.put(channel)

    listener = network.listener(
        identity, lambda: alias, trust or TrustEveryone(), on_channel, limits or Limits()
    )
    [address] = await listener.start([LOOPBACK])
    try:
        yield Listening(identity, listener, address, accepted)
    finally:
        await listener.stop()


async def dial_to(
    network: Network,
    host: Listening,
    identity: Identity | None = None,
    *,
    expected: bytes | bool | None = True,
    trust: PeerTrust | None = None,
    alias: str = "guest@ad",
    limits: Limits | None = None,
) -> Channel:
    return await network.dial(
        identity or Identity.generate(),
        alias,
        *host.address,
        expected_fingerprint=host.identity.fingerprint if expected is True else expected or None,
        trust=trust or TrustEveryone(),
        limits=limits or Limits(),
    )


async def test_both_sides_get_the_other_sides_proven_key_and_messages_flow_both_ways(
    network: Network,
) -> None:
    async with listening(network) as host:
        guest = Identity.generate()
        channel = await dial_to(network, host, guest)
        accepted = await host.next_channel()
        assert channel.initiator and not accepted.initiator
        assert channel.peer.fingerprint == host.identity.fingerprint
        assert channel.peer.device_id == host.identity.device_id
        assert channel.peer.alias == "host@ad"
        assert channel.peer.address == host.address
        assert accepted.peer.fingerprint == guest.fingerprint
        assert accepted.peer.public_key_der == guest.public_key_der
        assert accepted.peer.alias == "guest@ad"
        assert accepted.peer.address[0] == LOOPBACK
        await channel.send(Chat("hello"))
        assert await asyncio.wait_for(accepted.receive(), 5) == Chat("hello")
        await accepted.send(Chat("hi"))
        assert await asyncio.wait_for(channel.receive(), 5) == Chat("hi")
        assert host.listener.channels == [accepted]
        await channel.close("done")


async def test_a_listener_with_another_key_than_expected_is_refused_before_anything_is_sent(
    network: Network,
) -> None:
    async with listening(network) as host:
        with pytest.raises(ConnectError, match="expected"):
            await dial_to(network, host, expected=Identity.generate().fingerprint)
        assert host.accepted.empty()


async def test_a_dialler_the_listener_does_not_trust_is_told_so(network: Network) -> None:
    guest = Identity.generate()
    async with listening(network, trust=RefuseFingerprints(guest.fingerprint)) as host:
        with pytest.raises(ConnectError, match="the peer refused: trust"):
            await dial_to(network, host, guest)
        assert host.accepted.empty()


async def test_a_listener_the_dialler_does_not_trust_is_refused(network: Network) -> None:
    async with listening(network) as host:
        with pytest.raises(ConnectError, match="not trusted"):
            await dial_to(network, host, trust=RefuseFingerprints(host.identity.fingerprint))
        assert host.accepted.empty()


async def test_a_dialler_with_a_bad_alias_is_refused(network: Network) -> None:
    async with listening(network) as host:
        with pytest.raises(ConnectError, match="the peer refused: invalid"):
            await dial_to(network, host, alias="no alias")


async def test_nobody_listening_is_a_connect_error(network: Network) -> None:
    async with listening(network) as host:
        address = host.address
    with pytest.raises(ConnectError, match="cannot connect"):
        await network.dial(
            Identity.generate(),
            "guest@ad",
            *address,
            expected_fingerprint=None,
            trust=TrustEveryone(),
            limits=Limits(),
        )


async def test_a_message_over_the_frame_limit_is_refused_by_sender_and_by_receiver(
    network: Network,
) -> None:
    small = Limits(post_auth_frame_limit=64 * 1024)
    async with listening(network, limits=small) as host:
        channel = await dial_to(network, host)
        accepted = await host.next_channel()
        with pytest.raises(WireError, match="over the limit"):
            await accepted.send(ClipboardText("x" * 70_000))
        # The dialler's own limit is the default 4 MiB: the listener refuses what it sends.
        await channel.send(ClipboardText("x" * 70_000))
        await asyncio.wait_for(accepted.wait_closed(), 5)
        assert accepted.close_reason.startswith("bad data from the peer")
        await asyncio.wait_for(channel.wait_closed(), 5)
        assert "the peer reported an error: too_large" in channel.close_reason


async def test_closing_says_goodbye_with_the_reason(network: Network) -> None:
    async with listening(network) as host:
        channel = await dial_to(network, host)
        accepted = await host.next_channel()
        await channel.send(Chat("last words"))
        await channel.close("session ended")
        assert await asyncio.wait_for(accepted.receive(), 5) == Chat("last words")
        with pytest.raises(ChannelClosed, match="the peer closed: session ended"):
            await asyncio.wait_for(accepted.receive(), 5)


async def test_a_dropped_connection_closes_the_other_side_as_lost(network: Network) -> None:
    async with listening(network) as host:
        channel = await dial_to(network, host)
        accepted = await host.next_channel()
        channel._writer.transport.abort()
        await asyncio.wait_for(accepted.wait_closed(), 5)
        assert accepted.close_reason.startswith(("the connection was lost", "the peer closed"))


async def test_a_silent_peer_is_closed_after_the_idle_timeout(network: Network) -> None:
    limits = Limits(idle_timeout=0.4, heartbeat_interval=0.1)
    async with listening(network, limits=limits) as host:
        channel = await dial_to(network, host, limits=limits)
        accepted = await host.next_channel()
        for task in channel._tasks:  # it neither reads nor answers Pings any more
            task.cancel()
        await asyncio.wait_for(accepted.wait_closed(), 5)
        assert "stopped answering" in accepted.close_reason


async def test_stopping_the_listener_closes_its_channels(network: Network) -> None:
    async with listening(network) as host:
        channel = await dial_to(network, host)
        await host.next_channel()
        await host.listener.stop()
        with pytest.raises(ChannelClosed, match="going offline"):
            await asyncio.wait_for(channel.receive(), 5)


async def test_a_receiver_that_does_not_read_holds_the_sender_back_in_memory() -> None:
    network = MemoryNetwork()
    async with listening(network) as host:
        channel = await dial_to(network, host)
        accepted = await host.next_channel()
        # Past the receiver's inbox (256 messages) and its frame buffer (4 MiB).
        chunk, count = "x" * (64 * 1024), 600
        sent = 0

        async def send_all() -> None:
            nonlocal sent
            for _ in range(count):
                await channel.send(ClipboardText(chunk))
                sent += 1

        sender = asyncio.create_task(send_all())
        for _ in range(500):  # every delivery is a call_soon: this lets them all run
            await asyncio.sleep(0)
        assert not sender.done()
        assert 256 < sent < count
        # What waits is bounded: the receiver's paused frames and the writer's high water.
        held = channel._writer.transport.get_write_buffer_size()
        assert held <= HIGH_WATER + len(chunk) + 64
        for _ in range(count):
            msg = await asyncio.wait_for(accepted.receive(), 5)
            assert msg == ClipboardText(chunk)
        await asyncio.wait_for(sender, 5)
        await channel.close("done")


async def test_each_memory_network_is_its_own() -> None:
    mine, other = MemoryNetwork(), MemoryNetwork()
    async with listening(mine) as host:
        with pytest.raises(ConnectError, match="cannot connect"):
            await dial_to(other, host)
        await dial_to(mine, host)
