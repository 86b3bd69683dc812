"""Connection requests between whole clients over in-memory channels: the requester asks,
the requested device's owner accepts with permissions of their choice or dismisses it."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anydesk_invite.core.invitation import REQUEST_LIFETIME, Kind, State
from anydesk_invite.core.permissions import SCREEN_SHARING, Permission
from anydesk_invite.net.wire import InviteAccept, InviteRefused, RequestAccepted
from anydesk_invite.services.facade import ActionRefused, RefusalKind
from anydesk_invite.services.invitation_texts import DECLINED_TEXT
from anydesk_invite.services.views import Direction, Role
from tests.helpers.nodes import Nodes, Recorder, eventually, nodes_for, outcomes

CONTROL = frozenset({Permission.CONTROL})


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


async def test_accepted_request_opens_a_session_with_the_requester_as_guest(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    anna_finished = Recorder(anna.client.invitation_service.finished)
    ben_finished = Recorder(ben.client.invitation_service.finished)
    asked = await ben.client.connect(anna.device_id)
    assert asked.kind is Kind.REQUEST and asked.state is State.PENDING

    shown = await anna.received.wait()
    assert shown.kind is Kind.REQUEST and shown.direction is Direction.INCOMING
    assert shown.invitation_id == asked.invitation_id
    assert shown.peer_id == ben.identity.device_id and shown.peer_alias == "ben@ad"

    host = await anna.client.accept(asked.invitation_id, CONTROL)
    assert host.role is Role.HOST and host.permissions == CONTROL
    assert host.peer_id == ben.identity.device_id
    await eventually(lambda: len(ben.client.sessions()) == 1)
    [guest] = ben.client.sessions()
    assert guest.role is Role.GUEST and guest.permissions == CONTROL
    assert guest.session_id == host.session_id
    await eventually(lambda: ben.state(asked.invitation_id) == "connected")
    assert anna.state(asked.invitation_id) == "connected"
    # Each side reports the request's end once: connected (the session records itself).
    assert [(o.kind, o.state) for o in ben_finished.items] == [(Kind.REQUEST, State.CONNECTED)]
    assert [(o.kind, o.state) for o in anna_finished.items] == [(Kind.REQUEST, State.CONNECTED)]


async def test_request_accepted_with_a_profile_grants_that_profiles_permissions(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    asked = await ben.client.connect("anna@ad")
    await anna.received.wait()
    host = await anna.client.accept(asked.invitation_id, profile=SCREEN_SHARING)
    assert host.permissions == frozenset()
    await eventually(lambda: [s.permissions for s in ben.client.sessions()] == [frozenset()])


async def test_dismissed_request_ends_rejected_with_reason_declined(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    asked = await ben.client.connect(anna.device_id)
    await anna.received.wait()
    await anna.client.reject(asked.invitation_id)
    assert anna.state(asked.invitation_id) == "rejected"
    await eventually(lambda: ben.state(asked.invitation_id) == "rejected")
    assert ben.invitation(asked.invitation_id).reason == "declined"
    assert outcomes(ben) == [("outgoing", "request", "declined")]
    assert outcomes(anna) == [("incoming", "request", "rejected")]


async def test_unanswered_request_expires_with_no_answer(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    asked = await ben.client.connect(anna.device_id)
    await anna.received.wait()
    ben.clock.advance(REQUEST_LIFETIME)
    await eventually(lambda: ben.state(asked.invitation_id) == "expired")
    assert ben.invitation(asked.invitation_id).reason == "no answer"
    assert outcomes(ben) == [("outgoing", "request", "no answer")]
    anna.clock.advance(REQUEST_LIFETIME)
    await eventually(lambda: anna.state(asked.invitation_id) == "expired")
    with pytest.raises(ActionRefused):
        await anna.client.accept(asked.invitation_id, CONTROL)


async def test_request_cancelled_by_the_requester_disappears_on_the_requested_device(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    asked = await ben.client.connect(anna.device_id)
    await anna.received.wait()
    await ben.client.cancel_invitation(asked.invitation_id)
    await eventually(lambda: anna.state(asked.invitation_id) == "cancelled")
    with pytest.raises(ActionRefused):
        await anna.client.accept(asked.invitation_id, CONTROL)
    assert outcomes(anna) == [("incoming", "request", "cancelled")]
    assert outcomes(ben) == [("outgoing", "request", "cancelled")]


async def test_request_from_nobody_is_declined(nodes: Nodes) -> None:
    from anydesk_invite.core.policy import AcceptFrom

    anna, ben = await nodes.pair()
    await anna.set_accept_from(AcceptFrom.NOBODY)
    with pytest.raises(ActionRefused) as refused:
        await ben.client.connect(anna.device_id)
    assert str(refused.value) == DECLINED_TEXT
    assert anna.received.items == []


async def test_a_dismissal_arriving_after_the_request_expired_keeps_no_answer(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    asked = await ben.client.connect(anna.device_id)
    await anna.received.wait()
    ben.clock.advance(REQUEST_LIFETIME)
    await eventually(lambda: ben.state(asked.invitation_id) == "expired")
    await anna.client.reject(asked.invitation_id)
    # Anna's next message travels the same channel, so once it is shown the dismissal was read.
    await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    view = ben.invitation(asked.invitation_id)
    assert view.state is State.EXPIRED and view.reason == "no answer"
    assert outcomes(ben) == [("outgoing", "request", "no answer")]


async def test_a_second_request_while_one_is_pending_is_refused_naming_the_device(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    asked = await ben.client.connect("anna@ad")
    assert asked.peer_alias == "anna@ad" and asked.permissions == frozenset()
    with pytest.raises(ActionRefused) as refused:
        await ben.client.connect(anna.device_id)
    assert (
        str(refused.value)
        == "a request to anna@ad is waiting for an answer already; wait for it or cancel it"
    )
    assert refused.value.kind is RefusalKind.STATE  # type: ignore[attr-defined]
    assert len(ben.client.invitations()) == 1


async def test_a_request_lasts_the_requesters_request_lifetime_on_both_sides(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    ben.client.invitation_service.request_lifetime = 60.0
    asked = await ben.client.connect(anna.device_id)
    assert asked.seconds_left == pytest.approx(60)
    shown = await anna.received.wait()
    assert shown.seconds_left == pytest.approx(60)
    ben.clock.advance(59.9)
    ben.tick()
    assert ben.state(asked.invitation_id) == "pending"
    ben.clock.advance(0.1)
    await eventually(lambda: ben.state(asked.invitation_id) == "expired")


async def test_the_requester_sees_the_permissions_the_owner_granted(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    asked = await ben.client.connect(anna.device_id)
    await anna.received.wait()
    await anna.client.accept(asked.invitation_id, CONTROL)
    await eventually(lambda: ben.state(asked.invitation_id) == "connected")
    assert ben.invitation(asked.invitation_id).permissions == CONTROL


async def test_an_acceptance_arriving_after_the_requesters_deadline_ends_it_expired(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    asked = await ben.client.connect(anna.device_id)
    await anna.received.wait()
    ben.clock.advance(REQUEST_LIFETIME)  # no tick on ben's side: the answer finds it over
    accepting = asyncio.ensure_future(anna.client.accept(asked.invitation_id, CONTROL))
    await eventually(lambda: ben.state(asked.invitation_id) == "expired")
    assert outcomes(ben) == [("outgoing", "request", "expired")]
    assert ben.client.sessions() == []
    accepting.cancel()
    with contextlib.suppress(asyncio.CancelledError, ActionRefused):
        await accepting


async def test_an_acceptance_for_an_invitation_is_not_taken_as_a_request_answer(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    # Ben's own key answers anna's invitation as if it were a request she had sent.
    raw = await anna.dial_raw(ben.identity)
    try:
        await raw.send(
            RequestAccepted(
                request_id=bytes.fromhex(sent.invitation_id),
                permissions=CONTROL,
                session_token=os.urandom(32),
                token_seconds=30.0,
            )
        )
        # Messages on one channel are handled in order: once this is answered, so was that.
        await raw.send(InviteAccept(invitation_id=os.urandom(16), revision=1))
        assert isinstance(await asyncio.wait_for(raw.receive(), 5), InviteRefused)
    finally:
        await raw.close()
    assert anna.state(sent.invitation_id) == "pending"
    assert anna.client.sessions() == []
