"""The command line: start a client, or talk to the one running for a home folder.

``anydesk-invite [options]`` starts the GUI (or ``--headless``) client; a second launch for the
same home brings the running window to the front instead. ``--get-id``, ``--get-alias``,
``--get-status`` and the subcommands send one request to the running client over its control
socket. Exit codes: 0 done, 1 refused, 2 usage error or no running client. docs/CLI.md has the
full reference.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import platformdirs

from anydesk_invite.cli_args import FLAG_COMMANDS, PROG, build_parser, request_of
from anydesk_invite.cli_output import format_result
from anydesk_invite.core.email_invite import ConnectLinkError, parse_connect_link
from anydesk_invite.options import Options
from anydesk_invite.services.control_schema import CODE_REFUSED, CODE_USAGE
from anydesk_invite.storage.home import APP_NAME, Home, HomeError

EXIT_OK = 0
EXIT_REFUSED = CODE_REFUSED
EXIT_USAGE = CODE_USAGE

READ_TIMEOUT = 10.0
ACT_TIMEOUT = 60.0
"""Seconds to wait for commands that reach a peer (invite, accept, ...)."""
TRANSFER_TIMEOUT = 24 * 3600.0
"""Seconds send-file and fetch wait for the file to arrive."""

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
    first = None
    if not options.headless:
        # The main window first (bench/startup.py): the client behind it, with its services,
        # keyring, database and network, is built while it shows.
        qt_app = importlib.import_module("anydesk_invite.ui.qt_app")
        first_window = importlib.import_module("anydesk_invite.ui.first_window")
        first = first_window.show_main_window(qt_app.application())
    app = importlib.import_module("anydesk_invite.app")
    qt_loop = importlib.import_module("anydesk_invite.ui.qt_loop")
    return int(qt_loop.run(lambda: app.run_client(options, first)))


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    launch: Callable[[Options], int] = run_client,
    open_url: Callable[[str], bool] | None = None,
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
    if ns.command is not None and any(getattr(ns, f) for f in FLAG_COMMANDS):
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
    # Here, not with the module: a client's start shows its window without them.
    import asyncio

    from anydesk_invite.services.control_client import NotRunning, send_command

    try:
        response = asyncio.run(send_command(socket_path, cmd, args, timeout))
    except NotRunning:
        print(_not_running(ns), file=err)
        return EXIT_USAGE
    except TimeoutError:
        print(f"{PROG}: the running client did not answer within {timeout:g} s", file=err)
        return EXIT_REFUSED
    except (ConnectionError, OSError) as exc:
        why = exc.strerror or "the connection failed"
        print(
            f"{PROG}: cannot talk to the running client ({why}); is it still running? "
            "Start it again and repeat the command",
            file=err,
        )
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
        if not (open_url or _open_in_browser)(url):
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


def _open_in_browser(url: str) -> bool:
    import webbrowser  # here: a client's start has no use for it

    return webbrowser.open(url)


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
        import asyncio

        from anydesk_invite.services.control_client import NotRunning, send_command

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
