"""The command line: parsing, start-up options, and commands against a real control socket."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from anydesk_invite import cli, cli_args
from anydesk_invite.core.email_invite import connect_link
from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import Kind
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.policy import DiscoveryMode
from anydesk_invite.options import Options
from anydesk_invite.services.control import ControlServer
from anydesk_invite.services.control_commands import ControlCommands
from anydesk_invite.storage.home import Home
from tests.helpers.fake_client import BOB, CAROL, FakeClient, invitation, session

SRC = Path(__file__).resolve().parents[1]


@dataclass
class Served:
    """A ControlServer for one home, running on its own thread and event loop."""

    home: Path
    facade: FakeClient
    raised: list[bool] = field(default_factory=list)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    home = tmp_path / "home"
    facade = FakeClient.with_a_key_file()
    state = Served(home, facade)
    path = Home.resolve(str(home)).control_socket_path
    server = ControlServer(
        ControlCommands(facade, on_raise=lambda: state.raised.append(True)), path
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="control-server")
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
        yield state
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@dataclass
class Run:
    code: int
    out: str
    err: str


def run(*argv: str, **kw: Any) -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err, **kw)
    return Run(code, out.getvalue(), err.getvalue())


def no_launch(options: Options) -> int:
    raise AssertionError(f"the client must not start: {options}")


# -- parsing -----------------------------------------------------------------------------

FP = "ab" * 32


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--get-id"], ("get-id", {})),
        (["--get-alias"], ("get-alias", {})),
        (["--get-status", "--json"], ("get-status", {})),
        (["peers"], ("peers", {})),
        (
            ["invite", "Bob@ad", "--allow", "file-transfer", "--deny", "DRAW", "--confirm", FP],
            (
                "invite",
                {"target": "Bob@ad", "allow": ["file_transfer"], "deny": ["draw"], "confirm": FP},
            ),
        ),
        (
            ["connect", "bob", "--confirm", FP.upper()],
            ("connect", {"target": "bob@ad", "confirm": FP}),
        ),
        (["invitations", "--json"], ("invitations", {})),
        (
            ["edit", "ABCD12", "--profile", "Default"],
            ("edit", {"id": "abcd12", "profile": "Default"}),
        ),
        (["cancel", "abcd"], ("cancel", {"id": "abcd"})),
        (["accept", "abcd", "--allow", "draw"], ("accept", {"id": "abcd", "allow": ["draw"]})),
        (["reject", "abcd"], ("reject", {"id": "abcd"})),
        (["sessions"], ("sessions", {})),
        (
            ["permissions", "9abc", "--allow", "clipboard", "--deny", "control"],
            ("permissions", {"session": "9abc", "allow": ["clipboard"], "deny": ["control"]}),
        ),
        (["end", "9abc"], ("end", {"session": "9abc"})),
        (["email-invite", "--print"], ("email-invite", {})),
        (
            [
                *("address-book", "add", "Bob", "--address", "10.0.0.5:7070"),
                *("--name", "Bob's PC", "--tag", "office", "--tag", "lab"),
            ],
            (
                "address-book-add",
                {
                    "target": "Bob@ad",
                    "address": "10.0.0.5:7070",
                    "name": "Bob's PC",
                    "tags": ["office", "lab"],
                },
            ),
        ),
        (["address-book", "remove", "bob"], ("address-book-remove", {"target": "bob@ad"})),
        (["address-book", "remove", "Bob"], ("address-book-remove", {"target": "Bob@ad"})),
        (["address-book", "list", "--json"], ("address-book-list", {})),
        (["favorites", "add", "bob@ad"], ("favorite-add", {"target": "bob@ad"})),
        (["favorites", "remove", "bob@ad"], ("favorite-remove", {"target": "bob@ad"})),
        ([], None),
    ],
)
def test_every_command_parses_into_its_control_request(
    argv: list[str], expected: tuple[str, dict[str, Any]] | None
) -> None:
    ns = cli_args.build_parser().parse_args(argv)
    assert cli_args.request_of(ns) == expected


def test_home_and_json_may_come_before_or_after_the_command() -> None:
    parser = cli_args.build_parser()
    before = parser.parse_args(["--home", "/h", "--json", "peers"])
    after = parser.parse_args(["peers", "--home", "/h", "--json"])
    assert (before.home, before.json) == (after.home, after.json) == ("/h", True)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--interface", "eth0"], "literal IP address"),
        (["--port", "70000"], "0 to 65535"),
        (["--discovery", "loud"], "discovery is one of on, hidden, off"),
        (["--test-invitation-lifetime", "121"], "can only shorten"),
        (["--test-invitation-lifetime", "0"], "can only shorten"),
        (["--instance-tag", "a b"], "letters, digits"),
        (["invite", "1234567890"], "check digit"),
        (["invite", "bob@ad", "--allow", "teleport"], "unknown permission 'teleport'"),
        (["cancel", "abc"], "at least 4 of its hex digits"),
        (["end", "xyzw"], "at least 4 of its hex digits"),
        (["connect", "bob@ad", "--confirm", "1234"], "not a fingerprint"),
        (["--get-id", "--get-alias"], "not allowed with"),
        (["--get-id", "peers"], "not both"),
        (["peers", "--headless"], "unrecognized arguments"),
        (["--headless", "peers"], "only applies when starting"),
        (["--incoming-folder", "Downloads/mine"], "must be an absolute path"),
        (["--incoming-folder", "/etc/hostname"], "is not a folder"),
        (["--incoming-folder", "/srv/files", "peers"], "only applies when starting"),
        (["--test-auto-accept", "peers"], "only applies when starting"),
        (["--json"], "--json goes with a command"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = run("--home", str(tmp_path / "h"), *argv, launch=no_launch)
    captured = capsys.readouterr()
    assert result.code == 2
    assert needle in result.err + captured.err


# -- starting the client -----------------------------------------------------------------


def test_start_hands_the_options_to_the_client(tmp_path: Path) -> None:
    seen: list[Options] = []

    def launch(options: Options) -> int:
        seen.append(options)
        return 0

    result = run(
        "--home",
        str(tmp_path / "h"),
        "--interface",
        "127.0.0.1",
        "--interface",
        "::1",
        "--interface",
        "127.0.0.1",
        "--headless",
        "--verbose",
        "--discovery",
        "hidden",
        "--port",
        "7070",
        "--test-invitation-lifetime",
        "3",
        "--instance-tag",
        "t-1",
        "--test-auto-accept",
        "--incoming-folder",
        str(tmp_path / "files"),
        launch=launch,
    )
    assert result.code == 0
    assert seen == [
        Options(
            home=(tmp_path / "h").resolve(),
            interfaces=("127.0.0.1", "::1"),
            headless=True,
            verbose=True,
            discovery=DiscoveryMode.HIDDEN,
            listen_port=7070,
            test_invitation_lifetime=3.0,
            instance_tag="t-1",
            test_auto_accept=True,
            incoming_folder=str(tmp_path / "files"),
        )
    ]
    assert (tmp_path / "h").is_dir()


def test_start_defaults_leave_choices_to_the_settings(tmp_path: Path) -> None:
    seen: list[Options] = []
    run("--home", str(tmp_path / "h"), launch=lambda o: seen.append(o) or 0)
    assert seen == [Options(home=(tmp_path / "h").resolve())]


def test_second_gui_launch_raises_the_running_window(served: Served) -> None:
    result = run("--home", str(served.home), launch=no_launch)
    assert result.code == 0
    assert served.raised == [True]
    assert "already running" in result.out


def test_second_headless_launch_is_refused(served: Served) -> None:
    result = run("--home", str(served.home), "--headless", launch=no_launch)
    assert result.code == 1
    assert "already running" in result.err


def test_launch_after_a_crash_starts_over_the_stale_socket(tmp_path: Path) -> None:
    import socket as socket_module

    home = tmp_path / "h"
    path = Home.resolve(str(home)).control_socket_path
    dead = socket_module.socket(socket_module.AF_UNIX)
    dead.bind(str(path))
    dead.close()
    try:
        seen: list[Options] = []
        assert run("--home", str(home), launch=lambda o: seen.append(o) or 0).code == 0
        assert len(seen) == 1
    finally:
        path.unlink()


# -- commands against a running client ---------------------------------------------------


def test_get_id_prints_the_plain_id(served: Served) -> None:
    result = run("--home", str(served.home), "--get-id")
    assert (result.code, result.err) == (0, "")
    assert result.out == served.facade.current_status.device_id.digits + "\n"


def test_get_status_prints_readable_lines_and_json(served: Served) -> None:
    me = served.facade.current_status
    text = run("--home", str(served.home), "--get-status")
    assert text.code == 0
    assert f"ID:           {me.device_id.grouped()}" in text.out
    assert "Key warning:  no keyring" in text.out
    assert "Accept from:  address book" in text.out
    as_json = run("--get-status", "--home", str(served.home), "--json")
    assert json.loads(as_json.out)["fingerprint"] == me.fingerprint.hex()


def test_peers_table_shows_grouped_ids(served: Served) -> None:
    result = run("peers", "--home", str(served.home))
    header, bob, carol = result.out.splitlines()
    assert header.split() == ["ID", "ALIAS", "NAME", "ONLINE", "SOURCES", "TAGS", "ADDRESS"]
    assert bob.startswith(BOB.device_id.grouped())
    assert "online" in bob and "discovery, favorites" in bob
    assert "127.0.0.5:7070" in carol


def test_invite_edit_cancel_round_trip(served: Served) -> None:
    home = ["--home", str(served.home)]
    sent = run("invite", "bob@ad", "--profile", "Screen Sharing", "--json", *home)
    assert sent.code == 0
    invitation = json.loads(sent.out)
    assert invitation["permissions"] == []
    short = invitation["id"][:8]
    edited = run("edit", short, "--allow", "control", *home)
    assert edited.code == 0
    assert edited.out.startswith(f"Invitation {short} to bob@ad ({BOB.device_id.grouped()})")
    assert "pending, 120 s left, revision 2; permissions: control" in edited.out
    listed = run("invitations", *home)
    assert short in listed.out and "120 s" in listed.out
    assert run("cancel", short, *home).out == f"Cancelled invitation {short}.\n"
    again = run("cancel", short, *home)
    assert again.code == 1
    assert "nothing to cancel" in again.err


def test_accept_and_session_commands(served: Served) -> None:
    home = ["--home", str(served.home)]
    served.facade.put(invitation("5678" * 8, peer=CAROL, kind=Kind.REQUEST, seconds_left=87.25))
    accepted = run("accept", "5678", "--profile", "Default", *home)
    assert accepted.code == 0
    assert "as host; permissions: clipboard, control, draw, system_info" in accepted.out
    served.facade.session_views["9abc" * 8] = session(
        "9abc" * 8,
        frozenset({Permission.CONTROL, Permission.CLIPBOARD}),
        locked=frozenset({Permission.CLIPBOARD}),
        started_at=1_700_000_000.0,
    )
    table = run("sessions", *home)
    assert "9abc9abc  host" in table.out
    locked = run("permissions", "9abc", "--deny", "clipboard", *home)
    assert (locked.code, "locked" in locked.err) == (1, True)
    assert run("end", "9abc", *home).out == "Ended session 9abc9abc.\n"


def test_refusal_exits_1_and_bad_request_exits_2(served: Served) -> None:
    home = ["--home", str(served.home)]
    refused = run("invite", "dave@ad", *home)
    assert (refused.code, refused.out) == (1, "")
    assert refused.err == "anydesk-invite: no peer known as dave@ad\n"
    unknown_profile = run("invite", "bob@ad", "--profile", "Nope", *home)
    assert unknown_profile.code == 2
    assert "unknown profile 'Nope'" in unknown_profile.err


def test_email_invite_prints_or_opens_the_mailto_url(served: Served) -> None:
    home = ["--home", str(served.home)]
    printed = run("email-invite", "--print", *home)
    assert printed.out.startswith("mailto:?subject=")
    opened: list[str] = []
    result = run(
        "email-invite", "--to", "a@example.org", *home, open_url=lambda u: opened.append(u) or True
    )
    assert result.code == 0 and result.out == ""
    assert opened and opened[0].startswith("mailto:a@example.org?")


def test_no_running_client_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "nobody-home"
    result = run("--home", str(home), "--get-id")
    assert result.code == 2
    assert result.err == (
        f"anydesk-invite: no anydesk-invite is running for home {home}; "
        f"start it with `anydesk-invite --home {home}`\n"
    )
    assert not home.exists()


def test_home_without_a_client_exits_2(tmp_path: Path) -> None:
    home = tmp_path / "idle-home"
    home.mkdir()
    result = run("--home", str(home), "sessions")
    assert result.code == 2
    assert "no anydesk-invite is running" in result.err


# -- python -m anydesk_invite ------------------------------------------------------------


def module(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-m", "anydesk_invite", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_python_m_talks_to_the_running_client_with_exit_codes(served: Served) -> None:
    ok = module("--home", str(served.home), "--get-id")
    assert (ok.returncode, ok.stdout) == (0, served.facade.current_status.device_id.digits + "\n")
    refused = module("--home", str(served.home), "cancel", "ffff")
    assert refused.returncode == 1
    assert "no invitation with id ffff" in refused.stderr
    usage = module("--home", str(served.home), "cancel", "ff")
    assert usage.returncode == 2
    nobody = module("--home", str(served.home / "elsewhere"), "--get-id")
    assert nobody.returncode == 2
    assert "no anydesk-invite is running for home" in nobody.stderr


def test_gui_start_without_a_display_says_so_instead_of_aborting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert cli.run_client(Options(home=tmp_path)) == 2
    assert "no display found; set DISPLAY or start with --headless" in capsys.readouterr().err


# -- connect links (the desktop file's URL handler) --------------------------------------


def _link_for(device_digits: str, fingerprint: bytes) -> str:
    return connect_link(DeviceId(device_digits), fingerprint)


def test_a_connect_link_sends_a_request_with_the_links_key_to_the_running_client(
    served: Served,
) -> None:
    fp = bytes(range(32))
    digits = DeviceId.from_fingerprint(fp).digits
    result = run("--home", str(served.home), _link_for(digits, fp), launch=no_launch)
    assert (digits, fp.hex()) in served.facade.calls_of("connect"), result.err


def test_a_connect_link_starts_the_client_with_the_request_when_none_runs(tmp_path: Path) -> None:
    fp = bytes(range(1, 33))
    digits = DeviceId.from_fingerprint(fp).digits
    started: list[Options] = []

    def launch(options: Options) -> int:
        started.append(options)
        return 0

    result = run("--home", str(tmp_path / "fresh"), _link_for(digits, fp), launch=launch)
    assert result.code == 0, result.err
    assert [o.connect_target for o in started] == [(digits, fp.hex())]


def test_a_forged_connect_link_is_refused_with_a_usage_error(tmp_path: Path) -> None:
    result = run(
        "--home", str(tmp_path), "adinvite://connect?id=1234567890&fp=zz", launch=no_launch
    )
    assert result.code == 2
    assert result.err.strip()


def test_output_cut_short_by_the_reader_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # `anydesk-invite --help | head -1`: the reader has closed the pipe before we write.
    from anydesk_invite import __main__ as entry

    read_end, write_end = os.pipe()
    os.close(read_end)
    with open(write_end, "w") as closed_pipe:
        monkeypatch.setattr(sys, "stdout", closed_pipe)
        monkeypatch.setattr(sys, "argv", ["anydesk-invite", "--help"])
        with pytest.raises(SystemExit) as exited:
            entry.main()
    assert exited.value.code == 0
