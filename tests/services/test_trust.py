"""Trust on first use, by fingerprint: the first key seen for an ID is pinned, and a new key
claiming a pinned ID is refused with a warning."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.channel import TrustError
from anydesk_invite.net.identity import Identity
from anydesk_invite.services.trust import PinnedTrust
from anydesk_invite.storage.db import Database
from anydesk_invite.storage.pins import PinnedPeer
from tests.helpers.nodes import Nodes, Recorder, nodes_for
from tests.helpers.peers import peer_info


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "trust.sqlite")
    yield database
    database.close()


def test_a_first_contact_is_pinned_by_fingerprint(db: Database) -> None:
    trust = PinnedTrust(db, wall=lambda: 5.0)
    anna = Identity.generate()
    trust.check(peer_info(anna, alias="anna@ad"))
    pinned = db.pinned_peers.get_by_fingerprint(anna.fingerprint)
    assert pinned is not None
    assert pinned.device_id == anna.device_id and str(pinned.alias) == "anna@ad"
    assert pinned.first_seen == 5.0


def test_a_pinned_key_is_accepted_again_and_its_alias_refreshed(db: Database) -> None:
    times = iter([5.0, 9.0])
    trust = PinnedTrust(db, wall=lambda: next(times))
    anna = Identity.generate()
    trust.check(peer_info(anna, alias="anna@ad"))
    trust.check(peer_info(anna, alias="annie@ad"))
    pinned = db.pinned_peers.get_by_fingerprint(anna.fingerprint)
    assert pinned is not None and str(pinned.alias) == "annie@ad" and pinned.last_seen == 9.0


def test_a_new_key_claiming_a_pinned_id_is_refused_with_a_warning(db: Database) -> None:
    # A real colliding key needs a search over nine digits; a hand-built PeerInfo stands in
    # for it: a fresh key that claims the ID of the pinned one.
    trust = PinnedTrust(db)
    warnings = Recorder(trust.warning)
    anna = Identity.generate()
    db.pinned_peers.pin(PinnedPeer(anna.fingerprint, anna.device_id, None, 1.0, 1.0))
    impostor = Identity.generate()
    with pytest.raises(TrustError, match="impostor"):
        trust.check(peer_info(impostor, device_id=anna.device_id))
    assert len(warnings.items) == 1 and anna.device_id.grouped() in warnings.items[0]
    assert db.pinned_peers.get_by_fingerprint(impostor.fingerprint) is None
    assert db.pinned_peers.get_by_device_id(anna.device_id) is not None


async def test_clients_pin_each_others_key_on_first_contact(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    await anna.client.invite(ben.device_id, frozenset({Permission.CONTROL}), "")
    await ben.received.wait()
    assert anna.db.pinned_peers.get_by_fingerprint(ben.identity.fingerprint) is not None
    assert ben.db.pinned_peers.get_by_fingerprint(anna.identity.fingerprint) is not None
    assert anna.warnings.items == [] and ben.warnings.items == []


async def test_a_refused_key_reaches_the_client_as_a_warning(nodes: Nodes) -> None:
    ben = await nodes.make("ben")
    anna = Identity.generate()
    ben.db.pinned_peers.pin(PinnedPeer(anna.fingerprint, anna.device_id, None, 1.0, 1.0))
    with pytest.raises(TrustError):
        ben.trust.check(peer_info(Identity.generate(), device_id=anna.device_id))
    assert len(ben.warnings.items) == 1
