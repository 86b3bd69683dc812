"""Every peer this client knows, from discovery, the address book, favorites, recent sessions
and pinned keys; resolving what a person typed (an ID or alias) into a target to dial.

Trust rules (docs/PROTOCOL.md, "Trust"): an ID alone proves nothing. An alias resolves through
the address book or pinned peers; an alias known only from discovery, of a peer never
connected, needs the user to confirm that peer's fingerprint.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from anydesk_invite.core.alias import AliasError, parse_alias
from anydesk_invite.core.ids import (
    DeviceId,
    IdError,
    fingerprint_confirmed,
    looks_like_id,
    parse_id,
    short_fingerprint,
)
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.records import DiscoveredPeer
from anydesk_invite.services.invitations import Target
from anydesk_invite.services.links import Address
from anydesk_invite.services.refusals import Candidate, RefusalKind, RefusedWithKind
from anydesk_invite.services.views import PeerChange, PeerSource, PeerView
from anydesk_invite.storage.contacts import AddressEntry
from anydesk_invite.storage.db import Database


def _split_address(text: str) -> Address:
    host, _, port = text.rpartition(":")
    return Address(host.strip("[]"), int(port))


@dataclass(slots=True)
class _PeerFacts:
    """What the sources say about one ID, while merging them."""

    sources: set[PeerSource] = field(default_factory=set)
    alias: str = ""
    display_name: str = ""
    tags: tuple[str, ...] = ()
    manual_address: str | None = None
    fingerprint: bytes | None = None
    discovered: list[DiscoveredPeer] = field(default_factory=list)


class PeerDirectory:
    """Known peers and where to reach them.

    Signals: changed (PeerChange: the peer that appeared, changed or left, with its view).
    """

    def __init__(
        self, db: Database, own_fingerprint: bytes, wall: Callable[[], float] = time.time
    ) -> None:
        self._db = db
        self._own = own_fingerprint
        self._wall = wall
        self._discovered: dict[bytes, DiscoveredPeer] = {}
        self._dns: dict[bytes, DiscoveredPeer] = {}
        """Peers found through the organisation's DNS (net/wide_area.py): other subnets."""
        self._seen_at: dict[bytes, float] = {}
        self._conflicts: set[DeviceId] = set()
        self._manual_online: dict[DeviceId, bool] = {}
        self._learned: dict[bytes, Address] = {}
        self.changed: Signal[PeerChange] = Signal("directory.changed")

    # --- inputs -------------------------------------------------------------------------

    def discovered(self, peer: DiscoveredPeer) -> None:
        if peer.fingerprint == self._own:
            return
        self._discovered[peer.fingerprint] = peer
        self._seen_at[peer.fingerprint] = self._wall()
        self.touched(peer.device_id)

    def gone(self, fingerprint: bytes) -> None:
        self._seen_at.pop(fingerprint, None)
        left = self._discovered.pop(fingerprint, None)
        if left is not None:
            self.touched(left.device_id)

    def discovered_dns(self, peer: DiscoveredPeer) -> None:
        """A peer found through DNS-SD in the discovery domain (a hint, like a LAN one)."""
        if peer.fingerprint == self._own:
            return
        self._dns[peer.fingerprint] = peer
        self._seen_at[peer.fingerprint] = self._wall()
        self.touched(peer.device_id)

    def gone_dns(self, fingerprint: bytes) -> None:
        left = self._dns.pop(fingerprint, None)
        if left is not None:
            self.touched(left.device_id)

    def _found(self) -> dict[bytes, DiscoveredPeer]:
        """Every discovered peer, the LAN record first where both know it."""
        return {**self._dns, **self._discovered}

    def conflict(self, device_id: DeviceId) -> None:
        self._conflicts.add(device_id)
        self.touched(device_id)

    def set_manual_presence(self, device_id: DeviceId, online: bool) -> None:
        if self._manual_online.get(device_id) != online:
            self._manual_online[device_id] = online
            self.touched(device_id)

    def touched(self, device_id: DeviceId) -> None:
        """Something about this peer changed (here, or in the address book or the recent
        sessions): announce its view now."""
        view = next((p for p in self.peers() if p.device_id == device_id), None)
        self.changed.emit(PeerChange(device_id, view))

    def learn_address(self, fingerprint: bytes, address: Address) -> None:
        """A listen address a peer told us on an authenticated channel."""
        self._learned[fingerprint] = address

    # --- outputs ------------------------------------------------------------------------

    def addresses_of(self, fingerprint: bytes) -> tuple[Address, ...]:
        out: list[Address] = []
        for found in (self._discovered, self._dns):
            d = found.get(fingerprint)
            if d is not None:
                out.extend(Address(a, d.port) for a in d.addresses)
        pinned = self._db.pinned_peers.get_by_fingerprint(fingerprint)
        device_id = pinned.device_id if pinned else DeviceId.from_fingerprint(fingerprint)
        entry = self._db.address_book.get(device_id)
        if entry is not None and entry.manual_address:
            out.append(_split_address(entry.manual_address))
        if fingerprint in self._learned:
            out.append(self._learned[fingerprint])
        seen: list[Address] = []
        for a in out:
            if a not in seen:
                seen.append(a)
        return tuple(seen)

    def pinned_fingerprint(self, device_id: DeviceId) -> bytes | None:
        pinned = self._db.pinned_peers.get_by_device_id(device_id)
        return pinned.fingerprint if pinned is not None else None

    def in_address_book(self, fingerprint: bytes, device_id: DeviceId) -> bool:
        entry = self._db.address_book.get(device_id)
        if entry is None:
            return False
        # The ID alone proves nothing (nine digits can be searched for): an entry matches only
        # its own key, or, when it was typed without one, the key pinned for that ID.
        if entry.fingerprint is not None:
            return entry.fingerprint == fingerprint
        pinned = self._db.pinned_peers.get_by_device_id(device_id)
        return pinned is not None and pinned.fingerprint == fingerprint

    def first_contact(self, fingerprint: bytes) -> bool:
        pinned = self._db.pinned_peers.get_by_fingerprint(fingerprint)
        if pinned is None:
            return True
        return self._db.recent_sessions.last_time(pinned.device_id) is None

    def peers(self) -> list[PeerView]:
        """Every known peer, merged by ID from all sources (one database read per source)."""
        db = self._db
        facts: dict[DeviceId, _PeerFacts] = {}

        def at(device_id: DeviceId) -> _PeerFacts:
            return facts.setdefault(device_id, _PeerFacts())

        for entry in db.address_book.list():
            f = at(entry.device_id)
            f.sources.add(PeerSource.ADDRESS_BOOK)
            f.alias = str(entry.alias) if entry.alias else f.alias
            f.display_name = entry.display_name
            f.tags = entry.tags
            f.manual_address = entry.manual_address
            f.fingerprint = entry.fingerprint or f.fingerprint
        for fav in db.favorites.list():
            f = at(fav.device_id)
            f.sources.add(PeerSource.FAVORITES)
            f.alias = f.alias or (str(fav.alias) if fav.alias else "")
            f.fingerprint = f.fingerprint or fav.fingerprint
        last = db.recent_sessions.last_times()
        for rec in db.recent_sessions.list(limit=200):
            f = at(rec.peer_id)
            f.sources.add(PeerSource.RECENT)
            f.alias = f.alias or (str(rec.peer_alias) if rec.peer_alias else "")
            f.fingerprint = f.fingerprint or rec.peer_fingerprint
        for d in self._found().values():
            f = at(d.device_id)
            f.sources.add(PeerSource.DISCOVERY)
            f.discovered.append(d)
        pinned = {p.fingerprint: p.device_id for p in db.pinned_peers.list()}
        out: list[PeerView] = []
        for device_id, f in facts.items():
            claims = {d.fingerprint for d in f.discovered}
            if len(claims) > 1:
                # Two keys claim one ID: each record is shown as it is, both flagged, never
                # one record's alias paired with another's key.
                out.extend(self._claimant(device_id, f, d, pinned, last) for d in f.discovered)
                continue
            fp = f.fingerprint or (f.discovered[0].fingerprint if f.discovered else None)
            alias = f.alias or (f.discovered[0].alias if f.discovered else "")
            found_via = self._found_via(fp)
            online = bool(found_via) or self._manual_online.get(device_id, False)
            out.append(
                PeerView(
                    device_id=device_id,
                    alias=alias,
                    display_name=f.display_name,
                    fingerprint=fp,
                    online=online,
                    sources=frozenset(f.sources),
                    tags=f.tags,
                    manual_address=f.manual_address,
                    last_session=last.get(device_id),
                    first_contact=fp is None or fp not in pinned or device_id not in last,
                    conflict=device_id in self._conflicts,
                    found_via=found_via,
                )
            )
        out.sort(key=lambda p: (p.title.casefold(), p.device_id.digits, p.fingerprint or b""))
        return out

    def _found_via(self, fingerprint: bytes | None) -> frozenset[str]:
        """How discovery sees a key now: "lan" (multicast DNS), "dns" (the organisation's)."""
        return frozenset(
            name
            for name, found in (("lan", self._discovered), ("dns", self._dns))
            if fingerprint is not None and fingerprint in found
        )

    def _claimant(
        self,
        device_id: DeviceId,
        f: _PeerFacts,
        d: DiscoveredPeer,
        pinned: dict[bytes, DeviceId],
        last: dict[DeviceId, float],
    ) -> PeerView:
        """One of several discovered records claiming ``device_id``, flagged as a conflict.
        What the address book and history know goes only with the key they name."""
        known = f.fingerprint == d.fingerprint
        return PeerView(
            device_id=device_id,
            alias=(f.alias or d.alias) if known else d.alias,
            display_name=f.display_name if known else "",
            fingerprint=d.fingerprint,
            online=True,
            sources=frozenset(f.sources) if known else frozenset({PeerSource.DISCOVERY}),
            tags=f.tags if known else (),
            manual_address=f.manual_address if known else None,
            last_session=last.get(device_id) if known else None,
            first_contact=d.fingerprint not in pinned or device_id not in last,
            conflict=True,
            found_via=self._found_via(d.fingerprint),
        )

    def manual_entries(self) -> list[AddressEntry]:
        return [e for e in self._db.address_book.list() if e.manual_address]

    # --- resolving ------------------------------------------------------------------------

    def resolve(self, text: str, confirm: str | None = None) -> Target:
        """Turn what a person typed into a target; Refused with a clear reason otherwise."""
        if looks_like_id(text):
            try:
                device_id = parse_id(text)
            except IdError as exc:
                raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
            target = self._resolve_id(device_id)
            full = "".join((confirm or "").split()).lower()
            if target.fingerprint is None and len(full) == 64:
                # A manual address never connected to: the link's key is the one to expect.
                try:
                    return replace(target, fingerprint=bytes.fromhex(full))
                except ValueError:
                    pass
            if confirm and (
                target.fingerprint is None or not fingerprint_confirmed(target.fingerprint, confirm)
            ):
                # A connect link names the key; a device with another key is not the one meant.
                raise RefusedWithKind(
                    RefusalKind.NEEDS_CONFIRMATION,
                    f"the device with ID {device_id.grouped()} does not have the key "
                    "the link names",
                )
            return target
        try:
            alias = parse_alias(text)
        except AliasError as exc:
            raise RefusedWithKind(
                RefusalKind.INVALID, f"{text!r} is neither an ID nor an alias: {exc}"
            ) from None
        return self._resolve_alias(str(alias), alias.key(), confirm)

    def _target(self, device_id: DeviceId, fingerprint: bytes | None, alias: str) -> Target:
        if fingerprint is not None:
            addresses = self.addresses_of(fingerprint)
        else:
            entry = self._db.address_book.get(device_id)
            addresses = (
                (_split_address(entry.manual_address),)
                if entry is not None and entry.manual_address
                else ()
            )
        if not addresses:
            raise RefusedWithKind(
                RefusalKind.OFFLINE, f"{alias or device_id.grouped()} is offline (not found)"
            )
        return Target(device_id, fingerprint, alias, addresses)

    def _resolve_id(self, device_id: DeviceId) -> Target:
        if device_id in self._conflicts:
            raise RefusedWithKind(
                RefusalKind.AMBIGUOUS,
                f"two devices claim the ID {device_id.grouped()}; use the address book",
            )
        pinned = self._db.pinned_peers.get_by_device_id(device_id)
        if pinned is not None:
            return self._target(device_id, pinned.fingerprint, str(pinned.alias or ""))
        entry = self._db.address_book.get(device_id)
        if entry is not None and entry.fingerprint is not None:
            return self._target(device_id, entry.fingerprint, str(entry.alias or ""))
        found = [d for d in self._found().values() if d.device_id == device_id]
        if len(found) == 1:
            # The ID derives from the announced key; the channel proves the key on connect.
            return self._target(device_id, found[0].fingerprint, found[0].alias)
        if entry is not None:
            return self._target(device_id, None, str(entry.alias or ""))
        raise RefusedWithKind(RefusalKind.UNKNOWN, f"no device with ID {device_id.grouped()} found")

    def _resolve_alias(self, shown: str, key: str, confirm: str | None) -> Target:
        book = self._db.address_book.find_by_alias(key)
        pinned = [
            p for p in self._db.pinned_peers.list() if p.alias is not None and p.alias.key() == key
        ]
        known: dict[DeviceId, bytes | None] = {}
        for e in book:
            known[e.device_id] = e.fingerprint
        for p in pinned:
            known.setdefault(p.device_id, p.fingerprint)
            known[p.device_id] = known[p.device_id] or p.fingerprint
        if len(known) > 1:
            raise RefusedWithKind(RefusalKind.AMBIGUOUS, f"{shown} matches several devices")
        if len(known) == 1:
            device_id, fp = next(iter(known.items()))
            if fp is None:
                pin = self._db.pinned_peers.get_by_device_id(device_id)
                fp = pin.fingerprint if pin else None
            return self._resolve_id(device_id) if fp is None else self._target(device_id, fp, shown)
        found = [
            d
            for d in self._found().values()
            if d.alias.lower() in (key, key + "@ad") or d.alias.lower().removesuffix("@ad") == key
        ]
        if not found:
            raise RefusedWithKind(RefusalKind.UNKNOWN, f"no device with alias {shown} found")
        confirmed = [d for d in found if fingerprint_confirmed(d.fingerprint, confirm)]
        if len(confirmed) == 1:
            d = confirmed[0]
            return self._target(d.device_id, d.fingerprint, d.alias)
        candidates = tuple(self._candidate(d) for d in found)
        if len(found) > 1:
            raise RefusedWithKind(
                RefusalKind.AMBIGUOUS,
                f"{shown} matches several devices: "
                + "; ".join(
                    f"ID {c.device_id.grouped()} (--confirm {c.fingerprint.hex()[:16]})"
                    for c in candidates
                ),
                candidates,
            )
        d = found[0]
        raise RefusedWithKind(
            RefusalKind.NEEDS_CONFIRMATION,
            f"{shown} is known only from discovery: confirm it is ID "
            f"{d.device_id.grouped()} with fingerprint {short_fingerprint(d.fingerprint)} "
            f"(--confirm {d.fingerprint.hex()[:16]})",
            candidates,
        )

    def _candidate(self, d: DiscoveredPeer) -> Candidate:
        host = d.addresses[0] if d.addresses else ""
        address = f"[{host}]:{d.port}" if ":" in host else f"{host}:{d.port}"
        return Candidate(
            d.device_id, d.alias, d.fingerprint, address, self._seen_at.get(d.fingerprint)
        )

    def address_of_manual(self, entry: AddressEntry) -> Address | None:
        return _split_address(entry.manual_address) if entry.manual_address else None

    def known_alias(self, fingerprint: bytes) -> str:
        d = self._found().get(fingerprint)
        return d.alias if d else ""
