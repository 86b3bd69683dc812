"""A real org.freedesktop.Notifications service on a test's session bus (the peer of the
client's notification adapter): it keeps what it was asked to show and, like a person at the
desktop, clicks a notification's button (ActionInvoked, then NotificationClosed) or closes it.
It runs on its own thread with jeepney's blocking connection."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
DISMISSED, CLOSED_BY_CALL = 2, 3


@dataclass
class Shown:
    id: int
    summary: str
    body: str
    actions: list[str]
    open: bool = True


class NotificationServer:
    def __init__(self, address: str, capabilities: tuple[str, ...] = ("actions", "body")) -> None:
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        self._caps = list(capabilities)
        self._conn = open_dbus_connection(bus=address)
        reply = self._conn.send_and_get_reply(message_bus.RequestName(NAME))
        assert reply.body[0] == 1, "the test bus already has a notification server"
        self.shown: dict[int, Shown] = {}
        self.closed_by_client: list[int] = []
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _send(self, msg: Any) -> None:
        with self._lock:
            self._conn.send(msg)

    def _signal(self, member: str, sig: str, *args: Any) -> None:
        from jeepney import DBusAddress, new_signal

        self._send(new_signal(DBusAddress(PATH, interface=NAME), member, sig, args))

    def _serve(self) -> None:
        from jeepney import MessageType, new_error, new_method_return

        while not self._stop.is_set():
            try:
                msg = self._conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            except OSError:
                return
            if msg.header.message_type != MessageType.method_call:
                continue
            member = msg.header.fields.get(3)
            if member == "GetCapabilities":
                self._send(new_method_return(msg, "as", (self._caps,)))
            elif member == "GetServerInformation":
                self._send(new_method_return(msg, "ssss", ("test", "tests", "1", "1.2")))
            elif member == "Notify":
                _app, replaces, _icon, summary, body, actions, _hints, _timeout = msg.body
                with self._lock:
                    if replaces and replaces in self.shown:
                        nid = replaces
                    else:
                        self._next += 1
                        nid = self._next
                    self.shown[nid] = Shown(nid, summary, body, list(actions))
                self._send(new_method_return(msg, "u", (nid,)))
            elif member == "CloseNotification":
                (nid,) = msg.body
                self.closed_by_client.append(nid)
                if nid in self.shown and self.shown[nid].open:
                    self.shown[nid].open = False
                    self._send(new_method_return(msg))
                    self._signal("NotificationClosed", "uu", nid, CLOSED_BY_CALL)
                else:
                    self._send(new_method_return(msg))
            else:
                self._send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))

    def open_ones(self) -> list[Shown]:
        with self._lock:
            return [s for s in self.shown.values() if s.open]

    def click(self, nid: int, action: str) -> None:
        """The person clicks a button: ActionInvoked, then the server closes it."""
        self.shown[nid].open = False
        self._signal("ActionInvoked", "us", nid, action)
        self._signal("NotificationClosed", "uu", nid, DISMISSED)

    def dismiss(self, nid: int) -> None:
        self.shown[nid].open = False
        self._signal("NotificationClosed", "uu", nid, DISMISSED)

    def emit_raw(self, member: str, sig: str, *args: Any) -> None:
        self._signal(member, sig, *args)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._conn.close()
