"""The local control API over a real Unix socket, against an honest in-memory facade."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import stat
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from anydesk_invite.core.ids import verification_code
from anydesk_invite.core.invitation import Kind, State
from anydesk_invite.core.permissions import Permission
from anydesk_invite.services.control import (
    MAX_REQUEST,
    AlreadyRunning,
    ControlServer,
)
from anydesk_invite.services.control_client import NotRunning, send_command
from anydesk_invite.services.control_commands import ControlCommands
from anydesk_invite.services.views import InvitationView
from tests.helpers.fake_client import BOB, CAROL, FakeClient, invitation, session
from tests.helpers.short_dir import short_dir


def commands_of(facade: FakeClient) -> ControlCommands:
    """The control commands over this facade, with a raise that does nothing."""
    return ControlCommands(facade, on_raise=lambda: None)


def incoming(invitation_id: str, **kw: Any) -> InvitationView:
    """An invitation from Carol offering control, with some time left."""
    return invitation(
        invitation_id,
        peer=CAROL,
        permissions=frozenset({Permission.CONTROL}),
        seconds_left=87.25,
        **kw,
    )


@dataclass
class Running:
    facade: FakeClient
    server: ControlServer
    path: Path
    raised: list[bool] = field(default_factory=list)

    async def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        return await send_command(self.path, cmd, args)

    async def ok(self, cmd: str, **args: Any) -> Any:
        response = await self.call(cmd, **args)
        assert response["ok"] is True, response
        return response["result"]

    async def fails(self, cmd: str, code: int, **args: Any) -> str:
        response = await self.call(cmd, **args)
        assert response["ok"] is False, response
        assert response["code"] == code, response
        assert set(response) == {"ok", "error", "code"}
        return str(response["error"])


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    with short_dir() as d:
        yield d


@pytest.fixture
async def running(socket_dir: Path) -> AsyncIterator[Running]:
    facade = FakeClient.with_a_key_file()
    raised: list[bool] = []
    path = socket_dir / "run" / "control"
    server = ControlServer(ControlCommands(facade, on_raise=lambda: raised.append(True)), path)
    await server.start()
    yield Running(facade, server, path, raised)
    await server.close()


async def raw_exchange(path: Path, data: bytes) -> list[dict[str, Any]]:
    """Send raw bytes, then read every answer until the server closes or goes quiet."""
    reader, writer = await asyncio.open_unix_connection(str(path))
    writer.write(data)
    await writer.drain()
    writer.write_eof()
    answers = []
    while line := await asyncio.wait_for(reader.readline(), 5):
        answers.append(json.loads(line))
    writer.close()
    return answers


# -- round trips ------------------------------------------------------------------------


async def test_get_id_and_alias_return_plain_strings(running: Running) -> None:
    me = running.facade.current_status
    assert await running.ok("get-id") == me.device_id.digits
    assert await running.ok("get-alias") == "me@ad"


async def test_get_status_reports_every_documented_field(running: Running) -> None:
    status = await running.ok("get-status")
    me = running.facade.current_status
    assert status == {
        "id": me.device_id.digits,
        "alias": "me@ad",
        "fingerprint": me.fingerprint.hex(),
        "online": True,
        "listen": ["127.0.0.1:7070"],
        "discovery": "hidden",
        "interfaces": ["127.0.0.1"],
        "key_location": "file",
        "key_warning": "no keyring: the key is a 0600 file in the home folder",
        "policy_broken": None,
        "accept_from": "address_book",
        "home": "/tmp/home",
        "wide_area": "off",
    }


async def test_peers_lists_each_peer_with_sources_tags_and_address(running: Running) -> None:
    peers = await running.ok("peers")
    assert peers == [
        {
            "id": BOB.device_id.digits,
            "alias": "bob@ad",
            "display_name": "Bob's laptop",
            "online": True,
            "sources": ["discovery", "favorites"],
            "found_via": [],
            "tags": ["team"],
            "fingerprint": BOB.fingerprint.hex() if BOB.fingerprint else None,
            "address": None,
            "conflict": False,
        },
        {
            "id": CAROL.device_id.digits,
            "alias": "carol@ad",
            "display_name": "",
            "online": False,
            "sources": ["address_book"],
            "found_via": [],
            "tags": [],
            "fingerprint": None,
            "address": "127.0.0.5:7070",
            "conflict": False,
        },
    ]


async def test_invite_starts_from_default_profile_then_allows_and_denies(
    running: Running,
) -> None:
    result = await running.ok("invite", target="bob@ad", allow=["file-transfer"], deny=["draw"])
    target, perms, profile, confirm = running.facade.calls_of("invite")[0]
    assert target == "bob@ad"
    assert perms == frozenset(
        {Permission.CONTROL, Permission.CLIPBOARD, Permission.FILE_TRANSFER, Permission.SYSTEM_INFO}
    )
    assert profile == ""  # the set matches no profile any more
    assert confirm is None
    assert set(result) == {
        "id",
        "kind",
        "direction",
        "peer_id",
        "peer_alias",
        "state",
        "revision",
        "seconds_left",
        "permissions",
        "profile",
        "reason",
        "missed",
        "verification",
    }
    own = running.facade.status().fingerprint
    assert result["verification"] == verification_code(own, BOB.fingerprint or b"")
    assert result["permissions"] == ["clipboard", "control", "file_transfer", "system_info"]
    assert (result["kind"], result["direction"], result["state"]) == (
        "invitation",
        "outgoing",
        "pending",
    )
    assert result["peer_id"] == BOB.device_id.digits


async def test_invite_uses_the_users_default_profile_setting(running: Running) -> None:
    running.facade.default_profile = "Helpdesk"
    result = await running.ok("invite", target=BOB.device_id.grouped())
    assert result["profile"] == "Helpdesk"
    assert result["permissions"] == ["control", "system_info"]
    assert running.facade.calls_of("invite")[0][0] == BOB.device_id.digits


async def test_invite_profile_name_is_case_insensitive_and_reported(running: Running) -> None:
    result = await running.ok("invite", target="bob", profile="screen sharing")
    assert result["profile"] == "Screen Sharing"
    assert result["permissions"] == []


async def test_invite_allow_that_lands_on_another_profile_names_it(running: Running) -> None:
    result = await running.ok("invite", target="bob@ad", allow=["file_transfer"])
    assert result["profile"] == "Full Access"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"target": "bob@ad", "profile": "Nope"}, "unknown profile 'Nope'"),
        ({"target": "bob@ad", "allow": ["teleport"]}, "unknown permission 'teleport'"),
        ({"target": "bob@ad", "allow": ["draw"], "deny": ["draw"]}, "both allowed and denied"),
        ({"target": "123 456"}, "neither an ID nor an alias"),
        ({"target": "bob@example.com"}, "neither an ID nor an alias"),
        ({"target": "bob@ad", "confirm": "xyz"}, "not a fingerprint"),
    ],
)
async def test_invite_with_bad_arguments_is_a_usage_error(
    running: Running, args: dict[str, Any], needle: str
) -> None:
    assert needle in await running.fails("invite", 2, **args)
    assert running.facade.calls_of("invite") == []


async def test_invite_refused_by_the_client_is_code_1_with_its_reason(running: Running) -> None:
    await running.ok("invite", target="bob@ad")
    assert "is pending" in await running.fails("invite", 1, target="bob@ad")
    assert "no peer known as dave@ad" in await running.fails("invite", 1, target="dave@ad")


async def test_edit_by_prefix_keeps_permissions_as_sent_and_bumps_revision(
    running: Running,
) -> None:
    first = await running.ok("invite", target="bob@ad", profile="Helpdesk")
    edited = await running.ok("edit", id=first["id"][:6].upper(), deny=["system_info"])
    assert edited["id"] == first["id"]
    assert edited["revision"] == 2
    assert edited["permissions"] == ["control"]
    again = await running.ok("edit", id=first["id"], profile="Full Access")
    assert again["revision"] == 3
    assert again["permissions"] == ["clipboard", "control", "draw", "file_transfer", "system_info"]


async def test_cancel_then_edit_is_refused(running: Running) -> None:
    first = await running.ok("invite", target="bob@ad")
    assert await running.ok("cancel", id=first["id"][:8]) == {"id": first["id"]}
    (listed,) = await running.ok("invitations")
    assert listed["state"] == "cancelled"
    assert "no longer be edited" in await running.fails("edit", 1, id=first["id"], allow=["draw"])


async def test_ids_must_be_four_hex_digits_unique_and_known(running: Running) -> None:
    running.facade.put(incoming("abcd0001" * 4))
    running.facade.put(incoming("abcd0002" * 4))
    assert "at least 4 of its hex digits" in await running.fails("reject", 2, id="abc")
    assert "at least 4 of its hex digits" in await running.fails("reject", 2, id="zzzz")
    assert "2 invitations start with abcd" in await running.fails("reject", 2, id="abcd")
    assert "no invitation with id ffff" in await running.fails("reject", 1, id="ffff")
    assert await running.ok("reject", id="abcd0002") == {"id": "abcd0002" * 4}
    assert running.facade.views["abcd0002" * 4].state is State.REJECTED


async def test_accept_invitation_opens_a_guest_session_with_its_permissions(
    running: Running,
) -> None:
    running.facade.put(incoming("1234" * 8))
    result = await running.ok("accept", id="1234")
    assert result == {
        "id": running.facade.sessions()[0].session_id,
        "role": "guest",
        "peer_id": CAROL.device_id.digits,
        "peer_alias": "carol@ad",
        "permissions": ["control"],
        "locked": [],
        "started_at": 1_700_000_100.0,
        "unavailable": {},
        "verification": verification_code(
            running.facade.status().fingerprint, running.facade.sessions()[0].peer_fingerprint
        ),
    }
    assert running.facade.calls_of("accept") == [("1234" * 8, None, "")]


async def test_accept_invitation_with_permissions_is_a_usage_error(running: Running) -> None:
    running.facade.put(incoming("1234" * 8))
    assert "inviter sets the permissions" in await running.fails(
        "accept", 2, id="1234", profile="Default"
    )
    assert running.facade.calls_of("accept") == []


async def test_accept_request_lets_the_owner_choose_the_permissions(running: Running) -> None:
    request = incoming("5678" * 8, kind=Kind.REQUEST, profile="Screen Sharing")
    running.facade.put(request)
    result = await running.ok("accept", id="5678", profile="Helpdesk", deny=["control"])
    assert result["role"] == "host"
    assert result["permissions"] == ["system_info"]
    assert running.facade.calls_of("accept") == [
        ("5678" * 8, frozenset({Permission.SYSTEM_INFO}), "")
    ]


async def test_accept_request_without_choice_leaves_the_default_to_the_client(
    running: Running,
) -> None:
    running.facade.put(incoming("5678" * 8, kind=Kind.REQUEST))
    await running.ok("accept", id="5678")
    assert running.facade.calls_of("accept") == [("5678" * 8, None, "")]


async def test_connect_normalizes_the_confirmed_fingerprint(running: Running) -> None:
    fp = "AB:CD " * 16
    result = await running.ok("connect", target=CAROL.device_id.digits, confirm=fp)
    assert result["kind"] == "request"
    assert running.facade.calls_of("connect") == [(CAROL.device_id.digits, "abcd" * 16)]
    assert "confirm its fingerprint" in await running.fails("connect", 1, target="carol@ad")


async def test_sessions_permissions_and_end(running: Running) -> None:
    running.facade.session_views["9abc" * 8] = session(
        "9abc" * 8,
        frozenset({Permission.CONTROL, Permission.CLIPBOARD}),
        locked=frozenset({Permission.CLIPBOARD}),
        started_at=1_700_000_000.0,
    )
    (listed,) = await running.ok("sessions")
    assert listed["permissions"] == ["clipboard", "control"]
    assert listed["locked"] == ["clipboard"]
    changed = await running.ok("permissions", session="9abc", allow=["draw"], deny=["control"])
    assert changed["permissions"] == ["clipboard", "draw"]
    assert "locked" in await running.fails("permissions", 1, session="9abc", deny=["clipboard"])
    assert await running.ok("end", session="9abc9abc") == {"id": "9abc" * 8}
    assert await running.ok("sessions") == []
    assert "no session with id 9abc" in await running.fails("end", 1, session="9abc")


async def test_raise_brings_the_window_forward(running: Running) -> None:
    assert await running.ok("raise") is None
    assert running.raised == [True]


async def test_email_invite_returns_a_mailto_url_with_the_id(running: Running) -> None:
    result = await running.ok("email-invite", to="friend@example.org")
    assert result["url"].startswith("mailto:friend@example.org?subject=")
    assert running.facade.current_status.device_id.digits in result["url"]
    assert "not an email address" in await running.fails("email-invite", 2, to="nobody")


# -- bad requests -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (b"not json\n", "not JSON"),
        (b"[1, 2]\n", "is a JSON object"),
        (b'{"cmd": "format-disk"}\n', "unknown command 'format-disk'"),
        (b'{"cmd": "peers", "extra": 1}\n', "unknown request field"),
        (b'{"cmd": "peers", "args": []}\n', "args is a JSON object"),
        (b'{"cmd": "cancel", "args": {}}\n', "missing argument 'id'"),
        (b'{"cmd": "cancel", "args": {"id": 5}}\n', "id is a non-empty string"),
        (b'{"cmd": "invite", "args": {"target": "b", "allow": "draw"}}\n', "list of strings"),
        (b'{"cmd": "end", "args": {"session": "abcd", "force": true}}\n', "unknown argument"),
        (b'\xff\xfe{"cmd": "peers"}\n', "not JSON"),
    ],
)
async def test_malformed_requests_get_code_2_and_the_connection_stays_usable(
    running: Running, line: bytes, needle: str
) -> None:
    answers = await raw_exchange(running.path, line + b'{"cmd": "get-alias"}\n')
    assert len(answers) == 2
    assert answers[0]["ok"] is False and answers[0]["code"] == 2
    assert needle in answers[0]["error"]
    assert answers[1] == {"ok": True, "result": "me@ad"}


async def test_oversize_request_is_refused_and_closed_while_others_are_served(
    running: Running,
) -> None:
    reader, writer = await asyncio.open_unix_connection(str(running.path))
    writer.write(b'{"cmd": "peers", "args": {"x": "' + b"a" * (MAX_REQUEST + 10))
    # A client that stalls half-way through a request holds no one else up.
    assert await running.ok("get-alias") == "me@ad"
    answer = json.loads(await asyncio.wait_for(reader.readline(), 5))
    assert answer["code"] == 2 and "longer than 64 KiB" in answer["error"]
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    assert await running.ok("get-alias") == "me@ad"


async def test_a_silent_client_does_not_block_others(running: Running) -> None:
    _reader, writer = await asyncio.open_unix_connection(str(running.path))
    writer.write(b'{"cmd": "pee')
    await writer.drain()
    results = await asyncio.gather(*(running.ok("get-id") for _ in range(5)))
    assert len(set(results)) == 1
    writer.close()


# -- the socket ------------------------------------------------------------------------


async def test_socket_is_0600_in_a_0700_directory_and_removed_on_close(
    running: Running,
) -> None:
    assert stat.S_IMODE(os.stat(running.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(running.path.parent).st_mode) == 0o700
    assert stat.S_ISSOCK(os.lstat(running.path).st_mode)
    await running.server.close()
    assert not running.path.exists()
    with pytest.raises(NotRunning):
        await send_command(running.path, "get-id")


async def test_second_server_on_a_live_socket_is_already_running(running: Running) -> None:
    other = ControlServer(
        ControlCommands(FakeClient.with_a_key_file(), on_raise=lambda: None), running.path
    )
    with pytest.raises(AlreadyRunning):
        await other.start()
    assert await running.ok("get-alias") == "me@ad"


async def test_stale_socket_is_replaced(socket_dir: Path) -> None:
    path = socket_dir / "control"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()  # the file stays, nobody listens: a crashed client's leftover
    server = ControlServer(
        ControlCommands(FakeClient.with_a_key_file(), on_raise=lambda: None), path
    )
    await server.start()
    try:
        assert (await send_command(path, "get-alias"))["result"] == "me@ad"
    finally:
        await server.close()


async def test_a_regular_file_at_the_socket_path_is_left_alone(socket_dir: Path) -> None:
    path = socket_dir / "control"
    path.write_text("precious")
    server = ControlServer(
        ControlCommands(FakeClient.with_a_key_file(), on_raise=lambda: None), path
    )
    with pytest.raises(FileExistsError, match="not a socket"):
        await server.start()
    assert path.read_text() == "precious"


@pytest.mark.skipif(os.getuid() != 0, reason="handing a directory to another uid needs root")
async def test_a_directory_of_another_user_is_refused(socket_dir: Path) -> None:
    loose = socket_dir / "shared"
    loose.mkdir()
    os.chown(loose, 12345, 12345)
    server = ControlServer(
        ControlCommands(FakeClient.with_a_key_file(), on_raise=lambda: None), loose / "control"
    )
    with pytest.raises(PermissionError, match="not a directory owned by you"):
        await server.start()


async def test_caller_of_another_uid_is_refused_and_logged(
    socket_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    facade = FakeClient.with_a_key_file()
    path = socket_dir / "control"
    server = ControlServer(
        ControlCommands(facade, on_raise=lambda: None), path, peer_uid=lambda _sock: os.getuid() + 1
    )
    await server.start()
    try:
        with caplog.at_level(logging.WARNING, logger="anydesk_invite.services.control"):
            response = await send_command(path, "raise")
        assert response["ok"] is False and response["code"] == 1
        assert "permission denied" in response["error"]
        assert f"uid {os.getuid() + 1}" in caplog.text
    finally:
        await server.close()


async def test_the_real_peer_credential_check_lets_the_owner_in(running: Running) -> None:
    # The fixture uses the real SO_PEERCRED check: our own uid passes.
    assert await running.ok("get-alias") == "me@ad"
    assert running.facade.calls == []
