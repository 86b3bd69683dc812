"""A peer killed with SIGKILL mid-invitation or mid-session leaves the survivor consistent
within 10 s: its command line shows the session gone, or the invitation expired on its own
clock. Headless client processes on 127.0.0.1, driven by the command line."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.processes import HeadlessClient, start_clients, stop_clients
from tests.helpers.short_dir import short_dir
from tests.reliability.rig import record

pytestmark = pytest.mark.e2e

CONSISTENT_WITHIN = 10.0
LIFETIME = 3.0


class Pair:
    def __init__(self, base: Path) -> None:
        run = secrets.token_hex(2)
        self.a = HeadlessClient(base / "a", "a", alias=f"ann-{run}", lifetime=LIFETIME)
        self.b = HeadlessClient(base / "b", "b", alias=f"bob-{run}", lifetime=LIFETIME)


@pytest.fixture
def pair() -> Iterator[Pair]:
    with short_dir() as base:
        p = Pair(base)
        start_clients([p.a, p.b])
        try:
            p.a.wait_for_peer(p.b)
            yield p
        finally:
            stop_clients([p.a, p.b])


def invite(inviter: HeadlessClient, invitee: HeadlessClient) -> str:
    v = inviter.cli("invite", invitee.device_id).ok()
    invitee.wait_for_invitation(v["id"], ["received"])
    return str(v["id"])


@pytest.mark.parametrize("killed", ["inviter", "invitee"])
def test_a_peer_killed_mid_invitation_leaves_the_survivor_expiring_it(
    pair: Pair, killed: str
) -> None:
    inv = invite(pair.a, pair.b)
    victim, survivor = (pair.a, pair.b) if killed == "inviter" else (pair.b, pair.a)
    started = time.monotonic()
    victim.kill()
    seen = survivor.wait_for_invitation(inv, ["expired"], timeout=CONSISTENT_WITHIN)
    took = time.monotonic() - started
    if survivor is pair.b:
        assert seen["missed"] is True
    assert survivor.running(), survivor.output()
    record(f"killed-{killed}-mid-invitation", "survivor consistent", took, "s")


@pytest.mark.parametrize("killed", ["host", "guest"])
def test_a_peer_killed_mid_session_leaves_no_session_on_the_survivor(
    pair: Pair, killed: str
) -> None:
    inv = invite(pair.a, pair.b)
    pair.b.cli("accept", inv[:8]).ok()
    pair.a.wait_for_sessions(pair.b, 1)
    victim, survivor, other = (
        (pair.a, pair.b, pair.a) if killed == "host" else (pair.b, pair.a, pair.b)
    )
    started = time.monotonic()
    victim.kill()
    survivor.wait_for_sessions(other, 0, timeout=CONSISTENT_WITHIN)
    took = time.monotonic() - started
    assert survivor.running(), survivor.output()
    record(f"killed-{killed}-mid-session", "survivor consistent", took, "s")
