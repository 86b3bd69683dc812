"""Invitation state machines, one per side, driven by events and an injected clock.

Inviter (outgoing):  pending(rev) -> accepted -> connected | failed
                     pending -> rejected | cancelled | expired | failed
Invitee (incoming):  received(rev) -> accepting -> connected | failed
                     received -> rejected | cancelled | expired
                     accepting -> received (stale revision: shown again)
                     accepting -> cancelled | expired | failed (the inviter's answer)

The same machines carry connection requests (kind REQUEST): there the requester holds the
outgoing side and the requested device the incoming side, which picks the permissions when
it accepts. The inviter's order of events decides races: whatever it processed first wins,
and it tells the other side, so both end in the same state.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from enum import StrEnum

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.permissions import Permission

INVITATION_LIFETIME = 120.0
"""Seconds from sending until an invitation expires, on the inviter's clock."""

REQUEST_LIFETIME = 120.0
"""Seconds a connection request waits for its answer before it is 'no answer'."""

SESSION_TOKEN_LIFETIME = 30.0
"""Seconds a session token, issued on accept, stays valid to open the session."""

ACCEPT_ANSWER_WAIT = 15.0
"""Seconds past its deadline an accepting invitee still waits for the inviter's answer.

The accept left in time and the inviter's order decides; expiring locally meanwhile would
leave the two sides in different states (an accept confirmed in time, a toast gone missed).
"""

MIN_TEST_LIFETIME = 0.5


class Direction(StrEnum):
    """Which side started it: this client (outgoing) or the peer (incoming)."""

    OUTGOING = "outgoing"
    INCOMING = "incoming"


class Kind(StrEnum):
    INVITATION = "invitation"
    REQUEST = "request"


class State(StrEnum):
    PENDING = "pending"
    RECEIVED = "received"
    ACCEPTING = "accepting"
    ACCEPTED = "accepted"
    CONNECTED = "connected"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset({State.CONNECTED, State.REJECTED, State.CANCELLED, State.EXPIRED, State.FAILED})
OPEN_STATES = frozenset({State.PENDING, State.RECEIVED, State.ACCEPTING, State.ACCEPTED})


class Refusal(StrEnum):
    """Why an action on an invitation was refused. The values are wire error codes."""

    EXPIRED = "expired"
    CANCELLED = "cancelled"
    STALE_REVISION = "stale_revision"
    NOT_PENDING = "not_pending"
    DECLINED = "declined"
    UNKNOWN = "unknown_invitation"
    NOT_YOURS = "not_yours"


REFUSAL_TEXTS: dict[Refusal, str] = {
    Refusal.EXPIRED: "the invitation had expired; ask for a new one",
    Refusal.CANCELLED: "the inviter cancelled the invitation",
    Refusal.STALE_REVISION: (
        "the inviter changed the invitation; look at it again and accept once more"
    ),
    Refusal.NOT_PENDING: "the invitation was already answered or closed; ask for a new one",
    Refusal.DECLINED: "the invitation was declined",
    Refusal.UNKNOWN: (
        "the other device no longer knows this invitation (it may have restarted); "
        "ask for a new one"
    ),
    Refusal.NOT_YOURS: "this invitation was meant for another device",
}
"""What each refusal from the other side means, in words for a person, with what to do."""

_STATE_TEXTS: dict[State, str] = {
    State.PENDING: "the invitation is still waiting for an answer",
    State.RECEIVED: "the invitation is still waiting for an answer",
    State.ACCEPTING: "the invitation is being accepted already; wait a moment",
    State.ACCEPTED: "the invitation was accepted and the session is starting; wait a moment",
    State.CONNECTED: "the invitation was accepted and its session has started",
    State.REJECTED: "the invitation was rejected; send a new one if a session is still wanted",
    State.CANCELLED: "the invitation was cancelled; send a new one if a session is still wanted",
    State.EXPIRED: "the invitation has expired; send a new one if a session is still wanted",
    State.FAILED: "the invitation did not work out and is closed; send a new one",
}


def state_text(state: State) -> str:
    """Why nothing more can be done with an invitation in ``state``, and what to do instead."""
    return _STATE_TEXTS[state]


class InvitationRefused(Exception):
    """An action that the state machine does not allow in the current state."""

    def __init__(self, refusal: Refusal, message: str = "") -> None:
        super().__init__(message or REFUSAL_TEXTS[refusal])
        self.refusal = refusal


GUEST_LATE = "the guest accepted but did not connect in time; send a new invitation"
WRONG_DEVICE = "another device tried to join with this invitation, so it was closed; send a new one"
"""Why an invitation failed on the inviter's side, in words for a person."""


def _seconds_left(value: float) -> float:
    """A remaining time from the peer, made safe: never negative, NaN counts as none."""
    # Written so that NaN fails the comparison: a NaN deadline would never expire.
    return value if value > 0 else 0.0


def tokens_equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison for invitation ids and session tokens."""
    return hmac.compare_digest(a, b)


@dataclass(frozen=True, slots=True)
class Peer:
    """The other side of an invitation, as identified by its key."""

    fingerprint: bytes
    device_id: DeviceId
    alias: str = ""


@dataclass(slots=True)
class OutgoingInvitation:
    """The inviter's (or requester's) side."""

    invitation_id: bytes
    kind: Kind
    peer: Peer
    permissions: frozenset[Permission]
    sent_at: float
    lifetime: float = INVITATION_LIFETIME
    profile: str = ""
    revision: int = 1
    state: State = State.PENDING
    reason: str = ""
    session_token: bytes = b""
    token_deadline: float = 0.0
    history: list[State] = field(default_factory=list)

    @property
    def deadline(self) -> float:
        return self.sent_at + self.lifetime

    def seconds_left(self, now: float) -> float:
        return max(0.0, self.deadline - now) if self.state is State.PENDING else 0.0

    def _move(self, new: State, reason: str = "") -> None:
        self.history.append(self.state)
        self.state = new
        if reason:
            self.reason = reason

    def tick(self, now: float) -> bool:
        """Expire when the deadline has passed; drop an unused session token. True if changed."""
        if self.state is State.PENDING and now >= self.deadline:
            self._move(State.EXPIRED)
            return True
        if self.state is State.ACCEPTED and now >= self.token_deadline:
            self.session_token = b""
            self._move(State.FAILED, GUEST_LATE)
            return True
        return False

    def _require_pending(self, now: float) -> None:
        self.tick(now)
        if self.state is State.EXPIRED:
            raise InvitationRefused(Refusal.EXPIRED, state_text(State.EXPIRED))
        if self.state is State.CANCELLED:
            raise InvitationRefused(Refusal.CANCELLED, state_text(State.CANCELLED))
        if self.state is not State.PENDING:
            raise InvitationRefused(Refusal.NOT_PENDING, state_text(self.state))

    def edit(self, permissions: frozenset[Permission], now: float, profile: str = "") -> int:
        """Change what is offered: same id and deadline, revision + 1."""
        if self.kind is not Kind.INVITATION:
            raise InvitationRefused(
                Refusal.NOT_PENDING,
                "a connection request cannot be changed; the other side chooses what you may do",
            )
        self._require_pending(now)
        self.permissions = permissions
        self.profile = profile
        self.revision += 1
        return self.revision

    def cancel(self, now: float) -> None:
        self._require_pending(now)
        self._move(State.CANCELLED)

    def on_reject(self, now: float) -> None:
        self._require_pending(now)
        self._move(State.REJECTED)

    def on_accept(
        self,
        revision: int,
        now: float,
        token: bytes,
        token_lifetime: float = SESSION_TOKEN_LIFETIME,
        permissions: frozenset[Permission] | None = None,
    ) -> None:
        """The other side accepted the revision it saw. A stale revision is refused.

        For a request, the accepting side chooses the permissions.
        """
        self._require_pending(now)
        if revision != self.revision:
            raise InvitationRefused(Refusal.STALE_REVISION)
        if permissions is not None:
            self.permissions = permissions
        self.session_token = token
        self.token_deadline = now + token_lifetime
        self._move(State.ACCEPTED)

    def redeem_token(self, token: bytes, fingerprint: bytes, now: float) -> bool:
        """Use the session token once; only from the invitee's key, only in time.

        A wrong key uses the token up too, so a stolen token is worth one try at most.
        """
        self.tick(now)
        if self.state is not State.ACCEPTED or not self.session_token:
            return False
        good = tokens_equal(token, self.session_token)
        if not good:
            return False
        self.session_token = b""
        if not tokens_equal(fingerprint, self.peer.fingerprint):
            self._move(State.FAILED, WRONG_DEVICE)
            return False
        self._move(State.CONNECTED)
        return True

    def connected(self) -> None:
        """The requester opened the session the requested device accepted."""
        if self.state is State.ACCEPTED:
            self.session_token = b""
            self._move(State.CONNECTED)

    def fail(self, reason: str) -> None:
        if not self.state.final:
            self.session_token = b""
            self._move(State.FAILED, reason)


@dataclass(slots=True)
class IncomingInvitation:
    """The invitee's (or requested device's) side. Its deadline is on the local clock."""

    invitation_id: bytes
    kind: Kind
    peer: Peer
    permissions: frozenset[Permission]
    deadline: float
    revision: int = 1
    state: State = State.RECEIVED
    reason: str = ""
    missed: bool = False
    history: list[State] = field(default_factory=list)

    @classmethod
    def received(
        cls,
        invitation_id: bytes,
        kind: Kind,
        peer: Peer,
        permissions: frozenset[Permission],
        revision: int,
        seconds_left: float,
        now: float,
        max_lifetime: float = INVITATION_LIFETIME,
    ) -> IncomingInvitation:
        # Never trust the peer to extend the lifetime beyond what the protocol allows.
        left = min(_seconds_left(seconds_left), max_lifetime)
        return cls(invitation_id, kind, peer, permissions, now + left, revision)

    def seconds_left(self, now: float) -> float:
        return max(0.0, self.deadline - now) if self.state is State.RECEIVED else 0.0

    def _move(self, new: State, reason: str = "") -> None:
        self.history.append(self.state)
        self.state = new
        if reason:
            self.reason = reason
        if new in (State.EXPIRED, State.CANCELLED):
            self.missed = True

    def tick(self, now: float) -> bool:
        if self.state is State.RECEIVED and now >= self.deadline:
            self._move(State.EXPIRED)
            return True
        if self.state is State.ACCEPTING and now >= self.deadline + ACCEPT_ANSWER_WAIT:
            # The inviter never answered the accept: give up as expired.
            self._move(State.EXPIRED)
            return True
        return False

    def update(
        self, revision: int, permissions: frozenset[Permission], seconds_left: float, now: float
    ) -> bool:
        """The inviter edited it. Only a newer revision counts; the deadline never grows."""
        self.tick(now)
        if self.state not in (State.RECEIVED, State.ACCEPTING) or revision <= self.revision:
            return False
        self.revision = revision
        self.permissions = permissions
        self.deadline = min(self.deadline, now + _seconds_left(seconds_left))
        return True

    def begin_accept(self, now: float) -> int:
        """The user clicked Connect: returns the revision they saw."""
        self.tick(now)
        if self.state is State.EXPIRED:
            raise InvitationRefused(Refusal.EXPIRED, state_text(State.EXPIRED))
        if self.state is not State.RECEIVED:
            raise InvitationRefused(Refusal.NOT_PENDING, state_text(self.state))
        self._move(State.ACCEPTING)
        return self.revision

    def accept_refused(self, refusal: Refusal, now: float) -> None:
        """The inviter refused the accept; its answer decides the final state."""
        if self.state is not State.ACCEPTING:
            return
        if refusal is Refusal.STALE_REVISION:
            self._move(State.RECEIVED)
            self.tick(now)
        elif refusal is Refusal.EXPIRED:
            self._move(State.EXPIRED)
        elif refusal is Refusal.CANCELLED:
            self._move(State.CANCELLED)
        else:
            self._move(State.FAILED, REFUSAL_TEXTS[refusal])

    def reject(self, now: float) -> None:
        self.tick(now)
        if self.state is not State.RECEIVED:
            raise InvitationRefused(Refusal.NOT_PENDING, state_text(self.state))
        self._move(State.REJECTED)

    def cancelled_by_peer(self) -> bool:
        if self.state in (State.RECEIVED, State.ACCEPTING):
            self._move(State.CANCELLED)
            return True
        return False

    def expired_by_peer(self) -> bool:
        if self.state in (State.RECEIVED, State.ACCEPTING):
            self._move(State.EXPIRED)
            return True
        return False

    def connected(self) -> None:
        if self.state is State.ACCEPTING:
            self._move(State.CONNECTED)

    def fail(self, reason: str) -> None:
        if not self.state.final:
            self._move(State.FAILED, reason)
