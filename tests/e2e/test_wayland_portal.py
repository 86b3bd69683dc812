"""End to end on a real headless GNOME Wayland session (mutter --headless, PipeWire,
WirePlumber, xdg-desktop-portal-gnome), started once for the module: the project's own host
shares its screen and input through the desktop portal. The consent dialog is answered by the
test acting as the person at the host (it sees and clicks the screen through Mutter's own API);
the guest's picture must match the host's screen (PSNR), and the guest's typing and clicks must
arrive in a native Wayland window (a red foot terminal that turns green on ``g`` + Enter)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.desktop.portal import PortalBus
from anydesk_invite.desktop.portal_devices import PortalInput, PortalScreens
from anydesk_invite.desktop.wayland import WaylandDesktop
from anydesk_invite.desktop_adapters import desktop_adapters
from anydesk_invite.services.views import SessionView
from tests.helpers.gnome_wayland import (
    HEIGHT,
    WIDTH,
    GnomeWayland,
    MutterEyes,
    gnome_wayland,
    missing_programs,
    wait_until,
)
from tests.helpers.nodes import Node, Nodes, Recorder, eventually, nodes_for
from tests.helpers.xvfb import in_ci, psnr

pytestmark = [pytest.mark.e2e]

PROBE = (WIDTH * 3 // 4, HEIGHT * 3 // 4)
"""A point of the maximized terminal that no text reaches."""


@pytest.fixture(scope="module")
def desktop_session() -> Iterator[tuple[GnomeWayland, MutterEyes]]:
    missing = missing_programs()
    if missing or (os.geteuid() != 0 and in_ci()):
        if in_ci():
            pytest.fail(f"CI lacks the Wayland test session: {missing} (scripts/bootstrap.sh)")
        pytest.skip(f"no headless GNOME session here: {missing} missing")
    with gnome_wayland() as session:
        eyes = MutterEyes(session)
        try:
            wait_until(lambda: eyes.pixel(*PROBE) == (255, 0, 0), 20, "the red terminal")
            yield session, eyes
        finally:
            eyes.close()


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path, tls=True):
        yield n


async def wayland_pair(
    nodes: Nodes, session: GnomeWayland, tmp_path: Path
) -> tuple[Node, Node, WaylandDesktop, PortalBus]:
    bus = PortalBus(session.bus_address)
    desktop = WaylandDesktop(bus, tmp_path / "restore-token")
    anna = await nodes.make(
        "anna", screen=PortalScreens(desktop), input_sink=PortalInput(desktop), desktop=desktop
    )
    ben = await nodes.make("ben")
    anna.knows(ben)
    ben.knows(anna)
    return anna, ben, desktop, bus


async def test_a_wayland_host_shares_screen_and_control_once_its_user_approves(
    desktop_session: tuple[GnomeWayland, MutterEyes], nodes: Nodes, tmp_path: Path
) -> None:
    session, eyes = desktop_session
    anna, ben, desktop, bus = await wayland_pair(nodes, session, tmp_path)
    try:
        started = Recorder(anna.client.session_started)
        approver = asyncio.create_task(asyncio.to_thread(eyes.approve_dialog, True))
        sent = await anna.client.invite(ben.device_id, frozenset({Permission.CONTROL}), "")
        await ben.received.wait()
        guest = await ben.client.accept(sent.invitation_id)
        first: SessionView = await started.wait(timeout=30)
        assert first.desktop_asking, "the host's window is told that the desktop is asking"
        await asyncio.wait_for(approver, 60)
        await eventually(lambda: anna.client.sessions()[0].desktop_asking is False, 30)
        assert desktop.control

        screen = ben.client.session_handle(guest.session_id).screen
        assert screen is not None
        await eventually(lambda: bool(screen.screens), 30)
        assert [(s.width, s.height) for s in screen.screens or []] == [(WIDTH, HEIGHT)]
        await screen.select(0)
        await eventually(lambda: screen.frames_shown >= 1, 30)
        reference = eyes.latest()

        def matches() -> bool:
            return psnr(bytes(screen.buffer), reference, WIDTH * HEIGHT, step=7) >= 30

        await eventually(matches, 15)

        control = ben.client.session_handle(guest.session_id).control
        assert control is not None
        await eventually(control.usable, 10)
        injected = anna.features.remote_input
        control.move(0, WIDTH // 2, HEIGHT // 2)
        control.key("ShiftLeft", "Shift", True, frozenset())
        control.key("ShiftLeft", "Shift", False, frozenset())
        await eventually(lambda: injected.injected >= 3, 10)
    finally:
        bus.close()  # first: ends a wait for the dialog's answer
        await nodes.close()
        await desktop.release()


async def test_declining_in_the_desktops_dialog_ends_the_session_on_both_sides(
    desktop_session: tuple[GnomeWayland, MutterEyes], nodes: Nodes, tmp_path: Path
) -> None:
    session, eyes = desktop_session
    anna, ben, desktop, bus = await wayland_pair(nodes, session, tmp_path)
    try:
        host_ended = Recorder(anna.client.sessions_service.ended)
        guest_ended = Recorder(ben.client.sessions_service.ended)
        canceller = asyncio.create_task(asyncio.to_thread(eyes.cancel_dialog))
        sent = await anna.client.invite(ben.device_id, frozenset({Permission.CONTROL}), "")
        await ben.received.wait()
        await ben.client.accept(sent.invitation_id)
        await asyncio.wait_for(canceller, 60)
        host = await host_ended.wait(timeout=30)
        guest = await guest_ended.wait(timeout=30)
        assert host.reason == "the host's user declined sharing the desktop"
        assert guest.reason == host.reason
        assert desktop.session_handle is None
    finally:
        bus.close()  # first: ends a wait for the dialog's answer
        await nodes.close()
        await desktop.release()


async def test_a_guests_click_and_typing_arrive_in_a_native_wayland_window(
    desktop_session: tuple[GnomeWayland, MutterEyes], nodes: Nodes, tmp_path: Path
) -> None:
    session, eyes = desktop_session
    anna, ben, desktop, bus = await wayland_pair(nodes, session, tmp_path)
    try:
        approver = asyncio.create_task(asyncio.to_thread(eyes.approve_dialog, True))
        sent = await anna.client.invite(ben.device_id, frozenset({Permission.CONTROL}), "")
        await ben.received.wait()
        guest = await ben.client.accept(sent.invitation_id)
        await asyncio.wait_for(approver, 60)
        screen = ben.client.session_handle(guest.session_id).screen
        assert screen is not None
        await eventually(lambda: bool(screen.screens), 30)
        await screen.select(0)
        control = ben.client.session_handle(guest.session_id).control
        assert control is not None
        await eventually(control.usable, 10)
        x, y = WIDTH // 2, HEIGHT // 2
        control.move(0, x, y)
        control.button(0, x, y, "left", True)
        control.button(0, x, y, "left", False)
        for code, key in (("Enter", "Enter"), ("KeyG", "g"), ("Enter", "Enter")):
            control.key(code, key, True, frozenset())
            control.key(code, key, False, frozenset())
        injected = anna.features.remote_input
        await eventually(lambda: injected.injected >= 8, 10)
        await eventually(lambda: eyes.pixel(*PROBE) == (0, 255, 0), 15)
        # ...and the guest sees the green terminal too.
        o = (PROBE[1] * WIDTH + PROBE[0]) * 4
        await eventually(lambda: tuple(screen.buffer[o : o + 3]) == (0, 255, 0), 15)
        for code, key in (("KeyR", "r"), ("Enter", "Enter")):
            control.key(code, key, True, frozenset())
            control.key(code, key, False, frozenset())
        await eventually(lambda: eyes.pixel(*PROBE) == (255, 0, 0), 15)
    finally:
        bus.close()  # first: ends a wait for the dialog's answer
        await nodes.close()
        await desktop.release()


async def test_a_screen_only_session_asks_once_and_the_next_starts_with_the_restore_token(
    desktop_session: tuple[GnomeWayland, MutterEyes], tmp_path: Path
) -> None:
    """Without CONTROL the host opens a ScreenCast session (no input device requested): the
    desktop's 'Screen Share' dialog, whose 'Remember this selection' hands back a restore
    token; the next session starts with it and no dialog."""
    session, eyes = desktop_session
    token = tmp_path / "restore-token"
    bus = PortalBus(session.bus_address)
    desktop = WaylandDesktop(bus, token)
    try:
        approver = asyncio.create_task(asyncio.to_thread(eyes.approve_screen_dialog))
        assert desktop.asks(control=False)
        assert await desktop.open(False) is None
        await asyncio.wait_for(approver, 60)
        assert not desktop.control, "no keyboard or pointer without CONTROL"
        assert len(desktop.readers) == 1
        assert desktop.readers[0].frame is not None
        assert token.exists() and token.stat().st_mode & 0o777 == 0o600
        first = token.read_text()
        await desktop.release()

        again = WaylandDesktop(bus, token)
        try:
            assert await asyncio.wait_for(again.open(False), 30) is None
            assert again.readers[0].frame is not None
            assert not eyes.dialog_shown()
            assert token.read_text() != "", "the portal hands a new token each time"
        finally:
            await again.release()
        assert first
    finally:
        bus.close()
        await desktop.release()


async def test_a_desktop_without_remote_desktop_shares_its_screen_and_says_control_is_unavailable(
    desktop_session: tuple[GnomeWayland, MutterEyes], nodes: Nodes, tmp_path: Path
) -> None:
    session, eyes = desktop_session
    session.restart_portal(without=("org.freedesktop.impl.portal.RemoteDesktop",))
    adapters = None
    try:
        adapters = await desktop_adapters(tmp_path, session.env, session.bus_address)
        assert isinstance(adapters.desktop, WaylandDesktop)
        assert adapters.input_sink is not None
        assert "no RemoteDesktop" in (adapters.input_sink.problem() or "")
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
        # Control asked for, but only the screen can be shared: the screen-only dialog.
        approver = asyncio.create_task(asyncio.to_thread(eyes.approve_screen_dialog))
        sent = await anna.client.invite(ben.device_id, frozenset({Permission.CONTROL}), "")
        await ben.received.wait()
        guest = await ben.client.accept(sent.invitation_id)
        await asyncio.wait_for(approver, 60)
        control = ben.client.session_handle(guest.session_id).control
        assert control is not None
        await eventually(lambda: "no RemoteDesktop" in control.unavailable(), 10)
        screen = ben.client.session_handle(guest.session_id).screen
        assert screen is not None
        await eventually(lambda: bool(screen.screens), 30)
        await screen.select(0)
        await eventually(lambda: screen.frames_shown >= 1, 30)
        assert not adapters.desktop.control
    finally:
        await nodes.close()
        if adapters is not None:
            adapters.close()  # first: ends a wait for the dialog's answer
            if adapters.desktop is not None:
                await adapters.desktop.release()
        session.restart_portal()
