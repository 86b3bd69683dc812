"""Peers found through the organisation's DNS: listed under Discovery with their source, and
reachable by ID or alias like peers found on the LAN (a hint only: the key is checked on
connect)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from anydesk_invite.net.identity import Identity
from anydesk_invite.net.records import DiscoveredPeer
from anydesk_invite.services.directory import PeerDirectory
from anydesk_invite.services.facade import RefusalKind, RefusedWithKind
from anydesk_invite.services.links import Address
from anydesk_invite.services.views import PeerSource
from anydesk_invite.storage.db import Database


@pytest.fixture
def directory(tmp_path: Path) -> Iterator[PeerDirectory]:
    db = Database.open(tmp_path / "directory.sqlite")
    yield PeerDirectory(db, Identity.generate().fingerprint)
    db.close()


def found(identity: Identity, alias: str, address: str) -> DiscoveredPeer:
    return DiscoveredPeer(
        identity.device_id, alias, identity.fingerprint, (address,), 7070, "1.0", "x"
    )


def test_a_peer_found_through_dns_is_listed_under_discovery_as_found_via_dns(
    directory: PeerDirectory,
) -> None:
    anna = Identity.generate()
    directory.discovered_dns(found(anna, "anna@ad", "10.2.0.5"))
    (peer,) = directory.peers()
    assert peer.online and PeerSource.DISCOVERY in peer.sources
    assert peer.found_via == frozenset({"dns"})
    directory.gone_dns(anna.fingerprint)
    assert directory.peers() == []


def test_an_invitation_by_id_or_alias_reaches_a_peer_on_another_subnet(
    directory: PeerDirectory,
) -> None:
    anna = Identity.generate()
    directory.discovered_dns(found(anna, "anna@ad", "10.2.0.5"))
    by_id = directory.resolve(anna.device_id.digits)
    assert (by_id.fingerprint, by_id.addresses) == (anna.fingerprint, (Address("10.2.0.5", 7070),))
    # An alias known only from discovery still needs its fingerprint confirmed, as on the LAN.
    with pytest.raises(RefusedWithKind) as refused:
        directory.resolve("anna@ad")
    assert refused.value.kind is RefusalKind.NEEDS_CONFIRMATION
    by_alias = directory.resolve("anna@ad", anna.fingerprint.hex()[:16])
    assert by_alias.device_id == anna.device_id


def test_a_peer_seen_on_both_is_one_peer_with_both_sources_and_the_lan_address_first(
    directory: PeerDirectory,
) -> None:
    anna = Identity.generate()
    lan = found(anna, "anna@ad", "192.168.1.5")
    directory.discovered(lan)
    directory.discovered_dns(replace(lan, addresses=("10.2.0.5",)))
    (peer,) = directory.peers()
    assert peer.found_via == frozenset({"lan", "dns"})
    assert directory.addresses_of(anna.fingerprint) == (
        Address("192.168.1.5", 7070),
        Address("10.2.0.5", 7070),
    )
    directory.gone(anna.fingerprint)
    assert directory.peers()[0].found_via == frozenset({"dns"})
