"""Signals carry what changed: a peer with its view now, an invitation as it is now."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from anydesk_invite.core.invitation import State
from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.records import DiscoveredPeer
from anydesk_invite.services.address_book import AddressBook
from anydesk_invite.services.directory import PeerDirectory
from anydesk_invite.services.views import PeerChange, PeerSource
from anydesk_invite.storage.db import Database
from tests.helpers.nodes import Nodes, Recorder, eventually, nodes_for, session_between


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "changes.sqlite")
    yield database
    database.close()


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


def seen(identity: Identity, alias: str) -> DiscoveredPeer:
    return DiscoveredPeer(
        device_id=identity.device_id,
        alias=alias,
        fingerprint=identity.fingerprint,
        addresses=("127.0.0.2",),
        port=7070,
        version="1.0",
        instance=f"{identity.device_id}._adinvite._tcp.local.",
    )


def test_a_discovered_peer_is_announced_with_its_view_and_its_departure_without(
    db: Database,
) -> None:
    directory = PeerDirectory(db, Identity.generate().fingerprint)
    changes = Recorder(directory.changed)
    anna = Identity.generate()
    directory.discovered(seen(anna, "anna@ad"))
    [found] = changes.items
    assert found.device_id == anna.device_id
    assert found.peer is not None and found.peer.alias == "anna@ad" and found.peer.online
    directory.gone(anna.fingerprint)
    assert changes.items[1:] == [PeerChange(anna.device_id, None)]


async def test_address_book_changes_announce_that_peer_alone(db: Database) -> None:
    directory = PeerDirectory(db, Identity.generate().fingerprint)
    book = AddressBook(db, directory)
    changes = Recorder(directory.changed)
    ben = Identity.generate().device_id
    await book.add(ben, alias="ben@ad", display_name="Ben")
    [added] = changes.items
    assert added.device_id == ben and added.peer is not None
    assert added.peer.display_name == "Ben" and PeerSource.ADDRESS_BOOK in added.peer.sources
    await book.set_favorite(ben, True)
    assert changes.items[1].peer is not None
    assert PeerSource.FAVORITES in changes.items[1].peer.sources
    await book.set_favorite(ben, False)
    await book.remove(ben)
    assert changes.items[3:] == [PeerChange(ben, None)]


async def test_invitations_changed_carries_each_state_of_the_invitation(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    changes = Recorder(anna.client.invitations_changed)
    sent = await anna.client.invite(ben.device_id, frozenset({Permission.DRAW}), "")
    await ben.received.wait()
    await ben.client.reject(sent.invitation_id)
    await eventually(lambda: any(v.state is State.REJECTED for v in changes.items))
    assert {v.invitation_id for v in changes.items} == {sent.invitation_id}
    assert changes.items[0].state is State.PENDING
    assert changes.items[-1].state is State.REJECTED


async def test_a_session_that_ends_announces_its_peer_with_the_last_session(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    host, _ = await session_between(anna, ben, frozenset({Permission.DRAW}))
    changes = Recorder(anna.client.peers_changed)
    await anna.client.end_session(host.session_id)
    change = await changes.wait()
    assert change.device_id == ben.identity.device_id
    assert change.peer is not None and change.peer.last_session is not None
