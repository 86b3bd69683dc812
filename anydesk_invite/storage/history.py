"""Recent sessions: who was connected with, when, and which way."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from anydesk_invite.core.alias import Alias
from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import Direction
from anydesk_invite.storage.errors import (
    StorageValueError,
)
from anydesk_invite.storage.migrations import transaction
from anydesk_invite.storage.values import alias_from, alias_text, check_fingerprint

T = TypeVar("T")

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
        check_fingerprint(self.peer_fingerprint)
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
                    alias_text(item.peer_alias),
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
                peer_alias=alias_from(alias),
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
