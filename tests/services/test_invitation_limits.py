"""Invitation limits exactly at their bound and one past it, and what each side is told when
the other one cannot be reached, over in-memory channels. The numbers are the ones
docs/PROTOCOL.md gives (Invitations and requests, Constants), written out here on purpose."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.channel import Channel, ChannelClosed
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.wire import (
    ConnectRequest,
    Error,
    InviteDeclined,
    InviteShown,
    Message,
    RequestAccepted,
    RequestCancel,
    SessionOpen,
    SessionOpened,
)
from anydesk_invite.services.facade import ActionRefused, RefusalKind
from anydesk_invite.services.views import SessionView
from anydesk_invite.storage.contacts import AddressEntry
from tests.helpers.nodes import Node, Nodes, eventually, nodes_for, outcomes
from tests.helpers.raw_invites import raw_invite

CONTROL = frozenset({Permission.CONTROL})
BAD_TOKEN = Error(
    code="closed", message="the peer reported an error: bad_token: the session token is not valid"
)
"""What a peer presenting a bad session token sees: Error("bad_token"), then the close."""


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


async def answer(channel: Channel) -> Message:
    try:
        return await asyncio.wait_for(channel.receive(), 5)
    except ChannelClosed:
        return Error(code="closed", message=channel.close_reason)


async def shown_or_declined(raw: Channel, invitation_id: bytes) -> type[Message]:
    await raw.send(raw_invite(invitation_id))
    got = await answer(raw)
    assert isinstance(got, InviteShown | InviteDeclined), got
    assert got.invitation_id == invitation_id
    return type(got)


# --- rate: 5 per 10 s per key ---------------------------------------------------------------


async def test_five_invitations_in_ten_seconds_are_looked_at_and_the_sixth_is_declined(
    nodes: Nodes,
) -> None:
    ben = await nodes.make("ben")
    raw = await ben.dial_raw()
    try:
        for n in range(5):
            invitation_id = os.urandom(16)
            assert await shown_or_declined(raw, invitation_id) is InviteShown, n
            # Rejected, so the one pending per pair does not decline the next.
            await ben.client.reject(invitation_id.hex())
            await answer(raw)  # the InviteReject
            ben.clock.advance(1)
        assert await shown_or_declined(raw, os.urandom(16)) is InviteDeclined
        # The first of the five came at 0 s; now it is 5 s. At exactly 10 s it still counts.
        ben.clock.advance(5)
        assert await shown_or_declined(raw, os.urandom(16)) is InviteDeclined
        ben.clock.advance(0.01)
        assert await shown_or_declined(raw, os.urandom(16)) is InviteShown
    finally:
        await raw.close()
    assert len(ben.received.items) == 6


# --- replayed ids: the last 4096 are remembered ----------------------------------------------


async def test_an_id_is_remembered_for_4096_invitations_and_forgotten_at_the_4097th(
    nodes: Nodes,
) -> None:
    ben = await nodes.make("ben")
    first = os.urandom(16)
    raw = await ben.dial_raw()
    try:
        assert await shown_or_declined(raw, first) is InviteShown
        # 4095 more ids from the same key, declined (it has one open already, then its rate)
        # but remembered all the same.
        ids = [os.urandom(16) for _ in range(4095)]
        for i in ids:
            await raw.send(raw_invite(i))
        got = [await answer(raw) for _ in ids]
        assert all(isinstance(m, InviteDeclined) for m in got)
        await ben.client.reject(first.hex())
    finally:
        await raw.close()

    # 4096 ids seen, the first among them: a replay of it from another key is declined.
    other = await ben.dial_raw()
    try:
        assert await shown_or_declined(other, first) is InviteDeclined
        assert ben.state(first.hex()) == "rejected"
        # One more id: the first one is forgotten, and the same id is a new invitation.
        assert await shown_or_declined(other, os.urandom(16)) is InviteShown
        await ben.client.reject(ben.received.items[-1].invitation_id)
        await answer(other)
    finally:
        await other.close()
    late = await ben.dial_raw()
    try:
        assert await shown_or_declined(late, first) is InviteShown
    finally:
        await late.close()
    assert ben.state(first.hex()) == "received"


# --- open incoming invitations: 32 in total ---------------------------------------------------


async def test_thirty_two_open_invitations_are_shown_and_the_thirty_third_is_declined(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    ben = await nodes.make("ben")
    caplog.set_level(logging.WARNING)
    # Known keys (in ben's address book), so neither the per-address cap (4) nor the cap on
    # unknown keys (8) applies: only the total does.
    keys = [Identity.generate() for _ in range(33)]
    for key in keys:
        ben.db.address_book.add(AddressEntry(key.device_id, fingerprint=key.fingerprint))
    said = []
    for key in keys:
        raw = await ben.dial_raw(key)
        try:
            said.append(await shown_or_declined(raw, os.urandom(16)))
        finally:
            await raw.close()
    assert said == [InviteShown] * 32 + [InviteDeclined]
    assert len(ben.received.items) == 32
    declined = (
        rf"too many pending invitations; declined one from {keys[32].device_id} at 127\.0\.0\.1:\d+"
    )
    assert any(re.fullmatch(declined, r.getMessage()) for r in caplog.records)

    # One of them ends: its slot is free again.
    await ben.client.reject(ben.received.items[0].invitation_id)
    raw = await ben.dial_raw(keys[32])
    try:
        assert await shown_or_declined(raw, os.urandom(16)) is InviteShown
    finally:
        await raw.close()


async def test_four_open_invitations_from_one_address_and_the_fifth_declined(
    nodes: Nodes,
) -> None:
    ben = await nodes.make("ben")
    said = []
    for _ in range(5):
        raw = await ben.dial_raw()
        try:
            said.append(await shown_or_declined(raw, os.urandom(16)))
        finally:
            await raw.close()
    assert said == [InviteShown] * 4 + [InviteDeclined]


async def test_eight_open_invitations_from_unknown_keys_and_the_ninth_declined(
    nodes: Nodes,
) -> None:
    ben = await nodes.make("ben")
    # As if each came from an address of its own: only the cap on unknown keys applies.
    ben.client.invitation_service.max_pending_per_address = 1000
    said = []
    for _ in range(9):
        raw = await ben.dial_raw()
        try:
            said.append(await shown_or_declined(raw, os.urandom(16)))
        finally:
            await raw.close()
    assert said == [InviteShown] * 8 + [InviteDeclined]


# --- the other side cannot be reached --------------------------------------------------------


async def test_accepting_when_the_inviter_is_gone_fails_and_says_it_cannot_be_reached(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    await anna.stop()
    with pytest.raises(ActionRefused) as refused:
        await ben.client.accept(sent.invitation_id)
    assert (
        str(refused.value) == "the inviter cannot be reached any more: ask them to invite you again"
    )
    assert refused.value.kind is RefusalKind.OFFLINE  # type: ignore[attr-defined]
    view = ben.invitation(sent.invitation_id)
    assert (
        view.state.value == "failed"
        and view.reason == "the inviter cannot be reached any more: ask them to invite you again"
    )
    assert outcomes(ben) == [("incoming", "invitation", "failed")]


async def test_accepting_a_request_when_the_requester_is_gone_fails_and_says_so(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    asked = await ben.client.connect(anna.device_id)
    await anna.received.wait()
    await ben.stop()
    with pytest.raises(ActionRefused) as refused:
        await anna.client.accept(asked.invitation_id, CONTROL)
    assert (
        str(refused.value) == "the device that asked cannot be reached any more; it can ask again"
    )
    assert refused.value.kind is RefusalKind.OFFLINE  # type: ignore[attr-defined]
    view = anna.invitation(asked.invitation_id)
    assert (
        view.state.value == "failed"
        and view.reason == "the device that asked cannot be reached any more; it can ask again"
    )
    assert outcomes(anna) == [("incoming", "request", "failed")]
    assert not anna.client.invitation_service.carries(ben.identity.fingerprint)


# --- a request's session token: 30 s ---------------------------------------------------------


async def accepted_request(anna: Node, raw: Channel) -> tuple[bytes, asyncio.Task[SessionView]]:
    """A raw requester asks anna; anna's owner accepts with CONTROL: (request id, token)."""
    request_id = os.urandom(16)
    await raw.send(ConnectRequest(request_id=request_id, seconds_left=120.0))
    assert isinstance(await answer(raw), InviteShown)
    accepting = asyncio.ensure_future(anna.client.accept(request_id.hex(), CONTROL))
    got = await answer(raw)
    assert isinstance(got, RequestAccepted), got
    assert got.request_id == request_id and got.permissions == CONTROL
    assert len(got.session_token) == 32 and got.token_seconds == 30
    return got.session_token, accepting


async def present(anna: Node, identity: Identity, token: bytes) -> Message:
    raw = await anna.dial_raw(identity)
    try:
        await raw.send(SessionOpen(session_token=token))
        return await answer(raw)
    finally:
        await raw.close()


async def test_a_request_token_opens_the_session_just_before_thirty_seconds(
    nodes: Nodes,
) -> None:
    anna = await nodes.make("anna")
    requester = Identity.generate()
    raw = await anna.dial_raw(requester)
    try:
        token, accepting = await accepted_request(anna, raw)
        anna.clock.advance(29.9)
        anna.tick()
        opened = await present(anna, requester, token)
        assert isinstance(opened, SessionOpened) and opened.permissions == CONTROL
        host = await asyncio.wait_for(accepting, 5)
        assert host.peer_id == requester.device_id
    finally:
        await raw.close()


async def test_a_request_token_is_refused_with_bad_token_at_thirty_seconds(nodes: Nodes) -> None:
    anna = await nodes.make("anna")
    requester = Identity.generate()
    raw = await anna.dial_raw(requester)
    try:
        token, accepting = await accepted_request(anna, raw)
        request_id = anna.received.items[-1].invitation_id
        anna.clock.advance(30)
        # Before any tick: the token is already past its deadline when it is presented.
        late = await present(anna, requester, token)
        assert late == BAD_TOKEN
        assert anna.client.sessions() == []
        accepting.cancel()
        with contextlib.suppress(asyncio.CancelledError, ActionRefused):
            await accepting
    finally:
        await raw.close()
    view = anna.invitation(request_id)
    assert view.state.value == "failed"
    assert view.reason == "the other device accepted but did not connect in time; ask again"


async def test_a_request_cancelled_after_it_was_accepted_cannot_open_a_session(
    nodes: Nodes,
) -> None:
    anna = await nodes.make("anna")
    requester = Identity.generate()
    raw = await anna.dial_raw(requester)
    try:
        token, accepting = await accepted_request(anna, raw)
        request_id = anna.received.items[-1].invitation_id
        await raw.send(RequestCancel(request_id=bytes.fromhex(request_id)))
        await eventually(lambda: anna.state(request_id) == "cancelled")
        assert await present(anna, requester, token) == BAD_TOKEN
        assert anna.client.sessions() == []
        accepting.cancel()
        with contextlib.suppress(asyncio.CancelledError, ActionRefused):
            await accepting
    finally:
        await raw.close()
    assert anna.state(request_id) == "cancelled"
    assert outcomes(anna) == [("incoming", "request", "cancelled")]


async def test_an_open_request_keeps_its_channel_until_it_ends(nodes: Nodes) -> None:
    anna = await nodes.make("anna")
    requester = Identity.generate()
    raw = await anna.dial_raw(requester)
    try:
        request_id = os.urandom(16)
        await raw.send(ConnectRequest(request_id=request_id, seconds_left=120.0))
        assert isinstance(await answer(raw), InviteShown)
        # Shown, not yet answered: the channel carries it.
        assert anna.client.invitation_service.carries(requester.fingerprint)
        await anna.client.reject(request_id.hex())
        assert not anna.client.invitation_service.carries(requester.fingerprint)
    finally:
        await raw.close()


async def test_an_unused_request_token_ends_the_request_failed_at_thirty_seconds(
    nodes: Nodes,
) -> None:
    anna = await nodes.make("anna")
    requester = Identity.generate()
    raw = await anna.dial_raw(requester)
    try:
        token, accepting = await accepted_request(anna, raw)
        request_id = anna.received.items[-1].invitation_id
        anna.clock.advance(29.9)
        anna.tick()
        assert anna.state(request_id) == "accepting"
        assert anna.client.invitation_service.carries(requester.fingerprint)
        anna.clock.advance(0.1)
        anna.tick()
        view = anna.invitation(request_id)
        assert view.state.value == "failed"
        assert view.reason == "the other device accepted but did not connect in time; ask again"
        assert not anna.client.invitation_service.carries(requester.fingerprint)
        assert await present(anna, requester, token) == BAD_TOKEN
        accepting.cancel()
        with contextlib.suppress(asyncio.CancelledError, ActionRefused):
            await accepting
    finally:
        await raw.close()
    assert outcomes(anna) == [("incoming", "request", "failed")]


async def test_a_request_token_presented_by_another_key_is_refused_and_fails_the_request(
    nodes: Nodes,
) -> None:
    anna = await nodes.make("anna")
    requester = Identity.generate()
    raw = await anna.dial_raw(requester)
    try:
        token, accepting = await accepted_request(anna, raw)
        request_id = anna.received.items[-1].invitation_id
        thief = await present(anna, Identity.generate(), token)
        assert thief == BAD_TOKEN
        # Used up: not even the requester can open it now.
        assert await present(anna, requester, token) == BAD_TOKEN
        accepting.cancel()
        with contextlib.suppress(asyncio.CancelledError, ActionRefused):
            await accepting
    finally:
        await raw.close()
    view = anna.invitation(request_id)
    assert view.state.value == "failed"
    assert (
        view.reason
        == "another device tried to join with this invitation, so it was closed; send a new one"
    )
    await eventually(lambda: anna.client.sessions() == [])
