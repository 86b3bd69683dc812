"""A client of xdg-desktop-portal's ScreenCast and RemoteDesktop interfaces over D-Bus.

jeepney (pure Python) speaks D-Bus. Its asyncio transport cannot pass file descriptors, which
``OpenPipeWireRemote`` answers with, so the calls go through jeepney's thread-safe router (its
own receiving thread) and every call that waits runs in a worker thread: the event loop never
blocks. Input notifications go through one single-thread executor, one at a time, each waiting
for the portal's reply: the portal handles calls in threads and would reorder them otherwise.

The flow (measured against xdg-desktop-portal 1.16 + xdg-desktop-portal-gnome 43):
``CreateSession`` → ``SelectDevices`` (only when control is wanted) → ``SelectSources`` →
``Start`` (the desktop asks its user here; the answer may take minutes) → ``OpenPipeWireRemote``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

_log = logging.getLogger(__name__)

PORTAL = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
SCREENCAST = "org.freedesktop.portal.ScreenCast"
REMOTE_DESKTOP = "org.freedesktop.portal.RemoteDesktop"

KEYBOARD, POINTER = 1, 2
MONITOR = 1
CURSOR_EMBEDDED = 2
MOTION = "NotifyPointerMotionAbsolute"
PERSIST_UNTIL_REVOKED = 2
CALL_TIMEOUT = 10.0
CONSENT_TIMEOUT = 300.0
"""How long the desktop's user has to answer the dialog."""


class PortalError(Exception):
    """The portal is missing, or a call failed."""


class PortalRefused(PortalError):
    """The desktop's user (or the desktop) said no."""


@dataclass(frozen=True, slots=True)
class Stream:
    """One shared monitor: its PipeWire node, and where and how large it is in the
    compositor's logical coordinates (what absolute pointer motion is expressed in)."""

    node: int
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Capabilities:
    screencast_version: int
    remote_desktop_version: int
    """0: the desktop has no RemoteDesktop portal."""
    source_types: int
    device_types: int
    cursor_modes: int


def _unwrap(value: Any) -> Any:
    """A jeepney variant ``(signature, value)`` → the value, recursively for dicts."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return _unwrap(value[1])
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def parse_streams(raw: Any) -> list[Stream]:
    """The ``streams`` of a Start response, ``a(ua{sv})``, checked; malformed entries are
    skipped (the portal is trusted less than the compositor: it is another process)."""
    out = []
    for entry in raw if isinstance(raw, list) else []:
        if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], int)):
            continue
        props = _unwrap(entry[1]) if isinstance(entry[1], dict) else {}
        pos = props.get("position", (0, 0))
        size = props.get("size", (0, 0))
        try:
            x, y = int(pos[0]), int(pos[1])
            w, h = int(size[0]), int(size[1])
        except (TypeError, ValueError, IndexError):
            continue
        if not (0 < w <= 16384 and 0 < h <= 16384):
            continue
        out.append(Stream(entry[0], x, y, w, h))
    return out


class PortalBus:
    """The session bus connection, opened on first use (never on import)."""

    def __init__(self, address: str | None = None) -> None:
        self._address = address
        self._router: Any = None
        self._input = ThreadPoolExecutor(max_workers=1, thread_name_prefix="portal-input")
        self._pending: deque[tuple[str, str, str, tuple[Any, ...]]] = deque()
        self._pending_lock = threading.Lock()
        self.coalesced = 0
        """Pointer motions skipped because a newer one followed (see notify)."""
        self._count = 0
        self._closing = False

    def _open(self) -> Any:
        if self._closing:
            raise PortalError("the connection to the portal was closed")
        if self._router is None:
            from jeepney.io.threading import DBusRouter, open_dbus_connection

            bus = self._address or os.environ.get("DBUS_SESSION_BUS_ADDRESS") or "SESSION"
            try:
                conn = open_dbus_connection(bus=bus, enable_fds=True)
            except Exception as exc:
                raise PortalError(f"no D-Bus session bus: {exc}") from exc
            self._router = DBusRouter(conn)
        return self._router

    def token(self) -> str:
        self._count += 1
        return f"adinvite{os.getpid()}_{self._count}"

    def _call(self, iface: str, method: str, sig: str, args: tuple[Any, ...]) -> Any:
        from jeepney import DBusAddress, new_method_call
        from jeepney.low_level import MessageType

        router = self._open()
        addr = DBusAddress(PORTAL_PATH, bus_name=PORTAL, interface=iface)
        reply = router.send_and_get_reply(
            new_method_call(addr, method, sig, args), timeout=CALL_TIMEOUT
        )
        if reply.header.message_type == MessageType.error:
            raise PortalError(f"{method}: {reply.body[0] if reply.body else 'error'}")
        return reply

    async def call(self, iface: str, method: str, sig: str, *args: Any) -> Any:
        return await asyncio.to_thread(self._call, iface, method, sig, args)

    def _property(self, iface: str, name: str) -> Any:
        from jeepney import DBusAddress, Properties
        from jeepney.low_level import MessageType

        router = self._open()
        addr = DBusAddress(PORTAL_PATH, bus_name=PORTAL, interface=iface)
        reply = router.send_and_get_reply(Properties(addr).get(name), timeout=CALL_TIMEOUT)
        if reply.header.message_type == MessageType.error:
            return None
        return _unwrap(reply.body[0])

    def _capabilities(self) -> Capabilities:
        from jeepney import DBusAddress, new_method_call

        router = self._open()
        dbus = DBusAddress(
            "/org/freedesktop/DBus",
            bus_name="org.freedesktop.DBus",
            interface="org.freedesktop.DBus",
        )
        reply = router.send_and_get_reply(
            new_method_call(dbus, "NameHasOwner", "s", (PORTAL,)), timeout=CALL_TIMEOUT
        )
        if not reply.body or not reply.body[0]:
            raise PortalError("no xdg-desktop-portal runs on the session bus")
        sc = self._property(SCREENCAST, "version")
        if not isinstance(sc, int):
            raise PortalError("the desktop portal has no ScreenCast (no screen capture)")
        rd = self._property(REMOTE_DESKTOP, "version")
        return Capabilities(
            screencast_version=sc,
            remote_desktop_version=rd if isinstance(rd, int) else 0,
            source_types=self._property(SCREENCAST, "AvailableSourceTypes") or 0,
            device_types=(self._property(REMOTE_DESKTOP, "AvailableDeviceTypes") or 0)
            if isinstance(rd, int)
            else 0,
            cursor_modes=self._property(SCREENCAST, "AvailableCursorModes") or 0,
        )

    async def capabilities(self) -> Capabilities:
        """What the portal offers; PortalError when there is no usable ScreenCast portal."""
        return await asyncio.to_thread(self._capabilities)

    def _request(
        self,
        iface: str,
        method: str,
        sig: str,
        args: tuple[Any, ...],
        options: Mapping[str, tuple[str, Any]],
        timeout: float,
    ) -> dict[str, Any]:
        from jeepney import MatchRule, message_bus

        router = self._open()
        token = self.token()
        sender = router.unique_name[1:].replace(".", "_")
        path = f"{PORTAL_PATH}/request/{sender}/{token}"
        rule = MatchRule(
            type="signal", interface="org.freedesktop.portal.Request", member="Response", path=path
        )
        router.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT)
        responses: queue.Queue[Any] = queue.Queue()
        with router.filter(rule, queue=responses):
            opts = dict(options)
            opts["handle_token"] = ("s", token)
            self._call(iface, method, sig + "a{sv}", (*args, opts))
            deadline = time.monotonic() + timeout
            while True:
                # Polled, so that closing the bus ends a wait for the user's answer.
                if self._closing:
                    raise PortalError(f"{method}: the connection to the portal was closed")
                try:
                    msg = responses.get(timeout=0.25)
                    break
                except queue.Empty:
                    if time.monotonic() > deadline:
                        raise PortalError(f"{method}: no answer in {timeout:.0f} s") from None
        code, results = msg.body
        if code == 1:
            raise PortalRefused(f"{method}: the desktop's user cancelled")
        if code != 0:
            raise PortalRefused(f"{method}: the desktop refused (code {code})")
        return {k: v for k, v in results.items()}

    async def request(
        self,
        iface: str,
        method: str,
        sig: str,
        *args: Any,
        options: Mapping[str, tuple[str, Any]] | None = None,
        timeout: float = CALL_TIMEOUT,
    ) -> dict[str, Any]:
        """Call a portal method that answers through a Request's Response signal; the
        results with their variants; PortalRefused when the answer is no."""
        return await asyncio.to_thread(
            self._request, iface, method, sig, args, options or {}, timeout
        )

    def _pipewire_fd(self, session: str) -> int:
        reply = self._call(SCREENCAST, "OpenPipeWireRemote", "oa{sv}", (session, {}))
        fd: int = reply.body[0].to_raw_fd()
        return fd

    async def pipewire_fd(self, session: str) -> int:
        """A file descriptor to the PipeWire remote that carries the session's streams."""
        return await asyncio.to_thread(self._pipewire_fd, session)

    def notify(self, method: str, sig: str, session: str, *args: Any) -> None:
        """Send a RemoteDesktop input notification, in order, off the event loop.

        xdg-desktop-portal handles each method call in a thread of its own, so two calls sent
        back to back may reach the desktop in either order (a key's release before its press,
        which Mutter drops with the press that follows). Each notification therefore waits
        for the portal's reply before the next leaves. A pointer motion that another motion
        follows in the queue is skipped: only where the pointer ends up matters."""
        with self._pending_lock:
            self._pending.append((method, sig, session, args))
        self._input.submit(self._send_next)

    def _send_next(self) -> None:
        from jeepney import DBusAddress, new_method_call
        from jeepney.low_level import MessageType

        with self._pending_lock:
            method, sig, session, args = self._pending.popleft()
            if method == MOTION and self._pending and self._pending[0][0] == MOTION:
                self.coalesced += 1
                return
        try:
            addr = DBusAddress(PORTAL_PATH, bus_name=PORTAL, interface=REMOTE_DESKTOP)
            reply = self._open().send_and_get_reply(
                new_method_call(addr, method, "oa{sv}" + sig, (session, {}, *args)),
                timeout=CALL_TIMEOUT,
            )
            if reply.header.message_type == MessageType.error:
                _log.warning("input notification %s refused: %s", method, reply.body[:1])
        except Exception as exc:
            _log.warning("input notification %s failed: %s", method, exc)

    async def close_session(self, session: str) -> None:
        from jeepney import DBusAddress, new_method_call

        def close() -> None:
            addr = DBusAddress(session, bus_name=PORTAL, interface="org.freedesktop.portal.Session")
            self._open().send_and_get_reply(new_method_call(addr, "Close"), timeout=CALL_TIMEOUT)

        try:
            await asyncio.to_thread(close)
        except Exception as exc:
            _log.info("closing portal session %s: %s", session, exc)

    def close(self) -> None:
        self._closing = True
        self._input.shutdown(wait=True)
        router, self._router = self._router, None
        if router is not None:
            router.close()
            router.conn.close()  # the router leaves its connection open
