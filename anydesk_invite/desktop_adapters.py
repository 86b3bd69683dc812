"""Which desktop adapters this host gets: X11 capture and XTEST where Qt runs on X11, the
desktop portal on a Wayland session (or, without a usable portal, the reason nothing is
shared), QScreen elsewhere; and, on Wayland without XWayland, invitations as desktop
notifications. Part of the composition root: only app.py uses it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anydesk_invite.services.client import Client
    from anydesk_invite.services.notices import InvitationNotices
    from anydesk_invite.services.ports import DesktopAccess, InputSink, ScreenSource

_log = logging.getLogger("anydesk_invite")


def input_sink() -> InputSink | None:
    """XTEST where Qt runs on X11; elsewhere (offscreen, Wayland) no injection at all."""
    from PySide6.QtGui import QGuiApplication

    from anydesk_invite.desktop.input import XTestInput

    if QGuiApplication.platformName() != "xcb":
        return None
    return XTestInput()


@dataclasses.dataclass(frozen=True, slots=True)
class DesktopAdapters:
    """What a Wayland session offers instead of the X11 adapters (all None elsewhere)."""

    screen: ScreenSource | None = None
    input_sink: InputSink | None = None
    desktop: DesktopAccess | None = None
    screen_problem: str = ""
    """Why the screen cannot be shared (no portal): said to the guest instead of a picture."""
    wayland: bool = False
    close: Callable[[], None] = lambda: None
    """Closes the connection to the portal (after the desktop was released)."""


async def desktop_adapters(
    home: os.PathLike[str] | str, environ: Mapping[str, str], bus_address: str | None = None
) -> DesktopAdapters:
    """On a Wayland session, the screen and input through the desktop portal (nothing
    elsewhere: X11 stays as it is). Without a usable portal nothing is shared: a screen grab
    there shows native windows black and input reaches none of them, so the guest is told
    why screen and control are unavailable instead."""
    from anydesk_invite.desktop.wayland import wayland_session

    if not wayland_session(environ):
        return DesktopAdapters()

    from anydesk_invite.desktop.portal import PortalBus
    from anydesk_invite.desktop.portal_devices import PortalInput, PortalScreens
    from anydesk_invite.desktop.wayland import WaylandDesktop

    bus = PortalBus(bus_address)
    desktop = WaylandDesktop(bus, Path(home) / "portal-restore-token")
    problem = await desktop.probe()
    if problem is not None:
        bus.close()  # nothing will use it
        _log.warning("Wayland session without a usable desktop portal: %s", problem)
        return DesktopAdapters(
            input_sink=PortalInput(desktop),
            screen_problem=f"a Wayland desktop that cannot share its screen: {problem}",
            wayland=True,
        )
    _log.info("Wayland session: screen and input through xdg-desktop-portal")
    return DesktopAdapters(
        PortalScreens(desktop), PortalInput(desktop), desktop, wayland=True, close=bus.close
    )


def screen_source() -> ScreenSource:
    """X11 shared memory where Qt runs on X11 with one screen (~4x cheaper a grab than
    QScreen, and off the event loop); QScreen everywhere else."""
    from PySide6.QtGui import QGuiApplication

    from anydesk_invite.desktop.screen import QtScreens
    from anydesk_invite.desktop.x11_capture import CaptureUnavailable, ShmScreen

    if QGuiApplication.platformName() == "xcb" and len(QGuiApplication.screens()) == 1:
        try:
            return ShmScreen()
        except CaptureUnavailable as exc:
            _log.info("screen capture through QScreen: %s", exc)
    return QtScreens()


async def invitation_notices(
    client: Client, bus_address: str | None = None
) -> InvitationNotices | None:
    """On a Wayland session without XWayland the toast cannot place itself: incoming
    invitations are also desktop notifications with Connect / Reject buttons. None (logged)
    where no notification server shows buttons."""
    from anydesk_invite.desktop.notifications import DBusNotifications, NotificationsUnavailable
    from anydesk_invite.services.notices import InvitationNotices

    notifier = DBusNotifications(bus_address)
    try:
        await notifier.start()
    except NotificationsUnavailable as exc:
        _log.info("invitations are not shown as desktop notifications: %s", exc)
        return None
    return InvitationNotices(client, notifier, notifier.close)
