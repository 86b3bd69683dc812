"""A whole-client host made by tests/helpers/nodes.py with a screen source streams that screen
to its guest over in-memory channels; without one it shares no screen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.services.facade import RemoteScreen
from tests.helpers.nodes import Nodes, eventually, nodes_for
from tests.helpers.synthetic_screen import SyntheticScreen


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


async def guest_screen_of(nodes: Nodes, source: SyntheticScreen | None) -> RemoteScreen:
    anna = await nodes.make("anna", screen=source)
    ben = await nodes.make("ben")
    anna.knows(ben)
    ben.knows(anna)
    sent = await anna.client.invite(ben.device_id, frozenset({Permission.CONTROL}), "")
    await ben.received.wait()
    guest = await ben.client.accept(sent.invitation_id)
    screen = ben.client.session_handle(guest.session_id).screen
    assert screen is not None
    await eventually(lambda: screen.screens is not None)
    return screen


async def test_a_node_made_with_a_screen_streams_its_pixels_to_the_guest(nodes: Nodes) -> None:
    source = SyntheticScreen([(128, 64)])
    source.fill(0, 0, 0, 128, 64, b"\x10\x20\x30\xff")
    screen = await guest_screen_of(nodes, source)
    assert [(s.width, s.height) for s in screen.screens or []] == [(128, 64)]
    await screen.select(0)
    await eventually(lambda: screen.frames_shown >= 1)
    assert bytes(screen.buffer) == bytes(source.pixels[0])


async def test_a_node_made_without_a_screen_shares_none(nodes: Nodes) -> None:
    screen = await guest_screen_of(nodes, None)
    assert screen.screens == []
    await screen.select(0)
    await eventually(lambda: screen.problem != "")
    assert screen.frames_shown == 0
