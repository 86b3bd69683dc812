"""The local control API: a Unix socket through which the command line drives a running client.

One JSON object per line each way: a request ``{"cmd": str, "args": {...}}`` gets one answer,
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": str, "code": 1 | 2}`` (1: the
client refused, 2: a bad request). Only the user who runs the client may connect: the socket is
0600 in a 0700 directory and the caller's uid is checked with SO_PEERCRED. docs/CLI.md
documents every command and every field. This module is the server (the socket, who may
connect, one line in and one out); control_commands.py answers each command.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import socket
import stat
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from anydesk_invite.services.control_commands import ControlCommands
from anydesk_invite.services.control_schema import (
    CODE_REFUSED,
    CODE_USAGE,
    error_reply,
)

_log = logging.getLogger(__name__)

MAX_REQUEST = 64 * 1024
"""Bytes in one request line; a longer one is answered with code 2 and the connection closed."""
IDLE_TIMEOUT = 60.0
"""Seconds a connection may stay silent before the server closes it."""
_SEND_TIMEOUT = 10.0


class AlreadyRunning(Exception):
    """Another client already serves the control socket of this home."""


class _HasSockopt(Protocol):
    def getsockopt(self, level: int, option: int, buflen: int) -> bytes: ...


def peer_uid(sock: _HasSockopt) -> int:
    """The uid of the process at the other end of a connected Unix socket (Linux)."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def prepare_socket_directory(directory: Path) -> None:
    """Make sure the socket's directory exists, is ours and is closed to everyone else."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = os.lstat(directory)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise PermissionError(f"{directory} is not a directory owned by you; remove it")
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(directory, 0o700)


class ControlServer:
    """Serves the control API of one running client on a Unix socket.

    The socket path comes from the home folder; a live socket at that path means another
    client runs for the same home (AlreadyRunning), a stale one is replaced.
    """

    def __init__(
        self,
        commands: ControlCommands,
        socket_path: Path,
        *,
        peer_uid: Callable[[_HasSockopt], int] = peer_uid,
    ) -> None:
        self._commands = commands
        self._path = socket_path
        self._peer_uid = peer_uid
        self._server: asyncio.Server | None = None
        self._inode: int | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def socket_path(self) -> Path:
        return self._path

    async def start(self) -> None:
        prepare_socket_directory(self._path.parent)
        if os.path.lexists(self._path):
            if await _listener_alive(self._path):
                raise AlreadyRunning(f"another client is serving {self._path}")
            if not stat.S_ISSOCK(os.lstat(self._path).st_mode):
                raise FileExistsError(f"{self._path} exists and is not a socket; remove it")
            _log.info("control: replacing stale socket %s", self._path)
            self._path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(self._path))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                raise AlreadyRunning(f"another client is serving {self._path}") from exc
            raise
        try:
            # The 0700 directory already keeps others out between bind and chmod.
            os.chmod(self._path, 0o600)
            self._inode = os.stat(self._path).st_ino
            sock.listen(16)
            sock.setblocking(False)
            self._server = await asyncio.start_unix_server(
                self._serve, sock=sock, limit=MAX_REQUEST
            )
        except BaseException:
            sock.close()
            self._unlink_own_socket()
            raise
        _log.info("control: serving %s", self._path)

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for writer in list(self._writers):
            writer.close()
        # Connection handlers belong to this server: they end here, not at loop shutdown.
        tasks = list(self._tasks)
        _done, pending = await asyncio.wait(tasks, timeout=1.0) if tasks else (set(), set())
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        await server.wait_closed()
        self._unlink_own_socket()

    def _unlink_own_socket(self) -> None:
        # Only remove the file if it is still the one this server made.
        with contextlib.suppress(OSError):
            if self._inode is not None and os.stat(self._path).st_ino == self._inode:
                self._path.unlink()
        self._inode = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            uid: int | None
            try:
                uid = self._peer_uid(writer.get_extra_info("socket"))
            except OSError:
                uid = None
            if uid != os.getuid():
                _log.warning("control: refused a connection from uid %s", uid)
                await self._send(
                    writer, error_reply(CODE_REFUSED, "permission denied: not your client")
                )
                return
            while True:
                try:
                    line = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT)
                except ValueError:
                    await self._send(
                        writer,
                        error_reply(CODE_USAGE, f"request longer than {MAX_REQUEST // 1024} KiB"),
                    )
                    return
                except TimeoutError:
                    return
                if not line.strip():
                    if not line:
                        return
                    continue
                await self._send(writer, await self._commands.answer(line))
        except (ConnectionError, TimeoutError):
            pass
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), _SEND_TIMEOUT)

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, response: dict[str, Any]) -> None:
        writer.write(json.dumps(response, separators=(",", ":")).encode() + b"\n")
        await asyncio.wait_for(writer.drain(), _SEND_TIMEOUT)


async def _listener_alive(path: Path) -> bool:
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), 2.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True
