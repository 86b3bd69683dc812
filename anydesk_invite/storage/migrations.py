"""The database schema as a list of migrations, and running the ones a database lacks."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from anydesk_invite.storage.errors import SchemaTooNewError

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


def migrate(conn: sqlite3.Connection, path: Path, migrations: Sequence[Sequence[str]]) -> None:
    while True:
        with transaction(conn):
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
