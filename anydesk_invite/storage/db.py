"""The client's SQLite database: address book, favorites, recent sessions, custom profiles,
pinned peers and settings, each behind a small typed repository.

Calls are synchronous on purpose: the database is a small local file, every statement here
takes well under a millisecond, and the event loop can afford that. WAL mode with
synchronous=NORMAL keeps every committed row through a crash of the process (SIGKILL); only
a power cut may lose the last commits, and never corrupts the file.

The schema is versioned by ``PRAGMA user_version``; each migration step runs in its own
transaction (migrations.py). A database written by a newer version is refused, never altered.
The settings registry lives in settings.py, the errors in errors.py.
"""

from __future__ import annotations

import builtins
import ipaddress
import json
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from anydesk_invite.core.alias import Alias, AliasError, parse_alias, parse_received_alias
from anydesk_invite.core.ids import FINGERPRINT_LENGTH, DeviceId
from anydesk_invite.core.invitation import Direction
from anydesk_invite.core.permissions import (
    BUILTIN_PROFILES,
    Permission,
    PermissionProfile,
    permission_keys,
    permissions_from_keys,
    validate_profile_name,
)
from anydesk_invite.storage.errors import (
    DatabaseError,
    StorageValueError,
)
from anydesk_invite.storage.migrations import MIGRATIONS, migrate
from anydesk_invite.storage.settings import StoredSettings

T = TypeVar("T")

# --- values shared by the repositories -----------------------------------------------------


def _check_fingerprint(fingerprint: bytes | None) -> None:
    if fingerprint is not None and len(fingerprint) != FINGERPRINT_LENGTH:
        raise StorageValueError(f"a fingerprint is {FINGERPRINT_LENGTH} bytes")


def _alias_text(alias: Alias | None) -> str | None:
    return None if alias is None else str(alias)


def _alias_from(text: str | None) -> Alias | None:
    if not text:
        return None
    try:
        return parse_received_alias(text)
    except AliasError:
        # A stored alias that no longer parses is only a display hint; drop it, keep the row.
        return None


_HOSTNAME_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def parse_manual_address(text: str) -> str:
    """Check a ``host:port`` address and return it in normal form.

    The host is an IPv4 address, a bracketed IPv6 address (``[fe80::1]:7000``) or a
    host name; the port is 1..65535.
    """
    t = text.strip()
    if t.startswith("["):
        host, sep, rest = t[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise StorageValueError(f"{text!r}: write an IPv6 address as [address]:port")
        port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host.split("%")[0])
        except ValueError:
            raise StorageValueError(f"{text!r}: {host!r} is not an IPv6 address") from None
        shown = f"[{host}]"
    else:
        host, sep, port_text = t.rpartition(":")
        if not sep or not host:
            raise StorageValueError(f"{text!r}: an address is host:port")
        if ":" in host:
            raise StorageValueError(f"{text!r}: write an IPv6 address as [address]:port")
        if not _valid_host(host):
            raise StorageValueError(f"{text!r}: {host!r} is not a host name or IPv4 address")
        shown = host.lower()
    if not port_text.isascii() or not port_text.isdigit():
        raise StorageValueError(f"{text!r}: the port is a number from 1 to 65535")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise StorageValueError(f"{text!r}: the port is a number from 1 to 65535")
    return f"{shown}:{port}"


def _valid_host(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
        return True
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253:
        return False
    labels = name.split(".")
    # An all-numeric dotted name that failed as IPv4 (e.g. 300.1.1.1) is a typo, not a host.
    if all(label.isdigit() for label in labels):
        return False
    return all(_HOSTNAME_LABEL.fullmatch(label) for label in labels)


TAG_MAX = 40
NOTE_MAX = 2000
DISPLAY_NAME_MAX = 64


def _clean_tags(tags: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for tag in tags:
        t = tag.strip()
        if not t:
            raise StorageValueError("a tag may not be empty")
        if len(t) > TAG_MAX:
            raise StorageValueError(f"a tag has at most {TAG_MAX} characters")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in t):
            raise StorageValueError("a tag may not hold control characters")
        if t.casefold() not in (o.casefold() for o in out):
            out.append(t)
    return tuple(out)


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
        _check_fingerprint(self.fingerprint)
        object.__setattr__(self, "tags", _clean_tags(self.tags))
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
            _alias_text(e.alias),
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
            alias=_alias_from(alias if isinstance(alias, str) else None),
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
        _check_fingerprint(self.fingerprint)


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
                (fav.device_id.digits, _alias_text(fav.alias), fav.fingerprint),
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
        return [Favorite(DeviceId(d), _alias_from(a), f) for d, a, f in rows]

    def __contains__(self, device_id: object) -> bool:
        if not isinstance(device_id, DeviceId):
            return False
        row = self._conn.execute(
            "SELECT 1 FROM favorites WHERE device_id = ?", (device_id.digits,)
        ).fetchone()
        return row is not None


# --- recent sessions -----------------------------------------------------------------------


class RecentKind(StrEnum):
    INVITATION = "invitation"
    REQUEST = "request"
    SESSION = "session"


@dataclass(frozen=True, slots=True)
class RecentSession:
    """One line of the history: an invitation, a connection request or a session."""

    at: float
    """Wall-clock time, epoch seconds."""
    direction: Direction
    kind: RecentKind
    peer_id: DeviceId
    peer_alias: Alias | None
    peer_fingerprint: bytes | None
    outcome: str
    """What became of it, in the words the UI shows (``accepted``, ``expired``, ...)."""
    duration: float = 0.0
    """Seconds; 0 for invitations that never became a session."""

    def __post_init__(self) -> None:
        _check_fingerprint(self.peer_fingerprint)
        if self.duration < 0:
            raise StorageValueError("a duration is not negative")


class RecentSessions:
    """The history, newest first. It keeps the newest ``keep`` records and drops older ones."""

    def __init__(self, conn: sqlite3.Connection, keep: int = 1000) -> None:
        self._conn = conn
        self._keep = keep

    def record(self, item: RecentSession) -> None:
        with transaction(self._conn):
            self._conn.execute(
                "INSERT INTO recent_sessions (at, direction, kind, peer_id, peer_alias, "
                "peer_fingerprint, outcome, duration) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    item.at,
                    item.direction.value,
                    item.kind.value,
                    item.peer_id.digits,
                    _alias_text(item.peer_alias),
                    item.peer_fingerprint,
                    item.outcome,
                    item.duration,
                ),
            )
            self._conn.execute(
                "DELETE FROM recent_sessions WHERE id NOT IN "
                "(SELECT id FROM recent_sessions ORDER BY at DESC, id DESC LIMIT ?)",
                (self._keep,),
            )

    def list(self, limit: int = 50) -> list[RecentSession]:
        """The newest ``limit`` records, newest first."""
        rows = self._conn.execute(
            "SELECT at, direction, kind, peer_id, peer_alias, peer_fingerprint, outcome, "
            "duration FROM recent_sessions ORDER BY at DESC, id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            RecentSession(
                at=at,
                direction=Direction(direction),
                kind=RecentKind(kind),
                peer_id=DeviceId(peer_id),
                peer_alias=_alias_from(alias),
                peer_fingerprint=fp,
                outcome=outcome,
                duration=duration,
            )
            for at, direction, kind, peer_id, alias, fp, outcome, duration in rows
        ]

    def last_time(self, device_id: DeviceId) -> float | None:
        """When anything last happened with this peer, or None."""
        row = self._conn.execute(
            "SELECT max(at) FROM recent_sessions WHERE peer_id = ?", (device_id.digits,)
        ).fetchone()
        value = row[0] if row else None
        return None if value is None else float(value)

    def last_times(self) -> dict[DeviceId, float]:
        """The last time of every peer in the history, for the Recent Sessions tiles."""
        rows = self._conn.execute(
            "SELECT peer_id, max(at) FROM recent_sessions GROUP BY peer_id"
        ).fetchall()
        return {DeviceId(p): float(t) for p, t in rows}


# --- custom profiles -----------------------------------------------------------------------


class CustomProfiles:
    """The user's own permission profiles. Built-in names are refused."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def save(self, profile: PermissionProfile) -> PermissionProfile:
        """Create the profile, or replace the permissions of the one with this name."""
        name = self._valid_name(profile.name)
        with transaction(self._conn):
            self._conn.execute(
                "INSERT INTO profiles (name, permissions) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET permissions = excluded.permissions",
                (name, json.dumps(permission_keys(profile.permissions))),
            )
        return PermissionProfile(name, frozenset(profile.permissions))

    def rename(self, old: str, new: str) -> PermissionProfile:
        name = self._valid_name(new)
        with transaction(self._conn):
            row = self._conn.execute(
                "SELECT name, permissions FROM profiles WHERE name = ?", (old.strip(),)
            ).fetchone()
            if row is None:
                raise StorageValueError(f"there is no custom profile {old!r}")
            clash = self._conn.execute(
                "SELECT 1 FROM profiles WHERE name = ? AND name != ?", (name, row[0])
            ).fetchone()
            if clash is not None:
                raise StorageValueError(f"a profile named {name!r} exists already")
            self._conn.execute("UPDATE profiles SET name = ? WHERE name = ?", (name, row[0]))
        return PermissionProfile(name, _permissions(row[1]))

    def delete(self, name: str) -> bool:
        with transaction(self._conn):
            cur = self._conn.execute("DELETE FROM profiles WHERE name = ?", (name.strip(),))
        return cur.rowcount > 0

    def list(self) -> list[PermissionProfile]:
        rows = self._conn.execute(
            "SELECT name, permissions FROM profiles ORDER BY name COLLATE NOCASE"
        ).fetchall()
        return [PermissionProfile(n, _permissions(p)) for n, p in rows]

    @staticmethod
    def _valid_name(name: str) -> str:
        try:
            n = validate_profile_name(name)
        except ValueError as exc:
            raise StorageValueError(str(exc)) from None
        if any(b.name.casefold() == n.casefold() for b in BUILTIN_PROFILES):
            raise StorageValueError(f"{n!r} is a built-in profile")
        return n


def _permissions(text: str) -> frozenset[Permission]:
    return permissions_from_keys(json.loads(text))


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
        _check_fingerprint(self.fingerprint)
        if DeviceId.from_fingerprint(self.fingerprint) != self.device_id:
            raise StorageValueError("the ID does not derive from the fingerprint")


class PinConflictError(StorageValueError):
    """Another key is pinned under this ID already."""


class PinnedPeers:
    """Trust on first use, by fingerprint. Which key to pin is the services layer's call."""

    _COLUMNS = "fingerprint, device_id, alias, first_seen, last_seen"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

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
                    _alias_text(peer.alias),
                    peer.first_seen,
                    peer.last_seen,
                ),
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
                (when, _alias_text(alias), fingerprint),
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
        return PinnedPeer(fp, DeviceId(device_id), _alias_from(alias), first, last)


# --- the database --------------------------------------------------------------------------


class transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on an exception."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self._conn.execute("COMMIT")
        else:
            self._conn.execute("ROLLBACK")


class Database:
    """The open database with its repositories. Use ``Database.open`` and ``close``."""

    def __init__(self, conn: sqlite3.Connection, path: Path, keep_recent: int = 1000) -> None:
        self._conn = conn
        self.path = path
        self.address_book = AddressBook(conn)
        self.favorites = Favorites(conn)
        self.recent_sessions = RecentSessions(conn, keep_recent)
        self.profiles = CustomProfiles(conn)
        self.pinned_peers = PinnedPeers(conn)
        self.settings = StoredSettings(conn)

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        keep_recent: int = 1000,
        migrations: Sequence[Sequence[str]] = MIGRATIONS,
    ) -> Database:
        """Open (or create) the database and bring its schema up to date.

        ``keep_recent`` bounds the history; ``migrations`` is for tests of the migrations.
        """
        p = Path(path)
        try:
            # isolation_level=None: transactions are ours (BEGIN IMMEDIATE), not implicit.
            conn = sqlite3.connect(p, isolation_level=None)
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot open the database {p}: {exc}") from exc
        try:
            conn.execute("PRAGMA busy_timeout = 5000")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise DatabaseError(f"the database {p} cannot use WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn, p, migrations)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise DatabaseError(
                f"the database {p} cannot be read ({exc}); it was left as it is"
            ) from exc
        except BaseException:
            conn.close()
            raise
        return cls(conn, p, keep_recent)

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def integrity_check(self) -> str:
        """``ok``, or SQLite's description of what is damaged."""
        rows = self._conn.execute("PRAGMA integrity_check").fetchall()
        return "\n".join(str(r[0]) for r in rows)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
