"""The command line: start a client, or talk to the one running for a home folder.

``anydesk-invite [options]`` starts the GUI (or ``--headless``) client; a second launch for the
same home brings the running window to the front instead. ``--get-id``, ``--get-alias``,
``--get-status`` and the subcommands send one request to the running client over its control
socket. Exit codes: 0 done, 1 refused, 2 usage error or no running client. docs/CLI.md has the
full reference.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import io
import ipaddress
import json
import os
import re
import sys
import time
import webbrowser
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import platformdirs

from anydesk_invite.core.alias import AliasError, escape_invisible, parse_alias
from anydesk_invite.core.email_invite import ConnectLinkError, parse_connect_link
from anydesk_invite.core.ids import DeviceId, IdError, short_fingerprint
from anydesk_invite.core.invitation import INVITATION_LIFETIME, MIN_TEST_LIFETIME
from anydesk_invite.core.permissions import PermissionError_, parse_permission
from anydesk_invite.core.policy import DiscoveryMode, parse_discovery_mode
from anydesk_invite.core.wide_area import (
    MAX_TTL,
    MIN_TTL,
    WideAreaError,
    check_algorithm,
    check_domain,
    check_key_name,
    parse_server,
)
from anydesk_invite.options import Options
from anydesk_invite.services.control import (
    CODE_REFUSED,
    CODE_USAGE,
    NotRunning,
    canonical_target,
    check_id_prefix,
    normalize_fingerprint,
    parse_host_port,
    send_command,
)
from anydesk_invite.storage.home import APP_NAME, Home, HomeError

PROG = "anydesk-invite"
EXIT_OK = 0
EXIT_REFUSED = CODE_REFUSED
EXIT_USAGE = CODE_USAGE

READ_TIMEOUT = 10.0
ACT_TIMEOUT = 60.0
"""Seconds to wait for commands that reach a peer (invite, accept, ...)."""
TRANSFER_TIMEOUT = 24 * 3600.0
"""Seconds send-file and fetch wait for the file to arrive."""

_FLAG_COMMANDS = {"get_id": "get-id", "get_alias": "get-alias", "get_status": "get-status"}
_READ_ONLY = {
    "get-id",
    "get-alias",
    "get-status",
    "peers",
    "invitations",
    "sessions",
    "raise",
    "transfers",
    "address-book-list",
}
_TRANSFERS = {"send-file", "fetch"}
_TAG_RE = re.compile(r"[A-Za-z0-9-]{1,16}")


# -- argument types ----------------------------------------------------------------------


def _interface(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"takes a literal IP address such as 127.0.0.1 (not {text!r})"
        ) from None


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535 (not {text!r})")
    return value


def _discovery(text: str) -> DiscoveryMode:
    try:
        return parse_discovery_mode(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _lifetime(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not MIN_TEST_LIFETIME <= value <= INVITATION_LIFETIME:
        raise argparse.ArgumentTypeError(
            f"can only shorten the invitation lifetime: {MIN_TEST_LIFETIME:g} to "
            f"{INVITATION_LIFETIME:g} seconds (not {text!r})"
        )
    return value


def _instance_tag(text: str) -> str:
    if not _TAG_RE.fullmatch(text):
        raise argparse.ArgumentTypeError("is 1 to 16 letters, digits or '-'")
    return text


def _alias(text: str) -> str:
    try:
        return str(parse_alias(text))
    except AliasError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _folder(text: str) -> str:
    path = Path(text).expanduser()
    if not path.is_absolute():
        raise argparse.ArgumentTypeError("must be an absolute path")
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError("is not a folder")
    return str(path)


def _permission(text: str) -> str:
    try:
        return parse_permission(text).value
    except PermissionError_ as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _target(text: str) -> str:
    try:
        return canonical_target(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _host_port(text: str) -> str:
    try:
        return parse_host_port(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fingerprint(text: str) -> str:
    try:
        return normalize_fingerprint(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _id_of(what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        try:
            return check_id_prefix(text, what)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = f"{what} id"
    return parse


def _checked(check: Callable[[str], object], *, off: str | None = None) -> Callable[[str], str]:
    """An argument type from a wide-area check; ``off`` is a word that clears the setting."""

    def parse(text: str) -> str:
        if off is not None and text.strip().lower() == off:
            return ""
        try:
            check(text)
        except WideAreaError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text.strip()

    parse.__name__ = "setting"
    return parse


def _tsig_key(text: str) -> str:
    name, _, algorithm = text.partition(":")
    try:
        check_key_name(name)
        if algorithm:
            check_algorithm(algorithm)
    except WideAreaError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip()


def _ttl(text: str) -> int:
    if not text.isdigit() or not MIN_TTL <= int(text) <= MAX_TTL:
        raise argparse.ArgumentTypeError(f"is {MIN_TTL} to {MAX_TTL} seconds (not {text!r})")
    return int(text)


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.2 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"is 0.2 to 3600 seconds (not {text!r})")
    return value


def _secret_file(text: str) -> str:
    path = Path(text).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text!r} is not a file")
    return str(path.absolute())


def _profile(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("a profile needs a name")
    return text.strip()


# -- the parser --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Invite people on your LAN into a remote-desktop session, peer to peer. "
        "Without a command: start the client (or bring the running one to the front).",
        epilog="Exit codes: 0 done, 1 refused by the client, 2 usage error or no running client.",
    )
    parser.add_argument("--home", metavar="DIR", help="home folder (one client per home)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    start = parser.add_argument_group("starting the client")
    start.add_argument(
        "--interface",
        metavar="ADDR",
        action="append",
        type=_interface,
        dest="interfaces",
        help="listen and announce only on this IP address (repeatable)",
    )
    start.add_argument("--verbose", action="store_true", help="log debug messages")
    start.add_argument("--headless", action="store_true", help="run without windows")
    start.add_argument(
        "--discovery", type=_discovery, metavar="on|hidden|off", help="LAN discovery mode"
    )
    start.add_argument("--port", type=_port, metavar="N", help="listen port (0: any free one)")
    start.add_argument(
        "--alias", type=_alias, metavar="NAME", help="set this device's alias (name@ad) and keep it"
    )
    start.add_argument(
        "--incoming-folder",
        type=_folder,
        metavar="DIR",
        help="save files from guests in this folder (absolute) and keep it",
    )
    wide = parser.add_argument_group(
        "discovery through the organisation's DNS (kept in the settings; see README)"
    )
    wide.add_argument(
        "--dns-sd-server",
        type=_checked(parse_server, off="none"),
        metavar="ADDR[:PORT]",
        help="the DNS server to browse and to send signed updates to ('none': off)",
    )
    wide.add_argument(
        "--dns-sd-domain",
        type=_checked(check_domain, off="auto"),
        metavar="DOMAIN",
        help="the discovery domain, e.g. clients.example.org ('auto': from b._dns-sd._udp)",
    )
    wide.add_argument(
        "--tsig-key",
        type=_tsig_key,
        metavar="NAME[:ALG]",
        help="the TSIG key that signs updates (algorithm hmac-sha256 unless given)",
    )
    wide.add_argument(
        "--tsig-secret-file",
        type=_secret_file,
        metavar="PATH",
        help="read the key's base64 secret from this file and keep it in the keyring "
        "(or a 0600 file in the home)",
    )
    wide.add_argument("--dns-sd-ttl", type=_ttl, metavar="SECONDS", help="TTL and lease")
    wide.add_argument("--dns-sd-browse-interval", type=_interval, help=argparse.SUPPRESS)
    start.add_argument("--test-invitation-lifetime", type=_lifetime, help=argparse.SUPPRESS)
    start.add_argument("--instance-tag", type=_instance_tag, help=argparse.SUPPRESS)
    start.add_argument(
        "--test-auto-accept", action="store_true", default=None, help=argparse.SUPPRESS
    )
    ask = parser.add_argument_group("asking the running client").add_mutually_exclusive_group()
    ask.add_argument("--get-id", action="store_true", help="print this device's ID")
    ask.add_argument("--get-alias", action="store_true", help="print this device's alias")
    ask.add_argument("--get-status", action="store_true", help="print the client's status")

    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS keeps a value given before the subcommand from being reset by the subparser.
    common.add_argument("--home", metavar="DIR", default=argparse.SUPPRESS, help="home folder")
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the result as JSON"
    )
    perms = argparse.ArgumentParser(add_help=False)
    perms.add_argument("--profile", type=_profile, help="start from this permission profile")
    perms.add_argument(
        "--allow", action="append", type=_permission, metavar="PERM", help="add a permission"
    )
    perms.add_argument(
        "--deny", action="append", type=_permission, metavar="PERM", help="remove a permission"
    )
    confirm = argparse.ArgumentParser(add_help=False)
    confirm.add_argument(
        "--confirm",
        type=_fingerprint,
        metavar="FINGERPRINT",
        help="the peer's fingerprint, to trust a never-connected peer",
    )
    invitation_id = _id_of("invitation")
    session_id = _id_of("session")

    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("peers", parents=[common], help="list known peers")
    p = sub.add_parser("invite", parents=[common, perms, confirm], help="invite a peer")
    p.add_argument("target", type=_target, help="the peer's ID or alias")
    p = sub.add_parser("connect", parents=[common, confirm], help="ask a peer to let you in")
    p.add_argument("target", type=_target, help="the peer's ID or alias")
    sub.add_parser("invitations", parents=[common], help="list invitations and requests")
    p = sub.add_parser("edit", parents=[common, perms], help="change a pending invitation")
    p.add_argument("id", type=invitation_id)
    p = sub.add_parser("cancel", parents=[common], help="cancel a pending invitation")
    p.add_argument("id", type=invitation_id)
    p = sub.add_parser(
        "accept", parents=[common, perms], help="accept an invitation or connection request"
    )
    p.add_argument("id", type=invitation_id)
    p = sub.add_parser("reject", parents=[common], help="reject an invitation or request")
    p.add_argument("id", type=invitation_id)
    sub.add_parser("sessions", parents=[common], help="list open sessions")
    p = sub.add_parser(
        "permissions", parents=[common], help="change a session's permissions (host)"
    )
    p.add_argument("session", type=session_id)
    p.add_argument("--allow", action="append", type=_permission, metavar="PERM")
    p.add_argument("--deny", action="append", type=_permission, metavar="PERM")
    p = sub.add_parser("end", parents=[common], help="end a session")
    p.add_argument("session", type=session_id)
    p = sub.add_parser("sysinfo", parents=[common], help="the host's system information (guest)")
    p.add_argument("session", type=session_id)
    p = sub.add_parser(
        "send-file",
        parents=[common],
        help="send a file to the host (guest; waits until it is saved) or offer one (host)",
    )
    p.add_argument("session", type=session_id)
    p.add_argument("path", type=lambda t: str(Path(t).expanduser().absolute()), metavar="PATH")
    p = sub.add_parser("transfers", parents=[common], help="list file transfers and offers")
    p.add_argument("session", type=session_id, nargs="?")
    p = sub.add_parser("fetch", parents=[common], help="fetch a file the host offers (guest)")
    p.add_argument("session", type=session_id)
    p.add_argument("id", metavar="TRANSFER")
    p = sub.add_parser("cancel-transfer", parents=[common], help="cancel a file transfer")
    p.add_argument("id", metavar="TRANSFER")
    p = sub.add_parser(
        "clipboard", parents=[common], help="send this guest's clipboard to the host, or stop"
    )
    p.add_argument("session", type=session_id)
    p.add_argument("send", choices=["on", "off"])
    p = sub.add_parser("email-invite", parents=[common], help="invite someone by email")
    p.add_argument(
        "--print", action="store_true", dest="print_url", help="print the mailto: URL only"
    )
    p.add_argument("--to", metavar="ADDRESS", help="the recipient's email address")
    book = sub.add_parser("address-book", help="add, remove or list address-book entries")
    book_sub = book.add_subparsers(dest="book_command", metavar="ACTION", required=True)
    p = book_sub.add_parser(
        "add", parents=[common], help="add a device (or change its entry); probes its address"
    )
    p.add_argument("target", type=_target, help="the device's ID, or the alias of a known one")
    p.add_argument(
        "--address", type=_host_port, metavar="HOST:PORT", help="where discovery cannot reach"
    )
    p.add_argument("--name", metavar="N", help="the name shown on its tile")
    p.add_argument("--tag", action="append", dest="tags", metavar="T", help="a tag (repeatable)")
    p = book_sub.add_parser("remove", parents=[common], help="remove a device's entry")
    p.add_argument("target", type=_target, help="the device's ID or alias")
    book_sub.add_parser("list", parents=[common], help="list the address book")
    fav = sub.add_parser("favorites", help="add or remove favorites")
    fav_sub = fav.add_subparsers(dest="favorite_command", metavar="ACTION", required=True)
    for action in ("add", "remove"):
        p = fav_sub.add_parser(action, parents=[common], help=f"{action} a favorite")
        p.add_argument("target", type=_target, help="the device's ID or alias")
    return parser


def request_of(ns: argparse.Namespace) -> tuple[str, dict[str, Any]] | None:
    """The control request a parsed command line stands for; None means start the client."""
    for flag, cmd in _FLAG_COMMANDS.items():
        if getattr(ns, flag):
            return cmd, {}
    command: str | None = ns.command
    if command is None:
        return None
    if command == "address-book":
        command = f"address-book-{ns.book_command}"
    elif command == "favorites":
        command = f"favorite-{ns.favorite_command}"
    names = {
        "invite": ("target", "profile", "allow", "deny", "confirm"),
        "connect": ("target", "confirm"),
        "edit": ("id", "profile", "allow", "deny"),
        "cancel": ("id",),
        "accept": ("id", "profile", "allow", "deny"),
        "reject": ("id",),
        "permissions": ("session", "allow", "deny"),
        "end": ("session",),
        "sysinfo": ("session",),
        "send-file": ("session", "path"),
        "transfers": ("session",),
        "fetch": ("session", "id"),
        "cancel-transfer": ("id",),
        "clipboard": ("session", "send"),
        "email-invite": ("to",),
        "address-book-add": ("target", "address", "name", "tags"),
        "address-book-remove": ("target",),
        "favorite-add": ("target",),
        "favorite-remove": ("target",),
    }.get(command, ())
    args = {n: getattr(ns, n) for n in names if getattr(ns, n, None) is not None}
    return command, args


# -- output ------------------------------------------------------------------------------


def _grouped(digits: str) -> str:
    try:
        return DeviceId(digits).grouped()
    except IdError:
        return digits


def _peer(alias: str, digits: str) -> str:
    return f"{alias} ({_grouped(digits)})" if alias else _grouped(digits)


def _perms(keys: list[str]) -> str:
    return ", ".join(keys) if keys else "view only"


def _table(headers: Sequence[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _invitation_line(v: dict[str, Any]) -> str:
    what = "Invitation" if v["kind"] == "invitation" else "Connection request"
    way = "to" if v["direction"] == "outgoing" else "from"
    left = f", {v['seconds_left']:.0f} s left" if v["state"] in _OPEN else ""
    profile = f" ({v['profile']})" if v["profile"] else ""
    return (
        f"{what} {v['id'][:8]} {way} {_peer(v['peer_alias'], v['peer_id'])}: {v['state']}{left}, "
        f"revision {v['revision']}; permissions: {_perms(v['permissions'])}{profile}"
    )


def _session_line(s: dict[str, Any]) -> str:
    locked = f" (locked: {', '.join(s['locked'])})" if s["locked"] else ""
    return (
        f"Session {s['id'][:8]} with {_peer(s['peer_alias'], s['peer_id'])} as {s['role']}; "
        f"permissions: {_perms(s['permissions'])}{locked}"
    )


def _transfer_line(t: dict[str, Any]) -> str:
    where = f" as {t['path']}" if t["path"] and t["direction"] == "receive" else ""
    reason = f" ({t['reason']})" if t["reason"] else ""
    name = escape_invisible(t["name"])
    return f"{name}: {t['state']}, {t['done']} of {t['size']} bytes{where}{reason}"


_OPEN = {"pending", "received", "accepting", "accepted"}


def format_result(cmd: str, result: Any) -> str:
    """The human-readable text for one command's result."""
    if cmd in ("get-id", "get-alias"):
        return str(result)
    if cmd == "get-status":
        s = result
        lines = [
            f"ID:           {_grouped(s['id'])}",
            f"Alias:        {s['alias']}",
            f"Fingerprint:  {short_fingerprint(bytes.fromhex(s['fingerprint']))}",
            f"Online:       {'yes' if s['online'] else 'no'}"
            + (f" (listening on {', '.join(s['listen'])})" if s["listen"] else ""),
            f"Discovery:    {s['discovery']}",
            f"DNS (wide):   {s.get('wide_area', 'off')}",
            f"Interfaces:   {', '.join(s['interfaces']) or 'automatic'}",
            f"Key stored:   {'OS keyring' if s['key_location'] == 'keyring' else 'file'}",
        ]
        if s["key_warning"]:
            lines.append(f"Key warning:  {s['key_warning']}")
        lines.append(
            f"Policy:       {'BROKEN: ' + s['policy_broken'] if s['policy_broken'] else 'ok'}"
        )
        lines.append(f"Accept from:  {s['accept_from'].replace('_', ' ')}")
        lines.append(f"Home:         {s['home']}")
        return "\n".join(lines)
    if cmd == "peers":
        if not result:
            return "No known peers."
        rows = [
            [
                _grouped(p["id"]) + (" (conflict)" if p.get("conflict") else ""),
                p["alias"],
                p["display_name"],
                "online" if p["online"] else "-",
                ", ".join(p["sources"]),
                ", ".join(p["tags"]),
                p["address"] or "",
            ]
            for p in result
        ]
        return _table(["ID", "ALIAS", "NAME", "ONLINE", "SOURCES", "TAGS", "ADDRESS"], rows)
    if cmd == "address-book-list":
        if not result:
            return "The address book is empty."
        rows = [
            [
                _grouped(p["id"]),
                p["alias"],
                p["display_name"],
                "online" if p["online"] else "-",
                ", ".join(p["tags"]),
                p["address"] or "",
            ]
            for p in result
        ]
        return _table(["ID", "ALIAS", "NAME", "ONLINE", "TAGS", "ADDRESS"], rows)
    if cmd == "address-book-add":
        line = f"Saved {_peer(result['alias'], result['id'])} in the address book."
        probe = result.get("probe")
        if probe is not None:
            if probe["reachable"]:
                line += f" It answers at {result['address']}: online."
            else:
                line += (
                    f" It does not answer at {result['address']}: {probe['reason']}."
                    " Check the address and that the app runs there."
                )
        return line
    if cmd == "address-book-remove":
        return f"Removed {_peer(result['alias'], result['id'])} from the address book."
    if cmd in ("favorite-add", "favorite-remove"):
        done = "Added to" if result["favorite"] else "Removed from"
        return f"{done} favorites: {_grouped(result['id'])}."
    if cmd == "invitations":
        if not result:
            return "No invitations."
        rows = [
            [
                v["id"][:8],
                "out" if v["direction"] == "outgoing" else "in",
                v["kind"],
                _peer(v["peer_alias"], v["peer_id"]),
                v["state"] + (" (missed)" if v["missed"] else ""),
                f"{v['seconds_left']:.0f} s" if v["state"] in _OPEN else "-",
                _perms(v["permissions"]),
                v["profile"],
            ]
            for v in result
        ]
        headers = ["ID", "DIR", "KIND", "PEER", "STATE", "LEFT", "PERMISSIONS", "PROFILE"]
        return _table(headers, rows)
    if cmd == "sessions":
        if not result:
            return "No sessions."
        rows = [
            [
                s["id"][:8],
                s["role"],
                _peer(s["peer_alias"], s["peer_id"]),
                _perms(s["permissions"]),
                ", ".join(s["locked"]),
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s["started_at"])),
                s.get("verification", ""),
            ]
            for s in result
        ]
        return _table(["ID", "ROLE", "PEER", "PERMISSIONS", "LOCKED", "STARTED", "VERIFY"], rows)
    if cmd in ("invite", "connect", "edit"):
        return _invitation_line(result)
    if cmd in ("accept", "permissions"):
        return _session_line(result)
    if cmd == "cancel":
        return f"Cancelled invitation {result['id'][:8]}."
    if cmd == "reject":
        return f"Rejected {result['id'][:8]}."
    if cmd == "end":
        return f"Ended session {result['id'][:8]}."
    if cmd == "email-invite":
        return str(result["url"])
    if cmd == "sysinfo":
        return "\n".join(
            [
                f"OS: {result['os']}",
                f"Host name: {result['hostname']}",
                f"CPU: {result['cpu']} ({result['cpu_count']} cores)",
                f"Memory: {result['memory_total'] / 2**30:.1f} GiB",
                *(f"Screen: {s}" for s in result["screens"]),
            ]
        )
    if cmd in ("send-file", "fetch", "cancel-transfer"):
        return _transfer_line(result)
    if cmd == "transfers":
        if not result:
            return "No file transfers."
        rows = [
            [
                t["id"][:8],
                t["direction"],
                t["state"],
                f"{t['done']}/{t['size']}",
                escape_invisible(t["name"]),
            ]
            for t in result
        ]
        return _table(["ID", "DIRECTION", "STATE", "BYTES", "NAME"], rows)
    if cmd == "clipboard":
        return f"Sending the clipboard in session {result['id'][:8]}: {result['send']}."
    return json.dumps(result)


# -- running -----------------------------------------------------------------------------


def _home_folder(ns: argparse.Namespace) -> Path:
    if ns.home is None:
        return Path(platformdirs.user_data_dir(APP_NAME))
    return Path(ns.home).expanduser()


def _home_text(ns: argparse.Namespace) -> str:
    return str(_home_folder(ns))


def _start_hint(ns: argparse.Namespace) -> str:
    return f"{PROG} --home {ns.home}" if ns.home is not None else PROG


LINK_SCHEME = "adinvite:"


def run_client(options: Options) -> int:
    """Start the client (GUI or headless) on a qasync loop until it quits; its exit code."""
    if options.headless and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        # A headless client still uses Qt (images, timers); offscreen needs no display.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if (
        os.environ.get("WAYLAND_DISPLAY")
        and os.environ.get("DISPLAY")
        and "QT_QPA_PLATFORM" not in os.environ
    ):
        # On Wayland a window cannot place itself; the toast needs the bottom-right corner.
        os.environ["QT_QPA_PLATFORM"] = "xcb"
    if not (
        os.environ.get("QT_QPA_PLATFORM")
        or os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
    ):
        # Qt would abort the process without a word; say what to do instead.
        print(f"{PROG}: no display found; set DISPLAY or start with --headless", file=sys.stderr)
        return EXIT_USAGE
    # Imported here: the composition root pulls in Qt, which the commands never need.
    app = importlib.import_module("anydesk_invite.app")
    qt_loop = importlib.import_module("anydesk_invite.ui.qt_loop")
    return int(qt_loop.run(lambda: app.run_client(options)))


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    launch: Callable[[Options], int] = run_client,
    open_url: Callable[[str], bool] = webbrowser.open,
) -> int:
    """Run the command line; returns the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = list(sys.argv[1:] if argv is None else argv)
    link = next((a for a in args if a.lower().startswith(LINK_SCHEME)), None)
    if link is not None:
        # A connect link from an email invitation (the desktop file's URL handler).
        try:
            device_id, fingerprint = parse_connect_link(link)
        except ConnectLinkError as exc:
            print(f"{PROG}: {exc}", file=err)
            return EXIT_USAGE
        rest = [a for a in args if a is not link]
        argv = [*rest, "connect", device_id.digits, "--confirm", fingerprint.hex()]
        code = main(argv, stdout=out, stderr=err, launch=launch, open_url=open_url)
        if code != EXIT_USAGE or _is_running([*rest, "--get-id"]):
            return code
        # Nobody runs yet: start the client, which sends the request once it is up.
        ns = build_parser().parse_args(rest)
        return _start(ns, out, err, launch, connect=(device_id.digits, fingerprint.hex()))
    parser = build_parser()
    try:
        ns = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    if ns.command is not None and any(getattr(ns, f) for f in _FLAG_COMMANDS):
        print(f"{PROG}: give either a --get-* flag or a command, not both", file=err)
        return EXIT_USAGE
    request = request_of(ns)
    if request is None:
        return _start(ns, out, err, launch)
    used = [
        flag
        for flag, value in (
            ("--interface", ns.interfaces),
            ("--headless", ns.headless or None),
            ("--verbose", ns.verbose or None),
            ("--discovery", ns.discovery),
            ("--port", ns.port),
            ("--test-invitation-lifetime", ns.test_invitation_lifetime),
            ("--instance-tag", ns.instance_tag),
            ("--test-auto-accept", ns.test_auto_accept),
            ("--alias", ns.alias),
            ("--incoming-folder", ns.incoming_folder),
            ("--dns-sd-server", ns.dns_sd_server),
            ("--dns-sd-domain", ns.dns_sd_domain),
            ("--tsig-key", ns.tsig_key),
            ("--tsig-secret-file", ns.tsig_secret_file),
            ("--dns-sd-ttl", ns.dns_sd_ttl),
            ("--dns-sd-browse-interval", ns.dns_sd_browse_interval),
        )
        if value is not None
    ]
    if used:
        print(f"{PROG}: {', '.join(used)} only applies when starting the client", file=err)
        return EXIT_USAGE
    cmd, args = request
    # Asking never creates a home folder: a mistyped --home is simply not running.
    if not _home_folder(ns).is_dir():
        print(_not_running(ns), file=err)
        return EXIT_USAGE
    try:
        found = Home.resolve(ns.home).find_control_socket()
    except HomeError as exc:
        print(f"{PROG}: {exc}", file=err)
        return EXIT_USAGE
    if found is None:
        print(_not_running(ns), file=err)
        return EXIT_USAGE
    socket_path = found
    timeout = READ_TIMEOUT if cmd in _READ_ONLY else ACT_TIMEOUT
    if cmd in _TRANSFERS:
        timeout = TRANSFER_TIMEOUT
    try:
        response = asyncio.run(send_command(socket_path, cmd, args, timeout))
    except NotRunning:
        print(_not_running(ns), file=err)
        return EXIT_USAGE
    except TimeoutError:
        print(f"{PROG}: the running client did not answer within {timeout:g} s", file=err)
        return EXIT_REFUSED
    except (ConnectionError, OSError) as exc:
        print(f"{PROG}: cannot talk to the running client: {exc}", file=err)
        return EXIT_REFUSED
    if not response["ok"]:
        code = response.get("code")
        print(f"{PROG}: {response.get('error', 'refused')}", file=err)
        return code if code in (EXIT_REFUSED, EXIT_USAGE) else EXIT_REFUSED
    result: Any = response.get("result")
    if ns.json:
        print(json.dumps(result, indent=2), file=out)
    elif cmd == "email-invite" and not ns.print_url:
        url = str(result["url"])
        if not open_url(url):
            print(f"{PROG}: no mail program opened; the invitation link is:", file=err)
            print(url, file=out)
    else:
        print(format_result(cmd, result), file=out)
    return EXIT_OK


def _not_running(ns: argparse.Namespace) -> str:
    return (
        f"{PROG}: no anydesk-invite is running for home {_home_text(ns)}; "
        f"start it with `{_start_hint(ns)}`"
    )


def _is_running(argv: list[str]) -> bool:
    """True when a client answers for the home these arguments name."""
    silent = io.StringIO()
    return main(argv, stdout=silent, stderr=silent) == EXIT_OK


def _start(
    ns: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    launch: Callable[[Options], int],
    connect: tuple[str, str] | None = None,
) -> int:
    if ns.json:
        print(f"{PROG}: --json goes with a command such as --get-status", file=err)
        return EXIT_USAGE
    try:
        home = Home.resolve(ns.home)
        socket_path = home.control_socket_path
    except HomeError as exc:
        print(f"{PROG}: {exc}", file=err)
        return EXIT_USAGE
    if socket_path.exists():
        response: dict[str, Any] | None
        try:
            response = asyncio.run(send_command(socket_path, "raise", {}, READ_TIMEOUT))
        except (NotRunning, ConnectionError, TimeoutError, OSError):
            response = None  # a stale socket: the new client replaces it
        if response is not None:
            if ns.headless:
                print(f"{PROG}: a client is already running for home {home.path}", file=err)
                return EXIT_REFUSED
            print(
                f"{PROG} is already running for home {home.path}; brought it to the front.",
                file=out,
            )
            return EXIT_OK
    options = Options(
        home=home.path,
        interfaces=tuple(dict.fromkeys(ns.interfaces or ())),
        headless=ns.headless,
        verbose=ns.verbose,
        discovery=ns.discovery,
        listen_port=ns.port or 0,
        test_invitation_lifetime=ns.test_invitation_lifetime,
        instance_tag=ns.instance_tag or "",
        test_auto_accept=bool(ns.test_auto_accept),
        alias=ns.alias or "",
        incoming_folder=ns.incoming_folder or "",
        connect_target=connect,
        wide_area_changes=_wide_area_changes(ns),
        tsig_secret_file=ns.tsig_secret_file or "",
    )
    return launch(options)


def _wide_area_changes(ns: argparse.Namespace) -> tuple[tuple[str, object], ...]:
    """The wide-area settings given on the command line, as (field, value) to store."""
    changes: list[tuple[str, object]] = []
    if ns.dns_sd_server is not None:
        changes.append(("server", ns.dns_sd_server))
    if ns.dns_sd_domain is not None:
        changes.append(("domain", ns.dns_sd_domain))
    if ns.tsig_key is not None:
        name, _, algorithm = ns.tsig_key.partition(":")
        changes.append(("key_name", name))
        changes.append(("algorithm", algorithm or "hmac-sha256"))
    if ns.dns_sd_ttl is not None:
        changes.append(("ttl", ns.dns_sd_ttl))
    if ns.dns_sd_browse_interval is not None:
        changes.append(("browse_interval", ns.dns_sd_browse_interval))
    return tuple(changes)
