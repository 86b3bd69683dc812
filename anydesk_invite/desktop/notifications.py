"""Desktop notifications with actions (``org.freedesktop.Notifications``) over jeepney's asyncio
transport: the InvitationNotifier for a Wayland session without XWayland, where the toast
cannot place itself in a corner.

``show`` posts a notification with two actions, "accept" and "reject"; when the person clicks
one, the server emits ActionInvoked and ``answered`` says which. A notification closed without
an action says nothing. Everything the server sends is checked: ids and action keys it did not
get from here are ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

from anydesk_invite.core.signal import Signal

_log = logging.getLogger(__name__)

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
ACCEPT, REJECT = "accept", "reject"
CLOSED = ""
APP_NAME = "LAN Invite"
CALL_TIMEOUT = 5.0
MAX_SHOWN = 32
"""Notifications kept track of at once; the oldest is forgotten beyond that."""


class NotificationsUnavailable(Exception):
    """No notification server, or one that cannot show actions."""


class DBusNotifications:
    """InvitationNotifier over the session bus.

    Signals: answered (tuple[str key, bool accepted]).
    """

    def __init__(self, address: str | None = None) -> None:
        self._address = address
        self._conn: Any = None
        self._router: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[Any] = asyncio.Queue(256)
        self._keys: dict[int, str] = {}
        self._showing = 0
        """Notify calls waiting for their answer."""
        self._early: dict[int, str] = {}
        """Buttons clicked on a notification whose Notify call has no answer yet."""
        """Notification id → the caller's key, for the notifications shown now."""
        self.answered: Signal[tuple[str, bool]] = Signal("notifications.answered")

    def _addr(self) -> Any:
        from jeepney import DBusAddress

        return DBusAddress(PATH, bus_name=NAME, interface=NAME)

    async def _call(self, method: str, sig: str = "", *args: Any) -> Any:
        from jeepney import new_method_call
        from jeepney.low_level import MessageType

        if self._router is None:
            raise NotificationsUnavailable("not started")
        reply = await asyncio.wait_for(
            self._router.send_and_get_reply(new_method_call(self._addr(), method, sig, args)),
            CALL_TIMEOUT,
        )
        if reply.header.message_type == MessageType.error:
            raise NotificationsUnavailable(f"{method}: {reply.body[0] if reply.body else 'error'}")
        return reply.body

    async def start(self) -> None:
        """Connect and check that a server runs and shows actions; NotificationsUnavailable
        (with the reason) when not."""
        from jeepney import MatchRule, message_bus
        from jeepney.io.asyncio import DBusRouter, open_dbus_connection

        bus = self._address or os.environ.get("DBUS_SESSION_BUS_ADDRESS") or "SESSION"
        try:
            self._conn = await open_dbus_connection(bus)
        except Exception as exc:
            raise NotificationsUnavailable(f"no D-Bus session bus: {exc}") from exc
        self._router = DBusRouter(self._conn)
        try:
            caps = (await self._call("GetCapabilities"))[0]
        except (NotificationsUnavailable, TimeoutError) as exc:
            await self.close()
            raise NotificationsUnavailable(f"no notification server: {exc}") from None
        if not isinstance(caps, list) or "actions" not in caps:
            await self.close()
            raise NotificationsUnavailable("the notification server shows no buttons")
        rule = MatchRule(type="signal", interface=NAME, path=PATH)
        await self._router.send_and_get_reply(message_bus.AddMatch(rule))
        self._queue = asyncio.Queue(256)
        handle = self._router.filter(rule, queue=self._queue)
        self._listener = asyncio.get_running_loop().create_task(
            self._listen(handle, self._queue), name="notifications"
        )

    async def _listen(self, handle: Any, queue: asyncio.Queue[Any]) -> None:
        with handle:
            while True:
                msg = await queue.get()
                try:
                    self._handle(msg)
                finally:
                    queue.task_done()

    def _handle(self, msg: Any) -> None:
        from jeepney import HeaderFields

        member = msg.header.fields.get(HeaderFields.member)
        body = msg.body
        if member == "ActionInvoked" and _shape(body, "is"):
            if body[1] not in (ACCEPT, REJECT):
                _log.info("ignored a notification button this client did not show")
            elif body[0] in self._keys:
                self.answered.emit((self._keys.pop(body[0]), body[1] == ACCEPT))
            elif self._showing and len(self._early) < MAX_SHOWN:
                # The signal can be handled before the Notify call that made the notification
                # has its id: keep it for that call (unless it was closed before).
                self._early.setdefault(body[0], body[1])
        elif member == "NotificationClosed" and _shape(body, "iu"):
            if self._keys.pop(body[0], None) is None and self._showing:
                if len(self._early) < MAX_SHOWN:
                    self._early.setdefault(body[0], CLOSED)

    async def show(self, key: str, summary: str, body: str, accept_label: str) -> None:
        """Post a notification with ``accept_label`` / Reject buttons for ``key`` (a shown
        one for the same key is replaced)."""
        replaces = next((i for i, k in self._keys.items() if k == key), 0)
        actions = [ACCEPT, accept_label[:40], REJECT, "Reject"]
        hints = {"urgency": ("y", 2), "category": ("s", "im.received")}
        self._showing += 1
        try:
            (nid,) = await self._call(
                "Notify", "susssasa{sv}i",
                APP_NAME, replaces, "", summary[:200], body[:500], actions, hints, 0,
            )  # fmt: skip
        except (NotificationsUnavailable, TimeoutError, ValueError) as exc:
            _log.warning("cannot show the invitation as a notification: %s", exc)
            nid = None
        finally:
            self._showing -= 1
        early = self._early.pop(nid, None) if isinstance(nid, int) else None
        if not self._showing:
            self._early.clear()
        if not isinstance(nid, int):
            return
        self._keys.pop(replaces, None)
        if early is not None:
            if early != CLOSED:
                self.answered.emit((key, early == ACCEPT))
            return
        self._keys[nid] = key
        while len(self._keys) > MAX_SHOWN:
            self._keys.pop(next(iter(self._keys)))

    async def withdraw(self, key: str) -> None:
        """Close the notification for ``key``, if one is shown."""
        for nid in [i for i, k in self._keys.items() if k == key]:
            del self._keys[nid]
            with contextlib.suppress(NotificationsUnavailable, TimeoutError):
                await self._call("CloseNotification", "u", nid)

    def shown(self) -> list[str]:
        return list(self._keys.values())

    async def sync(self) -> None:
        """Return once every signal the server sent before this call has been handled (its
        reply comes after them on the bus)."""
        await self._call("GetCapabilities")
        await self._queue.join()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(BaseException):
                await self._listener
            self._listener = None
        if self._router is not None:
            await self._router.__aexit__(None, None, None)
            self._router = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


def _shape(body: object, sig: str) -> bool:
    types = {"i": int, "u": int, "s": str}
    return (
        isinstance(body, tuple)
        and len(body) == len(sig)
        and all(isinstance(v, types[t]) for v, t in zip(body, sig, strict=True))
    )
