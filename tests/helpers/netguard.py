"""Fail any test that binds, connects or sends outside loopback.

Tests may use 127.0.0.0/8, ::1 and Unix sockets. zeroconf needs a wildcard bind on the mDNS
port and multicast sends; those are allowed only when the socket's multicast interface is
loopback. Traffic inside network namespaces comes from subprocesses, which this does not see.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from typing import Any

MDNS_PORT = 5353


class NetworkGuardError(AssertionError):
    pass


def _is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _multicast_if_is_loopback(sock: socket.socket) -> bool:
    try:
        if sock.family == socket.AF_INET:
            raw = sock.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, 4)
            return ipaddress.IPv4Address(raw).is_loopback
        if sock.family == socket.AF_INET6:
            idx = sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF)
            return idx == socket.if_nametoindex("lo")
    except OSError:
        return False
    return False


def _check(sock: socket.socket, address: Any, what: str) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    host, port = str(address[0]), int(address[1])
    if _is_loopback(host):
        return
    if what == "bind" and host in ("", "0.0.0.0", "::") and port in (0, MDNS_PORT):
        # Port 0 wildcard binds are how asyncio makes socket pairs on some platforms;
        # the mDNS port is zeroconf's listener. Neither sends anything by itself.
        return
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        ip = None
    if what == "send" and ip is not None and ip.is_multicast and _multicast_if_is_loopback(sock):
        return
    raise NetworkGuardError(f"test tried to {what} {host}:{port}; only loopback is allowed")


_orig = {
    "connect": socket.socket.connect,
    "connect_ex": socket.socket.connect_ex,
    "bind": socket.socket.bind,
    "sendto": socket.socket.sendto,
}


def _connect(self: socket.socket, address: Any) -> Any:
    _check(self, address, "connect")
    return _orig["connect"](self, address)


def _connect_ex(self: socket.socket, address: Any) -> Any:
    _check(self, address, "connect")
    return _orig["connect_ex"](self, address)


def _bind(self: socket.socket, address: Any) -> Any:
    _check(self, address, "bind")
    return _orig["bind"](self, address)


def _sendto(self: socket.socket, data: Any, *args: Any) -> Any:
    address = args[-1]
    _check(self, address, "send")
    return _orig["sendto"](self, data, *args)


def install() -> None:
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
    socket.socket.bind = _bind  # type: ignore[method-assign]
    socket.socket.sendto = _sendto  # type: ignore[method-assign,assignment]


def multicast_if_bytes(addr: str) -> bytes:
    return struct.pack("4s", socket.inet_aton(addr))
