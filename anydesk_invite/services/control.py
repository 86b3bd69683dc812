"""The local control API: a Unix socket through which the command line drives a running client.

One JSON object per line each way: a request ``{"cmd": str, "args": {...}}`` gets one answer,
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": str, "code": 1 | 2}`` (1: the
client refused, 2: a bad request). Only the user who runs the client may connect: the socket is
0600 in a 0700 directory and the caller's uid is checked with SO_PEERCRED. docs/CLI.md
documents every command and every field.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import json
import logging
import os
import re
import socket
import stat
import struct
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from anydesk_invite import PROJECT_URL
from anydesk_invite.core.alias import AliasError, parse_alias
from anydesk_invite.core.email_invite import mailto_url
from anydesk_invite.core.ids import (
    DeviceId,
    IdError,
    looks_like_id,
    parse_id,
    verification_code,
)
from anydesk_invite.core.invitation import Kind
from anydesk_invite.core.permissions import (
    DEFAULT,
    Permission,
    PermissionError_,
    parse_permission,
    permission_keys,
)
from anydesk_invite.services.facade import ActionRefused, ClientFacade, Status
from anydesk_invite.services.views import (
    InvitationView,
    PeerSource,
    PeerView,
    SessionView,
    TransferState,
    TransferView,
)

_log = logging.getLogger(__name__)

MAX_REQUEST = 64 * 1024
"""Bytes in one request line; a longer one is answered with code 2 and the connection closed."""
MAX_RESPONSE = 16 * 1024 * 1024
IDLE_TIMEOUT = 60.0
"""Seconds a connection may stay silent before the server closes it."""
MIN_ID_PREFIX = 4
"""Hex digits an invitation or session id prefix needs at least."""
CODE_REFUSED = 1
CODE_USAGE = 2

_MAX_TEXT = 256
_MAX_LIST = 32
_SEND_TIMEOUT = 10.0


class AlreadyRunning(Exception):
    """Another client already serves the control socket of this home."""


class NotRunning(Exception):
    """No client listens on the control socket."""


class _BadRequest(Exception):
    code = CODE_USAGE


class _Missing(Exception):
    code = CODE_REFUSED


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


# Argument kinds of each command: "str" and "list" (of str) and "bool"; True means required.
_Spec = dict[str, tuple[str, bool]]
_PERMS: _Spec = {"profile": ("str", False), "allow": ("list", False), "deny": ("list", False)}
_COMMANDS: dict[str, _Spec] = {
    "get-id": {},
    "get-alias": {},
    "get-status": {},
    "peers": {},
    "invite": {"target": ("str", True), **_PERMS, "confirm": ("str", False)},
    "connect": {"target": ("str", True), "confirm": ("str", False)},
    "invitations": {},
    "edit": {"id": ("str", True), **_PERMS},
    "cancel": {"id": ("str", True)},
    "accept": {"id": ("str", True), **_PERMS},
    "reject": {"id": ("str", True)},
    "sessions": {},
    "permissions": {"session": ("str", True), "allow": ("list", False), "deny": ("list", False)},
    "end": {"session": ("str", True)},
    "sysinfo": {"session": ("str", True)},
    "send-file": {"session": ("str", True), "path": ("str", True)},
    "transfers": {"session": ("str", False)},
    "fetch": {"session": ("str", True), "id": ("str", True)},
    "cancel-transfer": {"id": ("str", True)},
    "clipboard": {"session": ("str", True), "send": ("str", True)},
    "raise": {},
    "email-invite": {"to": ("str", False)},
    "address-book-add": {
        "target": ("str", True),
        "address": ("str", False),
        "name": ("str", False),
        "tags": ("list", False),
    },
    "address-book-remove": {"target": ("str", True)},
    "address-book-list": {},
    "favorite-add": {"target": ("str", True)},
    "favorite-remove": {"target": ("str", True)},
}
COMMANDS: tuple[str, ...] = tuple(_COMMANDS)


def _validate(request: object) -> tuple[str, dict[str, Any]]:
    if not isinstance(request, dict):
        raise _BadRequest('a request is a JSON object {"cmd": ..., "args": {...}}')
    extra = set(request) - {"cmd", "args"}
    if extra:
        raise _BadRequest(f"unknown request field(s): {', '.join(sorted(map(str, extra)))}")
    cmd = request.get("cmd")
    if not isinstance(cmd, str) or cmd not in _COMMANDS:
        raise _BadRequest(f"unknown command {cmd!r} (known: {', '.join(COMMANDS)})")
    args = request.get("args", {})
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise _BadRequest(f"{cmd}: args is a JSON object")
    spec = _COMMANDS[cmd]
    unknown = set(args) - set(spec)
    if unknown:
        raise _BadRequest(f"{cmd}: unknown argument(s): {', '.join(sorted(unknown))}")
    clean: dict[str, Any] = {}
    for name, (kind, required) in spec.items():
        value = args.get(name)
        if value is None:
            if required:
                raise _BadRequest(f"{cmd}: missing argument {name!r}")
            continue
        if kind == "str":
            if not isinstance(value, str) or not value.strip():
                raise _BadRequest(f"{cmd}: {name} is a non-empty string")
            if len(value) > _MAX_TEXT:
                raise _BadRequest(f"{cmd}: {name} is longer than {_MAX_TEXT} characters")
        elif kind == "list":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _BadRequest(f"{cmd}: {name} is a list of strings")
            if len(value) > _MAX_LIST:
                raise _BadRequest(f"{cmd}: {name} has more than {_MAX_LIST} entries")
        clean[name] = value
    return cmd, clean


def _error(code: int, message: str) -> dict[str, Any]:
    return {"ok": False, "error": message, "code": code}


def status_json(s: Status) -> dict[str, Any]:
    return {
        "id": s.device_id.digits,
        "alias": s.alias,
        "fingerprint": s.fingerprint.hex(),
        "online": s.online,
        "listen": list(s.listen_addresses),
        "discovery": s.discovery.key,
        "interfaces": list(s.interfaces),
        "key_location": s.key_location,
        "key_warning": s.key_warning,
        "policy_broken": s.policy_broken,
        "accept_from": s.accept_from.key,
        "home": s.home,
        "wide_area": s.wide_area,
    }


def peer_json(p: PeerView) -> dict[str, Any]:
    return {
        "id": p.device_id.digits,
        "alias": p.alias,
        "display_name": p.display_name,
        "online": p.online,
        "sources": sorted(s.value for s in p.sources),
        "found_via": sorted(p.found_via),
        "tags": list(p.tags),
        "fingerprint": p.fingerprint.hex() if p.fingerprint is not None else None,
        "address": p.manual_address,
        "conflict": p.conflict,
    }


def invitation_json(v: InvitationView, own_fingerprint: bytes | None = None) -> dict[str, Any]:
    return {
        "id": v.invitation_id,
        "kind": v.kind.value,
        "direction": v.direction.value,
        "peer_id": v.peer_id.digits,
        "peer_alias": v.peer_alias,
        "state": v.state.value,
        "revision": v.revision,
        "seconds_left": round(max(v.seconds_left, 0.0), 1),
        "permissions": permission_keys(v.permissions),
        "profile": v.profile,
        "reason": v.reason,
        "missed": v.missed,
        **_verification(own_fingerprint, v.peer_fingerprint),
    }


def _verification(own: bytes | None, peer: bytes) -> dict[str, Any]:
    """The code both sides of a connection can compare (present when this side is known)."""
    return {"verification": verification_code(own, peer)} if own is not None else {}


def session_json(v: SessionView, own_fingerprint: bytes | None = None) -> dict[str, Any]:
    return {
        "id": v.session_id,
        "role": v.role.value,
        "peer_id": v.peer_id.digits,
        "peer_alias": v.peer_alias,
        "permissions": permission_keys(v.permissions),
        "locked": permission_keys(v.locked),
        "started_at": v.started_at,
        "unavailable": {perm.value: reason for perm, reason in v.unavailable},
        **_verification(own_fingerprint, v.peer_fingerprint),
    }


def transfer_json(v: TransferView) -> dict[str, Any]:
    return {
        "id": v.transfer_id,
        "session": v.session_id,
        "direction": v.direction.value,
        "name": v.name,
        "size": v.size,
        "done": v.done,
        "state": v.state.value,
        "reason": v.reason,
        "path": v.path,
    }


def _resolve_id(text: str, known: Sequence[str], what: str) -> str:
    """The one known id that the text names in full or as a unique prefix."""
    try:
        prefix = check_id_prefix(text, what)
    except ValueError as exc:
        raise _BadRequest(str(exc)) from None
    matches = [k for k in known if k.lower().startswith(prefix)]
    exact = [k for k in matches if k.lower() == prefix]
    if exact:
        return exact[0]
    if not matches:
        raise _Missing(f"there is no {what} with id {text}")
    if len(matches) > 1:
        shown = ", ".join(m[:12] for m in matches[:5])
        raise _BadRequest(f"{len(matches)} {what}s start with {text} ({shown}); give more digits")
    return matches[0]


def canonical_target(text: str) -> str:
    """An ID (plain digits) or alias (``name@ad``) in canonical form; ValueError otherwise."""
    try:
        if looks_like_id(text):
            return parse_id(text).digits
        return str(parse_alias(text))
    except (IdError, AliasError) as exc:
        raise ValueError(f"{text!r} is neither an ID nor an alias: {exc}") from None


def parse_host_port(text: str) -> str:
    """``host:port`` (``[v6]:port`` for IPv6) in canonical form; ValueError otherwise."""
    raw = text.strip()
    if raw.startswith("["):
        host, sep, port = raw[1:].partition("]:")
        if not sep:
            raise ValueError("write an IPv6 address as [address]:port")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{host} is not an IPv6 address") from None
        shown = f"[{host}]"
    else:
        host, sep, port = raw.rpartition(":")
        if not sep or not host:
            raise ValueError("an address is host:port, e.g. 192.168.1.20:7070")
        if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})", host):
            raise ValueError(f"{host} is not a host name or IPv4 address")
        shown = host
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError("the port is a number from 1 to 65535")
    return f"{shown}:{int(port)}"


def check_id_prefix(text: str, what: str) -> str:
    """The lower-case prefix, if it can name an invitation or session id; ValueError otherwise."""
    prefix = text.strip().lower()
    if len(prefix) < MIN_ID_PREFIX or any(c not in "0123456789abcdef" for c in prefix):
        raise ValueError(
            f"{text!r} is not a valid {what} id: give at least {MIN_ID_PREFIX} of its hex digits"
        )
    return prefix


def _target(text: str) -> str:
    try:
        return canonical_target(text)
    except ValueError as exc:
        raise _BadRequest(str(exc)) from None


def normalize_fingerprint(text: str) -> str:
    """Lower-case hex of a fingerprint typed with or without spaces or colons.

    Accepts the full fingerprint (64 hex digits) or its short form (16, as shown to people).
    """
    compact = "".join(text.split()).replace(":", "").replace("-", "").lower()
    if len(compact) not in (16, 64) or any(c not in "0123456789abcdef" for c in compact):
        raise ValueError(
            f"{text!r} is not a fingerprint: 64 hex digits, or the 16 of its short form"
        )
    return compact


def _permission_list(values: list[str] | None, flag: str) -> frozenset[Permission]:
    try:
        return frozenset(parse_permission(v) for v in values or ())
    except PermissionError_ as exc:
        raise _BadRequest(f"{flag}: {exc}") from None


class ControlServer:
    """Serves the control API of one running client on a Unix socket.

    The socket path comes from the home folder; a live socket at that path means another
    client runs for the same home (AlreadyRunning), a stale one is replaced.
    """

    def __init__(
        self,
        facade: ClientFacade,
        socket_path: Path,
        *,
        on_raise: Callable[[], None],
        peer_uid: Callable[[_HasSockopt], int] = peer_uid,
    ) -> None:
        self._facade = facade
        self._path = socket_path
        self._on_raise = on_raise
        self._peer_uid = peer_uid
        self._server: asyncio.Server | None = None
        self._inode: int | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._handlers: dict[str, Callable[[dict[str, Any]], Awaitable[object]]] = {
            "get-id": self._get_id,
            "get-alias": self._get_alias,
            "get-status": self._get_status,
            "peers": self._peers,
            "invite": self._invite,
            "connect": self._connect,
            "invitations": self._invitations,
            "edit": self._edit,
            "cancel": self._cancel,
            "accept": self._accept,
            "reject": self._reject,
            "sessions": self._sessions,
            "permissions": self._permissions,
            "end": self._end,
            "sysinfo": self._sysinfo,
            "send-file": self._send_file,
            "transfers": self._transfers,
            "fetch": self._fetch,
            "cancel-transfer": self._cancel_transfer,
            "clipboard": self._clipboard,
            "raise": self._raise,
            "email-invite": self._email_invite,
            "address-book-add": self._address_book_add,
            "address-book-remove": self._address_book_remove,
            "address-book-list": self._address_book_list,
            "favorite-add": self._favorite_add,
            "favorite-remove": self._favorite_remove,
        }

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
                await self._send(writer, _error(CODE_REFUSED, "permission denied: not your client"))
                return
            while True:
                try:
                    line = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT)
                except ValueError:
                    await self._send(
                        writer,
                        _error(CODE_USAGE, f"request longer than {MAX_REQUEST // 1024} KiB"),
                    )
                    return
                except TimeoutError:
                    return
                if not line.strip():
                    if not line:
                        return
                    continue
                await self._send(writer, await self.answer(line))
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

    async def answer(self, line: bytes) -> dict[str, Any]:
        """The response to one request line."""
        try:
            request = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(CODE_USAGE, f"the request is not JSON: {exc}")
        cmd = "?"
        try:
            cmd, args = _validate(request)
            result = await self._handlers[cmd](args)
        except (_BadRequest, _Missing) as exc:
            return _error(exc.code, str(exc))
        except ActionRefused as exc:
            return _error(CODE_REFUSED, str(exc))
        except Exception as exc:
            _log.exception("control: %s failed", cmd)
            return _error(CODE_REFUSED, f"the client failed: {exc}")
        return {"ok": True, "result": result}

    # Permission sets -----------------------------------------------------------------------

    def _profile(self, name: str | None) -> tuple[str, frozenset[Permission]]:
        profiles = self._facade.profiles()
        if name is None:
            # The user's chosen default profile, as the invite dialog preselects it.
            name = self._facade.settings().default_profile or DEFAULT
            if not any(p.name.casefold() == name.casefold() for p in profiles):
                name = DEFAULT
        for p in profiles:
            if p.name.casefold() == name.strip().casefold():
                return p.name, p.permissions
        known = ", ".join(p.name for p in profiles)
        raise _BadRequest(f"unknown profile {name!r} (known: {known})")

    def _choose(
        self, base_name: str, base: frozenset[Permission], args: dict[str, Any]
    ) -> tuple[frozenset[Permission], str]:
        """Start from a base set, add --allow, remove --deny; name the profile it matches."""
        allow = _permission_list(args.get("allow"), "allow")
        deny = _permission_list(args.get("deny"), "deny")
        both = allow & deny
        if both:
            raise _BadRequest(
                f"{', '.join(permission_keys(both))} is both allowed and denied; pick one"
            )
        perms = (base | allow) - deny
        if perms == base:
            return perms, base_name
        for p in self._facade.profiles():
            if p.permissions == perms:
                return perms, p.name
        return perms, ""

    def _invitation_id(self, text: str) -> str:
        known = [v.invitation_id for v in self._facade.invitations()]
        return _resolve_id(text, known, "invitation")

    def _invitation(self, invitation_id: str) -> InvitationView:
        for v in self._facade.invitations():
            if v.invitation_id == invitation_id:
                return v
        raise _Missing(f"there is no invitation with id {invitation_id}")

    def _session(self, text: str) -> SessionView:
        sessions = self._facade.sessions()
        full = _resolve_id(text, [s.session_id for s in sessions], "session")
        return next(s for s in sessions if s.session_id == full)

    def _own(self) -> bytes:
        return self._facade.status().fingerprint

    @staticmethod
    def _confirm(args: dict[str, Any]) -> str | None:
        text = args.get("confirm")
        if text is None:
            return None
        try:
            return normalize_fingerprint(text)
        except ValueError as exc:
            raise _BadRequest(f"confirm: {exc}") from None

    # Commands ------------------------------------------------------------------------------

    async def _get_id(self, args: dict[str, Any]) -> object:
        return self._facade.status().device_id.digits

    async def _get_alias(self, args: dict[str, Any]) -> object:
        return self._facade.status().alias

    async def _get_status(self, args: dict[str, Any]) -> object:
        return status_json(self._facade.status())

    async def _peers(self, args: dict[str, Any]) -> object:
        return [peer_json(p) for p in self._facade.peers()]

    def _device(self, text: str) -> tuple[DeviceId, str]:
        """The ID a target names, and the alias it was given by (if by alias)."""
        target = _target(text)
        if looks_like_id(target):
            return DeviceId(target), ""
        key = parse_alias(target).key()
        found: list[PeerView] = []
        for p in self._facade.peers():
            with contextlib.suppress(AliasError):
                if p.alias and parse_alias(p.alias).key() == key:
                    found.append(p)
        if not found:
            raise ActionRefused(f"no known device has the alias {target}: give its ID instead")
        if len(found) > 1:
            ids = ", ".join(p.device_id.grouped() for p in found)
            raise ActionRefused(f"{target} matches several devices ({ids}): give the ID instead")
        return found[0].device_id, target

    def _book_entry(self, device_id: DeviceId) -> PeerView:
        for p in self._facade.peers():
            if p.device_id == device_id and PeerSource.ADDRESS_BOOK in p.sources:
                return p
        raise _Missing(f"{device_id.grouped()} is not in the address book")

    async def _address_book_add(self, args: dict[str, Any]) -> object:
        device_id, alias = self._device(args["target"])
        address: str | None = None
        if args.get("address") is not None:
            try:
                address = parse_host_port(args["address"])
            except ValueError as exc:
                raise _BadRequest(f"address: {exc}") from None
        known = next((p for p in self._facade.peers() if p.device_id == device_id), None)
        current = known if known and PeerSource.ADDRESS_BOOK in known.sources else None
        await self._facade.add_to_address_book(
            device_id,
            alias=alias or (known.alias if known else ""),
            display_name=args.get("name") or (current.display_name if current else ""),
            tags=tuple(args["tags"]) if args.get("tags") else (current.tags if current else ()),
            manual_address=address or (current.manual_address if current else None),
        )
        entry = self._book_entry(device_id)
        out = peer_json(entry)
        out["probe"] = None
        if entry.manual_address:
            probe = await self._facade.probe_address(device_id)
            out["probe"] = {"reachable": probe.reachable, "reason": probe.reason}
            out["online"] = probe.reachable
        return out

    async def _address_book_remove(self, args: dict[str, Any]) -> object:
        device_id, _alias = self._device(args["target"])
        entry = self._book_entry(device_id)
        await self._facade.remove_from_address_book(device_id)
        return peer_json(entry)

    async def _address_book_list(self, args: dict[str, Any]) -> object:
        return [peer_json(p) for p in self._facade.peers() if PeerSource.ADDRESS_BOOK in p.sources]

    async def _favorite_add(self, args: dict[str, Any]) -> object:
        device_id, _alias = self._device(args["target"])
        await self._facade.set_favorite(device_id, True)
        return {"id": device_id.digits, "favorite": True}

    async def _favorite_remove(self, args: dict[str, Any]) -> object:
        device_id, _alias = self._device(args["target"])
        await self._facade.set_favorite(device_id, False)
        return {"id": device_id.digits, "favorite": False}

    async def _invitations(self, args: dict[str, Any]) -> object:
        return [invitation_json(v, self._own()) for v in self._facade.invitations()]

    async def _sessions(self, args: dict[str, Any]) -> object:
        return [session_json(v, self._own()) for v in self._facade.sessions()]

    async def _invite(self, args: dict[str, Any]) -> object:
        target = _target(args["target"])
        confirm = self._confirm(args)
        name, base = self._profile(args.get("profile"))
        perms, profile = self._choose(name, base, args)
        view = await self._facade.invite(target, perms, profile, confirm)
        return invitation_json(view, self._own())

    async def _connect(self, args: dict[str, Any]) -> object:
        target = _target(args["target"])
        view = await self._facade.connect(target, self._confirm(args))
        return invitation_json(view, self._own())

    async def _edit(self, args: dict[str, Any]) -> object:
        current = self._invitation(self._invitation_id(args["id"]))
        if args.get("profile") is not None:
            name, base = self._profile(args["profile"])
        else:
            # Without --profile an edit changes the permissions as last sent.
            name, base = current.profile, current.permissions
        perms, profile = self._choose(name, base, args)
        view = await self._facade.edit_invitation(current.invitation_id, perms, profile)
        return invitation_json(view, self._own())

    async def _cancel(self, args: dict[str, Any]) -> object:
        full = self._invitation_id(args["id"])
        await self._facade.cancel_invitation(full)
        return {"id": full}

    async def _accept(self, args: dict[str, Any]) -> object:
        current = self._invitation(self._invitation_id(args["id"]))
        chooses = any(args.get(k) for k in ("profile", "allow", "deny"))
        if current.kind is Kind.INVITATION:
            if chooses:
                raise _BadRequest(
                    "the inviter sets the permissions of an invitation; "
                    "accept it without --profile, --allow or --deny"
                )
            session = await self._facade.accept(current.invitation_id)
        elif not chooses:
            session = await self._facade.accept(current.invitation_id)
        else:
            if args.get("profile") is not None:
                name, base = self._profile(args["profile"])
            else:
                name, base = current.profile, current.permissions
            perms, profile = self._choose(name, base, args)
            session = await self._facade.accept(current.invitation_id, perms, profile)
        return session_json(session, self._own())

    async def _reject(self, args: dict[str, Any]) -> object:
        full = self._invitation_id(args["id"])
        await self._facade.reject(full)
        return {"id": full}

    async def _permissions(self, args: dict[str, Any]) -> object:
        session = self._session(args["session"])
        perms, _ = self._choose("", session.permissions, args)
        view = await self._facade.set_session_permissions(session.session_id, perms)
        return session_json(view, self._own())

    async def _end(self, args: dict[str, Any]) -> object:
        session = self._session(args["session"])
        await self._facade.end_session(session.session_id)
        return {"id": session.session_id}

    async def _sysinfo(self, args: dict[str, Any]) -> object:
        session = self._session(args["session"])
        info = await self._facade.system_information(session.session_id)
        return {
            "os": info.os,
            "hostname": info.hostname,
            "cpu": info.cpu,
            "cpu_count": info.cpu_count,
            "memory_total": info.memory_total,
            "screens": list(info.screens),
        }

    async def _send_file(self, args: dict[str, Any]) -> object:
        """Send (guest) or offer (host) a file; a guest's answer waits until it is saved."""
        session = self._session(args["session"])
        path = Path(args["path"])
        if not path.is_absolute():
            raise _BadRequest("send-file: the path must be absolute (the CLI makes it so)")
        view = await self._facade.send_file(session.session_id, str(path))
        if session.role.value == "guest":
            view = await self._facade.wait_transfer(view.transfer_id)
            if view.state is not TransferState.DONE:
                raise ActionRefused(f"{view.name}: {view.state.value}: {view.reason}")
        return transfer_json(view)

    async def _transfers(self, args: dict[str, Any]) -> object:
        session = self._session(args["session"]).session_id if "session" in args else None
        return [transfer_json(v) for v in self._facade.transfers(session)]

    async def _fetch(self, args: dict[str, Any]) -> object:
        session = self._session(args["session"])
        view = await self._facade.fetch_file(session.session_id, args["id"])
        view = await self._facade.wait_transfer(view.transfer_id)
        if view.state is not TransferState.DONE:
            raise ActionRefused(f"{view.name}: {view.state.value}: {view.reason}")
        return transfer_json(view)

    async def _cancel_transfer(self, args: dict[str, Any]) -> object:
        return transfer_json(await self._facade.cancel_transfer(args["id"]))

    async def _clipboard(self, args: dict[str, Any]) -> object:
        session = self._session(args["session"])
        send = args["send"].strip().lower()
        if send not in ("on", "off"):
            raise _BadRequest("clipboard: send is on or off")
        await self._facade.set_send_clipboard(session.session_id, send == "on")
        return {"id": session.session_id, "send": send}

    async def _raise(self, args: dict[str, Any]) -> object:
        self._on_raise()
        return None

    async def _email_invite(self, args: dict[str, Any]) -> object:
        s = self._facade.status()
        try:
            url = mailto_url(s.device_id, s.alias, s.fingerprint, PROJECT_URL, args.get("to", ""))
        except ValueError as exc:
            raise _BadRequest(f"email-invite: {exc}") from None
        return {"url": url}


async def _listener_alive(path: Path) -> bool:
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), 2.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def send_command(
    socket_path: Path, cmd: str, args: dict[str, Any] | None = None, timeout: float = 10.0
) -> dict[str, Any]:
    """Send one request to a running client and return its response object.

    Raises NotRunning when nothing listens on the socket, TimeoutError when the client does not
    answer in time, and ConnectionError when the answer is missing or not a response.
    """
    async with asyncio.timeout(timeout):
        try:
            reader, writer = await asyncio.open_unix_connection(
                str(socket_path), limit=MAX_RESPONSE
            )
        except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError) as exc:
            raise NotRunning(str(socket_path)) from exc
        try:
            request = {"cmd": cmd, "args": args or {}}
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    try:
        response = json.loads(line) if line else None
    except ValueError:
        response = None
    if not isinstance(response, dict) or not isinstance(response.get("ok"), bool):
        raise ConnectionError("the running client gave no valid answer")
    return response
