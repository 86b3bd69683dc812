"""Incoming invitations as desktop notifications (Wayland without XWayland): the client's
D-Bus adapter against a real org.freedesktop.Notifications service on a private session bus,
whose buttons the test clicks as a person would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.desktop.notifications import DBusNotifications
from anydesk_invite.desktop_adapters import invitation_notices
from anydesk_invite.services.notices import InvitationNotices
from tests.helpers.nodes import Node, Nodes, eventually, nodes_for
from tests.helpers.notification_server import NotificationServer, Shown
from tests.helpers.session_bus import have_dbus_daemon, session_bus
from tests.helpers.xvfb import in_ci


@pytest.fixture(scope="module")
def bus() -> Iterator[str]:
    if not have_dbus_daemon():
        if in_ci():
            pytest.fail("CI lacks dbus-daemon (scripts/bootstrap.sh)")
        pytest.skip("no dbus-daemon here")
    with session_bus() as address:
        yield address


@pytest.fixture
def server(bus: str) -> Iterator[NotificationServer]:
    s = NotificationServer(bus)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


async def invited(
    nodes: Nodes, bus: str, server: NotificationServer
) -> tuple[Node, Node, InvitationNotices, str, Shown]:
    anna = await nodes.make("anna")
    ben = await nodes.make("ben")
    anna.knows(ben)
    ben.knows(anna)
    notices = await invitation_notices(ben.client, bus)
    assert notices is not None
    sent = await anna.client.invite(ben.device_id, frozenset({Permission.CONTROL}), "")
    await ben.received.wait()
    await eventually(lambda: len(server.open_ones()) == 1, 10)
    [shown] = server.open_ones()
    return anna, ben, notices, sent.invitation_id, shown


async def test_an_invitation_shows_as_a_notification_with_connect_and_reject(
    nodes: Nodes, bus: str, server: NotificationServer
) -> None:
    _, _, notices, _, shown = await invited(nodes, bus, server)
    try:
        assert "anna" in shown.summary
        assert shown.actions == ["accept", "Connect", "reject", "Reject"]
    finally:
        await notices.close()


async def test_connect_on_the_notification_accepts_the_invitation(
    nodes: Nodes, bus: str, server: NotificationServer
) -> None:
    anna, ben, notices, invitation_id, shown = await invited(nodes, bus, server)
    try:
        server.click(shown.id, "accept")
        session = await ben.started.wait(timeout=10)
        assert session.peer_alias == anna.alias
        await eventually(lambda: anna.client.sessions() != [], 10)
        assert anna.state(invitation_id) in ("accepted", "connected")
    finally:
        await notices.close()


async def test_reject_on_the_notification_rejects_the_invitation(
    nodes: Nodes, bus: str, server: NotificationServer
) -> None:
    anna, ben, notices, invitation_id, shown = await invited(nodes, bus, server)
    try:
        server.click(shown.id, "reject")
        await eventually(lambda: anna.state(invitation_id) == "rejected", 10)
        assert ben.state(invitation_id) == "rejected"
        assert ben.client.sessions() == []
    finally:
        await notices.close()


async def test_closing_the_notification_leaves_the_invitation_open(
    nodes: Nodes, bus: str, server: NotificationServer
) -> None:
    anna, ben, notices, invitation_id, shown = await invited(nodes, bus, server)
    try:
        server.dismiss(shown.id)
        # A click the server reports afterwards for the closed notification is not an answer.
        server.emit_raw("ActionInvoked", "us", shown.id, "accept")
        server.emit_raw("ActionInvoked", "us", 999, "accept")
        # The server is answered in order: once it replied to a later call, both signals
        # reached the client.
        await notices_roundtrip(notices)
        assert ben.state(invitation_id) == "received"
        assert anna.state(invitation_id) == "pending"
        assert notices.answers == 0
        await ben.client.accept(invitation_id)  # still answerable in the main window
        await ben.started.wait(timeout=10)
    finally:
        await notices.close()


async def test_a_notification_is_taken_back_once_the_invitation_is_answered_elsewhere(
    nodes: Nodes, bus: str, server: NotificationServer
) -> None:
    _, ben, notices, invitation_id, shown = await invited(nodes, bus, server)
    try:
        await ben.client.reject(invitation_id)
        await eventually(lambda: shown.id in server.closed_by_client, 10)
        assert server.open_ones() == []
    finally:
        await notices.close()


async def test_an_unknown_button_from_the_server_is_ignored(
    nodes: Nodes, bus: str, server: NotificationServer
) -> None:
    _, ben, notices, invitation_id, shown = await invited(nodes, bus, server)
    try:
        server.emit_raw("ActionInvoked", "us", shown.id, "format-disk")
        server.emit_raw("ActionInvoked", "s", "accept")
        await notices_roundtrip(notices)
        assert ben.state(invitation_id) == "received"
        assert notices.answers == 0
    finally:
        await notices.close()


async def test_no_notifications_without_a_server_that_shows_buttons(nodes: Nodes, bus: str) -> None:
    ben = await nodes.make("ben")
    assert await invitation_notices(ben.client, bus) is None  # no server at all
    plain = NotificationServer(bus, capabilities=("body",))
    try:
        assert await invitation_notices(ben.client, bus) is None
    finally:
        plain.close()


async def notices_roundtrip(notices: InvitationNotices) -> None:
    """Wait until every signal the server sent before now has been handled by the client."""
    assert isinstance(notices.notifier, DBusNotifications)
    await notices.notifier.sync()
