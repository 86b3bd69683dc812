"""Security suite, invitations and sessions: replays, late or stale accepts, foreign edits,
session tokens bound to the invitee's key. Each test names the protection it pins."""

from __future__ import annotations

import asyncio
import os

from anydesk_invite.core.invitation import State
from anydesk_invite.core.permissions import Permission
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
    InviteShown,
    InviteUpdate,
    Message,
    SessionOpen,
    SessionOpened,
)
from anydesk_invite.services.invitation_book import MAX_PENDING_PER_ADDRESS, MAX_PENDING_UNKNOWN
from tests.helpers.nodes import Node, Nodes

CONTROL = frozenset({Permission.CONTROL})


async def answer(channel: Channel) -> Message:
    try:
        return await asyncio.wait_for(channel.receive(), 5)
    except ChannelClosed:
        return Error(code="closed", message=channel.close_reason)


async def accept_as(anna: Node, identity: Identity, invitation_id: str, revision: int) -> Message:
    raw = await anna.dial_raw(identity)
    try:
        await raw.send(InviteAccept(invitation_id=bytes.fromhex(invitation_id), revision=revision))
        return await answer(raw)
    finally:
        await raw.close()


async def open_with(anna: Node, identity: Identity, token: bytes) -> Message:
    raw = await anna.dial_raw(identity)
    try:
        await raw.send(SessionOpen(session_token=token))
        return await answer(raw)
    finally:
        await raw.close()


async def invited(anna: Node, ben: Node) -> str:
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    return sent.invitation_id


async def token_for(anna: Node, ben: Node, invitation_id: str) -> bytes:
    ok = await accept_as(anna, ben.identity, invitation_id, 1)
    assert isinstance(ok, InviteAcceptOk)
    return ok.session_token


def invite(invitation_id: bytes) -> Invite:
    return Invite(
        invitation_id=invitation_id,
        revision=1,
        permissions=CONTROL,
        profile="",
        seconds_left=120.0,
    )


async def test_a_replayed_invitation_id_is_declined_and_not_shown_again(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    invitation_id = await invited(anna, ben)
    await ben.client.reject(invitation_id)
    raw = await ben.dial_raw(anna.identity)
    try:
        await raw.send(invite(bytes.fromhex(invitation_id)))
        assert isinstance(await answer(raw), InviteDeclined)
        # A fresh id from the same key is still shown: only the replay is refused.
        await raw.send(invite(os.urandom(16)))
        assert isinstance(await answer(raw), InviteShown)
    finally:
        await raw.close()
    assert len(ben.received.items) == 2
    assert ben.state(invitation_id) == "rejected"


async def test_accept_after_the_inviters_deadline_is_refused(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    invitation_id = await invited(anna, ben)
    anna.clock.advance(121)
    refused = await accept_as(anna, ben.identity, invitation_id, 1)
    assert refused == InviteRefused(invitation_id=bytes.fromhex(invitation_id), code="expired")
    assert anna.client.sessions() == []


async def test_accept_after_cancel_is_refused(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    invitation_id = await invited(anna, ben)
    await anna.client.cancel_invitation(invitation_id)
    refused = await accept_as(anna, ben.identity, invitation_id, 1)
    assert refused == InviteRefused(invitation_id=bytes.fromhex(invitation_id), code="cancelled")
    assert anna.client.sessions() == []


async def test_accept_of_a_stale_revision_is_refused(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    invitation_id = await invited(anna, ben)
    await anna.client.edit_invitation(invitation_id, frozenset(), "")
    refused = await accept_as(anna, ben.identity, invitation_id, 1)
    assert refused == InviteRefused(
        invitation_id=bytes.fromhex(invitation_id), code="stale_revision"
    )
    assert anna.state(invitation_id) == "pending"


async def test_edit_and_cancel_from_anyone_but_the_inviter_are_ignored(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    invitation_id = await invited(anna, ben)
    raw = await ben.dial_raw(Identity.generate())
    try:
        ident = bytes.fromhex(invitation_id)
        everything = frozenset(Permission)
        await raw.send(InviteUpdate(ident, 9, everything, "", 120.0))
        await raw.send(InviteCancel(invitation_id=ident))
        # Handled in order on one channel: once this is answered, so were the two above.
        await raw.send(invite(os.urandom(16)))
        await answer(raw)
    finally:
        await raw.close()
    view = ben.invitation(invitation_id)
    assert view.state is State.RECEIVED
    assert view.revision == 1 and view.permissions == CONTROL


async def test_a_session_token_presented_by_another_key_is_refused_and_used_up(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    invitation_id = await invited(anna, ben)
    token = await token_for(anna, ben, invitation_id)
    thief = await open_with(anna, Identity.generate(), token)
    assert not isinstance(thief, SessionOpened)
    assert anna.client.sessions() == []
    # The token is spent: not even the invitee can use it now.
    real = await open_with(anna, ben.identity, token)
    assert not isinstance(real, SessionOpened)
    assert anna.client.sessions() == []


async def test_a_replayed_session_token_is_refused(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    invitation_id = await invited(anna, ben)
    token = await token_for(anna, ben, invitation_id)
    raw = await anna.dial_raw(ben.identity)
    try:
        await raw.send(SessionOpen(session_token=token))
        assert isinstance(await answer(raw), SessionOpened)
        again = await open_with(anna, ben.identity, token)
        assert not isinstance(again, SessionOpened)
        assert len(anna.client.sessions()) == 1
    finally:
        await raw.close()


async def _flood_invitations(ben: Node, keys: int) -> int:
    """Throw-away keys each send one invitation; how many ben showed."""
    shown = 0
    for _ in range(keys):
        raw = await ben.dial_raw()
        try:
            await raw.send(Invite(os.urandom(16), 1, CONTROL, "", 120.0))
            shown += isinstance(await answer(raw), InviteShown)
        finally:
            await raw.close()
    return shown


async def test_throwaway_keys_from_one_address_cannot_fill_the_pending_invitation_slots(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    shown = await _flood_invitations(ben, 32)
    assert shown == MAX_PENDING_PER_ADDRESS
    await invited(anna, ben)
    assert ben.received.items[-1].peer_id.digits == anna.device_id


async def test_unknown_keys_as_a_group_never_crowd_out_an_address_book_peer(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    # As if the throw-away keys came from many addresses.
    ben.client.invitation_service.max_pending_per_address = 1000
    shown = await _flood_invitations(ben, 32)
    assert shown == MAX_PENDING_UNKNOWN
    await invited(anna, ben)
    assert ben.received.items[-1].peer_id.digits == anna.device_id
