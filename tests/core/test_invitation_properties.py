"""Invitation state machines under random event sequences (Hypothesis stateful tests).

Three machines: the inviter side alone, the invitee side alone, and both sides talking over
a simulated link that delivers each direction in order within MAX_DELAY seconds, each side
on its own clock.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from anydesk_invite.core.clock import ManualClock
from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import (
    ACCEPT_ANSWER_WAIT,
    SESSION_TOKEN_LIFETIME,
    IncomingInvitation,
    InvitationRefused,
    Kind,
    OutgoingInvitation,
    Peer,
    Refusal,
    State,
)
from anydesk_invite.core.permissions import Permission

GUEST_FP = bytes(range(32))
THIEF_FP = bytes(range(100, 132))
GUEST = Peer(GUEST_FP, DeviceId.from_fingerprint(GUEST_FP), "guest")
INVITATION_ID = b"\x01" * 16

OUTGOING_MOVES = {
    State.PENDING: {State.ACCEPTED, State.REJECTED, State.CANCELLED, State.EXPIRED, State.FAILED},
    State.ACCEPTED: {State.CONNECTED, State.FAILED},
}
INCOMING_MOVES = {
    State.RECEIVED: {State.ACCEPTING, State.REJECTED, State.CANCELLED, State.EXPIRED, State.FAILED},
    State.ACCEPTING: {
        State.RECEIVED,
        State.CONNECTED,
        State.CANCELLED,
        State.EXPIRED,
        State.FAILED,
    },
}

permission_sets = st.frozensets(st.sampled_from(list(Permission)))
steps = st.floats(min_value=0.0, max_value=45.0, allow_nan=False)
peer_seconds = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.floats(min_value=-10.0, max_value=200.0),
)

SETTINGS = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _check_history(history: list[State], now: State, moves: dict[State, set[State]]) -> None:
    path = [*history, now]
    for before, after in itertools.pairwise(path):
        assert after in moves.get(before, set()), f"{before} -> {after} is not allowed"


class InviterSide(RuleBasedStateMachine):
    """The inviter's machine fed random edits, cancels, accepts, rejects, time and tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock()
        self.inv = OutgoingInvitation(
            INVITATION_ID, Kind.INVITATION, GUEST, frozenset(), self.clock.now()
        )
        self.deadline = self.inv.deadline
        self.tokens_issued = 0
        self.redeemed = 0
        self.last_final: State | None = None

    def now(self) -> float:
        return self.clock.now()

    @rule(dt=steps)
    def advance(self, dt: float) -> None:
        self.clock.advance(dt)
        self.inv.tick(self.now())

    @rule(perms=permission_sets)
    def edit(self, perms: frozenset[Permission]) -> None:
        before = self.inv.revision
        try:
            rev = self.inv.edit(perms, self.now())
        except InvitationRefused:
            assert self.inv.state is not State.PENDING
            assert self.inv.revision == before
        else:
            assert rev == before + 1 and self.inv.permissions == perms

    @rule()
    def cancel(self) -> None:
        was_open = self.inv.state is State.PENDING and self.now() < self.deadline
        try:
            self.inv.cancel(self.now())
        except InvitationRefused:
            assert not was_open
        else:
            assert was_open and self.inv.state is State.CANCELLED

    @rule()
    def reject(self) -> None:
        try:
            self.inv.on_reject(self.now())
        except InvitationRefused:
            assert self.inv.state is not State.PENDING
        else:
            assert self.inv.state is State.REJECTED

    @rule(revision=st.integers(min_value=-1, max_value=8), token=st.binary(min_size=16))
    def accept(self, revision: int, token: bytes) -> None:
        state_before = self.inv.state
        expired = self.now() >= self.deadline
        current = self.inv.revision
        try:
            self.inv.on_accept(revision, self.now(), token)
        except InvitationRefused as exc:
            if state_before is State.CANCELLED:
                assert exc.refusal is Refusal.CANCELLED
            elif (state_before is State.PENDING and expired) or state_before is State.EXPIRED:
                assert exc.refusal is Refusal.EXPIRED
            elif state_before is State.PENDING:
                assert exc.refusal is Refusal.STALE_REVISION and revision != current
        else:
            # Accepted: only while pending, in time, and for exactly the current revision.
            assert state_before is State.PENDING and not expired and revision == current
            assert self.inv.session_token == token
            self.tokens_issued += 1

    @rule(right_token=st.booleans(), right_key=st.booleans(), late=st.booleans())
    def redeem(self, right_token: bool, right_key: bool, late: bool) -> None:
        if late:
            self.clock.advance(SESSION_TOKEN_LIFETIME)
        token = self.inv.session_token if right_token else b"forged-token-0123456789abcdef"
        live = (
            self.inv.state is State.ACCEPTED
            and bool(self.inv.session_token)
            and self.now() < self.inv.token_deadline
        )
        ok = self.inv.redeem_token(token, GUEST_FP if right_key else THIEF_FP, self.now())
        assert ok == (live and right_token and right_key)
        if ok:
            self.redeemed += 1
            assert self.inv.state is State.CONNECTED
        if live and right_token and not right_key:
            assert self.inv.state is State.FAILED

    @invariant()
    def state_is_valid(self) -> None:
        inv = self.inv
        assert inv.state in {*OUTGOING_MOVES, *(s for v in OUTGOING_MOVES.values() for s in v)}
        _check_history(inv.history, inv.state, OUTGOING_MOVES)
        assert inv.deadline == self.deadline, "the deadline moved"
        assert inv.revision >= 1
        assert self.redeemed <= self.tokens_issued <= 1
        if inv.state is not State.ACCEPTED:
            assert inv.session_token == b"", "a token outlived its accept"
        if inv.state.final:
            if self.last_final is not None:
                assert inv.state is self.last_final, "left a final state"
            self.last_final = inv.state


class InviteeSide(RuleBasedStateMachine):
    """The invitee's machine fed random updates (also hostile ones), answers and time."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(start=50.0)
        self.inv: IncomingInvitation | None = None
        self.last_deadline = math.inf
        self.last_revision = 0
        self.last_final: State | None = None
        self.was_missed = False

    def now(self) -> float:
        return self.clock.now()

    @initialize(seconds_left=peer_seconds, revision=st.integers(min_value=1, max_value=3))
    def receive(self, seconds_left: float, revision: int) -> None:
        self.inv = IncomingInvitation.received(
            INVITATION_ID, Kind.INVITATION, GUEST, frozenset(), revision, seconds_left, self.now()
        )
        assert self.now() <= self.inv.deadline <= self.now() + 120.0

    def _inv(self) -> IncomingInvitation:
        assert self.inv is not None
        return self.inv

    @rule(dt=steps)
    def advance(self, dt: float) -> None:
        self.clock.advance(dt)
        inv = self._inv()
        inv.tick(self.now())
        if inv.state is State.RECEIVED:
            assert self.now() < inv.deadline, "still shown after its deadline"
        if inv.state is State.ACCEPTING:
            assert self.now() < inv.deadline + ACCEPT_ANSWER_WAIT

    @rule(
        revision=st.integers(min_value=-1, max_value=10),
        perms=permission_sets,
        seconds_left=peer_seconds,
    )
    def update(self, revision: int, perms: frozenset[Permission], seconds_left: float) -> None:
        inv = self._inv()
        before = inv.revision
        applied = inv.update(revision, perms, seconds_left, self.now())
        assert applied == (revision > before and inv.state in (State.RECEIVED, State.ACCEPTING))
        if applied:
            assert inv.permissions == perms

    @rule()
    def accept(self) -> None:
        inv = self._inv()
        try:
            rev = inv.begin_accept(self.now())
        except InvitationRefused:
            assert inv.state is not State.RECEIVED
        else:
            assert rev == inv.revision and inv.state is State.ACCEPTING

    @rule(refusal=st.sampled_from(list(Refusal)))
    def answer_refused(self, refusal: Refusal) -> None:
        self._inv().accept_refused(refusal, self.now())

    @rule()
    def reject(self) -> None:
        inv = self._inv()
        try:
            inv.reject(self.now())
        except InvitationRefused:
            assert inv.state is not State.RECEIVED
        else:
            assert inv.state is State.REJECTED

    @rule()
    def cancelled(self) -> None:
        self._inv().cancelled_by_peer()

    @rule()
    def expired(self) -> None:
        self._inv().expired_by_peer()

    @rule()
    def connected(self) -> None:
        self._inv().connected()

    @invariant()
    def state_is_valid(self) -> None:
        if self.inv is None:
            return
        inv = self.inv
        _check_history(inv.history, inv.state, INCOMING_MOVES)
        assert not math.isnan(inv.deadline)
        assert inv.deadline <= self.last_deadline, "the deadline grew"
        self.last_deadline = inv.deadline
        assert inv.revision >= self.last_revision, "the revision went back"
        self.last_revision = inv.revision
        self.was_missed = self.was_missed or inv.state in (State.CANCELLED, State.EXPIRED)
        assert inv.missed == self.was_missed
        if inv.state.final:
            if self.last_final is not None:
                assert inv.state is self.last_final, "left a final state"
            self.last_final = inv.state


# --- both sides over a simulated link -----------------------------------------------------

INVITER_CLOCK_START = 1_000.0
MAX_DELAY = 3.0
"""Longest time a message spends on the link; four trips fit in ACCEPT_ANSWER_WAIT."""


@dataclass
class Message:
    kind: str
    due: float
    revision: int = 0
    perms: frozenset[Permission] = frozenset()
    seconds_left: float = 0.0
    refusal: Refusal | None = None
    token: bytes = b""
    fingerprint: bytes = b""


@dataclass
class Link:
    """One direction: in order, each message due within MAX_DELAY of being sent."""

    queue: list[Message] = field(default_factory=list)

    def send(self, now: float, kind: str, **fields: object) -> None:
        self.queue.append(Message(kind, now + MAX_DELAY, **fields))  # type: ignore[arg-type]


class BothSides(RuleBasedStateMachine):
    """An inviter and an invitee fed the same messages end in the same state."""

    def __init__(self) -> None:
        super().__init__()
        self.t = 0.0  # shared simulated time; each side reads its own clock
        self.inviter_clock = ManualClock(start=INVITER_CLOCK_START)
        self.invitee_clock = ManualClock(start=777_000.0)
        self.out = OutgoingInvitation(
            INVITATION_ID, Kind.INVITATION, GUEST, frozenset(), self.inviter_clock.now()
        )
        self.to_invitee = Link()
        self.to_inviter = Link()
        self.inc = IncomingInvitation.received(
            INVITATION_ID,
            Kind.INVITATION,
            GUEST,
            self.out.permissions,
            self.out.revision,
            self.out.seconds_left(self.inviter_clock.now()),
            self.invitee_clock.now(),
        )
        self.tokens = 0
        self.cancelled_at: float | None = None
        self.invitee_rejected = False
        self.accepted_revision: int | None = None
        self.accepted_permissions: frozenset[Permission] | None = None

    # clocks and delivery ------------------------------------------------------------------

    def _move_time_to(self, t: float) -> None:
        if t > self.t:
            self.inviter_clock.advance(t - self.t)
            self.invitee_clock.advance(t - self.t)
            self.t = t
        self._inviter_tick()
        self.inc.tick(self.invitee_clock.now())

    def _inviter_tick(self) -> None:
        if self.out.tick(self.inviter_clock.now()) and self.out.state is State.EXPIRED:
            self.to_invitee.send(self.t, "expired")

    def _deliver_due_before(self, target: float) -> None:
        while True:
            heads = [link for link in (self.to_invitee, self.to_inviter) if link.queue]
            due = [link for link in heads if link.queue[0].due <= target]
            if not due:
                return
            link = min(due, key=lambda lk: lk.queue[0].due)
            self._move_time_to(link.queue[0].due)
            self._deliver(link)

    def _deliver(self, link: Link) -> None:
        msg = link.queue.pop(0)
        if link is self.to_invitee:
            self._invitee_gets(msg)
        else:
            self._inviter_gets(msg)

    def _invitee_gets(self, msg: Message) -> None:
        now = self.invitee_clock.now()
        self.inc.tick(now)
        if msg.kind == "update":
            self.inc.update(msg.revision, msg.perms, msg.seconds_left, now)
        elif msg.kind == "cancel":
            self.inc.cancelled_by_peer()
        elif msg.kind == "expired":
            self.inc.expired_by_peer()
        elif msg.kind == "accept_ok":
            assert self.inc.state is State.ACCEPTING, "the answer to an accept came too late"
            self.to_inviter.send(self.t, "connect", token=msg.token, fingerprint=GUEST_FP)
        elif msg.kind == "accept_refused":
            assert msg.refusal is not None
            self.inc.accept_refused(msg.refusal, now)
        elif msg.kind == "session_ok":
            self.inc.connected()
        elif msg.kind == "session_refused":
            self.inc.fail("the host refused the session")
        else:
            raise AssertionError(msg.kind)

    def _inviter_gets(self, msg: Message) -> None:
        now = self.inviter_clock.now()
        self._inviter_tick()
        if msg.kind == "accept":
            before = self.out.state
            token = self.tokens.to_bytes(4, "big") * 8
            try:
                self.out.on_accept(msg.revision, now, token)
            except InvitationRefused as exc:
                self.to_invitee.send(self.t, "accept_refused", refusal=exc.refusal)
            else:
                # Never after a cancel or expiry, never for an old revision.
                assert before is State.PENDING and now < self.out.deadline
                assert msg.revision == self.out.revision
                self.tokens += 1
                self.accepted_revision = msg.revision
                self.accepted_permissions = self.out.permissions
                self.to_invitee.send(self.t, "accept_ok", token=token)
        elif msg.kind == "reject":
            try:
                self.out.on_reject(now)
            except InvitationRefused:
                pass
        elif msg.kind == "connect":
            ok = self.out.redeem_token(msg.token, msg.fingerprint, now)
            self.to_invitee.send(self.t, "session_ok" if ok else "session_refused")
        else:
            raise AssertionError(msg.kind)

    # what the people and the network do ----------------------------------------------------

    @rule(dt=steps)
    def time_passes(self, dt: float) -> None:
        target = self.t + dt
        self._deliver_due_before(target)
        self._move_time_to(target)

    @rule(before=st.floats(min_value=0.0, max_value=3 * MAX_DELAY))
    def time_passes_to_near_the_deadline(self, before: float) -> None:
        # Races with expiry happen in the last seconds; steer there more often than chance.
        target = self.out.deadline - INVITER_CLOCK_START - before
        if target > self.t:
            self.time_passes(target - self.t)

    @precondition(lambda self: bool(self.to_invitee.queue))
    @rule()
    def invitee_receives(self) -> None:
        self._deliver(self.to_invitee)

    @precondition(lambda self: bool(self.to_inviter.queue))
    @rule()
    def inviter_receives(self) -> None:
        self._deliver(self.to_inviter)

    @rule(perms=permission_sets)
    def inviter_edits(self, perms: frozenset[Permission]) -> None:
        now = self.inviter_clock.now()
        try:
            rev = self.out.edit(perms, now)
        except InvitationRefused:
            return
        left = self.out.seconds_left(now)
        self.to_invitee.send(self.t, "update", revision=rev, perms=perms, seconds_left=left)

    @rule()
    def inviter_cancels(self) -> None:
        try:
            self.out.cancel(self.inviter_clock.now())
        except InvitationRefused:
            return
        self.cancelled_at = self.t
        self.to_invitee.send(self.t, "cancel")

    @rule()
    def invitee_accepts(self) -> None:
        try:
            rev = self.inc.begin_accept(self.invitee_clock.now())
        except InvitationRefused:
            return
        self.to_inviter.send(self.t, "accept", revision=rev)

    @rule()
    def invitee_rejects(self) -> None:
        try:
            self.inc.reject(self.invitee_clock.now())
        except InvitationRefused:
            return
        self.invitee_rejected = True
        self.to_inviter.send(self.t, "reject")

    @rule(right_token=st.booleans())
    def thief_tries_the_token(self, right_token: bool) -> None:
        token = self.out.session_token if right_token else b"guess" * 7
        assert not self.out.redeem_token(token, THIEF_FP, self.inviter_clock.now())

    # what must hold ------------------------------------------------------------------------

    @invariant()
    def both_sides_are_valid(self) -> None:
        _check_history(self.out.history, self.out.state, OUTGOING_MOVES)
        _check_history(self.inc.history, self.inc.state, INCOMING_MOVES)
        assert self.inc.revision <= self.out.revision
        assert self.tokens <= 1
        if self.inc.state is State.CONNECTED:
            assert self.out.state is State.CONNECTED
            assert self.inc.revision == self.accepted_revision
            assert self.inc.permissions == self.accepted_permissions

    def teardown(self) -> None:
        # Let every message arrive and every clock run out, then compare the two sides.
        for _ in range(20):
            if not self.to_invitee.queue and not self.to_inviter.queue:
                if self.out.state.final and self.inc.state.final:
                    break
            self.time_passes(60.0)
        assert not self.to_invitee.queue and not self.to_inviter.queue
        out, inc = self.out.state, self.inc.state
        assert out.final and inc.final, (out, inc)
        if self.invitee_rejected:
            # The invitee's own reject is final for it; the inviter may have cancelled or
            # expired first. Either way neither side connected.
            assert inc is State.REJECTED
            assert out in (State.REJECTED, State.CANCELLED, State.EXPIRED)
        elif out is State.CANCELLED and inc is State.EXPIRED:
            # A cancel sent just before the deadline can reach the invitee after it.
            assert self.cancelled_at is not None
            deadline = self.out.deadline - INVITER_CLOCK_START
            assert self.cancelled_at + MAX_DELAY >= deadline
        else:
            assert out is inc, (out, inc, self.out.history, self.inc.history)


TestInviterSide = InviterSide.TestCase
TestInviterSide.settings = SETTINGS
TestInviteeSide = InviteeSide.TestCase
TestInviteeSide.settings = SETTINGS
TestBothSidesAgree = BothSides.TestCase
TestBothSidesAgree.settings = settings(SETTINGS, max_examples=300)
