"""The control API's requests and replies: what each command takes (checked before anything
runs), the JSON shape of every view it answers with, and the parsing of targets, ids and
fingerprints the command line shares."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any

from anydesk_invite.core.alias import AliasError, parse_alias
from anydesk_invite.core.ids import (
    IdError,
    looks_like_id,
    parse_id,
    verification_code,
)
from anydesk_invite.core.permissions import (
    Permission,
    PermissionError_,
    parse_permission,
    permission_keys,
)
from anydesk_invite.services.facade import ActionRefused, RefusalKind, RefusedWithKind, Status
from anydesk_invite.services.views import (
    InvitationView,
    PeerView,
    SessionView,
    TransferView,
)

MIN_ID_PREFIX = 4
"""Hex digits an invitation or session id prefix needs at least."""
CODE_REFUSED = 1
CODE_USAGE = 2

_MAX_TEXT = 256
_MAX_LIST = 32


class BadRequest(Exception):
    code = CODE_USAGE


class MissingArgument(Exception):
    code = CODE_REFUSED


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


def validate_request(request: object) -> tuple[str, dict[str, Any]]:
    if not isinstance(request, dict):
        raise BadRequest('a request is a JSON object {"cmd": ..., "args": {...}}')
    extra = set(request) - {"cmd", "args"}
    if extra:
        raise BadRequest(f"unknown request field(s): {', '.join(sorted(map(str, extra)))}")
    cmd = request.get("cmd")
    if not isinstance(cmd, str) or cmd not in _COMMANDS:
        raise BadRequest(f"unknown command {cmd!r} (known: {', '.join(COMMANDS)})")
    args = request.get("args", {})
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise BadRequest(f"{cmd}: args is a JSON object")
    spec = _COMMANDS[cmd]
    unknown = set(args) - set(spec)
    if unknown:
        raise BadRequest(f"{cmd}: unknown argument(s): {', '.join(sorted(unknown))}")
    clean: dict[str, Any] = {}
    for name, (kind, required) in spec.items():
        value = args.get(name)
        if value is None:
            if required:
                raise BadRequest(f"{cmd}: missing argument {name!r}")
            continue
        if kind == "str":
            if not isinstance(value, str) or not value.strip():
                raise BadRequest(f"{cmd}: {name} is a non-empty string")
            if len(value) > _MAX_TEXT:
                raise BadRequest(f"{cmd}: {name} is longer than {_MAX_TEXT} characters")
        elif kind == "list":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise BadRequest(f"{cmd}: {name} is a list of strings")
            if len(value) > _MAX_LIST:
                raise BadRequest(f"{cmd}: {name} has more than {_MAX_LIST} entries")
        clean[name] = value
    return cmd, clean


def error_reply(code: int, message: str) -> dict[str, Any]:
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


def resolve_id(text: str, known: Sequence[str], what: str) -> str:
    """The one known id that the text names in full or as a unique prefix."""
    try:
        prefix = check_id_prefix(text, what)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    matches = [k for k in known if k.lower().startswith(prefix)]
    exact = [k for k in matches if k.lower() == prefix]
    if exact:
        return exact[0]
    if not matches:
        raise MissingArgument(f"there is no {what} with id {text}")
    if len(matches) > 1:
        shown = ", ".join(m[:12] for m in matches[:5])
        raise BadRequest(f"{len(matches)} {what}s start with {text} ({shown}); give more digits")
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


def request_target(text: str) -> str:
    try:
        return canonical_target(text)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


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


def permission_list(values: list[str] | None, flag: str) -> frozenset[Permission]:
    try:
        return frozenset(parse_permission(v) for v in values or ())
    except PermissionError_ as exc:
        raise BadRequest(f"{flag}: {exc}") from None


def command_line_hint(exc: ActionRefused) -> str:
    """What a command-line user does to confirm a device known only from discovery: the
    window lets them click instead, so only this reply names the option."""
    if not isinstance(exc, RefusedWithKind) or not exc.candidates:
        return ""
    if exc.kind not in (RefusalKind.NEEDS_CONFIRMATION, RefusalKind.AMBIGUOUS):
        return ""
    fingerprints = " or ".join(c.fingerprint.hex()[:16] for c in exc.candidates)
    return f"; once checked, repeat the command with --confirm {fingerprints}"
