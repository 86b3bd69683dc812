"""A Wayland session whose desktop has no screen-sharing portal (a real, empty session bus):
the host shares nothing rather than a black screen grab, and its guest is told why the screen
and control are unavailable."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.desktop_adapters import desktop_adapters
from tests.helpers.nodes import Nodes, eventually, nodes_for
from tests.helpers.session_bus import have_dbus_daemon, session_bus
from tests.helpers.xvfb import in_ci

pytestmark = [pytest.mark.e2e]

WAYLAND = {"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}


@pytest.fixture(scope="module")
def bus() -> Iterator[str]:
    if not have_dbus_daemon():
        if in_ci():
            pytest.fail("CI lacks dbus-daemon (scripts/bootstrap.sh)")
        pytest.skip("no dbus-daemon here")
    with session_bus() as address:
        yield address


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path, tls=True):
        yield n


async def test_a_wayland_session_without_a_portal_shares_no_screen_grab(
    bus: str, tmp_path: Path
) -> None:
    adapters = await desktop_adapters(tmp_path, WAYLAND, bus)
    assert adapters.wayland
    assert adapters.screen is None, "no Qt grab of a Wayland screen (native windows are black)"
    assert adapters.desktop is None
    assert "no xdg-desktop-portal" in adapters.screen_problem
    assert adapters.input_sink is not None
    assert "no xdg-desktop-portal" in (adapters.input_sink.problem() or "")


async def test_an_x11_session_keeps_its_own_adapters(bus: str, tmp_path: Path) -> None:
    adapters = await desktop_adapters(tmp_path, {"DISPLAY": ":0"}, bus)
    assert not adapters.wayland and adapters.screen is None and adapters.input_sink is None


async def test_a_guest_hears_why_a_wayland_host_without_portal_shares_no_screen_or_control(
    bus: str, tmp_path: Path, nodes: Nodes
) -> None:
    adapters = await desktop_adapters(tmp_path, WAYLAND, bus)
    anna = await nodes.make(
        "anna",
        screen=adapters.screen,
        input_sink=adapters.input_sink,
        desktop=adapters.desktop,
        screen_problem=adapters.screen_problem,
    )
    ben = await nodes.make("ben")
    anna.knows(ben)
    ben.knows(anna)
    sent = await anna.client.invite(ben.device_id, frozenset({Permission.CONTROL}), "")
    await ben.received.wait()
    guest = await ben.client.accept(sent.invitation_id)
    screen = ben.client.session_handle(guest.session_id).screen
    assert screen is not None
    await eventually(lambda: bool(screen.problem), 10)
    assert screen.screens == []
    assert "cannot share its screen" in screen.problem
    assert "no xdg-desktop-portal" in screen.problem
    control = ben.client.session_handle(guest.session_id).control
    assert control is not None
    await eventually(lambda: bool(control.unavailable()), 10)
    assert "no xdg-desktop-portal" in control.unavailable()
    assert not control.usable()
