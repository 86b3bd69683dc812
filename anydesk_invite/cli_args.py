"""The command line's parser and the control request a parsed command line stands for
(request_of); the checks on every argument from outside are in cli_checks.py."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from anydesk_invite.cli_checks import (
    _alias,
    _checked,
    _discovery,
    _fingerprint,
    _folder,
    _host_port,
    _id_of,
    _instance_tag,
    _interface,
    _interval,
    _lifetime,
    _permission,
    _port,
    _profile,
    _secret_file,
    _target,
    _tsig_key,
    _ttl,
)
from anydesk_invite.core.wide_area import check_domain, parse_server

PROG = "anydesk-invite"

FLAG_COMMANDS = {"get_id": "get-id", "get_alias": "get-alias", "get_status": "get-status"}


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
    for flag, cmd in FLAG_COMMANDS.items():
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
