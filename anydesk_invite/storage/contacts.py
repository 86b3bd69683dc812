"""The address book and the favorites."""

from __future__ import annotations

import builtins
import json
import sqlite3
from dataclasses import dataclass
from typing import TypeVar

from anydesk_invite.core.alias import Alias, parse_alias
from anydesk_invite.core.ids import DeviceId
from anydesk_invite.storage.errors import (
    StorageValueError,
)
from anydesk_invite.storage.migrations import transaction
from anydesk_invite.storage.values import (
    DISPLAY_NAME_MAX,
    NOTE_MAX,
    alias_from,
    alias_text,
    check_fingerprint,
    clean_tags,
    parse_manual_address,
)

T = TypeVar("T")

# --- address book --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddressEntry:
    """A peer the user keeps in the address book. Values are checked on creation."""

    device_id: DeviceId
    alias: Alias | None = None
    display_name: str = ""
    tags: tuple[str, ...] = ()
    manual_address: str | None = None
    """``host:port`` in normal form, for peers that discovery cannot reach."""
    fingerprint: bytes | None = None
    note: str = ""

    def __post_init__(self) -> None:
        check_fingerprint(self.fingerprint)
        object.__setattr__(self, "tags", clean_tags(self.tags))
        if self.manual_address is not None:
            object.__setattr__(self, "manual_address", parse_manual_address(self.manual_address))
        if len(self.display_name) > DISPLAY_NAME_MAX:
            raise StorageValueError(f"a display name has at most {DISPLAY_NAME_MAX} characters")
        if len(self.note) > NOTE_MAX:
            raise StorageValueError(f"a note has at most {NOTE_MAX} characters")


class AddressBook:
    """The address book: entries keyed by device ID."""

    _COLUMNS = "device_id, alias, display_name, tags, manual_address, fingerprint, note"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(self, entry: AddressEntry) -> None:
        """Add a new entry; an ID already in the book is refused."""
        try:
            with transaction(self._conn):
                self._conn.execute(
                    f"INSERT INTO address_book ({self._COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    self._row(entry),
                )
        except sqlite3.IntegrityError:
            raise StorageValueError(
                f"{entry.device_id.grouped()} is in the address book already"
            ) from None

    def update(self, entry: AddressEntry) -> None:
        """Replace the entry with the same ID; an ID not in the book is refused."""
        row = self._row(entry)
        with transaction(self._conn):
            cur = self._conn.execute(
                "UPDATE address_book SET alias = ?, display_name = ?, tags = ?, "
                "manual_address = ?, fingerprint = ?, note = ? WHERE device_id = ?",
                (*row[1:], row[0]),
            )
        if cur.rowcount == 0:
            raise StorageValueError(f"{entry.device_id.grouped()} is not in the address book")

    def remove(self, device_id: DeviceId) -> bool:
        """Remove an entry; False when it was not there."""
        with transaction(self._conn):
            cur = self._conn.execute(
                "DELETE FROM address_book WHERE device_id = ?", (device_id.digits,)
            )
        return cur.rowcount > 0

    def get(self, device_id: DeviceId) -> AddressEntry | None:
        row = self._conn.execute(
            f"SELECT {self._COLUMNS} FROM address_book WHERE device_id = ?", (device_id.digits,)
        ).fetchone()
        return None if row is None else self._entry(row)

    def list(self) -> list[AddressEntry]:
        """Every entry, by display name, then alias, then ID."""
        rows = self._conn.execute(f"SELECT {self._COLUMNS} FROM address_book").fetchall()
        entries = [self._entry(r) for r in rows]
        return sorted(
            entries,
            key=lambda e: (
                (e.display_name or (e.alias.name if e.alias else "") or "~").casefold(),
                e.device_id.digits,
            ),
        )

    def find_by_alias(self, alias: Alias | str) -> builtins.list[AddressEntry]:
        """Entries with this alias, ignoring case (several peers may share one)."""
        key = alias if isinstance(alias, Alias) else parse_alias(alias)
        rows = self._conn.execute(
            f"SELECT {self._COLUMNS} FROM address_book WHERE alias = ? ORDER BY device_id",
            (str(key),),
        ).fetchall()
        return [self._entry(r) for r in rows]

    @staticmethod
    def _row(e: AddressEntry) -> tuple[object, ...]:
        return (
            e.device_id.digits,
            alias_text(e.alias),
            e.display_name,
            json.dumps(list(e.tags)),
            e.manual_address,
            e.fingerprint,
            e.note,
        )

    @staticmethod
    def _entry(row: tuple[object, ...]) -> AddressEntry:
        device_id, alias, display_name, tags, manual, fingerprint, note = row
        return AddressEntry(
            device_id=DeviceId(str(device_id)),
            alias=alias_from(alias if isinstance(alias, str) else None),
            display_name=str(display_name),
            tags=tuple(json.loads(str(tags))),
            manual_address=None if manual is None else str(manual),
            fingerprint=fingerprint if isinstance(fingerprint, bytes) else None,
            note=str(note),
        )


# --- favorites -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Favorite:
    """A favorite peer, with the alias and fingerprint last known for its tile."""

    device_id: DeviceId
    alias: Alias | None = None
    fingerprint: bytes | None = None

    def __post_init__(self) -> None:
        check_fingerprint(self.fingerprint)


class Favorites:
    """Favorite peers, in the order they were added."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(
        self, device_id: DeviceId, alias: Alias | None = None, fingerprint: bytes | None = None
    ) -> None:
        """Add a favorite, or refresh the cached alias and fingerprint of one."""
        fav = Favorite(device_id, alias, fingerprint)
        with transaction(self._conn):
            self._conn.execute(
                "INSERT INTO favorites (device_id, alias, fingerprint) VALUES (?, ?, ?) "
                "ON CONFLICT(device_id) DO UPDATE SET "
                "alias = coalesce(excluded.alias, alias), "
                "fingerprint = coalesce(excluded.fingerprint, fingerprint)",
                (fav.device_id.digits, alias_text(fav.alias), fav.fingerprint),
            )

    def remove(self, device_id: DeviceId) -> bool:
        with transaction(self._conn):
            cur = self._conn.execute(
                "DELETE FROM favorites WHERE device_id = ?", (device_id.digits,)
            )
        return cur.rowcount > 0

    def list(self) -> list[Favorite]:
        rows = self._conn.execute(
            "SELECT device_id, alias, fingerprint FROM favorites ORDER BY rowid"
        ).fetchall()
        return [Favorite(DeviceId(d), alias_from(a), f) for d, a, f in rows]

    def __contains__(self, device_id: object) -> bool:
        if not isinstance(device_id, DeviceId):
            return False
        row = self._conn.execute(
            "SELECT 1 FROM favorites WHERE device_id = ?", (device_id.digits,)
        ).fetchone()
        return row is not None
