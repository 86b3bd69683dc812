"""The client's SQLite database: address book, favorites, recent sessions, custom profiles,
pinned peers and settings, each behind a small typed repository.

Calls are synchronous on purpose: the database is a small local file, every statement here
takes well under a millisecond, and the event loop can afford that. WAL mode with
synchronous=NORMAL keeps every committed row through a crash of the process (SIGKILL); only
a power cut may lose the last commits, and never corrupts the file.

The schema is versioned by ``PRAGMA user_version``; each migration step runs in its own
transaction (migrations.py). A database written by a newer version is refused, never altered.
Each table has its repository in its own module (contacts.py: address book and favorites;
history.py: recent sessions; profiles.py; pins.py: pinned peers; values.py: what they share),
the settings registry is settings.py, the errors errors.py; Database opens the file and
builds them all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from anydesk_invite.storage.contacts import AddressBook, Favorites
from anydesk_invite.storage.errors import DatabaseError
from anydesk_invite.storage.history import RecentSessions
from anydesk_invite.storage.migrations import MIGRATIONS, migrate
from anydesk_invite.storage.pins import MAX_PINNED, PinnedPeers
from anydesk_invite.storage.profiles import CustomProfiles
from anydesk_invite.storage.settings import StoredSettings

# --- the database --------------------------------------------------------------------------


class Database:
    """The open database with its repositories. Use ``Database.open`` and ``close``."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        keep_recent: int = 1000,
        max_pinned: int = MAX_PINNED,
    ) -> None:
        self._conn = conn
        self.path = path
        self.address_book = AddressBook(conn)
        self.favorites = Favorites(conn)
        self.recent_sessions = RecentSessions(conn, keep_recent)
        self.profiles = CustomProfiles(conn)
        self.pinned_peers = PinnedPeers(conn, max_pinned)
        self.settings = StoredSettings(conn)

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        keep_recent: int = 1000,
        max_pinned: int = MAX_PINNED,
        migrations: Sequence[Sequence[str]] = MIGRATIONS,
    ) -> Database:
        """Open (or create) the database and bring its schema up to date.

        ``keep_recent`` bounds the history, ``max_pinned`` the pinned keys nothing else
        refers to; ``migrations`` is for tests of the migrations.
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
        return cls(conn, p, keep_recent, max_pinned)

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
