"""What each side of an invitation is told, and what it keeps, at every refusal and ending.

The refusal's text is what the window and the command line show ("refused: the invitation has
expired"); the wire codes are docs/PROTOCOL.md's error codes, pinned as literals here."""

from __future__ import annotations

import pytest

from anydesk_invite.core.clock import ManualClock
from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import (
    GUEST_LATE,
    REFUSAL_TEXTS,
    WRONG_DEVICE,
    IncomingInvitation,
    InvitationRefused,
    Kind,
    OutgoingInvitation,
    Peer,
    Refusal,
    State,
    state_text,
)
from anydesk_invite.core.permissions import Permission

P = Permission
GUEST_FP = bytes(range(32))
OTHER_FP = bytes(range(1, 33))
TOKEN = b"t" * 32
GUEST = Peer(GUEST_FP, DeviceId.from_fingerprint(GUEST_FP), "guest@ad")
INV_ID = b"i" * 16


def outgoing(clock: ManualClock, kind: Kind = Kind.INVITATION) -> OutgoingInvitation:
    return OutgoingInvitation(INV_ID, kind, GUEST, frozenset({P.CONTROL}), clock.now())


def incoming(clock: ManualClock, seconds_left: float = 120.0) -> IncomingInvitation:
    return IncomingInvitation.received(
        INV_ID, Kind.INVITATION, GUEST, frozenset({P.CONTROL}), 3, seconds_left, clock.now()
    )


def refused(action: object) -> InvitationRefused:
    with pytest.raises(InvitationRefused) as caught:
        action()  # type: ignore[operator]
    return caught.value


def test_refusal_codes_are_the_documented_wire_strings() -> None:
    assert {r.name: r.value for r in Refusal} == {
        "EXPIRED": "expired",
        "CANCELLED": "cancelled",
        "STALE_REVISION": "stale_revision",
        "NOT_PENDING": "not_pending",
        "DECLINED": "declined",
        "UNKNOWN": "unknown_invitation",
        "NOT_YOURS": "not_yours",
    }


def test_states_are_the_documented_strings() -> None:
    assert [s.value for s in State] == [
        "pending",
        "received",
        "accepting",
        "accepted",
        "connected",
        "rejected",
        "cancelled",
        "expired",
        "failed",
    ]
    assert [k.value for k in Kind] == ["invitation", "request"]


def test_the_inviter_is_told_an_invitation_expired() -> None:
    clock = ManualClock()
    inv = outgoing(clock)
    clock.advance(120)
    told = refused(lambda: inv.edit(frozenset(), clock.now()))
    assert (told.refusal, str(told)) == (Refusal.EXPIRED, state_text(State.EXPIRED))


def test_the_inviter_is_told_an_invitation_was_cancelled() -> None:
    clock = ManualClock()
    inv = outgoing(clock)
    inv.cancel(clock.now())
    told = refused(lambda: inv.cancel(clock.now()))
    assert (told.refusal, str(told)) == (Refusal.CANCELLED, state_text(State.CANCELLED))


def test_the_inviter_is_told_the_state_of_an_answered_invitation() -> None:
    clock = ManualClock()
    inv = outgoing(clock)
    inv.on_reject(clock.now())
    told = refused(lambda: inv.edit(frozenset(), clock.now()))
    assert (told.refusal, str(told)) == (Refusal.NOT_PENDING, state_text(State.REJECTED))


def test_a_connection_request_cannot_be_edited_and_says_so() -> None:
    clock = ManualClock()
    req = outgoing(clock, Kind.REQUEST)
    told = refused(lambda: req.edit(frozenset(), clock.now()))
    assert (told.refusal, str(told)) == (
        Refusal.NOT_PENDING,
        "a connection request cannot be changed; the other side chooses what you may do",
    )


def test_a_stale_accept_says_which_revision_is_current() -> None:
    clock = ManualClock()
    inv = outgoing(clock)
    inv.edit(frozenset(), clock.now())
    told = refused(lambda: inv.on_accept(1, clock.now(), TOKEN))
    assert told.refusal is Refusal.STALE_REVISION
    assert str(told) == REFUSAL_TEXTS[Refusal.STALE_REVISION]


def test_an_edit_without_a_profile_name_offers_single_permissions() -> None:
    clock = ManualClock()
    inv = outgoing(clock)
    inv.edit(frozenset({P.CLIPBOARD}), clock.now(), profile="Default")
    inv.edit(frozenset({P.CONTROL}), clock.now())
    assert inv.profile == "" and inv.permissions == {P.CONTROL}


def test_an_expired_or_cancelled_invitation_carries_no_failure_reason() -> None:
    clock = ManualClock()
    expired, cancelled = outgoing(clock), outgoing(clock)
    cancelled.cancel(clock.now())
    clock.advance(120)
    assert expired.tick(clock.now()) is True
    assert (expired.state, expired.reason) == (State.EXPIRED, "")
    assert (cancelled.state, cancelled.reason) == (State.CANCELLED, "")
    missed = incoming(clock)
    missed.cancelled_by_peer()
    assert (missed.state, missed.reason, missed.missed) == (State.CANCELLED, "", True)


def test_an_unused_token_fails_the_invitation_with_the_reason_and_reports_the_change() -> None:
    clock = ManualClock()
    inv = outgoing(clock)
    inv.on_accept(1, clock.now(), TOKEN, token_lifetime=30)
    clock.advance(29.9)
    assert inv.tick(clock.now()) is False
    clock.advance(0.1)
    assert inv.tick(clock.now()) is True
    assert (inv.state, inv.reason) == (State.FAILED, GUEST_LATE)
    assert inv.redeem_token(TOKEN, GUEST_FP, clock.now()) is False


def test_a_token_shown_by_another_key_fails_the_invitation_with_the_reason() -> None:
    clock = ManualClock()
    inv = outgoing(clock)
    inv.on_accept(1, clock.now(), TOKEN)
    assert inv.redeem_token(TOKEN, OTHER_FP, clock.now()) is False
    assert (inv.state, inv.reason) == (
        State.FAILED,
        WRONG_DEVICE,
    )
    assert inv.redeem_token(TOKEN, GUEST_FP, clock.now()) is False


def test_an_accept_without_a_token_never_lets_an_empty_token_in() -> None:
    clock = ManualClock()
    inv = outgoing(clock)
    inv.on_accept(1, clock.now(), b"")
    assert inv.redeem_token(b"", GUEST_FP, clock.now()) is False
    assert inv.state is State.ACCEPTED


def test_the_inviter_shows_no_time_left_once_an_invitation_is_answered() -> None:
    clock = ManualClock()
    inv = outgoing(clock)
    assert inv.seconds_left(clock.now()) == 120.0
    inv.cancel(clock.now())
    assert inv.seconds_left(clock.now()) == 0.0


def test_a_received_invitation_keeps_what_the_inviter_sent() -> None:
    clock = ManualClock()
    inv = incoming(clock, seconds_left=0.5)
    assert (inv.invitation_id, inv.kind, inv.peer, inv.revision) == (
        INV_ID,
        Kind.INVITATION,
        GUEST,
        3,
    )
    # Less than a second left is still time left, counted to the end.
    assert inv.seconds_left(clock.now()) == 0.5
    clock.advance(0.25)
    assert inv.seconds_left(clock.now()) == 0.25
    clock.advance(0.25)
    assert inv.tick(clock.now()) is True and inv.state is State.EXPIRED


def test_the_invitee_is_told_an_invitation_expired_or_was_answered() -> None:
    clock = ManualClock()
    late = incoming(clock)
    clock.advance(120)
    told = refused(lambda: late.begin_accept(clock.now()))
    assert (told.refusal, str(told)) == (Refusal.EXPIRED, state_text(State.EXPIRED))
    done = incoming(clock)
    done.reject(clock.now())
    for action in (done.begin_accept, done.reject):
        told = refused(lambda action=action: action(clock.now()))
        assert (told.refusal, str(told)) == (Refusal.NOT_PENDING, state_text(State.REJECTED))


@pytest.mark.parametrize(
    ("refusal", "state", "reason"),
    [
        (Refusal.EXPIRED, State.EXPIRED, ""),
        (Refusal.CANCELLED, State.CANCELLED, ""),
        (Refusal.NOT_YOURS, State.FAILED, "this invitation was meant for another device"),
        (Refusal.UNKNOWN, State.FAILED, REFUSAL_TEXTS[Refusal.UNKNOWN]),
        (Refusal.NOT_PENDING, State.FAILED, REFUSAL_TEXTS[Refusal.NOT_PENDING]),
    ],
)
def test_a_refused_accept_ends_the_invitee_in_the_inviters_state_with_its_reason(
    refusal: Refusal, state: State, reason: str
) -> None:
    clock = ManualClock()
    inv = incoming(clock)
    inv.begin_accept(clock.now())
    inv.accept_refused(refusal, clock.now())
    assert (inv.state, inv.reason) == (state, reason)
