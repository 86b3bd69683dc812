"""Whole flows between headless client processes on 127.0.0.1, driven only by the command line.

The clients of this module are started once and shared: every test uses its own invitations
and leaves no pending invitation or open session behind (a fixture tidies up after failures).
C and B never connect to each other, so C→B stays a first contact for the alias test.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.processes import HeadlessClient, run_cli, running_clients, wait_until
from tests.helpers.short_dir import short_dir

pytestmark = pytest.mark.e2e

SHORT_LIFETIME = 2.0


class Clients:
    def __init__(self, base: Path) -> None:
        run = secrets.token_hex(2)
        self.a_files = base / "a-files"
        self.a = HeadlessClient(base / "a", "a", alias=f"ann-{run}", incoming_folder=self.a_files)
        self.b = HeadlessClient(base / "b", "b", alias=f"bob-{run}")
        self.c = HeadlessClient(base / "c", "c", alias=f"cat-{run}")
        # S sends invitations that expire after SHORT_LIFETIME seconds.
        self.s = HeadlessClient(base / "s", "s", alias=f"sam-{run}", lifetime=SHORT_LIFETIME)
        # K is killed by one test while its invitation is pending.
        self.k = HeadlessClient(base / "k", "k", alias=f"kim-{run}", lifetime=SHORT_LIFETIME)

    @property
    def all(self) -> list[HeadlessClient]:
        """The clients that must stay alive through the module."""
        return [self.a, self.b, self.c, self.s]


@pytest.fixture(scope="module")
def clients() -> Iterator[Clients]:
    with short_dir() as base:
        cs = Clients(base)
        with running_clients([*cs.all, cs.k]):
            yield cs


@pytest.fixture(autouse=True)
def tidy(clients: Clients) -> Iterator[None]:
    """After each test: no pending invitation, no open session, all clients still alive."""
    yield
    for c in clients.all:
        if c.running():
            c.tidy()
    for c in clients.all:
        assert c.running(), f"client {c.name} died:\n{c.output()}"


def invite(inviter: HeadlessClient, invitee: HeadlessClient, *args: str) -> str:
    """Invite by ID once the inviter sees the invitee; the invitation id, once received."""
    inviter.wait_for_peer(invitee)
    v = inviter.cli("invite", invitee.device_id, *args).ok()
    assert (v["direction"], v["state"], v["revision"]) == ("outgoing", "pending", 1)
    invitee.wait_for_invitation(v["id"], ["received"])
    return str(v["id"])


def test_alias_option_sets_the_alias_that_get_alias_and_peers_show(clients: Clients) -> None:
    a, b = clients.a, clients.b
    got = a.cli("--get-alias", as_json=False)
    assert (got.code, got.stdout.strip()) == (0, a.alias)
    assert a.alias.startswith("ann-") and a.alias.endswith("@ad")
    assert b.wait_for_peer(a)["alias"] == a.alias


def test_alias_option_with_a_bad_name_is_a_usage_error() -> None:
    with short_dir() as base:
        start = [sys.executable, "-m", "anydesk_invite", "--home", str(base), "--headless"]
        done = subprocess.run(
            [*start, "--alias", "not an alias!"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert done.returncode == 2
    assert "--alias" in done.stderr and "alias name may hold only" in done.stderr


def test_clients_discover_each_other_on_loopback(clients: Clients) -> None:
    a, b = clients.a, clients.b
    seen_by_a = a.wait_for_peer(b)
    seen_by_b = b.wait_for_peer(a)
    assert (seen_by_a["alias"], seen_by_a["fingerprint"]) == (b.alias, b.fingerprint)
    assert (seen_by_b["alias"], seen_by_b["fingerprint"]) == (a.alias, a.fingerprint)
    assert "discovery" in seen_by_a["sources"] and "discovery" in seen_by_b["sources"]
    table = a.cli("peers", as_json=False)
    assert table.code == 0 and b.alias in table.stdout and "online" in table.stdout


def test_invite_by_alias_known_only_from_discovery_needs_the_fingerprint(
    clients: Clients,
) -> None:
    c, b = clients.c, clients.b
    c.wait_for_peer(b)
    refused = c.cli("invite", b.alias)
    assert refused.code == 1
    assert "known only from discovery" in refused.stderr
    assert f"--confirm {b.fingerprint[:16]}" in refused.stderr
    assert not [v for v in c.cli("invitations").ok() if v["peer_id"] == b.device_id]

    wrong = c.cli("invite", b.alias, "--confirm", "0" * 16)
    assert wrong.code == 1, wrong

    v = c.cli("invite", b.alias, "--confirm", b.fingerprint[:16]).ok()
    assert (v["peer_id"], v["peer_alias"], v["state"]) == (b.device_id, b.alias, "pending")
    got = b.wait_for_invitation(v["id"], ["received"])
    assert (got["peer_id"], got["peer_alias"]) == (c.device_id, c.alias)


def test_address_book_and_favorites_from_the_command_line_with_the_address_probed_at_once(
    clients: Clients,
) -> None:
    a, b = clients.a, clients.b
    [listen] = [x for x in b.cli("--get-status").ok()["listen"] if x.startswith("127.0.0.1:")]
    added = a.cli(
        "address-book",
        "add",
        b.device_id,
        "--address",
        listen,
        "--name",
        "Bob's PC",
        "--tag",
        "office",
        "--tag",
        "lab",
    ).ok()
    assert (added["id"], added["display_name"], added["address"]) == (
        b.device_id,
        "Bob's PC",
        listen,
    )
    assert added["tags"] == ["office", "lab"]
    assert added["probe"] == {"reachable": True, "reason": ""}
    text = a.cli("address-book", "list", as_json=False)
    assert text.code == 0 and "Bob's PC" in text.stdout and listen in text.stdout
    [entry] = [e for e in a.cli("address-book", "list").ok() if e["id"] == b.device_id]
    assert entry["online"]

    assert a.cli("favorites", "add", b.device_id).ok() == {"id": b.device_id, "favorite": True}
    [peer] = [p for p in a.cli("peers").ok() if p["id"] == b.device_id]
    assert "favorites" in peer["sources"]
    assert a.cli("favorites", "remove", b.device_id).ok()["favorite"] is False

    nowhere = a.cli("address-book", "add", b.device_id, "--address", "127.0.0.1:1").ok()
    assert nowhere["probe"]["reachable"] is False and nowhere["probe"]["reason"]
    said = a.cli("address-book", "add", b.device_id, "--address", "127.0.0.1:1", as_json=False)
    assert "It does not answer at 127.0.0.1:1: " in said.stdout
    bad = a.cli("address-book", "add", b.device_id, "--address", "no-port")
    assert bad.code == 2 and "host:port" in bad.stderr

    assert a.cli("address-book", "remove", b.device_id).ok()["id"] == b.device_id
    assert all(e["id"] != b.device_id for e in a.cli("address-book", "list").ok())
    gone = a.cli("address-book", "remove", b.device_id)
    assert gone.code != 0 and "not in the address book" in gone.stderr


def test_edit_gives_revision_two_on_both_sides_with_the_same_deadline(clients: Clients) -> None:
    a, b = clients.a, clients.b
    inv = invite(a, b, "--profile", "Default")
    before = a.invitation(inv)
    assert before is not None

    edited = a.cli("edit", inv[:8], "--profile", "Screen Sharing", "--allow", "clipboard").ok()
    assert (edited["id"], edited["revision"]) == (inv, 2)
    assert edited["permissions"] == ["clipboard"]
    # An edit does not extend the lifetime.
    assert edited["seconds_left"] <= before["seconds_left"]
    seen = b.wait_for_invitation(inv, ["received"], check=lambda v: v["revision"] == 2)
    assert seen["permissions"] == ["clipboard"]
    assert seen["seconds_left"] <= before["seconds_left"]


def test_cancel_shows_as_cancelled_and_missed_on_the_invitee(clients: Clients) -> None:
    a, b = clients.a, clients.b
    inv = invite(a, b)
    done = a.cli("cancel", inv[:8]).ok()
    assert done == {"id": inv}
    assert a.wait_for_invitation(inv, ["cancelled"])["missed"] is False
    assert b.wait_for_invitation(inv, ["cancelled"])["missed"] is True
    table = b.cli("invitations", as_json=False).stdout
    assert any(inv[:8] in line and "cancelled (missed)" in line for line in table.splitlines())
    late = b.cli("accept", inv[:8])
    assert late.code == 1 and late.stderr


def test_rejected_invitation_ends_rejected_on_both_sides(clients: Clients) -> None:
    a, b = clients.a, clients.b
    inv = invite(a, b)
    rejected = b.cli("reject", inv[:8], as_json=False)
    assert (rejected.code, rejected.stdout.strip()) == (0, f"Rejected {inv[:8]}.")
    assert a.wait_for_invitation(inv, ["rejected"])
    assert b.wait_for_invitation(inv, ["rejected"])["missed"] is False
    assert a.sessions_with(b) == [] and b.sessions_with(a) == []


def test_invitation_expires_on_both_sides_and_a_late_accept_is_refused(clients: Clients) -> None:
    s, b = clients.s, clients.b
    inv = invite(s, b)
    bound = SHORT_LIFETIME + 5
    assert s.wait_for_invitation(inv, ["expired"], timeout=bound)["seconds_left"] == 0
    seen = b.wait_for_invitation(inv, ["expired"], timeout=bound)
    assert seen["missed"] is True
    late = b.cli("accept", inv[:8])
    assert late.code == 1
    assert late.stderr.startswith("anydesk-invite: ")
    assert b.sessions_with(s) == [] and s.sessions_with(b) == []


def test_accept_opens_a_session_on_both_sides_and_end_closes_it(clients: Clients) -> None:
    a, b = clients.a, clients.b
    inv = invite(a, b, "--profile", "Screen Sharing", "--allow", "control")

    session = b.cli("accept", inv[:8]).ok()
    assert (session["role"], session["peer_id"]) == ("guest", a.device_id)
    assert session["permissions"] == ["control"]
    (hosted,) = a.wait_for_sessions(b, 1)
    assert (hosted["id"], hosted["role"]) == (session["id"], "host")
    assert hosted["permissions"] == ["control"]
    # Both ends show the same verification code, for people to compare on a first contact.
    assert hosted["verification"] == session["verification"]
    assert re.fullmatch(r"\d{3} \d{3}", session["verification"])
    assert a.wait_for_invitation(inv, ["connected"])
    assert b.wait_for_invitation(inv, ["connected"])

    ended = a.cli("end", session["id"][:8], as_json=False)
    assert (ended.code, ended.stdout.strip()) == (0, f"Ended session {session['id'][:8]}.")
    b.wait_for_sessions(a, 0)
    assert a.sessions_with(b) == []


def test_a_headless_host_tells_its_guest_it_cannot_show_drawings_or_inject_input(
    clients: Clients,
) -> None:
    a, b = clients.a, clients.b
    inv = invite(a, b, "--profile", "Full Access")
    session = b.cli("accept", inv[:8]).ok()
    assert {"draw", "control"} <= set(session["permissions"])

    def told() -> dict[str, Any] | None:  # the host's Unavailable follows the session's start
        [seen] = [s for s in b.cli("sessions").ok() if s["id"] == session["id"]]
        return seen if {"draw", "control"} <= set(seen["unavailable"]) else None

    seen = wait_until(told, timeout=10, what="the guest to learn what the host cannot do")
    assert seen["unavailable"]["draw"] == (
        "the host runs without a window (headless) and cannot show drawings"
    )
    assert seen["unavailable"]["control"]
    (hosted,) = a.wait_for_sessions(b, 1)
    assert hosted["unavailable"] == {}  # the host knows its own limits; nothing to be told
    a.cli("end", session["id"][:8]).ok()


def test_a_file_sent_from_the_command_line_lands_in_the_hosts_chosen_folder(
    clients: Clients, tmp_path: Path
) -> None:
    a, c = clients.a, clients.c  # a was started with --incoming-folder
    inv = invite(a, c, "--profile", "Full Access")
    session = c.cli("accept", inv[:8]).ok()
    source = tmp_path / "handover.txt"
    source.write_text("what to do while I am away")
    sent = c.cli("send-file", session["id"][:8], str(source)).ok()
    assert (sent["state"], sent["size"]) == ("done", source.stat().st_size)
    assert (clients.a_files / "handover.txt").read_text() == source.read_text()
    a.cli("end", session["id"][:8]).ok()


def test_accepted_connection_request_makes_the_requester_guest(clients: Clients) -> None:
    a, b = clients.a, clients.b
    b.wait_for_peer(a)
    req = b.cli("connect", a.device_id).ok()
    assert (req["kind"], req["direction"], req["state"]) == ("request", "outgoing", "pending")
    listed = a.wait_for_invitation(req["id"], ["received"])
    assert (listed["kind"], listed["direction"], listed["peer_id"]) == (
        "request",
        "incoming",
        b.device_id,
    )

    hosted = a.cli("accept", req["id"][:8], "--profile", "Screen Sharing").ok()
    assert (hosted["role"], hosted["peer_id"], hosted["permissions"]) == ("host", b.device_id, [])
    (guest,) = b.wait_for_sessions(a, 1)
    assert (guest["id"], guest["role"], guest["permissions"]) == (hosted["id"], "guest", [])


def test_dismissed_connection_request_shows_declined_to_the_requester(clients: Clients) -> None:
    a, b = clients.a, clients.b
    b.wait_for_peer(a)
    req = b.cli("connect", a.device_id).ok()
    a.wait_for_invitation(req["id"], ["received"])
    assert a.cli("reject", req["id"][:8]).ok() == {"id": req["id"]}
    seen = b.wait_for_invitation(req["id"], ["rejected"])
    assert seen["reason"] == "declined"
    assert b.sessions_with(a) == [] and a.sessions_with(b) == []


def test_one_inviter_hosts_two_sessions_when_both_invitees_accept(clients: Clients) -> None:
    a, b, c = clients.a, clients.b, clients.c
    a.wait_for_peer(b)
    a.wait_for_peer(c)
    to_b = a.cli("invite", b.device_id).ok()["id"]
    to_c = a.cli("invite", c.device_id, "--profile", "Full Access").ok()["id"]
    b.wait_for_invitation(to_b, ["received"])
    c.wait_for_invitation(to_c, ["received"])

    accepts = [
        subprocess.Popen(
            [sys.executable, "-m", "anydesk_invite", "--home", str(x.home), "accept", inv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for x, inv in ((b, to_b), (c, to_c))
    ]
    for p in accepts:
        _out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err

    wait_until(
        lambda: {b.device_id, c.device_id} <= {s["peer_id"] for s in a.cli("sessions").ok()},
        timeout=15,
        what="A to host sessions with B and C",
    )
    hosted = {s["peer_id"]: s for s in a.cli("sessions").ok()}
    assert hosted[b.device_id]["role"] == hosted[c.device_id]["role"] == "host"
    assert "file_transfer" in hosted[c.device_id]["permissions"]
    assert "file_transfer" not in hosted[b.device_id]["permissions"]
    assert b.wait_for_sessions(a, 1)[0]["role"] == "guest"
    assert c.wait_for_sessions(a, 1)[0]["role"] == "guest"


def test_invitee_drops_the_invitation_of_a_killed_inviter_at_its_deadline(
    clients: Clients,
) -> None:
    b, k = clients.b, clients.k
    inv = invite(k, b)
    k.kill()
    assert not k.running()
    # Nobody tells B: it counts down on its own clock.
    seen = b.wait_for_invitation(inv, ["expired"], timeout=SHORT_LIFETIME + 5)
    assert seen["missed"] is True


def test_exit_codes_say_done_refused_or_usage(clients: Clients) -> None:
    a = clients.a
    assert a.cli("--get-id", as_json=False).code == 0
    # An id nobody knows: refused.
    unknown = a.cli("cancel", "feedface")
    assert unknown.code == 1 and "no invitation" in unknown.stderr
    # Not an ID and not an alias: a usage error before anything is sent.
    bad = a.cli("invite", "12345")
    assert bad.code == 2
    with short_dir() as empty:
        nobody = run_cli(empty / "none", "--get-id", as_json=False)
    assert nobody.code == 2 and "no anydesk-invite is running" in nobody.stderr
