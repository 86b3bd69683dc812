"""Recent Sessions: what became of each invitation, request and session, kept in the database."""

from __future__ import annotations

from collections.abc import Callable

from anydesk_invite.core.alias import Alias, AliasError, parse_alias
from anydesk_invite.core.invitation import Direction, State
from anydesk_invite.services.directory import PeerDirectory
from anydesk_invite.services.invitations import DECLINED, NO_ANSWER, Outcome
from anydesk_invite.services.sessions.service import SessionOutcome
from anydesk_invite.storage.db import Database
from anydesk_invite.storage.history import RecentKind, RecentSession


def _alias_or_none(text: str) -> Alias | None:
    try:
        return parse_alias(text) if text else None
    except AliasError:
        return None


class RecentSessions:
    """Records each finished invitation or request and each ended session; the directory then
    announces the peer (its last session changed)."""

    def __init__(self, db: Database, wall: Callable[[], float], directory: PeerDirectory) -> None:
        self._db = db
        self._wall = wall
        self._directory = directory

    def invitation_finished(self, outcome: Outcome) -> None:
        if outcome.state is State.CONNECTED:
            return  # the session records itself when it ends, with its duration
        outcome_text = (
            outcome.reason if outcome.reason in (DECLINED, NO_ANSWER) else outcome.state.value
        )
        self._db.recent_sessions.record(
            RecentSession(
                at=self._wall(),
                direction=outcome.direction,
                kind=RecentKind(outcome.kind.value),
                peer_id=outcome.peer.device_id,
                peer_alias=_alias_or_none(outcome.peer.alias),
                peer_fingerprint=outcome.peer.fingerprint,
                outcome=outcome_text,
            )
        )
        self._directory.touched(outcome.peer.device_id)

    def session_ended(self, outcome: SessionOutcome) -> None:
        v = outcome.session
        direction = Direction.INCOMING if v.role.value == "host" else Direction.OUTGOING
        self._db.recent_sessions.record(
            RecentSession(
                at=v.started_at,
                direction=direction,
                kind=RecentKind.SESSION,
                peer_id=v.peer_id,
                peer_alias=_alias_or_none(v.peer_alias),
                peer_fingerprint=v.peer_fingerprint,
                outcome=outcome.reason,
                duration=outcome.duration,
            )
        )
        self._directory.touched(v.peer_id)
