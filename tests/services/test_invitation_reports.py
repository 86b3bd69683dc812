"""What each side is told about an invitation or request as it goes, over in-memory channels:
every change as the invitation's view at that moment, the words of every refusal, and the
logged reason each time a peer is declined or closed (the peer named by its ID and address)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from anydesk_invite.core.alias import parse_alias
from anydesk_invite.core.invitation import Kind, State
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.policy import AcceptFrom, Policy
from anydesk_invite.net.channel import Channel, ChannelClosed
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.wire import (
    ConnectRequest,
    FileAck,
    Invite,
    InviteAccept,
    InviteAcceptOk,
    InviteCancel,
    InviteDeclined,
    InviteShown,
    Message,
    RequestCancel,
    SessionOpen,
    SessionOpened,
)
from anydesk_invite.services.facade import ActionRefused, RefusalKind
from anydesk_invite.services.invitation_texts import PEER_SILENT
from anydesk_invite.services.views import Direction, InvitationView
from anydesk_invite.storage.contacts import AddressEntry
from tests.helpers.nodes import AcceptAll, Node, Nodes, Recorder, eventually, nodes_for, outcomes
from tests.helpers.raw_invites import raw_invite

CONTROL = frozenset({Permission.CONTROL})
CLIP = frozenset({Permission.CLIPBOARD})


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


async def reply(channel: Channel) -> Message:
    return await asyncio.wait_for(channel.receive(), 5)


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def refused(exc: pytest.ExceptionInfo[ActionRefused]) -> tuple[RefusalKind, str]:
    return exc.value.kind, str(exc.value)  # type: ignore[attr-defined]


# --- every change, as the view at that moment --------------------------------------------------


async def test_each_side_hears_every_step_of_an_invitation_as_its_view_at_that_moment(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    on_anna = Recorder(anna.client.invitations_changed)
    on_ben = Recorder(ben.client.invitations_changed)
    sent = await anna.client.invite(ben.device_id, CONTROL, "Support")
    await ben.received.wait()
    await anna.client.edit_invitation(sent.invitation_id, CLIP, "Support")
    await eventually(lambda: ben.invitation(sent.invitation_id).revision == 2)
    await ben.client.accept(sent.invitation_id)
    await eventually(lambda: anna.state(sent.invitation_id) == "connected")

    assert all(v.invitation_id == sent.invitation_id for v in on_anna.items + on_ben.items)
    assert [(v.state, v.revision, v.permissions) for v in on_anna.items] == [
        (State.PENDING, 1, CONTROL),  # delivered
        (State.PENDING, 2, CLIP),  # edited
        (State.ACCEPTED, 2, CLIP),  # ben accepted: his token is out
        (State.CONNECTED, 2, CLIP),  # the token opened the session
    ]
    assert [(v.state, v.revision, v.permissions) for v in on_ben.items] == [
        (State.RECEIVED, 1, CONTROL),  # shown
        (State.RECEIVED, 2, CLIP),  # anna's edit
        (State.ACCEPTING, 2, CLIP),  # ben pressed Accept
        (State.CONNECTED, 2, CLIP),
    ]
    for v in on_anna.items:
        assert v.direction is Direction.OUTGOING and v.profile == "Support"
        assert (v.peer_id, v.peer_alias) == (ben.identity.device_id, "ben@ad")
        assert v.peer_fingerprint == ben.identity.fingerprint
    for v in on_ben.items:
        # The inviter's profile name is its own business: the invitee sees permissions only.
        assert v.direction is Direction.INCOMING and v.profile == ""
        assert (v.peer_id, v.peer_alias) == (anna.identity.device_id, "anna@ad")
        assert v.peer_fingerprint == anna.identity.fingerprint


async def test_each_side_hears_every_step_of_a_request_as_its_view_at_that_moment(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben = await nodes.pair()
    caplog.set_level(logging.ERROR)
    on_anna = Recorder(anna.client.invitations_changed)
    on_ben = Recorder(ben.client.invitations_changed)
    asked = await anna.client.connect(ben.device_id)
    await ben.received.wait()
    await ben.client.accept(asked.invitation_id, CLIP)
    await eventually(lambda: anna.state(asked.invitation_id) == "connected")

    assert [(v.kind, v.state, v.permissions) for v in on_anna.items] == [
        (Kind.REQUEST, State.PENDING, frozenset()),
        (Kind.REQUEST, State.ACCEPTED, CLIP),  # ben's answer with the permissions he chose
        (Kind.REQUEST, State.CONNECTED, CLIP),
    ]
    assert [(v.kind, v.state, v.permissions, v.revision) for v in on_ben.items] == [
        (Kind.REQUEST, State.RECEIVED, frozenset(), 1),
        (Kind.REQUEST, State.ACCEPTING, CLIP, 1),
        (Kind.REQUEST, State.CONNECTED, CLIP, 1),
    ]
    # The connecting task ended as it reported CONNECTED; one turn of the loop runs what is
    # called when a task ends, and nothing there may fail.
    await asyncio.sleep(0)
    assert not caplog.records


async def test_a_final_state_reaches_listeners_as_the_view_in_that_state(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    on_anna = Recorder(anna.client.invitations_changed)
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    await ben.client.reject(sent.invitation_id)
    await on_anna.wait(2)
    last = on_anna.items[-1]
    assert (last.invitation_id, last.state) == (sent.invitation_id, State.REJECTED)


async def test_an_invitation_shows_first_contact_until_a_session_with_that_key_took_place(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    first = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    assert ben.invitation(first.invitation_id).first_contact is True
    await ben.client.accept(first.invitation_id)
    await eventually(lambda: anna.state(first.invitation_id) == "connected")
    for view in ben.client.sessions():
        await ben.client.end_session(view.session_id)
    second = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait(2)
    assert ben.invitation(second.invitation_id).first_contact is False


async def test_a_failing_listener_is_logged_by_its_signal_and_the_invitation_goes_on(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben = await nodes.pair()

    def broken(_: object) -> None:
        raise RuntimeError("a listener's own bug")

    anna.client.invitations_changed.connect(broken)
    ben.client.invitation_received.connect(broken)
    caplog.set_level(logging.ERROR)
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    await ben.client.accept(sent.invitation_id)
    await eventually(lambda: anna.state(sent.invitation_id) == "connected")
    assert "slot for signal invitations.changed failed" in logged(caplog)
    assert "slot for signal invitations.received failed" in logged(caplog)


# --- finding an invitation by its number --------------------------------------------------------


@pytest.mark.parametrize("text", ["abc", "", "xxxx", "ab cd", "0123456g"])
async def test_what_is_not_an_invitations_number_is_refused_as_invalid_in_words(
    nodes: Nodes, text: str
) -> None:
    anna = await nodes.make("anna")
    with pytest.raises(ActionRefused) as exc:
        await anna.client.reject(text)
    assert refused(exc) == (
        RefusalKind.INVALID,
        f"“{text}” is not an invitation's number; the list of invitations shows them",
    )


async def test_an_invitation_is_found_by_four_digits_of_its_number_in_any_case(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    with pytest.raises(ActionRefused) as exc:
        await ben.client.reject("0000" if not sent.invitation_id.startswith("0000") else "ffff")
    assert refused(exc)[0] is RefusalKind.UNKNOWN
    assert str(exc.value).startswith("no invitation ")
    await ben.client.reject(f"  {sent.invitation_id[:4].upper()} ")
    assert ben.state(sent.invitation_id) == "rejected"


async def test_a_number_two_invitations_start_with_is_refused_as_ambiguous(nodes: Nodes) -> None:
    ben = await nodes.make("ben")
    ids = [bytes.fromhex("abcd") + os.urandom(14) for _ in range(2)]
    raws = [await ben.dial_raw() for _ in ids]
    for raw, invitation_id in zip(raws, ids, strict=True):
        await raw.send(raw_invite(invitation_id))
        assert isinstance(await reply(raw), InviteShown)
    with pytest.raises(ActionRefused) as exc:
        await ben.client.reject("abcd")
    assert refused(exc) == (RefusalKind.AMBIGUOUS, "abcd matches several invitations")
    with pytest.raises(ActionRefused) as exc:
        await ben.client.reject("0abc")
    assert refused(exc) == (RefusalKind.UNKNOWN, "no invitation 0abc")
    await ben.client.reject(ids[1].hex()[:8])  # a longer prefix tells them apart
    assert [ben.state(i.hex()) for i in ids] == ["received", "rejected"]
    for raw in raws:
        await raw.close()


# --- the words of a refusal ---------------------------------------------------------------------


async def test_with_unreadable_custom_settings_inviting_is_refused_saying_why_and_until_when(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    anna.policy = Policy(broken="line 3: not a number")
    with pytest.raises(ActionRefused) as exc:
        await anna.client.invite(ben.device_id, CONTROL, "")
    assert refused(exc) == (
        RefusalKind.POLICY,
        "the custom client settings cannot be read (line 3: not a number); "
        "invitations are off until they are fixed",
    )


@pytest.mark.parametrize("alias", ["ben@ad", None])
async def test_a_device_that_does_not_answer_is_named_by_its_alias_else_its_id(
    nodes: Nodes, alias: str | None
) -> None:
    anna = await nodes.make("anna")
    ben = Identity.generate()  # in the address book, at an address where nothing listens
    anna.db.address_book.add(
        AddressEntry(
            ben.device_id,
            parse_alias(alias) if alias else None,
            manual_address="127.0.0.1:9",
            fingerprint=ben.fingerprint,
        )
    )
    with pytest.raises(ActionRefused) as exc:
        await anna.client.invite(ben.device_id.digits, CONTROL, "")
    name = alias or ben.device_id.grouped()
    assert refused(exc) == (
        RefusalKind.OFFLINE,
        f"{name} cannot be reached: is it running and on this network?",
    )


async def listening_as(nodes: Nodes, identity: Identity) -> tuple[int, list[Channel]]:
    """A bare listener with this key (no client behind it): its port and the channels it got."""
    got: list[Channel] = []

    async def on_channel(channel: Channel) -> None:
        got.append(channel)

    listener = nodes.network.listener(
        identity, lambda: "carl@ad", AcceptAll(), on_channel, Limits()
    )
    [(_, port), *_] = await listener.start(["127.0.0.1"])
    return port, got


async def test_another_device_at_the_address_is_told_why_it_is_left_and_nothing_is_sent(
    nodes: Nodes,
) -> None:
    anna = await nodes.make("anna")
    ben, carl = Identity.generate(), Identity.generate()
    port, got = await listening_as(nodes, carl)
    # The address book has ben's ID, no key yet, and an address where carl listens.
    anna.db.address_book.add(
        AddressEntry(ben.device_id, None, manual_address=f"127.0.0.1:{port}", fingerprint=None)
    )
    with pytest.raises(ActionRefused) as exc:
        await anna.client.invite(ben.device_id.digits, CONTROL, "")
    assert refused(exc) == (
        RefusalKind.INVALID,
        f"the device at that address has ID {carl.device_id.grouped()}, "
        f"not {ben.device_id.grouped()}: check the address in the address book",
    )
    # Finding the device at the address dialled it once; inviting dials again and leaves.
    for channel in got:
        await asyncio.wait_for(channel.wait_closed(), 5)
    assert "the peer closed: not the device that was asked for" in [c.close_reason for c in got]


async def test_a_device_with_another_key_at_a_pinned_address_is_never_talked_to(
    nodes: Nodes,
) -> None:
    anna = await nodes.make("anna")
    ben, carl = Identity.generate(), Identity.generate()
    port, got = await listening_as(nodes, carl)
    # The address book knows ben's key; carl now listens at ben's old address.
    anna.db.address_book.add(
        AddressEntry(
            ben.device_id, None, manual_address=f"127.0.0.1:{port}", fingerprint=ben.fingerprint
        )
    )
    with pytest.raises(ActionRefused) as exc:
        await anna.client.invite(ben.device_id.digits, CONTROL, "")
    assert refused(exc)[0] is RefusalKind.OFFLINE
    assert got == []  # the handshake failed: carl never had a channel to be told anything on


# --- logged reasons -----------------------------------------------------------------------------


def named(identity: Identity) -> str:
    """How a log line names a raw peer dialled from 127.0.0.1: its ID and its address."""
    return rf"{identity.device_id} at 127\.0\.0\.1:\d+"


def logged_as(caplog: pytest.LogCaptureFixture, pattern: str) -> bool:
    return any(re.fullmatch(pattern, line) for line in logged(caplog))


async def test_each_declined_invitation_is_logged_with_its_reason_and_the_peer(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    ben = await nodes.make("ben")
    caplog.set_level(logging.INFO)
    loud, quiet = Identity.generate(), Identity.generate()
    raw = await ben.dial_raw(loud)
    first = os.urandom(16)
    await raw.send(raw_invite(first))
    assert isinstance(await reply(raw), InviteShown)
    await raw.send(raw_invite(first))  # the same id again
    assert isinstance(await reply(raw), InviteDeclined)
    await raw.send(raw_invite(os.urandom(16)))  # while its first one is pending
    assert isinstance(await reply(raw), InviteDeclined)
    for _ in range(4):
        await raw.send(raw_invite(os.urandom(16)))
        assert isinstance(await reply(raw), InviteDeclined)  # the 6th new id is past 5 in 10 s
    await raw.close()
    await ben.set_accept_from(AcceptFrom.NOBODY)
    other = await ben.dial_raw(quiet)
    await other.send(raw_invite(os.urandom(16)))
    assert isinstance(await reply(other), InviteDeclined)
    await other.close()

    lines = logged(caplog)
    assert f"replayed invitation id from {loud.device_id}; declined" in lines
    assert logged_as(caplog, f"{named(loud)} already has a pending invitation here; declined")
    assert f"too many invitations from {loud.device_id}; declined" in lines
    assert f"invitation from {quiet.device_id} declined by settings" in lines
    assert not any(loud.fingerprint.hex() in line or "fingerprint=" in line for line in lines)


@pytest.mark.parametrize(
    ("cap", "said"),
    [
        ("max_pending_per_address", r"2 pending invitations from 127\.0\.0\.1; declined one from "),
        ("max_pending_unknown", "2 pending invitations from unknown devices; declined one from "),
    ],
)
async def test_pending_caps_are_logged_with_the_count_the_source_and_the_peer(
    nodes: Nodes, caplog: pytest.LogCaptureFixture, cap: str, said: str
) -> None:
    ben = await nodes.make("ben")
    setattr(ben.client.invitation_service, cap, 2)  # lowered from 4 and 8, to reach it
    caplog.set_level(logging.WARNING)
    keys = [Identity.generate() for _ in range(3)]
    raws = [await ben.dial_raw(key) for key in keys]
    for raw in raws:
        await raw.send(raw_invite(os.urandom(16)))
    assert [type(await reply(raw)) for raw in raws] == [InviteShown, InviteShown, InviteDeclined]
    assert logged_as(caplog, said + named(keys[2]))
    for raw in raws:
        await raw.close()


async def test_a_message_that_is_not_about_invitations_closes_the_channel_with_a_logged_reason(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    ben = await nodes.make("ben")
    caplog.set_level(logging.WARNING)
    key = Identity.generate()
    raw = await ben.dial_raw(key)
    await raw.send(FileAck(transfer_id=os.urandom(16), offset=0))
    with pytest.raises(ChannelClosed):
        await reply(raw)
    assert raw.close_reason == "the peer closed: unexpected message"
    assert logged_as(
        caplog, rf"unexpected FileAck\(transfer_id: 16 bytes, offset\) from {named(key)}; closing"
    )


async def test_a_message_that_cannot_reach_the_peer_is_logged_with_its_kind_alias_and_cause(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    await ben.stop()
    caplog.set_level(logging.INFO)
    await anna.client.cancel_invitation(sent.invitation_id)
    [line] = [m for m in logged(caplog) if m.startswith("could not send ")]
    assert line.startswith("could not send InviteCancel to ben@ad: ")
    assert "127.0.0.1" in line  # the cause follows: the address that did not answer


async def test_a_session_that_fails_to_open_reads_as_words_and_its_cause_is_logged(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    ben = await nodes.make("ben")
    anna = Identity.generate()  # an inviter whose address book address does not answer
    ben.db.address_book.add(
        AddressEntry(
            anna.device_id, None, manual_address="127.0.0.1:9", fingerprint=anna.fingerprint
        )
    )
    raw = await ben.dial_raw(anna)
    invitation_id = os.urandom(16)
    await raw.send(raw_invite(invitation_id))
    assert isinstance(await reply(raw), InviteShown)
    caplog.set_level(logging.WARNING)
    accepting = asyncio.create_task(ben.client.accept(invitation_id.hex()))
    assert isinstance(await reply(raw), InviteAccept)
    await raw.send(
        InviteAcceptOk(invitation_id=invitation_id, session_token=os.urandom(32), token_seconds=30)
    )
    with pytest.raises(ActionRefused) as exc:
        await accepting
    assert refused(exc) == (
        RefusalKind.OFFLINE,
        "the session did not open (the connection failed); try again",
    )
    view: InvitationView = ben.invitation(invitation_id.hex())
    assert (view.state, view.reason) == (State.FAILED, str(exc.value))
    [cause] = [m for m in logged(caplog) if m.startswith("the session did not open: ")]
    assert "127.0.0.1:9" in cause  # the address that did not answer
    await raw.close()


# --- answers that race, never come, or come twice --------------------------------------------


async def test_an_accept_the_inviter_cancels_meanwhile_fails_at_once_as_cancelled(
    nodes: Nodes,
) -> None:
    ben = await nodes.make("ben")
    raw = await ben.dial_raw()
    invitation_id = os.urandom(16)
    await raw.send(raw_invite(invitation_id))
    assert isinstance(await reply(raw), InviteShown)
    accepting = asyncio.create_task(ben.client.accept(invitation_id.hex()))
    assert isinstance(await reply(raw), InviteAccept)
    await raw.send(InviteCancel(invitation_id=invitation_id))  # instead of a token
    with pytest.raises(ActionRefused) as exc:
        await asyncio.wait_for(accepting, 2)  # not the 10 s an answer is waited for
    assert refused(exc)[0] is RefusalKind.STATE
    assert ben.state(invitation_id.hex()) == "cancelled"
    assert outcomes(ben) == [("incoming", "invitation", "cancelled")]
    await raw.close()


async def test_a_request_its_sender_cancels_ends_cancelled_in_recent_sessions(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    asked = await anna.client.connect(ben.device_id)
    await ben.received.wait()
    await anna.client.cancel_invitation(asked.invitation_id)
    await eventually(lambda: ben.state(asked.invitation_id) == "cancelled")
    assert outcomes(ben) == [("incoming", "request", "cancelled")]
    assert outcomes(anna) == [("outgoing", "request", "cancelled")]


async def bare_invitee(
    nodes: Nodes, inviter: Node, answer: list[Message]
) -> tuple[Identity, list[Channel], list[Message]]:
    """A device in the inviter's address book with no client behind it: to every Invite it
    answers ``answer`` (with the Invite's id), and shows every connection request. It keeps
    the channels Invites and requests came on, and every other message it gets."""
    me = Identity.generate()
    got: list[Channel] = []
    inbox: list[Message] = []

    async def serve(channel: Channel) -> None:
        with contextlib.suppress(ChannelClosed):
            async for msg in channel:
                if isinstance(msg, ConnectRequest):  # shown, whatever ``answer`` says
                    got.append(channel)
                    await channel.send(InviteShown(invitation_id=msg.request_id))
                    continue
                if not isinstance(msg, Invite):
                    inbox.append(msg)
                    continue
                got.append(channel)
                for m in answer:
                    await channel.send(msgspec.structs.replace(m, invitation_id=msg.invitation_id))

    listener = nodes.network.listener(me, lambda: "carl@ad", AcceptAll(), serve, Limits())
    [(_, port), *_] = await listener.start(["127.0.0.1"])
    inviter.db.address_book.add(
        AddressEntry(
            me.device_id,
            parse_alias("carl@ad"),
            manual_address=f"127.0.0.1:{port}",
            fingerprint=me.fingerprint,
        )
    )
    return me, got, inbox


async def test_an_invitee_that_never_says_it_showed_the_invitation_fails_it_as_silent(
    nodes: Nodes,
) -> None:
    anna = await nodes.make("anna")
    carl, _, _ = await bare_invitee(nodes, anna, [])
    with pytest.raises(ActionRefused) as exc:  # after 5 s without InviteShown
        await anna.client.invite(carl.device_id.digits, CONTROL, "")
    assert refused(exc) == (RefusalKind.OFFLINE, PEER_SILENT)
    [view] = anna.client.invitations()
    assert (view.state, view.reason) == (State.FAILED, PEER_SILENT)
    assert outcomes(anna) == [("outgoing", "invitation", "failed")]


async def test_an_invitee_that_says_twice_it_showed_the_invitation_keeps_its_channel(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    anna = await nodes.make("anna")
    shown = InviteShown(invitation_id=bytes(16))
    carl, got, inbox = await bare_invitee(nodes, anna, [shown, shown])
    caplog.set_level(logging.ERROR)
    sent = await anna.client.invite(carl.device_id.digits, CONTROL, "")
    [channel] = got
    await channel.send(InviteAccept(invitation_id=bytes.fromhex(sent.invitation_id), revision=1))
    await eventually(lambda: inbox or channel.closed)
    assert [type(m) for m in inbox] == [InviteAcceptOk]
    assert not channel.closed and not caplog.records


async def test_two_invitations_accepted_at_once_each_open_their_own_session(
    nodes: Nodes,
) -> None:
    anna = await nodes.make("anna")
    ben, carl = await nodes.make("ben"), await nodes.make("carl")
    anna.knows(ben)
    anna.knows(carl)
    to_ben = await anna.client.invite(ben.device_id, CONTROL, "")
    to_carl = await anna.client.invite(carl.device_id, CLIP, "")  # while ben's is pending
    tokens = {}
    for node, sent in ((ben, to_ben), (carl, to_carl)):
        raw = await anna.dial_raw(node.identity)
        await raw.send(InviteAccept(invitation_id=bytes.fromhex(sent.invitation_id), revision=1))
        ok = await reply(raw)
        assert isinstance(ok, InviteAcceptOk)
        tokens[node.name] = ok.session_token
        await raw.close()
    assert {anna.state(to_ben.invitation_id), anna.state(to_carl.invitation_id)} == {"accepted"}
    # carl's token first: ben's accepted invitation, earlier in the list, must not stand in
    # its way, and stays good for ben.
    for name in ("carl", "ben"):
        node = {"ben": ben, "carl": carl}[name]
        raw = await anna.dial_raw(node.identity)
        await raw.send(SessionOpen(session_token=tokens[name]))
        assert isinstance(await reply(raw), SessionOpened)
        await raw.close()
    assert anna.state(to_carl.invitation_id) == "connected"
    assert anna.state(to_ben.invitation_id) == "connected"


async def test_a_second_invitation_to_a_device_waiting_for_one_is_refused_naming_it(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    await anna.client.invite(ben.device_id, CONTROL, "")
    with pytest.raises(ActionRefused) as exc:
        await anna.client.invite(ben.device_id, CLIP, "")
    assert refused(exc) == (
        RefusalKind.STATE,
        "an invitation to ben@ad is waiting for an answer already; change or cancel it in the "
        "list of sent invitations",
    )
    with pytest.raises(ActionRefused) as exc:
        await anna.client.connect(ben.device_id)
    assert refused(exc) == (
        RefusalKind.STATE,
        "a request to ben@ad is waiting for an answer already; wait for it or cancel it",
    )


# --- bounds a hostile inviter meets -------------------------------------------------------------


async def test_the_list_keeps_200_received_invitations_dropping_the_oldest_finished_ones(
    nodes: Nodes,
) -> None:
    ben = await nodes.make("ben")
    raw = await ben.dial_raw()
    ids = [os.urandom(16) for _ in range(205)]
    for n, invitation_id in enumerate(ids):
        if n and n % 5 == 0:
            ben.clock.advance(10.5)  # past the rate window: 5 per 10 s are looked at
        await raw.send(raw_invite(invitation_id))
        assert isinstance(await reply(raw), InviteShown)
        await raw.send(InviteCancel(invitation_id=invitation_id))
    last = os.urandom(16)
    ben.clock.advance(10.5)
    await raw.send(raw_invite(last))
    assert isinstance(await reply(raw), InviteShown)
    kept = {v.invitation_id: v.state for v in ben.client.invitations()}
    assert len(kept) == 200 and kept.pop(last.hex()) is State.RECEIVED
    assert set(kept) == {i.hex() for i in ids[6:]}  # the oldest finished ones went first
    assert set(kept.values()) == {State.CANCELLED}
    await raw.close()


async def test_the_rate_of_at_most_1024_inviters_is_remembered_and_the_oldest_forgotten_first(
    nodes: Nodes,
) -> None:
    ben = await nodes.make("ben")
    first_key = Identity.generate()
    first = await ben.dial_raw(first_key)
    for _ in range(5):  # its five in this window; each cancelled, so none is pending
        invitation_id = os.urandom(16)
        await first.send(raw_invite(invitation_id))
        assert isinstance(await reply(first), InviteShown)
        await first.send(InviteCancel(invitation_id=invitation_id))

    async def one_more_inviter() -> None:
        raw = await ben.dial_raw()
        await raw.send(raw_invite(os.urandom(16)))
        await reply(raw)
        await raw.close()

    for _ in range(1023):  # 1024 inviters known: the first one's rate is still remembered
        await one_more_inviter()
    await first.send(raw_invite(os.urandom(16)))
    assert isinstance(await reply(first), InviteDeclined)
    await one_more_inviter()  # the 1025th: the oldest entry, the first inviter's, goes
    await first.send(raw_invite(os.urandom(16)))
    assert isinstance(await reply(first), InviteShown)
    await first.close()


async def test_a_cancelled_invitation_and_a_cancelled_request_each_say_so_in_their_own_words(
    nodes: Nodes,
) -> None:
    anna = await nodes.make("anna")
    shown = InviteShown(invitation_id=bytes(16))
    carl, _, inbox = await bare_invitee(nodes, anna, [shown])
    sent = await anna.client.invite(carl.device_id.digits, CONTROL, "")
    await anna.client.cancel_invitation(sent.invitation_id)
    asked = await anna.client.connect(carl.device_id.digits)
    await anna.client.cancel_invitation(asked.invitation_id)
    await eventually(lambda: len(inbox) == 2)
    assert inbox == [
        InviteCancel(invitation_id=bytes.fromhex(sent.invitation_id)),
        RequestCancel(request_id=bytes.fromhex(asked.invitation_id)),
    ]
