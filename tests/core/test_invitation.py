"""Invitation state machines, one transition at a time."""

from __future__ import annotations

import math

import pytest

from anydesk_invite.core.clock import ManualClock
from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import (
    ACCEPT_ANSWER_WAIT,
    INVITATION_LIFETIME,
    SESSION_TOKEN_LIFETIME,
    IncomingInvitation,
    InvitationRefused,
    Kind,
    OutgoingInvitation,
    Peer,
    Refusal,
    State,
    tokens_equal,
)
from anydesk_invite.core.permissions import ALL_PERMISSIONS, Permission

P = Permission
GUEST_FP = bytes(range(32))
OTHER_FP = bytes(range(1, 33))
TOKEN = b"t" * 32
GUEST = Peer(GUEST_FP, DeviceId.from_fingerprint(GUEST_FP), "guest")


def _outgoing(clock: ManualClock, kind: Kind = Kind.INVITATION) -> OutgoingInvitation:
    return OutgoingInvitation(b"i" * 16, kind, GUEST, frozenset({P.CONTROL}), clock.now())


def _incoming(clock: ManualClock, seconds_left: float = 120.0) -> IncomingInvitation:
    return IncomingInvitation.received(
        b"i" * 16, Kind.INVITATION, GUEST, frozenset({P.CONTROL}), 1, seconds_left, clock.now()
    )


def _refusal(exc: pytest.ExceptionInfo[InvitationRefused]) -> Refusal:
    return exc.value.refusal


# --- inviter side -------------------------------------------------------------------------


def test_new_invitation_is_pending_revision_one_for_two_minutes() -> None:
    clock = ManualClock()
    inv = _outgoing(clock)
    assert inv.state is State.PENDING and inv.revision == 1
    assert INVITATION_LIFETIME == 120.0
    assert inv.deadline == clock.now() + 120.0
    assert inv.seconds_left(clock.now()) == 120.0


def test_outgoing_expires_exactly_at_its_deadline() -> None:
    clock = ManualClock()
    inv = _outgoing(clock)
    clock.advance(119.999)
    assert not inv.tick(clock.now())
    assert inv.seconds_left(clock.now()) == pytest.approx(0.001)
    clock.advance(0.001)
    assert inv.tick(clock.now())
    assert inv.state is State.EXPIRED
    assert inv.seconds_left(clock.now()) == 0.0
    assert not inv.tick(clock.now() + 1000)


def test_edit_keeps_id_and_deadline_and_bumps_the_revision() -> None:
    clock = ManualClock()
    inv = _outgoing(clock)
    deadline = inv.deadline
    clock.advance(60)
    assert inv.edit(ALL_PERMISSIONS, clock.now(), profile="Full Access") == 2
    assert inv.permissions == ALL_PERMISSIONS and inv.profile == "Full Access"
    assert inv.deadline == deadline
    assert inv.invitation_id == b"i" * 16
    assert inv.edit(frozenset(), clock.now()) == 3


def test_edit_after_expiry_or_cancel_is_refused() -> None:
    clock = ManualClock()
    inv = _outgoing(clock)
    clock.advance(120)
    with pytest.raises(InvitationRefused) as exc:
        inv.edit(ALL_PERMISSIONS, clock.now())
    assert _refusal(exc) is Refusal.EXPIRED
    other = _outgoing(clock)
    other.cancel(clock.now())
    with pytest.raises(InvitationRefused) as exc:
        other.edit(ALL_PERMISSIONS, clock.now())
    assert _refusal(exc) is Refusal.CANCELLED
    assert other.permissions == {P.CONTROL} and other.revision == 1


def test_a_connection_request_cannot_be_edited() -> None:
    inv = _outgoing(ManualClock(), Kind.REQUEST)
    with pytest.raises(InvitationRefused, match="cannot be changed"):
        inv.edit(ALL_PERMISSIONS, 1000.0)


def test_cancel_moves_to_cancelled_once() -> None:
    clock = ManualClock()
    inv = _outgoing(clock)
    inv.cancel(clock.now())
    assert inv.state is State.CANCELLED
    assert inv.history == [State.PENDING]
    with pytest.raises(InvitationRefused) as exc:
        inv.cancel(clock.now())
    assert _refusal(exc) is Refusal.CANCELLED


def test_reject_from_the_invitee_ends_the_invitation() -> None:
    clock = ManualClock()
    inv = _outgoing(clock)
    inv.on_reject(clock.now())
    assert inv.state is State.REJECTED
    with pytest.raises(InvitationRefused) as exc:
        inv.on_accept(1, clock.now(), TOKEN)
    assert _refusal(exc) is Refusal.NOT_PENDING


def test_accept_of_the_current_revision_issues_a_session_token() -> None:
    clock = ManualClock()
    inv = _outgoing(clock)
    clock.advance(10)
    inv.on_accept(1, clock.now(), TOKEN)
    assert inv.state is State.ACCEPTED
    assert inv.session_token == TOKEN
    assert inv.token_deadline == clock.now() + SESSION_TOKEN_LIFETIME


def test_accept_of_a_stale_revision_is_refused_and_stays_pending() -> None:
    clock = ManualClock()
    inv = _outgoing(clock)
    inv.edit(ALL_PERMISSIONS, clock.now())
    for stale in (1, 3, 0):
        with pytest.raises(InvitationRefused) as exc:
            inv.on_accept(stale, clock.now(), TOKEN)
        assert _refusal(exc) is Refusal.STALE_REVISION
    assert inv.state is State.PENDING and inv.session_token == b""


def test_accept_after_expiry_is_refused() -> None:
    clock = ManualClock()
    inv = _outgoing(clock)
    clock.advance(120)
    with pytest.raises(InvitationRefused) as exc:
        inv.on_accept(1, clock.now(), TOKEN)
    assert _refusal(exc) is Refusal.EXPIRED
    assert inv.state is State.EXPIRED


def test_accept_after_cancel_is_refused() -> None:
    clock = ManualClock()
    inv = _outgoing(clock)
    inv.cancel(clock.now())
    with pytest.raises(InvitationRefused) as exc:
        inv.on_accept(1, clock.now(), TOKEN)
    assert _refusal(exc) is Refusal.CANCELLED


def test_accepting_a_request_sets_the_chosen_permissions() -> None:
    clock = ManualClock()
    req = _outgoing(clock, Kind.REQUEST)
    req.on_accept(1, clock.now(), TOKEN, permissions=frozenset({P.DRAW}))
    assert req.permissions == {P.DRAW}


def test_session_token_opens_the_session_once() -> None:
    clock = ManualClock()
    inv = _outgoing(clock)
    inv.on_accept(1, clock.now(), TOKEN)
    assert inv.redeem_token(TOKEN, GUEST_FP, clock.now())
    assert inv.state is State.CONNECTED and inv.session_token == b""
    assert not inv.redeem_token(TOKEN, GUEST_FP, clock.now())


def test_a_wrong_token_is_refused_without_using_up_the_right_one() -> None:
    clock = ManualClock()
    inv = _outgoing(clock)
    inv.on_accept(1, clock.now(), TOKEN)
    assert not inv.redeem_token(b"x" * 32, GUEST_FP, clock.now())
    assert not inv.redeem_token(b"", GUEST_FP, clock.now())
    assert inv.state is State.ACCEPTED
    assert inv.redeem_token(TOKEN, GUEST_FP, clock.now())


def test_the_right_token_from_another_key_fails_and_is_used_up() -> None:
    clock = ManualClock()
    inv = _outgoing(clock)
    inv.on_accept(1, clock.now(), TOKEN)
    assert not inv.redeem_token(TOKEN, OTHER_FP, clock.now())
    assert inv.state is State.FAILED and "another device" in inv.reason
    assert not inv.redeem_token(TOKEN, GUEST_FP, clock.now())


def test_token_not_used_in_time_fails_the_invitation() -> None:
    clock = ManualClock()
    inv = _outgoing(clock)
    inv.on_accept(1, clock.now(), TOKEN, token_lifetime=5.0)
    clock.advance(5.0)
    assert not inv.redeem_token(TOKEN, GUEST_FP, clock.now())
    assert inv.state is State.FAILED and "in time" in inv.reason
    assert inv.session_token == b""


def test_a_token_is_useless_before_any_accept() -> None:
    inv = _outgoing(ManualClock())
    assert not inv.redeem_token(b"", GUEST_FP, 1000.0)
    assert inv.state is State.PENDING


def test_fail_drops_the_token_and_final_states_stay_final() -> None:
    clock = ManualClock()
    inv = _outgoing(clock)
    inv.on_accept(1, clock.now(), TOKEN)
    inv.fail("connection lost")
    assert inv.state is State.FAILED and inv.reason == "connection lost"
    assert inv.session_token == b""
    inv.fail("again")
    assert inv.reason == "connection lost"


def test_refusals_carry_a_readable_message_and_wire_code() -> None:
    exc = InvitationRefused(Refusal.STALE_REVISION)
    assert str(exc) == "the inviter changed the invitation; look at it again and accept once more"
    assert exc.refusal.value == "stale_revision"


def test_tokens_equal_compares_contents() -> None:
    assert tokens_equal(b"abc", b"abc")
    assert not tokens_equal(b"abc", b"abd")
    assert not tokens_equal(b"abc", b"ab")


# --- invitee side -------------------------------------------------------------------------


def test_received_counts_down_on_the_local_clock() -> None:
    clock = ManualClock(start=5.0)
    inv = _incoming(clock, seconds_left=90.0)
    assert inv.state is State.RECEIVED
    assert inv.deadline == 95.0
    clock.advance(30)
    assert inv.seconds_left(clock.now()) == 60.0


@pytest.mark.parametrize(
    ("told", "expected"),
    [(10_000.0, 120.0), (math.inf, 120.0), (-5.0, 0.0), (math.nan, 0.0), (-math.inf, 0.0)],
)
def test_received_never_trusts_the_peer_about_time_left(told: float, expected: float) -> None:
    clock = ManualClock()
    inv = _incoming(clock, seconds_left=told)
    assert inv.deadline == clock.now() + expected
    if expected == 0.0:
        assert inv.tick(clock.now()) and inv.state is State.EXPIRED


def test_incoming_expires_at_its_own_deadline_and_is_missed() -> None:
    clock = ManualClock()
    inv = _incoming(clock)
    clock.advance(119.9)
    assert not inv.tick(clock.now())
    clock.advance(0.1)
    assert inv.tick(clock.now())
    assert inv.state is State.EXPIRED and inv.missed


def test_update_applies_a_newer_revision_and_never_extends_the_deadline() -> None:
    clock = ManualClock()
    inv = _incoming(clock, seconds_left=100.0)
    deadline = inv.deadline
    clock.advance(10)
    assert inv.update(2, ALL_PERMISSIONS, 500.0, clock.now())
    assert inv.revision == 2 and inv.permissions == ALL_PERMISSIONS
    assert inv.deadline == deadline
    assert inv.update(3, frozenset(), 20.0, clock.now())
    assert inv.deadline == clock.now() + 20.0
    assert inv.update(4, frozenset(), math.nan, clock.now())
    assert inv.deadline == clock.now()  # garbage time left counts as none


def test_update_with_an_old_or_equal_revision_is_ignored() -> None:
    clock = ManualClock()
    inv = _incoming(clock)
    inv.update(3, ALL_PERMISSIONS, 100.0, clock.now())
    assert not inv.update(3, frozenset(), 10.0, clock.now())
    assert not inv.update(2, frozenset(), 10.0, clock.now())
    assert inv.permissions == ALL_PERMISSIONS and inv.revision == 3


def test_update_after_the_end_is_ignored() -> None:
    clock = ManualClock()
    inv = _incoming(clock)
    inv.reject(clock.now())
    assert not inv.update(2, ALL_PERMISSIONS, 100.0, clock.now())
    assert inv.revision == 1


def test_begin_accept_returns_the_revision_the_user_saw() -> None:
    clock = ManualClock()
    inv = _incoming(clock)
    inv.update(4, ALL_PERMISSIONS, 100.0, clock.now())
    assert inv.begin_accept(clock.now()) == 4
    assert inv.state is State.ACCEPTING
    assert inv.seconds_left(clock.now()) == 0.0
    with pytest.raises(InvitationRefused) as exc:
        inv.begin_accept(clock.now())
    assert _refusal(exc) is Refusal.NOT_PENDING


def test_begin_accept_after_expiry_is_refused() -> None:
    clock = ManualClock()
    inv = _incoming(clock)
    clock.advance(120)
    with pytest.raises(InvitationRefused) as exc:
        inv.begin_accept(clock.now())
    assert _refusal(exc) is Refusal.EXPIRED


def test_stale_answer_shows_the_invitation_again() -> None:
    clock = ManualClock()
    inv = _incoming(clock)
    inv.begin_accept(clock.now())
    inv.update(2, ALL_PERMISSIONS, 100.0, clock.now())
    inv.accept_refused(Refusal.STALE_REVISION, clock.now())
    assert inv.state is State.RECEIVED and inv.revision == 2
    assert inv.begin_accept(clock.now()) == 2


def test_stale_answer_after_the_deadline_expires_it() -> None:
    clock = ManualClock()
    inv = _incoming(clock)
    clock.advance(119)
    inv.begin_accept(clock.now())
    clock.advance(2)
    inv.accept_refused(Refusal.STALE_REVISION, clock.now())
    assert inv.state is State.EXPIRED and inv.missed


@pytest.mark.parametrize(
    ("refusal", "state", "missed"),
    [
        (Refusal.EXPIRED, State.EXPIRED, True),
        (Refusal.CANCELLED, State.CANCELLED, True),
        (Refusal.NOT_PENDING, State.FAILED, False),
        (Refusal.NOT_YOURS, State.FAILED, False),
    ],
)
def test_the_inviters_refusal_decides_the_final_state(
    refusal: Refusal, state: State, missed: bool
) -> None:
    clock = ManualClock()
    inv = _incoming(clock)
    inv.begin_accept(clock.now())
    inv.accept_refused(refusal, clock.now())
    assert inv.state is state and inv.missed is missed


def test_a_refusal_when_not_accepting_changes_nothing() -> None:
    clock = ManualClock()
    inv = _incoming(clock)
    inv.accept_refused(Refusal.CANCELLED, clock.now())
    assert inv.state is State.RECEIVED


def test_accepting_waits_for_the_inviters_answer_a_little_past_the_deadline() -> None:
    clock = ManualClock()
    inv = _incoming(clock)
    clock.advance(119)
    inv.begin_accept(clock.now())
    clock.advance(1 + ACCEPT_ANSWER_WAIT - 0.1)
    assert not inv.tick(clock.now())
    inv.connected()
    assert inv.state is State.CONNECTED


def test_accepting_without_an_answer_expires_in_the_end() -> None:
    clock = ManualClock()
    inv = _incoming(clock)
    inv.begin_accept(clock.now())
    clock.advance(120 + ACCEPT_ANSWER_WAIT)
    assert inv.tick(clock.now())
    assert inv.state is State.EXPIRED


def test_reject_is_final_and_not_missed() -> None:
    clock = ManualClock()
    inv = _incoming(clock)
    inv.reject(clock.now())
    assert inv.state is State.REJECTED and not inv.missed
    with pytest.raises(InvitationRefused):
        inv.reject(clock.now())


def test_reject_while_accepting_is_refused() -> None:
    clock = ManualClock()
    inv = _incoming(clock)
    inv.begin_accept(clock.now())
    with pytest.raises(InvitationRefused):
        inv.reject(clock.now())
    assert inv.state is State.ACCEPTING


@pytest.mark.parametrize("accepting", [False, True])
def test_cancel_from_the_inviter_is_missed(accepting: bool) -> None:
    clock = ManualClock()
    inv = _incoming(clock)
    if accepting:
        inv.begin_accept(clock.now())
    assert inv.cancelled_by_peer()
    assert inv.state is State.CANCELLED and inv.missed
    assert not inv.cancelled_by_peer()
    assert not inv.expired_by_peer()


def test_expiry_told_by_the_inviter_is_missed() -> None:
    inv = _incoming(ManualClock())
    assert inv.expired_by_peer()
    assert inv.state is State.EXPIRED and inv.missed


def test_connected_only_after_accepting() -> None:
    clock = ManualClock()
    inv = _incoming(clock)
    inv.connected()
    assert inv.state is State.RECEIVED
    inv.begin_accept(clock.now())
    inv.connected()
    assert inv.state is State.CONNECTED
    assert inv.history == [State.RECEIVED, State.ACCEPTING]


def test_fail_is_final_and_keeps_the_first_reason() -> None:
    inv = _incoming(ManualClock())
    inv.fail("peer vanished")
    inv.fail("other")
    assert inv.state is State.FAILED and inv.reason == "peer vanished"
    assert not inv.cancelled_by_peer()


def test_requester_side_connects_only_after_an_accept() -> None:
    clock = ManualClock()
    req = _outgoing(clock, Kind.REQUEST)
    req.connected()
    assert req.state is State.PENDING
    req.on_accept(1, clock.now(), TOKEN, permissions=frozenset({P.DRAW}))
    req.connected()
    assert req.state is State.CONNECTED and req.session_token == b""
