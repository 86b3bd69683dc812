"""A hostile network hands the client a stream of fresh keys: each authenticates, and trust on
first use pins it. The pinned-key table stays bounded, and the pins that protect the user (the
address book, favorites, recent sessions) are never the ones forgotten."""

from __future__ import annotations

from pathlib import Path

import pytest

from anydesk_invite.core.invitation import Direction
from anydesk_invite.net.channel import TrustError
from anydesk_invite.net.identity import Identity
from anydesk_invite.services.trust import PinnedTrust
from anydesk_invite.storage.contacts import AddressEntry
from anydesk_invite.storage.db import Database
from anydesk_invite.storage.history import RecentKind, RecentSession
from tests.helpers.peers import peer_info


def test_a_stream_of_fresh_keys_keeps_the_pinned_table_at_its_bound(tmp_path: Path) -> None:
    clock = iter(range(1, 1000))
    with Database.open(tmp_path / "flood.sqlite", max_pinned=5) as db:
        trust = PinnedTrust(db, wall=lambda: float(next(clock)))
        keys = [Identity.generate() for _ in range(40)]
        for key in keys:
            trust.check(peer_info(key))
        pinned = {p.fingerprint for p in db.pinned_peers.list()}
        # The five most recently seen stay; the newest is always among them.
        assert pinned == {k.fingerprint for k in keys[-5:]}


def test_pins_the_user_depends_on_survive_a_flood_and_still_refuse_impostors(
    tmp_path: Path,
) -> None:
    clock = iter(range(1, 1000))
    with Database.open(tmp_path / "flood.sqlite", max_pinned=3) as db:
        trust = PinnedTrust(db, wall=lambda: float(next(clock)))
        booked, favorite, met, stranger = (Identity.generate() for _ in range(4))
        for key in (booked, favorite, met):
            trust.check(peer_info(key))
        db.address_book.add(AddressEntry(booked.device_id))
        db.favorites.add(favorite.device_id)
        db.recent_sessions.record(
            RecentSession(
                at=2.0,
                direction=Direction.INCOMING,
                kind=RecentKind.SESSION,
                peer_id=met.device_id,
                peer_alias=None,
                peer_fingerprint=met.fingerprint,
                outcome="ended",
            )
        )
        trust.check(peer_info(stranger))
        for _ in range(30):
            trust.check(peer_info(Identity.generate()))
        pinned = {p.fingerprint for p in db.pinned_peers.list()}
        assert {booked.fingerprint, favorite.fingerprint, met.fingerprint} <= pinned
        assert stranger.fingerprint not in pinned
        for key in (booked, favorite, met):
            with pytest.raises(TrustError, match="impostor"):
                trust.check(peer_info(Identity.generate(), device_id=key.device_id))
