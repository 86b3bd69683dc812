"""Resolving what a person typed (an ID or alias) into a device to dial."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from anydesk_invite.core.alias import parse_alias
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.records import DiscoveredPeer
from anydesk_invite.services.control_schema import peer_json
from anydesk_invite.services.directory import PeerDirectory
from anydesk_invite.services.facade import RefusalKind, RefusedWithKind
from anydesk_invite.services.links import Address
from anydesk_invite.services.views import PeerSource
from anydesk_invite.storage.contacts import AddressEntry
from anydesk_invite.storage.db import Database
from anydesk_invite.storage.pins import PinnedPeer


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "directory.sqlite")
    yield database
    database.close()


@pytest.fixture
def directory(db: Database) -> PeerDirectory:
    return PeerDirectory(db, Identity.generate().fingerprint)


def seen(identity: Identity, alias: str, port: int = 7070) -> DiscoveredPeer:
    return DiscoveredPeer(
        device_id=identity.device_id,
        alias=alias,
        fingerprint=identity.fingerprint,
        addresses=("127.0.0.2",),
        port=port,
        version="1.0",
        instance=f"{identity.device_id}._adinvite._tcp.local.",
    )


def refusal(directory: PeerDirectory, text: str, confirm: str | None = None) -> RefusalKind:
    with pytest.raises(RefusedWithKind) as refused:
        directory.resolve(text, confirm)
    return refused.value.kind


@pytest.mark.parametrize("form", ["plain", "grouped", "dashed"])
def test_an_id_resolves_plain_or_grouped(directory: PeerDirectory, form: str) -> None:
    anna = Identity.generate()
    directory.discovered(seen(anna, "anna@ad"))
    d = anna.device_id
    text = {"plain": d.digits, "grouped": d.grouped(), "dashed": d.grouped().replace(" ", "-")}
    target = directory.resolve(text[form])
    assert target.device_id == d and target.fingerprint == anna.fingerprint
    assert target.addresses == (Address("127.0.0.2", 7070),)


def test_an_unknown_id_is_refused_as_unknown(directory: PeerDirectory) -> None:
    assert refusal(directory, Identity.generate().device_id.grouped()) is RefusalKind.UNKNOWN


def test_a_mistyped_id_is_refused_as_invalid(directory: PeerDirectory) -> None:
    digits = Identity.generate().device_id.digits
    wrong = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    assert refusal(directory, wrong) is RefusalKind.INVALID


def test_an_alias_known_only_from_discovery_needs_the_fingerprint_confirmed(
    directory: PeerDirectory,
) -> None:
    anna = Identity.generate()
    directory.discovered(seen(anna, "anna@ad"))
    with pytest.raises(RefusedWithKind) as refused:
        directory.resolve("anna@ad")
    assert refused.value.kind is RefusalKind.NEEDS_CONFIRMATION
    assert anna.device_id.grouped() in str(refused.value)
    assert refusal(directory, "anna", confirm="00" * 8) is RefusalKind.NEEDS_CONFIRMATION
    target = directory.resolve("anna", confirm=anna.fingerprint.hex()[:16])
    assert target.device_id == anna.device_id and target.fingerprint == anna.fingerprint


def test_an_alias_shared_by_several_discovered_devices_lists_each_and_confirm_picks_one(
    db: Database,
) -> None:
    now = [1000.0]
    directory = PeerDirectory(db, Identity.generate().fingerprint, wall=lambda: now[0])
    anna, other = Identity.generate(), Identity.generate()
    directory.discovered(seen(anna, "anna@ad", 7070))
    now[0] = 1060.0
    directory.discovered(seen(other, "anna@ad", 7071))
    with pytest.raises(RefusedWithKind) as refused:
        directory.resolve("anna@ad")
    assert refused.value.kind is RefusalKind.AMBIGUOUS
    listed = {c.device_id: c for c in refused.value.candidates}
    assert set(listed) == {anna.device_id, other.device_id}
    assert listed[anna.device_id].address == "127.0.0.2:7070"
    assert listed[anna.device_id].fingerprint == anna.fingerprint
    assert (listed[anna.device_id].last_seen, listed[other.device_id].last_seen) == (1000, 1060)
    target = directory.resolve("anna@ad", confirm=other.fingerprint.hex())
    assert target.device_id == other.device_id and target.fingerprint == other.fingerprint


def test_an_alias_known_only_from_discovery_carries_its_device_for_the_window(
    directory: PeerDirectory,
) -> None:
    anna = Identity.generate()
    directory.discovered(seen(anna, "anna@ad"))
    with pytest.raises(RefusedWithKind) as refused:
        directory.resolve("anna@ad")
    [candidate] = refused.value.candidates
    assert candidate.device_id == anna.device_id and candidate.address == "127.0.0.2:7070"


def test_an_alias_in_the_address_book_resolves_without_confirmation(
    directory: PeerDirectory, db: Database
) -> None:
    anna = Identity.generate()
    db.address_book.add(
        AddressEntry(
            anna.device_id,
            parse_alias("anna@ad"),
            manual_address="127.0.0.3:7000",
            fingerprint=anna.fingerprint,
        )
    )
    target = directory.resolve("ANNA@ad")
    assert target.device_id == anna.device_id and target.fingerprint == anna.fingerprint
    assert target.addresses == (Address("127.0.0.3", 7000),)


def test_an_alias_of_a_pinned_peer_resolves_to_the_pinned_key(
    directory: PeerDirectory, db: Database
) -> None:
    anna = Identity.generate()
    db.pinned_peers.pin(PinnedPeer(anna.fingerprint, anna.device_id, parse_alias("anna@ad"), 1, 1))
    directory.discovered(seen(anna, "anna@ad"))
    assert directory.resolve("anna@ad").fingerprint == anna.fingerprint


def test_an_id_claimed_by_two_devices_is_ambiguous(directory: PeerDirectory) -> None:
    anna = Identity.generate()
    directory.discovered(seen(anna, "anna@ad"))
    directory.conflict(anna.device_id)
    assert refusal(directory, anna.device_id.digits) is RefusalKind.AMBIGUOUS


def test_an_alias_two_discovered_devices_share_is_ambiguous(directory: PeerDirectory) -> None:
    directory.discovered(seen(Identity.generate(), "twin@ad"))
    directory.discovered(seen(Identity.generate(), "twin@ad"))
    assert refusal(directory, "twin@ad") is RefusalKind.AMBIGUOUS


def test_an_alias_two_address_book_entries_share_is_ambiguous(
    directory: PeerDirectory, db: Database
) -> None:
    for _ in range(2):
        db.address_book.add(AddressEntry(Identity.generate().device_id, parse_alias("twin@ad")))
    assert refusal(directory, "twin@ad") is RefusalKind.AMBIGUOUS


def test_a_known_peer_with_no_address_is_offline(directory: PeerDirectory, db: Database) -> None:
    anna = Identity.generate()
    db.address_book.add(AddressEntry(anna.device_id, fingerprint=anna.fingerprint))
    assert refusal(directory, anna.device_id.digits) is RefusalKind.OFFLINE


def test_a_peer_that_left_the_lan_is_offline(directory: PeerDirectory, db: Database) -> None:
    anna = Identity.generate()
    db.pinned_peers.pin(PinnedPeer(anna.fingerprint, anna.device_id, None, 1, 1))
    directory.discovered(seen(anna, "anna@ad"))
    assert directory.resolve(anna.device_id.digits).addresses
    directory.gone(anna.fingerprint)
    assert refusal(directory, anna.device_id.digits) is RefusalKind.OFFLINE


def test_text_that_is_neither_id_nor_alias_is_invalid(directory: PeerDirectory) -> None:
    assert refusal(directory, "anna@example.com") is RefusalKind.INVALID
    assert refusal(directory, "12345") is RefusalKind.INVALID


def test_an_id_from_a_connect_link_resolves_only_to_the_key_the_link_names(
    directory: PeerDirectory,
) -> None:
    anna = Identity.generate()
    directory.discovered(seen(anna, "anna@ad"))
    assert directory.resolve(anna.device_id.digits, anna.fingerprint.hex()).fingerprint == (
        anna.fingerprint
    )
    other = Identity.generate().fingerprint.hex()
    assert refusal(directory, anna.device_id.digits, other) is RefusalKind.NEEDS_CONFIRMATION


def test_a_manual_address_never_connected_to_expects_the_key_of_the_connect_link(
    db: Database, directory: PeerDirectory
) -> None:
    anna = Identity.generate()
    db.address_book.add(AddressEntry(anna.device_id, manual_address="127.0.0.3:7000"))
    assert directory.resolve(anna.device_id.digits).fingerprint is None
    target = directory.resolve(anna.device_id.digits, anna.fingerprint.hex())
    assert target.fingerprint == anna.fingerprint


def _claim(identity: Identity, device_id_of: Identity, alias: str) -> DiscoveredPeer:
    """A record announcing ``identity``'s key under ``device_id_of``'s ID."""
    return replace(seen(identity, alias), device_id=device_id_of.device_id)


def test_two_keys_claiming_one_id_are_listed_apart_each_with_its_alias_and_flagged(
    directory: PeerDirectory,
) -> None:
    anna, mallory = Identity.generate(), Identity.generate()
    directory.discovered(seen(anna, "anna@ad"))
    directory.discovered(_claim(mallory, anna, "mallory@ad"))
    directory.conflict(anna.device_id)
    listed = {p.fingerprint: p for p in directory.peers() if p.device_id == anna.device_id}
    assert set(listed) == {anna.fingerprint, mallory.fingerprint}
    assert listed[anna.fingerprint].alias == "anna@ad"
    assert listed[mallory.fingerprint].alias == "mallory@ad"
    assert all(p.conflict for p in listed.values())


def test_an_address_book_entry_stays_with_the_key_it_names_in_a_conflict(
    directory: PeerDirectory, db: Database
) -> None:
    anna, mallory = Identity.generate(), Identity.generate()
    db.address_book.add(
        AddressEntry(anna.device_id, parse_alias("anna@ad"), fingerprint=anna.fingerprint)
    )
    directory.discovered(_claim(mallory, anna, "mallory@ad"))
    directory.discovered(seen(anna, "anna-laptop@ad"))
    listed = {p.fingerprint: p for p in directory.peers() if p.device_id == anna.device_id}
    assert PeerSource.ADDRESS_BOOK in listed[anna.fingerprint].sources
    assert listed[mallory.fingerprint].sources == {PeerSource.DISCOVERY}
    assert listed[mallory.fingerprint].alias == "mallory@ad"


def test_peers_json_shows_both_claimants_of_one_id_flagged(directory: PeerDirectory) -> None:
    anna, mallory = Identity.generate(), Identity.generate()
    directory.discovered(seen(anna, "anna@ad"))
    directory.discovered(_claim(mallory, anna, "mallory@ad"))
    directory.conflict(anna.device_id)
    shown = [peer_json(p) for p in directory.peers()]
    pairs = {(p["alias"], p["fingerprint"], p["conflict"]) for p in shown}
    assert pairs == {
        ("anna@ad", anna.fingerprint.hex(), True),
        ("mallory@ad", mallory.fingerprint.hex(), True),
    }
