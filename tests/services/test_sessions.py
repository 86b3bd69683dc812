"""Sessions between whole clients over in-memory channels: the host enforces every
permission, changes reach the guest at once, and either side ending ends it for both."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.policy import Override, Policy
from anydesk_invite.net.channel import Channel
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.wire import (
    ClipboardText,
    InviteAccept,
    InviteAcceptOk,
    Message,
    Refused,
    SessionOpen,
    SessionOpened,
    SessionPermissions,
    SysInfo,
    SysInfoRequest,
)
from anydesk_invite.services.facade import ActionRefused as ClientRefused
from anydesk_invite.services.views import SessionView
from tests.helpers.nodes import Nodes, eventually, nodes_for, outcomes, session_between

CONTROL = frozenset({Permission.CONTROL})
CLIPBOARD = frozenset({Permission.CLIPBOARD})
SYSTEM_INFO = frozenset({Permission.SYSTEM_INFO})


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


async def next_of(channel: Channel, *kinds: type[Message]) -> Message:
    """The next message of one of these kinds; others (the screen, for one) are passed over."""
    async with asyncio.timeout(5):
        while True:
            msg = await channel.receive()
            if isinstance(msg, kinds):
                return msg


async def test_host_changing_permissions_reaches_the_guest_at_once(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    host, _ = await session_between(anna, ben, CONTROL)
    changed = await anna.client.set_session_permissions(host.session_id, CLIPBOARD)
    assert changed.permissions == CLIPBOARD
    await eventually(lambda: [s.permissions for s in ben.client.sessions()] == [CLIPBOARD])


async def test_the_hosts_session_view_names_the_invitation_it_came_from(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    await ben.client.accept(sent.invitation_id)
    await eventually(lambda: len(anna.client.sessions()) == 1)
    assert [s.origin for s in anna.client.sessions()] == [sent.invitation_id]


async def test_guest_gets_system_information_when_granted(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    _, guest = await session_between(anna, ben, SYSTEM_INFO)
    info = await ben.client.system_information(guest.session_id)
    assert info.cpu_count >= 1 and info.hostname and info.os


async def test_guest_asking_for_system_information_without_the_permission_is_refused_and_logged(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben = await nodes.pair()
    _, guest = await session_between(anna, ben, CONTROL)
    with caplog.at_level(logging.WARNING, "anydesk_invite.services.sessions"):
        with pytest.raises(ClientRefused, match="system information"):
            await ben.client.system_information(guest.session_id)
    assert any("refused system information" in r.getMessage() for r in caplog.records)


async def test_system_information_sent_raw_over_the_session_channel_is_refused(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben = await nodes.pair()
    sent = await anna.client.invite(ben.device_id, CONTROL, "")
    await ben.received.wait()
    raw = await anna.dial_raw(ben.identity)
    try:
        await raw.send(InviteAccept(invitation_id=bytes.fromhex(sent.invitation_id), revision=1))
        ok = await asyncio.wait_for(raw.receive(), 5)
        assert isinstance(ok, InviteAcceptOk)
        await raw.send(SessionOpen(session_token=ok.session_token))
        assert isinstance(await next_of(raw, SessionOpened), SessionOpened)
        with caplog.at_level(logging.WARNING, "anydesk_invite.services.sessions"):
            await raw.send(SysInfoRequest())
            answer = await next_of(raw, Refused, SysInfo)
        assert answer == Refused(what="system_info", reason="not permitted")
        assert any("refused system information" in r.getMessage() for r in caplog.records)
    finally:
        await raw.close()


async def test_a_permission_locked_by_policy_cannot_be_changed_in_a_session(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    anna.policy = Policy(
        permissions={
            Permission.CONTROL: Override.FORCE_OFF,
            Permission.SYSTEM_INFO: Override.FORCE_ON,
        }
    )
    host, guest = await session_between(anna, ben, CONTROL)
    assert host.permissions == SYSTEM_INFO == guest.permissions
    assert host.locked == frozenset({Permission.CONTROL, Permission.SYSTEM_INFO}) == guest.locked
    changed = await anna.client.set_session_permissions(host.session_id, CONTROL | CLIPBOARD)
    assert changed.permissions == CLIPBOARD | SYSTEM_INFO
    await eventually(
        lambda: [s.permissions for s in ben.client.sessions()] == [CLIPBOARD | SYSTEM_INFO]
    )


async def test_a_policy_changed_while_running_takes_effect_in_open_sessions(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    await session_between(anna, ben, CONTROL | CLIPBOARD)
    anna.policy = Policy(permissions={Permission.CONTROL: Override.FORCE_OFF})
    await anna.client.policy_changed(anna.policy)
    [now] = anna.client.sessions()
    assert now.permissions == CLIPBOARD and Permission.CONTROL in now.locked
    await eventually(lambda: [s.permissions for s in ben.client.sessions()] == [CLIPBOARD])
    [guest] = ben.client.sessions()
    assert Permission.CONTROL in guest.locked


async def test_guest_clipboard_reaches_the_host_only_while_granted(
    nodes: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben = await nodes.pair()
    host, guest = await session_between(anna, ben, CLIPBOARD)
    await ben.client.set_send_clipboard(guest.session_id, True)
    ben.clipboard.user_copies("first")
    await eventually(lambda: anna.clipboard.writes == ["first"])

    await anna.client.set_session_permissions(host.session_id, frozenset())
    await eventually(lambda: [s.permissions for s in ben.client.sessions()] == [frozenset()])
    # A guest that ignores the change and sends anyway: the host refuses and keeps its clipboard.
    with caplog.at_level(logging.INFO):
        await ben.session_channel(guest.session_id).send(ClipboardText(text="second"))
        await eventually(
            lambda: any("host refused clipboard" in r.getMessage() for r in caplog.records)
        )
    assert any("refused clipboard from guest" in r.getMessage() for r in caplog.records)
    assert anna.clipboard.writes == ["first"]


@pytest.mark.parametrize("ender", ["host", "guest"])
async def test_either_side_ending_ends_the_session_for_both_and_records_its_duration(
    nodes: Nodes, ender: str
) -> None:
    anna, ben = await nodes.pair()
    host, guest = await session_between(anna, ben, CONTROL)
    anna.clock.advance(42)
    ben.clock.advance(42)
    if ender == "host":
        await anna.client.end_session(host.session_id)
    else:
        await ben.client.end_session(guest.session_id)
    await eventually(lambda: anna.client.sessions() == [] and ben.client.sessions() == [])
    for node, direction in ((anna, "incoming"), (ben, "outgoing")):
        [record] = [r for r in node.db.recent_sessions.list() if r.kind.value == "session"]
        assert record.direction.value == direction
        assert record.duration == pytest.approx(42)
        assert record.outcome == "ended"
    assert ("outgoing", "session") in [(d, k) for d, k, _ in outcomes(ben)]


@pytest.mark.parametrize("how", ["freezes", "drops the connections"])
async def test_guest_is_told_within_the_idle_timeout_when_the_host_vanishes(
    nodes: Nodes, how: str
) -> None:
    limits = Limits(idle_timeout=0.6, heartbeat_interval=0.2)
    anna, ben = await nodes.pair(limits=limits)
    await session_between(anna, ben, CONTROL)
    ended = asyncio.Event()
    ben.client.sessions_changed.connect(lambda _: ben.client.sessions() or ended.set())
    for channel in anna.client.links.channels():
        if how == "freezes":
            # Its channels neither read, answer nor say goodbye.
            for task in channel._tasks:
                task.cancel()
        else:
            channel._writer.transport.abort()
    start = asyncio.get_running_loop().time()
    await asyncio.wait_for(ended.wait(), 5)
    assert asyncio.get_running_loop().time() - start < limits.idle_timeout + 0.5
    [record] = [r for r in ben.db.recent_sessions.list() if r.kind.value == "session"]
    assert record.duration >= 0
    if how == "freezes":
        assert "stopped answering" in record.outcome


async def test_one_host_serves_two_guests_each_with_its_own_permissions(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    carl = await nodes.make("carl")
    anna.knows(carl)
    carl.knows(anna)
    await session_between(anna, ben, CONTROL)
    sent = await anna.client.invite(carl.device_id, CLIPBOARD, "")
    await carl.received.wait()
    await carl.client.accept(sent.invitation_id)
    await eventually(lambda: len(anna.client.sessions()) == 2)
    by_guest = {s.peer_id: s for s in anna.client.sessions()}
    assert by_guest[ben.identity.device_id].permissions == CONTROL
    assert by_guest[carl.identity.device_id].permissions == CLIPBOARD
    await anna.client.set_session_permissions(
        by_guest[carl.identity.device_id].session_id, frozenset()
    )
    await eventually(lambda: [s.permissions for s in carl.client.sessions()] == [frozenset()])
    assert [s.permissions for s in ben.client.sessions()] == [CONTROL]


async def test_a_permission_change_right_after_the_session_opens_reaches_the_guest(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    tasks: list[asyncio.Task[SessionView]] = []
    anna.client.session_started.connect(
        lambda view: tasks.append(
            asyncio.ensure_future(anna.client.set_session_permissions(view.session_id, CLIPBOARD))
        )
    )
    await session_between(anna, ben, CONTROL)
    await asyncio.gather(*tasks)
    await eventually(lambda: [s.permissions for s in ben.client.sessions()] == [CLIPBOARD])


async def test_a_guest_cannot_change_its_own_permissions(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    _, guest = await session_between(anna, ben, CONTROL)
    channel = ben.session_channel(guest.session_id)
    with pytest.raises(ClientRefused, match="only the host"):
        await ben.client.set_session_permissions(guest.session_id, CLIPBOARD)
    await channel.send(SessionPermissions(permissions=frozenset(Permission), locked=frozenset()))
    await channel.send(SysInfoRequest())
    with pytest.raises(ClientRefused, match="system information"):
        await ben.client.system_information(guest.session_id)
    assert [s.permissions for s in anna.client.sessions()] == [CONTROL]
