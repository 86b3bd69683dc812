"""A Wayland host: the screen and input through xdg-desktop-portal, frames from PipeWire.

``WaylandDesktop`` is the services' DesktopAccess: when a session starts it opens one portal
session for the whole device (the desktop asks its user; the answer is the user's consent),
and releases it when the last session ends. Without CONTROL granted it opens a ScreenCast
session, which requests no input device at all; granting CONTROL later opens a RemoteDesktop
session (the desktop asks again) and drops the screen-only one once the new one runs.

Frames come from a ``gst-launch-1.0 pipewiresrc fd=N path=NODE`` child per monitor (PyGObject
has no wheel; the GStreamer tools are Debian packages), raw BGRx on a pipe read by the event
loop. Its negotiated size (device pixels, so a HiDPI monitor is sharp) is read from the
pipeline's verbose caps line (desktop/pipewire_frames.py). ``PortalScreens`` and
``PortalInput`` (desktop/portal_devices.py) are the ScreenSource and InputSink over it.

The ScreenCast ``restore_token`` (screen-only sessions, portal ScreenCast v4+, and RemoteDesktop
v2+) lets the next session start without the dialog: it grants access to the screen, so it is
kept as a private file (0600) in the home, not in the database that backups and exports see.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from anydesk_invite.core.signal import Signal
from anydesk_invite.desktop.evdev_codes import SHIFT
from anydesk_invite.desktop.pipewire_frames import FrameReader
from anydesk_invite.desktop.portal import (
    CONSENT_TIMEOUT,
    CURSOR_EMBEDDED,
    KEYBOARD,
    MONITOR,
    PERSIST_UNTIL_REVOKED,
    POINTER,
    REMOTE_DESKTOP,
    SCREENCAST,
    Capabilities,
    PortalBus,
    PortalError,
    PortalRefused,
    parse_streams,
)

_log = logging.getLogger(__name__)


def wayland_session(environ: Mapping[str, str]) -> bool:
    """Whether this process runs in a Wayland session (XWayland or not)."""
    return bool(environ.get("WAYLAND_DISPLAY")) or environ.get("XDG_SESSION_TYPE") == "wayland"


class WaylandDesktop:
    """The portal session this device shares its screen and input through (DesktopAccess).

    Signals: asking (bool: the desktop is asking its user now, or stopped asking).
    """

    def __init__(self, bus: PortalBus, token_path: Path | None = None) -> None:
        self._bus = bus
        self._token_path = token_path
        self._caps: Capabilities | None = None
        self._problem: str | None = None
        self._session: str | None = None
        self._fds: list[int] = []
        self.control = False
        """The running portal session has a keyboard and a pointer."""
        self.readers: list[FrameReader] = []
        self._lock = asyncio.Lock()
        self.asking: Signal[bool] = Signal("wayland.asking")

    async def probe(self) -> str | None:
        """Why this desktop cannot share its screen through the portal, or None."""
        try:
            self._caps = await self._bus.capabilities()
        except PortalError as exc:
            self._problem = str(exc)
            return self._problem
        if not self._caps.source_types & MONITOR:
            self._problem = "the desktop portal cannot share a monitor"
        return self._problem

    def control_problem(self) -> str | None:
        """Why input cannot be injected through this desktop, or None."""
        if self._problem is not None:
            return self._problem
        caps = self._caps
        if caps is None:
            return None
        if caps.remote_desktop_version == 0:
            return "the desktop portal has no RemoteDesktop interface (screen only)"
        if caps.device_types & (KEYBOARD | POINTER) != KEYBOARD | POINTER:
            return "the desktop portal offers no keyboard and pointer"
        return None

    def asks(self, control: bool) -> bool:
        """Whether opening for ``control`` needs a new portal session (the user is asked,
        unless a restore token answers)."""
        if self._problem is not None:
            return False
        return self._session is None or (control and not self.control)

    async def open(self, control: bool) -> str | None:
        """Make sure a portal session runs (with input devices if ``control``); None once it
        does, else why not (the user refused, the portal failed)."""
        async with self._lock:
            if self._problem is not None:
                return self._problem
            if control and self.control_problem() is not None:
                control = False
            if not self.asks(control):
                return None
            self.asking.emit(True)
            try:
                return await self._start(control)
            finally:
                self.asking.emit(False)

    def _load_token(self) -> str:
        if self._token_path is None:
            return ""
        try:
            token = self._token_path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return ""
        return token if re.fullmatch(r"[A-Za-z0-9_.:-]{1,200}", token) else ""

    def _save_token(self, token: object) -> None:
        if self._token_path is None or not isinstance(token, str):
            return
        if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,200}", token):
            return
        try:
            fd = os.open(self._token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(token)
        except OSError as exc:
            _log.warning("cannot keep the screen-sharing restore token: %s", exc)

    async def _start(self, control: bool) -> str | None:
        caps = self._caps
        if caps is None:
            problem = await self.probe()
            if problem is not None:
                return problem
            caps = self._caps
            assert caps is not None
        bus = self._bus
        iface = REMOTE_DESKTOP if control else SCREENCAST
        persist = caps.screencast_version >= 4 and (not control or caps.remote_desktop_version >= 2)
        token = self._load_token() if persist else ""
        session = ""
        try:
            created = await bus.request(
                iface,
                "CreateSession",
                "",
                options={"session_handle_token": ("s", bus.token())},
            )
            session = str(created["session_handle"][1])
            persist_opts: dict[str, tuple[str, Any]] = {}
            if persist:
                persist_opts["persist_mode"] = ("u", PERSIST_UNTIL_REVOKED)
                if token:
                    persist_opts["restore_token"] = ("s", token)
            if control:
                opts: dict[str, tuple[str, Any]] = {"types": ("u", KEYBOARD | POINTER)}
                if caps.remote_desktop_version >= 2:
                    opts.update(persist_opts)
                await bus.request(REMOTE_DESKTOP, "SelectDevices", "o", session, options=opts)
            sources: dict[str, tuple[str, Any]] = {
                "types": ("u", MONITOR),
                "multiple": ("b", True),
            }
            if caps.cursor_modes & CURSOR_EMBEDDED:
                sources["cursor_mode"] = ("u", CURSOR_EMBEDDED)
            if not control:
                sources.update(persist_opts)
            await bus.request(SCREENCAST, "SelectSources", "o", session, options=sources)
            started = await bus.request(iface, "Start", "os", session, "", timeout=CONSENT_TIMEOUT)
            streams = parse_streams(started.get("streams", ("a(ua{sv})", []))[1])
            if not streams:
                raise PortalError("the desktop shared no monitor")
            streams.sort(key=lambda s: (s.x, s.y))  # "Monitor 1" is the leftmost
            devices = int(started.get("devices", ("u", 0))[1]) if control else 0
            if "restore_token" in started:
                self._save_token(started["restore_token"][1])
            # One PipeWire connection per reader: two processes cannot share one socket.
            fds: list[int] = []
            readers = []
            try:
                for s in streams:
                    fds.append(await bus.pipewire_fd(session))
                    readers.append(FrameReader(fds[-1], s))
                for r in readers:
                    await r.start()
            except BaseException:
                for r in readers:
                    await r.stop()
                for fd in fds:
                    os.close(fd)
                raise
        except PortalRefused as exc:
            if session:
                await bus.close_session(session)
            _log.info("the desktop refused sharing: %s", exc)
            return "the host's user declined sharing the desktop"
        except PortalError as exc:
            if session:
                await bus.close_session(session)
            _log.warning("the desktop portal failed: %s", exc)
            return f"the desktop portal failed: {exc}"
        await self._close_current()
        self._session, self._fds, self.readers = session, fds, readers
        self.control = control and devices & (KEYBOARD | POINTER) == KEYBOARD | POINTER
        if control and not self.control:
            _log.warning("the desktop granted devices %d, not a keyboard and a pointer", devices)
        if self.control:
            # A fresh virtual keyboard loses the keys that reach it before the focused window
            # took its keymap (measured: several, within the first few milliseconds); a lone
            # Shift tap as soon as it exists leaves that time before the guest's first key.
            self.notify("NotifyKeyboardKeycode", "iu", SHIFT, 1)
            self.notify("NotifyKeyboardKeycode", "iu", SHIFT, 0)
        _log.info(
            "sharing %d monitor(s) through the portal%s",
            len(streams),
            " with keyboard and pointer" if self.control else "",
        )
        return None

    async def _close_current(self) -> None:
        for r in self.readers:
            await r.stop()
        self.readers = []
        for fd in self._fds:
            os.close(fd)
        self._fds = []
        if self._session is not None:
            await self._bus.close_session(self._session)
            self._session = None
        self.control = False

    async def release(self) -> None:
        """No session needs the desktop any more: stop sharing it."""
        async with self._lock:
            await self._close_current()

    @property
    def session_handle(self) -> str | None:
        return self._session

    def notify(self, method: str, sig: str, *args: Any) -> bool:
        if self._session is None or not self.control:
            return False
        self._bus.notify(method, sig, self._session, *args)
        return True
