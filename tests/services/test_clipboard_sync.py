"""Clipboard sync between whole clients over in-memory channels: text goes both ways only
while CLIPBOARD is granted, the guest's only once it switches sending on, and nothing echoes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.services.facade import ActionRefused
from anydesk_invite.services.views import SessionView
from tests.helpers.nodes import Node, Nodes, eventually, nodes_for, session_between

CLIPBOARD = frozenset({Permission.CLIPBOARD})
NOTHING: frozenset[Permission] = frozenset()


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


async def round_trip(anna: Node, ben: Node, guest: SessionView) -> None:
    """Everything sent before this has been handled on both sides (the channel is ordered)."""
    before = len(anna.client.chat_log(anna.client.sessions()[0].session_id))
    await ben.client.send_chat(guest.session_id, "sync")
    await eventually(
        lambda: len(anna.client.chat_log(anna.client.sessions()[0].session_id)) > before
    )
    await anna.client.send_chat(anna.client.sessions()[0].session_id, "sync")
    await eventually(lambda: ben.client.chat_log(guest.session_id)[-1] == ("peer", "sync"))


async def test_the_hosts_clipboard_reaches_the_guest_while_granted(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    await session_between(anna, ben, CLIPBOARD)
    anna.clipboard.user_copies("from the host")
    await eventually(lambda: ben.clipboard.content == "from the host")


async def test_the_guests_clipboard_stays_home_until_it_switches_sending_on(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    _, guest = await session_between(anna, ben, CLIPBOARD)
    ben.clipboard.user_copies("private")
    await round_trip(anna, ben, guest)
    assert anna.clipboard.writes == []

    await ben.client.set_send_clipboard(guest.session_id, True)
    await eventually(lambda: anna.clipboard.writes == ["private"])  # the current text, at once
    ben.clipboard.user_copies("shared")
    await eventually(lambda: anna.clipboard.writes == ["private", "shared"])

    await ben.client.set_send_clipboard(guest.session_id, False)
    ben.clipboard.user_copies("private again")
    await round_trip(anna, ben, guest)
    assert anna.clipboard.writes == ["private", "shared"]


async def test_only_a_guest_decides_about_sending_its_clipboard(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    host, _ = await session_between(anna, ben, CLIPBOARD)
    with pytest.raises(ActionRefused, match="only a guest"):
        await anna.client.set_send_clipboard(host.session_id, True)


async def test_revoking_the_clipboard_stops_sync_both_ways_at_once(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    host, guest = await session_between(anna, ben, CLIPBOARD)
    await ben.client.set_send_clipboard(guest.session_id, True)
    anna.clipboard.user_copies("before")
    await eventually(lambda: ben.clipboard.content == "before")

    await anna.client.set_session_permissions(host.session_id, NOTHING)
    await eventually(lambda: ben.client.sessions()[0].permissions == NOTHING)
    anna.clipboard.user_copies("host after")
    ben.clipboard.user_copies("guest after")
    await round_trip(anna, ben, guest)
    assert ben.clipboard.writes == ["before"]
    assert anna.clipboard.writes == []


async def test_a_text_set_from_the_peer_is_not_sent_back(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    _, guest = await session_between(anna, ben, CLIPBOARD)
    await ben.client.set_send_clipboard(guest.session_id, True)
    anna.clipboard.user_copies("once")
    await eventually(lambda: ben.clipboard.writes == ["once"])
    await round_trip(anna, ben, guest)
    assert anna.clipboard.writes == []  # ben's clipboard changed, but not by ben's user
