"""The client's SQLite database: address book, favorites, recent sessions, custom profiles,
pinned peers and settings, each behind a small typed repository.

Calls are synchronous on purpose: the database is a small local file, every statement here
takes well under a millisecond, and the event loop can afford that. WAL mode with
synchronous=NORMAL keeps every committed row through a crash of the process (SIGKILL); only
a power cut may lose the last commits, and never corrupts the file.

The schema is versioned by ``PRAGMA user_version``; each migration step runs in its own
transaction. A database written by a newer version is refused, never altered.
"""

from __future__ import annotations

import builtins
import ipaddress
import json
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Generic, TypeVar

from anydesk_invite.core.alias import Alias, AliasError, parse_alias, parse_received_alias
from anydesk_invite.core.ids import FINGERPRINT_LENGTH, DeviceId
from anydesk_invite.core.invitation import Direction
from anydesk_invite.core.permissions import (
    BUILTIN_PROFILES,
    DEFAULT,
    Permission,
    PermissionProfile,
    permission_keys,
    permissions_from_keys,
    validate_profile_name,
)
from anydesk_invite.core.policy import (
    AcceptFrom,
    DiscoveryMode,
    parse_accept_from,
    parse_discovery_mode,
)
from anydesk_invite.core.wide_area import WideAreaSettings

T = TypeVar("T")


class DatabaseError(Exception):
    """The database cannot be opened or used; the message says why."""


class SchemaTooNewError(DatabaseError):
    """The database was written by a newer version of the program."""


class StorageValueError(ValueError):
    """A value that cannot be stored: an invalid address, tag, duplicate entry and so on."""


# --- schema -----------------------------------------------------------------------------

# Each step is a list of statements run in one transaction; step i brings the schema from
# version i to i + 1. Append new steps; never edit a released one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE address_book (
            device_id TEXT PRIMARY KEY,
            alias TEXT COLLATE NOCASE,
            display_name TEXT NOT NULL DEFAULT '',
            tags TEXT NOT NULL DEFAULT '[]',
            manual_address TEXT,
            fingerprint BLOB,
            note TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX address_book_alias ON address_book(alias)",
        """CREATE TABLE favorites (
            device_id TEXT PRIMARY KEY,
            alias TEXT,
            fingerprint BLOB
        )""",
        """CREATE TABLE recent_sessions (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('incoming', 'outgoing')),
            kind TEXT NOT NULL CHECK (kind IN ('invitation', 'request', 'session')),
            peer_id TEXT NOT NULL,
            peer_alias TEXT,
            peer_fingerprint BLOB,
            outcome TEXT NOT NULL,
            duration REAL NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX recent_sessions_at ON recent_sessions(at)",
        "CREATE INDEX recent_sessions_peer ON recent_sessions(peer_id, at)",
        """CREATE TABLE profiles (
            name TEXT PRIMARY KEY COLLATE NOCASE,
            permissions TEXT NOT NULL
        )""",
        """CREATE TABLE pinned_peers (
            fingerprint BLOB PRIMARY KEY,
            device_id TEXT NOT NULL UNIQUE,
            alias TEXT,
            first_seen REAL NOT NULL,
            last_seen REAL NOT NULL
        )""",
        """CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


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
            with _transaction(self._conn):
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
        with _transaction(self._conn):
            cur = self._conn.execute(
                "UPDATE address_book SET alias = ?, display_name = ?, tags = ?, "
                "manual_address = ?, fingerprint = ?, note = ? WHERE device_id = ?",
                (*row[1:], row[0]),
            )
        if cur.rowcount == 0:
            raise StorageValueError(f"{entry.device_id.grouped()} is not in the address book")

    def remove(self, device_id: DeviceId) -> bool:
        """Remove an entry; False when it was not there."""
        with _transaction(self._conn):
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
        with _transaction(self._conn):
            self._conn.execute(
                "INSERT INTO favorites (device_id, alias, fingerprint) VALUES (?, ?, ?) "
                "ON CONFLICT(device_id) DO UPDATE SET "
                "alias = coalesce(excluded.alias, alias), "
                "fingerprint = coalesce(excluded.fingerprint, fingerprint)",
                (fav.device_id.digits, _alias_text(fav.alias), fav.fingerprint),
            )

    def remove(self, device_id: DeviceId) -> bool:
        with _transaction(self._conn):
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
        with _transaction(self._conn):
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
        with _transaction(self._conn):
            self._conn.execute(
                "INSERT INTO profiles (name, permissions) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET permissions = excluded.permissions",
                (name, json.dumps(permission_keys(profile.permissions))),
            )
        return PermissionProfile(name, frozenset(profile.permissions))

    def rename(self, old: str, new: str) -> PermissionProfile:
        name = self._valid_name(new)
        with _transaction(self._conn):
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
        with _transaction(self._conn):
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
        with _transaction(self._conn):
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
        with _transaction(self._conn):
            cur = self._conn.execute(
                "UPDATE pinned_peers SET last_seen = max(last_seen, ?), "
                "alias = coalesce(?, alias) WHERE fingerprint = ?",
                (when, _alias_text(alias), fingerprint),
            )
        return cur.rowcount > 0

    def remove(self, fingerprint: bytes) -> bool:
        """Forget a pinned key; the next contact with it is a first contact again."""
        with _transaction(self._conn):
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


# --- settings ------------------------------------------------------------------------------


class SettingError(DatabaseError):
    """A stored setting holds a value this version cannot read."""


@dataclass(frozen=True, slots=True)
class Setting(Generic[T]):
    """A typed settings key: its name, default, and how its value becomes JSON and back.

    ``decode`` raises ValueError on a value it cannot read; it also checks values to set.
    """

    key: str
    default: T
    encode: Callable[[T], object] = field(repr=False)
    decode: Callable[[object], T] = field(repr=False)


def _str_value(v: object) -> str:
    if not isinstance(v, str):
        raise ValueError("expected text")
    return v


def _bool_value(v: object) -> bool:
    if not isinstance(v, bool):
        raise ValueError("expected true or false")
    return v


def _tri_state(v: object) -> bool | None:
    return None if v is None else _bool_value(v)


def _alias_value(v: object) -> Alias | None:
    return None if v is None else parse_alias(_str_value(v))


def _interfaces_value(v: object) -> tuple[str, ...]:
    if not isinstance(v, list | tuple):
        raise ValueError("expected a list of interfaces")
    out: list[str] = []
    for item in v:
        name = _str_value(item).strip()
        if not name or len(name) > 64 or any(ch.isspace() or ord(ch) < 32 for ch in name):
            raise ValueError(f"{item!r} is not an interface name or address")
        out.append(name)
    return tuple(out)


def _lifetime_value(v: object) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= 3600:
        raise ValueError("expected seconds between 0 and 3600")
    return float(v)


def _folder_value(v: object) -> str | None:
    if v is None:
        return None
    text = _str_value(v)
    if not text.startswith("/") and not (len(text) > 2 and text[1] == ":"):
        raise ValueError(f"{text!r} is not an absolute folder path")
    if "\x00" in text or len(text) > 4096:
        raise ValueError("not a usable folder path")
    return text


def _byte_count_value(v: object) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not 0 < v < 2**63:
        raise ValueError("expected a positive number of bytes")
    return v


def _profile_name_value(v: object) -> str:
    return validate_profile_name(_str_value(v))


class StoredSettings:
    """Typed settings stored as JSON text. Unknown keys in the table are left alone."""

    ALIAS: Setting[Alias | None] = Setting("alias", None, _alias_text, _alias_value)
    """None until the user picks one; services then make one from user and host names."""
    ACCEPT_FROM: Setting[AcceptFrom] = Setting(
        "accept_from",
        AcceptFrom.EVERYONE,
        lambda v: v.key,
        lambda v: parse_accept_from(_str_value(v)),
    )
    DISCOVERY: Setting[DiscoveryMode] = Setting(
        "discovery",
        DiscoveryMode.ON,
        lambda v: v.key,
        lambda v: parse_discovery_mode(_str_value(v)),
    )
    INTERFACES: Setting[tuple[str, ...]] = Setting("interfaces", (), list, _interfaces_value)
    """Interfaces (names or addresses) to listen and announce on; empty means automatic."""
    DEFAULT_PROFILE: Setting[str] = Setting(
        "default_profile", DEFAULT, lambda v: v, _profile_name_value
    )
    SEND_CLIPBOARD_DEFAULT: Setting[bool] = Setting(
        "send_clipboard_default", False, lambda v: v, _bool_value
    )
    KEEP_RUNNING_IN_BACKGROUND: Setting[bool | None] = Setting(
        "keep_running_in_background", None, lambda v: v, _tri_state
    )
    """None: the user has not been asked yet."""
    INVITATION_LIFETIME_FOR_TESTS: Setting[float | None] = Setting(
        "invitation_lifetime_for_tests", None, lambda v: v, _lifetime_value
    )
    """Tests only: a shorter invitation lifetime in seconds; None is the real 120 s."""
    INCOMING_FOLDER: Setting[str | None] = Setting(
        "incoming_folder", None, lambda v: v, _folder_value
    )
    """Absolute folder where received files are saved; None is the platform's Downloads."""
    TRANSFER_SIZE_LIMIT: Setting[int | None] = Setting(
        "transfer_size_limit", None, lambda v: v, _byte_count_value
    )
    """The largest file this device receives, in bytes; None is the services' default."""
    WIDE_AREA: Setting[WideAreaSettings] = Setting(
        "wide_area", WideAreaSettings(), lambda v: v.to_json(), WideAreaSettings.from_json
    )
    """Discovery through the organisation's DNS; the TSIG secret is never here."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, setting: Setting[T]) -> T:
        row = self._conn.execute(
            "SELECT value FROM settings WHERE key = ?", (setting.key,)
        ).fetchone()
        if row is None:
            return setting.default
        try:
            return setting.decode(json.loads(row[0]))
        except ValueError as exc:
            raise SettingError(
                f"the setting {setting.key!r} holds {row[0]!r}, which is not valid ({exc}); "
                "set it again to repair it"
            ) from None

    def set(self, setting: Setting[T], value: T) -> None:
        """Store a value; a value its decoder refuses raises StorageValueError."""
        text = json.dumps(setting.encode(value))
        try:
            setting.decode(json.loads(text))
        except ValueError as exc:
            raise StorageValueError(f"{setting.key}: {exc}") from None
        with _transaction(self._conn):
            self._conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (setting.key, text),
            )

    def reset(self, setting: Setting[T]) -> None:
        """Go back to the default."""
        with _transaction(self._conn):
            self._conn.execute("DELETE FROM settings WHERE key = ?", (setting.key,))


# --- the database --------------------------------------------------------------------------


class _transaction:
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
            _migrate(conn, p, migrations)
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


def _migrate(conn: sqlite3.Connection, path: Path, migrations: Sequence[Sequence[str]]) -> None:
    while True:
        with _transaction(conn):
            # Read the version inside the write transaction: another client opening the
            # same home at the same moment may have migrated it already.
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > len(migrations):
                raise SchemaTooNewError(
                    f"the database {path} was written by a newer version of anydesk-invite "
                    f"(schema {version}; this version knows up to {len(migrations)}); "
                    "update the program or use another --home"
                )
            if version == len(migrations):
                return
            for statement in migrations[version]:
                conn.execute(statement)
            # PRAGMA takes no parameters; the value is our own integer.
            conn.execute(f"PRAGMA user_version = {version + 1:d}")
