"""A Wayland host with two monitors, the second HiDPI (scale 2), on a real headless GNOME
session started once for the module: the guest gets both screens at their device sizes and
its pointer lands where it points on either (the stream embeds the cursor, so the host's own
frames show where it is)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.screen import RawFrame
from anydesk_invite.desktop.portal import PortalBus
from anydesk_invite.desktop.portal_devices import PortalInput, PortalScreens
from anydesk_invite.desktop.wayland import WaylandDesktop
from tests.helpers.gnome_wayland import (
    HEIGHT,
    WIDTH,
    GnomeWayland,
    MutterEyes,
    gnome_wayland,
    missing_programs,
)
from tests.helpers.nodes import Nodes, eventually, nodes_for
from tests.helpers.xvfb import in_ci

pytestmark = [pytest.mark.e2e]

HIDPI = (1600, 1200)
"""The second monitor's device pixels; at scale 2 it is 800x600 logical."""


@pytest.fixture(scope="module")
def desktop_session() -> Iterator[tuple[GnomeWayland, MutterEyes]]:
    missing = missing_programs()
    if missing or (os.geteuid() != 0 and in_ci()):
        if in_ci():
            pytest.fail(f"CI lacks the Wayland test session: {missing} (scripts/bootstrap.sh)")
        pytest.skip(f"no headless GNOME session here: {missing} missing")
    with gnome_wayland(more=(HIDPI,), scales={"Meta-1": 2.0}) as session:
        eyes = MutterEyes(session)
        try:
            yield session, eyes
        finally:
            eyes.close()


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path, tls=True):
        yield n


def changed_near(before: RawFrame, after: RawFrame, x: int, y: int, r: int = 40) -> bool:
    """Whether pixels changed within ``r`` device pixels right of and below (x, y) (where
    a pointer's arrow is drawn) and nowhere else in a wider box around it."""

    def px(f: RawFrame, px_: int, py: int) -> bytes:
        o = py * f.stride + px_ * 4
        return bytes(f.data[o : o + 3])

    near = far = 0
    for py in range(max(0, y - 3 * r), min(after.height, y + 3 * r), 2):
        for px_ in range(max(0, x - 3 * r), min(after.width, x + 3 * r), 2):
            if px(before, px_, py) != px(after, px_, py):
                if x - 2 <= px_ <= x + r and y - 2 <= py <= y + r:
                    near += 1
                else:
                    far += 1
    return near > 0 and far == 0


async def test_a_guest_sees_both_monitors_and_points_on_the_hidpi_one(
    desktop_session: tuple[GnomeWayland, MutterEyes], nodes: Nodes, tmp_path: Path
) -> None:
    session, eyes = desktop_session
    bus = PortalBus(session.bus_address)
    desktop = WaylandDesktop(bus, tmp_path / "restore-token")
    try:
        anna = await nodes.make(
            "anna", screen=PortalScreens(desktop), input_sink=PortalInput(desktop), desktop=desktop
        )
        ben = await nodes.make("ben")
        anna.knows(ben)
        ben.knows(anna)
        approver = asyncio.create_task(asyncio.to_thread(eyes.approve_dialog, True, 60, 2))
        sent = await anna.client.invite(ben.device_id, frozenset({Permission.CONTROL}), "")
        await ben.received.wait()
        guest = await ben.client.accept(sent.invitation_id)
        await asyncio.wait_for(approver, 60)
        screen = ben.client.session_handle(guest.session_id).screen
        assert screen is not None
        await eventually(lambda: len(screen.screens or []) == 2, 30)
        assert [(s.width, s.height) for s in screen.screens or []] == [(WIDTH, HEIGHT), HIDPI]
        assert [(r.stream.x, r.stream.y) for r in desktop.readers] == [(0, 0), (WIDTH, 0)]

        await screen.select(1)
        await eventually(lambda: screen.frames_shown >= 1 and screen.width == HIDPI[0], 30)
        control = ben.client.session_handle(guest.session_id).control
        assert control is not None
        await eventually(control.usable, 10)
        hidpi = desktop.readers[1]
        for x, y in ((1000, 700), (300, 900)):
            before = hidpi.frame
            assert before is not None
            control.move(1, x, y)
            await eventually(
                lambda: hidpi.frame is not before and changed_near(before, hidpi.frame, x, y),  # noqa: B023
                10,
            )
    finally:
        bus.close()
        await nodes.close()
        await desktop.release()
