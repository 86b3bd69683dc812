"""Invitations between whole clients over in-memory channels: invite, edit, cancel, accept,
reject, expiry on each side's own clock, and the races between them."""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anydesk_invite.core.invitation import SESSION_TOKEN_LIFETIME, Kind, State
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.policy import AcceptFrom, Policy
from anydesk_invite.net.channel import Channel, ChannelClosed
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.wire import (
    Error,
    Invite,
    InviteAccept,
    InviteAcceptOk,
    InviteCancel,
    InviteDeclined,
    InviteRefused,
    InviteReject,
    InviteShown,
    InviteUpdate,
    Message,
    SessionOpen,
    SessionOpened,
)
from anydesk_invite.services.facade import ActionRefused, RefusalKind
from anydesk_invite.services.invitation_texts import DECLINED_TEXT
from anydesk_invite.services.views import Direction, Role, SessionView
from anydesk_invite.storage.contacts import AddressEntry
from tests.helpers.nodes import Node, Nodes, eventually, nodes_for, outcomes
from tests.helpers.raw_invites import raw_invite

CONTROL = frozenset({Permission.CONTROL})
BAD_TOKEN = Error(
    code="closed", message="the peer reported an error: bad_token: the session token is not valid"
)
"""What a peer presenting a bad session token sees: Error("bad_token"), then the close."""
CLIP_INFO = frozenset({Permission.CLIPBOARD, Permission.SYSTEM_INFO})


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


@pytest.mark.parametrize("by", ["id", "grouped id", "alias"])
async def test_invitee_sees_invitation_and_accepting_opens_session_with_invited_permissions(
    nodes: Nodes, by: str
) -> None:
    anna, ben = await nodes.pair()
    target = {
        "id": ben.device_id,
        "grouped id": ben.identity.device_id.grouped(),
        "alias": "ben@ad",
    }[by]
    sent = await anna.client.invite(target, CLIP_INFO, "mine")
    assert sent.state is State.PENDING and sent.direction is Direction.OUTGOING

    shown = await ben.received.wait()
    assert shown.invitation_id == sent.invitation_id
    assert shown.kind is Kind.INVITATION and shown.direction is Direction.INCOMING
    assert shown.peer_alias == "anna@ad"
    assert shown.peer_id == anna.identity.device_id
    assert shown.peer_fingerprint == anna.identity.fingerprint
    assert shown.permissions == CLIP_INFO
    assert anna.state(sent.invitation_id) == "pending"

    guest = await ben.client.accept(sent.invitation_id)
    assert guest.role is Role.GUEST and guest.permissions == CLIP_INFO
    await eventually(lambda: len(anna.client.sessions()) == 1)
    [host] = anna.client.sessions()
    [guest_view] = ben.client.sessions()
    assert host.role is Role.HOST and host.peer_id == ben.identity.device_id
    assert host.permissions == CLIP_INFO == guest_view.permissions
    assert guest_view.peer_id == anna.identity.device_id
    assert host.session_id == guest_view.session_id
    assert host.origin == sent.invitation_id
    assert anna.state(sent.invitation_id) == "connected"
    assert ben.state(sent.invitation_id) == "connected"


async def test_edit_keeps_id_and_deadline_and_updates_the_invitee_in_place(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CLIP_INFO, "first")
    await ben.received.wait()
    anna.clock.advance(30)
    edited = await anna.client.edit_invitation(sent.invitation_id, CONTROL, "second")
    assert edited.invitation_id == sent.invitation_id and edited.profile == "second"
    assert edited.revision == 2 and edited.permissions == CONTROL
    assert edited.seconds_left == pytest.approx(90)

    again = await ben.received.wait(2)
    assert again.invitation_id == sent.invitation_id
    assert again.revision == 2 and again.permissions == CONTROL
    [incoming] = ben.client.invitations()
    assert incoming.revision == 2 and incoming.state is State.RECEIVED

    guest = await ben.client.accept(sent.invitation_id)
    assert guest.permissions == CONTROL
    await eventually(lambda: [s.permissions for s in anna.client.sessions()] == [CONTROL])


async def test_edit_does_not_extend_the_invitees_deadline(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CLIP_INFO, "")
    await ben.received.wait()
    anna.clock.advance(100)
    await anna.client.edit_invitation(sent.invitation_id, CONTROL)
    await ben.received.wait(2)
    assert ben.invitation(sent.invitation_id).seconds_left == pytest.approx(20)
    ben.clock.advance(20)
    await eventually(lambda: ben.state(sent.invitation_id) == "expired")


async def test_an_inviter_cannot_extend_the_invitees_deadline_by_an_edit(nodes: Nodes) -> None:
    ben = await nodes.make("ben")
    raw = await ben.dial_raw()
    invitation_id = os.urandom(16)
    try:
        await raw.send(
            Invite(
                invitation_id=invitation_id,
                revision=1,
                permissions=CONTROL,
                profile="",
                seconds_left=30.0,
            )
        )
        await answers(raw, 1)
        await raw.send(
            InviteUpdate(
                invitation_id=invitation_id,
                revision=2,
                permissions=CLIP_INFO,
                profile="",
                seconds_left=120.0,
            )
        )
        await ben.received.wait(2)
    finally:
        await raw.close()
    view = ben.invitation(invitation_id.hex())
    assert view.revision == 2 and view.seconds_left == pytest.approx(30)


async def test_stale_accept_is_refused_and_the_inviter_sends_the_current_revision(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CLIP_INFO, "")
    await ben.received.wait()
    await anna.client.edit_invitation(sent.invitation_id, CONTROL)
    raw = await anna.dial_raw(ben.identity)
    try:
        await raw.send(InviteAccept(invitation_id=bytes.fromhex(sent.invitation_id), revision=1))
        refused = await asyncio.wait_for(raw.receive(), 5)
        assert refused == InviteRefused(
            invitation_id=bytes.fromhex(sent.invitation_id), code="stale_revision"
        )
        update = await asyncio.wait_for(raw.receive(), 5)
        assert isinstance(update, InviteUpdate)
        assert update.revision == 2 and update.permissions == CONTROL
    finally:
        await raw.close()
    assert anna.state(sent.invitation_id) == "pending"


async def test_invitee_accepting_a_stale_revision_is_prompted_again_with_the_new_one(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CLIP_INFO, "")
    await ben.received.wait()
    # The edit is still on its way when ben clicks Connect: change it on anna's side only.
    outgoing = anna.client.invitation_service.outgoing[bytes.fromhex(sent.invitation_id)]
    outgoing.edit(CONTROL, anna.clock.now())

    with pytest.raises(ActionRefused) as refused:
        await ben.client.accept(sent.invitation_id)
    assert str(refused.value) == (
        "the inviter changed the invitation; look at it again and accept once more"
    )
    assert refused.value.kind is RefusalKind.STATE  # type: ignore[attr-defined]
    again = await ben.received.wait(2)
    assert again.revision == 2 and again.permissions == CONTROL
    assert ben.state(sent.invitation_id) == "received"
    assert anna.state(sent.invitation_id) == "pending"
    guest = await ben.client.accept(sent.invitation_id)
    assert guest.permissions == CONTROL


async def test_cancel_leaves_the_invitee_with_a_missed_invitation(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    await anna.client.cancel_invitation(sent.invitation_id)
    assert anna.state(sent.invitation_id) == "cancelled"
    await eventually(lambda: ben.state(sent.invitation_id) == "cancelled")
    assert ben.invitation(sent.invitation_id).missed
    assert ben.invitation(sent.invitation_id).seconds_left == 0
    with pytest.raises(ActionRefused):
        await ben.client.accept(sent.invitation_id)
    assert ben.state(sent.invitation_id) == "cancelled"
    assert outcomes(anna) == [("outgoing", "invitation", "cancelled")]
    assert outcomes(ben) == [("incoming", "invitation", "cancelled")]


async def test_accept_after_cancel_is_refused_by_the_inviter(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    await anna.client.cancel_invitation(sent.invitation_id)
    raw = await anna.dial_raw(ben.identity)
    try:
        await raw.send(InviteAccept(invitation_id=bytes.fromhex(sent.invitation_id), revision=1))
        answer = await asyncio.wait_for(raw.receive(), 5)
    finally:
        await raw.close()
    assert answer == InviteRefused(
        invitation_id=bytes.fromhex(sent.invitation_id), code="cancelled"
    )
    assert anna.client.sessions() == []


async def test_reject_ends_the_invitation_rejected_on_both_sides(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    await ben.client.reject(sent.invitation_id)
    assert ben.state(sent.invitation_id) == "rejected"
    assert not ben.invitation(sent.invitation_id).missed
    await eventually(lambda: anna.state(sent.invitation_id) == "rejected")
    assert outcomes(anna) == [("outgoing", "invitation", "rejected")]
    assert outcomes(ben) == [("incoming", "invitation", "rejected")]


async def test_each_side_expires_the_invitation_on_its_own_clock(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    anna.clock.advance(119.9)
    ben.clock.advance(119.9)
    anna.tick()
    ben.tick()
    assert anna.state(sent.invitation_id) == "pending"
    assert ben.state(sent.invitation_id) == "received"

    anna.clock.advance(0.1)
    await eventually(lambda: anna.state(sent.invitation_id) == "expired")
    ben.tick()
    assert ben.state(sent.invitation_id) == "received"

    ben.clock.advance(0.1)
    await eventually(lambda: ben.state(sent.invitation_id) == "expired")
    assert ben.invitation(sent.invitation_id).missed
    assert outcomes(anna) == [("outgoing", "invitation", "expired")]
    assert outcomes(ben) == [("incoming", "invitation", "expired")]


async def test_accept_after_the_inviters_deadline_is_refused_and_both_end_expired(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    anna.clock.advance(120)
    with pytest.raises(ActionRefused, match="expired"):
        await ben.client.accept(sent.invitation_id)
    assert ben.state(sent.invitation_id) == "expired"
    await eventually(lambda: anna.state(sent.invitation_id) == "expired")
    assert anna.client.sessions() == [] and ben.client.sessions() == []


async def test_invitee_drops_the_invitation_at_its_deadline_when_the_inviter_vanished(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    await anna.stop()
    assert ben.state(sent.invitation_id) == "received"
    ben.clock.advance(120)
    await eventually(lambda: ben.state(sent.invitation_id) == "expired")
    assert ben.invitation(sent.invitation_id).missed
    assert outcomes(ben) == [("incoming", "invitation", "expired")]


@pytest.mark.parametrize("first", ["cancel", "accept"])
async def test_accept_and_cancel_racing_end_in_the_same_state_on_both_sides(
    nodes: Nodes, first: str
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    cancel = anna.client.cancel_invitation(sent.invitation_id)
    accept = ben.client.accept(sent.invitation_id)
    pair = (cancel, accept) if first == "cancel" else (accept, cancel)
    results = await asyncio.gather(*pair, return_exceptions=True)
    for r in results:
        assert r is None or isinstance(r, ActionRefused | SessionView), r

    def settled() -> bool:
        a, b = anna.state(sent.invitation_id), ben.state(sent.invitation_id)
        return a == b and State(a).final

    await eventually(settled)
    final = anna.state(sent.invitation_id)
    assert final in ("cancelled", "connected")
    assert (len(anna.client.sessions()) == 1) == (final == "connected")
    assert (len(ben.client.sessions()) == 1) == (final == "connected")


async def test_accept_processed_before_a_cancel_wins_and_the_cancel_is_refused(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    await ben.client.accept(sent.invitation_id)
    with pytest.raises(ActionRefused):
        await anna.client.cancel_invitation(sent.invitation_id)
    assert anna.state(sent.invitation_id) == ben.state(sent.invitation_id) == "connected"


async def test_cancel_processed_before_an_accept_wins_and_both_end_cancelled(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    # The cancel is still on its way when ben clicks Connect.
    anna.client.invitation_service.outgoing[bytes.fromhex(sent.invitation_id)].cancel(
        anna.clock.now()
    )
    with pytest.raises(ActionRefused) as refused:
        await ben.client.accept(sent.invitation_id)
    assert (
        str(refused.value)
        == "the invitation was cancelled; send a new one if a session is still wanted"
    )
    assert refused.value.kind is RefusalKind.STATE  # type: ignore[attr-defined]
    assert ben.state(sent.invitation_id) == anna.state(sent.invitation_id) == "cancelled"
    assert ben.invitation(sent.invitation_id).missed
    assert outcomes(ben) == [("incoming", "invitation", "cancelled")]
    assert outcomes(anna) == [("outgoing", "invitation", "cancelled")]


async def test_second_invitation_to_the_same_peer_is_refused_pointing_at_the_pending_one(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    await anna.client.invite(ben.device_id, CONTROL, "")
    with pytest.raises(ActionRefused, match="waiting for an answer already") as refused:
        await anna.client.invite("ben@ad", CLIP_INFO, "")
    assert refused.value.kind is RefusalKind.STATE  # type: ignore[attr-defined]
    assert len(anna.client.invitations()) == 1


# --- whose invitations are shown -------------------------------------------------------------


async def assert_declined(anna: Node, ben: Node) -> None:
    """Anna's invitation to ben is declined, and she is told nothing but that."""
    with pytest.raises(ActionRefused) as refused:
        await anna.client.invite(ben.device_id, CONTROL, "")
    assert str(refused.value) == DECLINED_TEXT
    assert refused.value.kind is RefusalKind.DECLINED  # type: ignore[attr-defined]
    [view] = anna.client.invitations()
    assert view.state is State.REJECTED and view.reason == "declined"
    assert ben.received.items == [] and ben.client.invitations() == []
    assert outcomes(anna) == [("outgoing", "invitation", "declined")]


async def test_accept_from_nobody_declines_every_invitation(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    await ben.set_accept_from(AcceptFrom.NOBODY)
    await assert_declined(anna, ben)


async def test_accept_from_address_book_declines_a_stranger(nodes: Nodes) -> None:
    anna = await nodes.make("anna")
    ben = await nodes.make("ben")
    anna.knows(ben)
    await ben.set_accept_from(AcceptFrom.ADDRESS_BOOK)
    await assert_declined(anna, ben)


async def test_accept_from_address_book_shows_an_invitation_from_a_listed_key(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    await ben.set_accept_from(AcceptFrom.ADDRESS_BOOK)
    await anna.client.invite(ben.device_id, CONTROL, "")
    assert (await ben.received.wait()).peer_id == anna.identity.device_id


async def test_accept_from_address_book_declines_another_key_with_a_listed_id(
    nodes: Nodes,
) -> None:
    anna = await nodes.make("anna")
    ben = await nodes.make("ben")
    carl = await nodes.make("carl")
    anna.knows(ben)
    await ben.set_accept_from(AcceptFrom.ADDRESS_BOOK)
    # Ben's book lists anna's ID with carl's key: the ID alone must not let anna in.
    ben.db.address_book.add(
        AddressEntry(anna.identity.device_id, fingerprint=carl.identity.fingerprint)
    )
    await assert_declined(anna, ben)


async def test_accept_from_everyone_shows_an_invitation_from_a_stranger(nodes: Nodes) -> None:
    anna = await nodes.make("anna")
    ben = await nodes.make("ben")
    anna.knows(ben)
    await anna.client.invite(ben.device_id, CONTROL, "")
    shown = await ben.received.wait()
    assert shown.peer_alias == "anna@ad" and shown.first_contact
    # Ben knows no address of anna's: the session opens over the channel she invited him on.
    guest = await ben.client.accept(shown.invitation_id)
    assert guest.peer_id == anna.identity.device_id


async def test_admin_max_accept_from_overrides_the_users_choice(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    ben.policy = Policy(max_accept_from=AcceptFrom.NOBODY)
    assert ben.client.settings().accept_from is AcceptFrom.EVERYONE
    await assert_declined(anna, ben)


async def test_broken_policy_on_the_invitee_declines_without_saying_why(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    ben.policy = Policy(broken="policy.toml: line 3: not TOML")
    await assert_declined(anna, ben)


async def test_broken_policy_on_the_inviter_refuses_to_invite(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    anna.policy = Policy(broken="policy.toml: line 3: not TOML")
    with pytest.raises(ActionRefused, match="cannot be read") as refused:
        await anna.client.invite(ben.device_id, CONTROL, "")
    assert refused.value.kind is RefusalKind.POLICY  # type: ignore[attr-defined]
    assert anna.client.invitations() == [] and ben.client.invitations() == []


async def test_broken_policy_on_the_invitee_refuses_an_accept(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    ben.policy = Policy(broken="unreadable")
    with pytest.raises(ActionRefused, match="cannot be read"):
        await ben.client.accept(sent.invitation_id)
    assert anna.client.sessions() == [] and ben.client.sessions() == []


# --- peers that break the rules --------------------------------------------------------------


async def answers(channel: Channel, count: int) -> list[Message]:
    return [await asyncio.wait_for(channel.receive(), 5) for _ in range(count)]


async def test_a_flood_of_invitations_shows_at_most_one_and_others_are_still_served(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    raw = await ben.dial_raw()
    try:
        for _ in range(200):
            await raw.send(raw_invite(os.urandom(16), frozenset(Permission)))
        got = await answers(raw, 200)
    finally:
        await raw.close()
    assert sum(isinstance(m, InviteShown) for m in got) == 1
    assert sum(isinstance(m, InviteDeclined) for m in got) == 199
    assert len(ben.received.items) == 1

    await anna.client.invite(ben.device_id, CONTROL, "")
    second = await ben.received.wait(2)
    assert second.peer_id == anna.identity.device_id


async def test_a_replayed_invitation_id_is_ignored(nodes: Nodes) -> None:
    ben = await nodes.make("ben")
    raw = await ben.dial_raw()
    invitation_id = os.urandom(16)
    try:
        await raw.send(raw_invite(invitation_id, frozenset(Permission)))
        assert isinstance((await answers(raw, 1))[0], InviteShown)
        await ben.client.reject(invitation_id.hex())
        assert isinstance((await answers(raw, 1))[0], InviteReject)
        await raw.send(raw_invite(invitation_id, frozenset(Permission)))
        assert isinstance((await answers(raw, 1))[0], InviteDeclined)
    finally:
        await raw.close()
    assert len(ben.received.items) == 1
    assert ben.state(invitation_id.hex()) == "rejected"


async def test_edit_and_cancel_from_a_key_that_is_not_the_inviters_are_ignored(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    invitation_id = bytes.fromhex(sent.invitation_id)
    stranger = Identity.generate()
    raw = await ben.dial_raw(stranger)
    caplog.set_level(logging.WARNING)
    try:
        # An update of an id ben never saw is dropped without a word.
        await raw.send(InviteCancel(invitation_id=os.urandom(16)))
        await raw.send(
            InviteUpdate(
                invitation_id=invitation_id,
                revision=7,
                permissions=frozenset(Permission),
                profile="",
                seconds_left=120.0,
            )
        )
        await raw.send(InviteCancel(invitation_id=invitation_id))
        # Messages on one channel are handled in order: once this is answered, so were those.
        await raw.send(raw_invite(os.urandom(16), frozenset(Permission)))
        await answers(raw, 1)
    finally:
        await raw.close()
    view = ben.invitation(sent.invitation_id)
    assert view.state is State.RECEIVED and view.revision == 1 and view.permissions == CONTROL
    assert len(ben.received.items) == 2  # anna's, and the stranger's own
    tried = [r.getMessage() for r in caplog.records if "did not send" in r.getMessage()]
    assert len(tried) == 2
    said = (
        rf"{stranger.device_id} at 127\.0\.0\.1:\d+ tried to change an invitation it did not send"
    )
    assert all(re.fullmatch(said, m) for m in tried)


# --- session tokens ----------------------------------------------------------------------------


async def token_for(anna: Node, ben: Node, invitation_id: str) -> bytes:
    """Accept as ben over a raw channel with ben's key; the session token anna answers."""
    raw = await anna.dial_raw(ben.identity)
    try:
        await raw.send(InviteAccept(invitation_id=bytes.fromhex(invitation_id), revision=1))
        [ok] = await answers(raw, 1)
    finally:
        await raw.close()
    assert isinstance(ok, InviteAcceptOk)
    assert len(ok.session_token) == 32
    return ok.session_token


async def open_with(anna: Node, identity: Identity, token: bytes) -> Message:
    raw = await anna.dial_raw(identity)
    try:
        await raw.send(SessionOpen(session_token=token))
        try:
            return (await answers(raw, 1))[0]
        except ChannelClosed:
            return Error(code="closed", message=raw.close_reason)
    finally:
        await raw.close()


async def test_a_session_token_presented_by_another_key_is_refused_and_used_up(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    token = await token_for(anna, ben, sent.invitation_id)

    thief = await open_with(anna, Identity.generate(), token)
    assert thief == BAD_TOKEN
    real = await open_with(anna, ben.identity, token)
    assert real == BAD_TOKEN
    assert anna.client.sessions() == []
    view = anna.invitation(sent.invitation_id)
    assert view.state is State.FAILED and "another device" in view.reason


async def test_a_replayed_session_token_is_refused(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    token = await token_for(anna, ben, sent.invitation_id)
    raw = await anna.dial_raw(ben.identity)
    try:
        await raw.send(SessionOpen(session_token=token))
        [opened] = await answers(raw, 1)
        assert isinstance(opened, SessionOpened) and opened.permissions == CONTROL
        again = await open_with(anna, ben.identity, token)
        assert again == BAD_TOKEN
        assert len(anna.client.sessions()) == 1
    finally:
        await raw.close()


async def test_a_session_token_expires_unused(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    token = await token_for(anna, ben, sent.invitation_id)
    anna.clock.advance(SESSION_TOKEN_LIFETIME)
    late = await open_with(anna, ben.identity, token)
    assert late == BAD_TOKEN
    assert anna.state(sent.invitation_id) == "failed"


async def test_an_invitation_sent_over_the_invitees_presence_probe_reaches_it(
    nodes: Nodes,
) -> None:
    # Each side probes the other's manual address; the probe stays open as an ordinary link,
    # so an invitation the other side sends on it is read, not lost.
    anna, ben = await nodes.pair()
    await eventually(lambda: anna.client.links.channel_for(ben.identity.fingerprint) is not None)
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    assert sent.state is State.PENDING
    await ben.received.wait()


async def test_a_profile_name_over_40_characters_is_cut_and_still_reaches_the_invitee(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    long_name = "p" * 45
    sent = await anna.client.invite(ben.device_id, CLIP_INFO, long_name)
    await ben.received.wait()
    edited = await anna.client.edit_invitation(sent.invitation_id, CONTROL, long_name)
    again = await ben.received.wait(2)
    assert again.revision == 2 and again.permissions == CONTROL
    assert edited.revision == 2


async def test_an_edit_after_the_deadline_is_refused_and_the_invitation_ends_expired(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CLIP_INFO, "")
    await ben.received.wait()
    anna.clock.advance(120)  # no tick: the edit itself finds the invitation over
    with pytest.raises(ActionRefused) as refused:
        await anna.client.edit_invitation(sent.invitation_id, CONTROL)
    assert refused.value.kind is RefusalKind.STATE  # type: ignore[attr-defined]
    assert anna.state(sent.invitation_id) == "expired"
    assert outcomes(anna) == [("outgoing", "invitation", "expired")]


async def test_a_reject_arriving_after_the_inviters_deadline_keeps_it_expired(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    anna.clock.advance(120)  # no tick on anna's side: the reject finds the invitation over
    await ben.client.reject(sent.invitation_id)
    await eventually(lambda: anna.state(sent.invitation_id) == "expired")
    assert outcomes(anna) == [("outgoing", "invitation", "expired")]
    assert ben.state(sent.invitation_id) == "rejected"


# --- an inviter that answers an accept badly, or not at all ---------------------------------


async def raw_inviter(ben: Node) -> tuple[Channel, bytes, asyncio.Future[SessionView]]:
    """A bare key invites ben and ben accepts: (its channel, the invitation id, the accept),
    once ben's InviteAccept arrived."""
    raw = await ben.dial_raw()
    invitation_id = os.urandom(16)
    await raw.send(raw_invite(invitation_id, frozenset(Permission)))
    assert isinstance((await answers(raw, 1))[0], InviteShown)
    accepting = asyncio.ensure_future(ben.client.accept(invitation_id.hex()))
    [accept] = await answers(raw, 1)
    assert accept == InviteAccept(invitation_id=invitation_id, revision=1)
    return raw, invitation_id, accepting


async def test_a_refusal_with_an_unknown_code_fails_the_accept(nodes: Nodes) -> None:
    ben = await nodes.make("ben")
    raw, invitation_id, accepting = await raw_inviter(ben)
    try:
        await raw.send(InviteRefused(invitation_id=invitation_id, code="busy_elsewhere"))
        with pytest.raises(ActionRefused) as refused:
            await accepting
    finally:
        await raw.close()
    assert str(refused.value) == "the invitation did not work out and is closed; send a new one"
    assert refused.value.kind is RefusalKind.STATE  # type: ignore[attr-defined]
    assert ben.state(invitation_id.hex()) == "failed"
    assert outcomes(ben) == [("incoming", "invitation", "failed")]


async def test_an_inviter_that_never_answers_the_accept_fails_it(nodes: Nodes) -> None:
    ben = await nodes.make("ben")
    ben.client.invitation_service.accept_timeout = 0.2  # 10 s in the app (docs/PROTOCOL.md)
    raw, invitation_id, accepting = await raw_inviter(ben)
    try:
        with pytest.raises(ActionRefused) as refused:
            await accepting
    finally:
        await raw.close()
    assert str(refused.value) == "the inviter did not answer: ask them to invite you again"
    assert refused.value.kind is RefusalKind.OFFLINE  # type: ignore[attr-defined]
    view = ben.invitation(invitation_id.hex())
    assert (
        view.state is State.FAILED
        and view.reason == "the inviter did not answer: ask them to invite you again"
    )
    assert outcomes(ben) == [("incoming", "invitation", "failed")]


async def test_a_session_the_inviter_then_refuses_fails_the_accept_saying_why(
    nodes: Nodes,
) -> None:
    ben = await nodes.make("ben")
    raw, invitation_id, accepting = await raw_inviter(ben)
    try:
        await raw.send(
            InviteAcceptOk(
                invitation_id=invitation_id, session_token=os.urandom(32), token_seconds=30.0
            )
        )
        [opening] = await answers(raw, 1)
        assert isinstance(opening, SessionOpen)
        await raw.refuse("bad_token", "the session token is not valid")
        with pytest.raises(ActionRefused) as refused:
            await accepting
    finally:
        await raw.close()
    assert str(refused.value).startswith("the session did not open: ")
    # At once, with the inviter's words: not after waiting for an answer that cannot come.
    assert "the session token is not valid" in str(refused.value)
    assert refused.value.kind is RefusalKind.OFFLINE  # type: ignore[attr-defined]
    view = ben.invitation(invitation_id.hex())
    assert view.state is State.FAILED
    assert view.reason.startswith("the session did not open: ")
    assert outcomes(ben) == [("incoming", "invitation", "failed")]
    assert ben.client.sessions() == []


async def test_a_wrong_token_leaves_the_accepted_invitations_own_token_good(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    token = await token_for(anna, ben, sent.invitation_id)
    assert await open_with(anna, ben.identity, os.urandom(32)) == BAD_TOKEN
    assert anna.state(sent.invitation_id) == "accepted"
    raw = await anna.dial_raw(ben.identity)
    try:
        await raw.send(SessionOpen(session_token=token))
        [opened] = await answers(raw, 1)
        assert isinstance(opened, SessionOpened)
    finally:
        await raw.close()
    assert anna.state(sent.invitation_id) == "connected"


@pytest.mark.parametrize("what", ["unknown id", "a request's id"])
async def test_an_accept_of_no_invitation_of_ours_is_refused_as_unknown_and_logged(
    nodes: Nodes, caplog: pytest.LogCaptureFixture, what: str
) -> None:
    anna, ben = await nodes.pair()
    if what == "unknown id":
        accepted = os.urandom(16)
    else:
        asked = await anna.client.connect(ben.device_id)  # anna's own request to ben
        await ben.received.wait()
        accepted = bytes.fromhex(asked.invitation_id)
    caplog.set_level(logging.WARNING)
    raw = await anna.dial_raw(ben.identity)
    try:
        await raw.send(InviteAccept(invitation_id=accepted, revision=1))
        [answer] = await answers(raw, 1)
    finally:
        await raw.close()
    assert answer == InviteRefused(invitation_id=accepted, code="unknown_invitation")
    assert f"accept for an unknown invitation from {ben.identity.device_id}" in [
        r.getMessage() for r in caplog.records
    ]
    assert anna.client.sessions() == []


async def test_a_refused_session_token_is_logged_with_the_presenters_id(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    anna = await nodes.make("anna")
    stranger = Identity.generate()
    caplog.set_level(logging.WARNING)
    assert await open_with(anna, stranger, os.urandom(32)) == BAD_TOKEN
    assert f"refused a session token from {stranger.device_id}" in [
        r.getMessage() for r in caplog.records
    ]


async def test_a_reject_after_the_invitees_deadline_is_refused_and_ends_it_expired(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    ben.clock.advance(120)  # no tick: the reject itself finds the invitation over
    with pytest.raises(ActionRefused) as refused:
        await ben.client.reject(sent.invitation_id)
    assert refused.value.kind is RefusalKind.STATE  # type: ignore[attr-defined]
    assert ben.state(sent.invitation_id) == "expired"
    assert outcomes(ben) == [("incoming", "invitation", "expired")]
