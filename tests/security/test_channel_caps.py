"""Security suite, authenticated channels: keys are free, so channels peers open to a client
are capped per key, per address and in total, and unused ones of unknown peers are closed;
at a cap a good peer still gets through."""

from __future__ import annotations

import asyncio
import os

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.channel import Channel, ConnectError
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.wire import Invite, InviteShown
from anydesk_invite.services.links import Address
from tests.helpers.nodes import LOOPBACK, Node, Nodes, eventually


def _accepted(node: Node) -> list[Channel]:
    return [ch for ch in node.client.links.channels() if not ch.initiator]


async def _invite(raw: Channel) -> None:
    await raw.send(Invite(os.urandom(16), 1, frozenset({Permission.CONTROL}), "", 120.0))
    assert isinstance(await raw.receive(), InviteShown)


async def test_one_key_holds_at_most_the_per_key_cap_of_channels(nodes: Nodes) -> None:
    node = await nodes.make("target")
    key = Identity.generate()
    opened = [await node.dial_raw(key) for _ in range(3 * Limits().max_channels_per_key)]
    await eventually(lambda: len(_accepted(node)) == Limits().max_channels_per_key)
    # The newest ones are kept: a peer that reconnects is not locked out by stale channels.
    assert not opened[-1].closed
    for ch in opened:
        await ch.close()


async def test_a_key_whose_channels_all_carry_work_is_refused_another(nodes: Nodes) -> None:
    node = await nodes.make("target", limits=Limits(max_channels_per_key=1))
    key = Identity.generate()
    first = await node.dial_raw(key)
    await _invite(first)
    second = await node.dial_raw(key)
    await asyncio.wait_for(second.wait_closed(), 5)
    assert not first.closed
    await first.close()


async def test_one_address_holds_at_most_the_per_address_cap(nodes: Nodes) -> None:
    node = await nodes.make("target", limits=Limits(max_channels_per_address=3))
    held = [await node.dial_raw() for _ in range(3)]
    with pytest.raises(ConnectError):
        await node.dial_raw()
    assert len(_accepted(node)) == 3
    for ch in held:
        await ch.close()


async def test_at_the_total_cap_a_good_peer_still_gets_its_invitation_through(
    nodes: Nodes,
) -> None:
    node = await nodes.make("target", limits=Limits(max_channels_total=5))
    attackers = [await node.dial_raw() for _ in range(12)]
    await eventually(lambda: len(_accepted(node)) <= 5)
    good = await node.dial_raw(alias="good@ad")
    await _invite(good)
    shown = await node.received.wait()
    assert shown.peer_alias == "good@ad"
    assert len(_accepted(node)) <= 5
    for ch in [*attackers, good]:
        await ch.close()


async def test_an_unused_channel_of_an_unknown_peer_is_closed_one_with_an_invitation_kept(
    nodes: Nodes,
) -> None:
    node = await nodes.make("target", limits=Limits(unused_channel_timeout=0.3))
    idle = await node.dial_raw()
    busy = await node.dial_raw()
    await _invite(busy)
    await asyncio.wait_for(idle.wait_closed(), 5)
    later = await node.dial_raw()
    await asyncio.wait_for(later.wait_closed(), 5)  # by now busy has outlived at least one timeout
    assert not busy.closed
    assert len(_accepted(node)) == 1
    await busy.close()


async def test_an_address_book_peers_channel_is_not_closed_as_unused(nodes: Nodes) -> None:
    anna, ben = await nodes.pair(limits=Limits(unused_channel_timeout=0.3))
    to_ben = await anna.client.links.channel_to(
        ben.identity.fingerprint, [Address(LOOPBACK, ben.port)]
    )
    first = await ben.dial_raw()
    await asyncio.wait_for(first.wait_closed(), 5)
    later = await ben.dial_raw()
    await asyncio.wait_for(later.wait_closed(), 5)
    assert not to_ben.closed
    assert [ch.peer.fingerprint for ch in _accepted(ben)] == [anna.identity.fingerprint]
