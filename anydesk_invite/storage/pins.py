"""Pinned peers: the fingerprint first seen for each device (trust on first use)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TypeVar

from anydesk_invite.core.alias import Alias
from anydesk_invite.core.ids import DeviceId
from anydesk_invite.storage.errors import (
    StorageValueError,
)
from anydesk_invite.storage.migrations import transaction
from anydesk_invite.storage.values import alias_from, alias_text, check_fingerprint

T = TypeVar("T")

# --- pinned peers --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PinnedPeer:
    """A peer whose key was accepted on first contact; its fingerprint is its identity."""

    fingerprint: bytes
    device_id: DeviceId
    alias: Alias | None
    first_seen: float
    last_seen: float

    def __post_init__(self) -> None:
        check_fingerprint(self.fingerprint)
        if DeviceId.from_fingerprint(self.fingerprint) != self.device_id:
            raise StorageValueError("the ID does not derive from the fingerprint")


class PinConflictError(StorageValueError):
    """Another key is pinned under this ID already."""


MAX_PINNED = 4096
"""Pinned keys kept beyond those of the address book, favorites and recent sessions."""


class PinnedPeers:
    """Trust on first use, by fingerprint. Which key to pin is the services layer's call."""

    _COLUMNS = "fingerprint, device_id, alias, first_seen, last_seen"

    def __init__(self, conn: sqlite3.Connection, limit: int = MAX_PINNED) -> None:
        self._conn = conn
        self._limit = limit

    def pin(self, peer: PinnedPeer) -> None:
        """Pin a key, or refresh the alias and last-seen time of a pinned one.

        A different key whose ID collides with a pinned peer's raises PinConflictError.
        """
        with transaction(self._conn):
            other = self._conn.execute(
                "SELECT fingerprint FROM pinned_peers WHERE device_id = ?",
                (peer.device_id.digits,),
            ).fetchone()
            if other is not None and other[0] != peer.fingerprint:
                raise PinConflictError(
                    f"another key is pinned under {peer.device_id.grouped()} already"
                )
            self._conn.execute(
                f"INSERT INTO pinned_peers ({self._COLUMNS}) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(fingerprint) DO UPDATE SET "
                "alias = coalesce(excluded.alias, alias), "
                "last_seen = max(last_seen, excluded.last_seen)",
                (
                    peer.fingerprint,
                    peer.device_id.digits,
                    alias_text(peer.alias),
                    peer.first_seen,
                    peer.last_seen,
                ),
            )
            self._trim(keep=peer.fingerprint)

    def _trim(self, keep: bytes) -> None:
        """Past the limit, forget the least recently seen keys nobody depends on.

        Anyone on the network can authenticate with a fresh key, so without this a stream of
        new keys grows the table without end. A key is kept while its device is in the
        address book or favorites or has a recent session: those are the pins that protect
        the user. The key just pinned is kept too.
        """
        (count,) = self._conn.execute("SELECT count(*) FROM pinned_peers").fetchone()
        excess = int(count) - self._limit
        if excess <= 0:
            return
        self._conn.execute(
            "DELETE FROM pinned_peers WHERE fingerprint IN ("
            " SELECT fingerprint FROM pinned_peers WHERE fingerprint != ?"
            " AND device_id NOT IN (SELECT device_id FROM address_book)"
            " AND device_id NOT IN (SELECT device_id FROM favorites)"
            " AND device_id NOT IN (SELECT peer_id FROM recent_sessions)"
            " ORDER BY last_seen, first_seen LIMIT ?)",
            (keep, excess),
        )

    def get_by_fingerprint(self, fingerprint: bytes) -> PinnedPeer | None:
        row = self._conn.execute(
            f"SELECT {self._COLUMNS} FROM pinned_peers WHERE fingerprint = ?", (fingerprint,)
        ).fetchone()
        return None if row is None else self._peer(row)

    def get_by_device_id(self, device_id: DeviceId) -> PinnedPeer | None:
        row = self._conn.execute(
            f"SELECT {self._COLUMNS} FROM pinned_peers WHERE device_id = ?", (device_id.digits,)
        ).fetchone()
        return None if row is None else self._peer(row)

    def touch(self, fingerprint: bytes, when: float, alias: Alias | None = None) -> bool:
        """Note that a pinned peer was seen (and its current alias); False if not pinned."""
        with transaction(self._conn):
            cur = self._conn.execute(
                "UPDATE pinned_peers SET last_seen = max(last_seen, ?), "
                "alias = coalesce(?, alias) WHERE fingerprint = ?",
                (when, alias_text(alias), fingerprint),
            )
        return cur.rowcount > 0

    def remove(self, fingerprint: bytes) -> bool:
        """Forget a pinned key; the next contact with it is a first contact again."""
        with transaction(self._conn):
            cur = self._conn.execute(
                "DELETE FROM pinned_peers WHERE fingerprint = ?", (fingerprint,)
            )
        return cur.rowcount > 0

    def list(self) -> list[PinnedPeer]:
        rows = self._conn.execute(
            f"SELECT {self._COLUMNS} FROM pinned_peers ORDER BY last_seen DESC, device_id"
        ).fetchall()
        return [self._peer(r) for r in rows]

    @staticmethod
    def _peer(row: tuple[bytes, str, str | None, float, float]) -> PinnedPeer:
        fp, device_id, alias, first, last = row
        return PinnedPeer(fp, DeviceId(device_id), alias_from(alias), first, last)
