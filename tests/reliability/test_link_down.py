"""The link between two hosts (network namespaces joined by a veth pair) goes down and comes
back. As docs/PROTOCOL.md says, a channel lives through silence shorter than the idle timeout
(9 s): a session survives a short outage, and a new invitation works once the link is back.
Skipped, with the reason, where namespaces cannot be made."""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.helpers.processes import (
    HeadlessClient,
    NamespacePair,
    NamespaceUnavailable,
    running_clients,
)
from tests.helpers.short_dir import short_dir
from tests.reliability.rig import record, scale

pytestmark = [pytest.mark.e2e, pytest.mark.netns]

OUTAGE = 3.0


def outage() -> float:
    """The outage to test: longer with --scale, but always under the 9 s idle timeout."""
    return min(OUTAGE * scale(), 6.0)


@pytest.fixture
def namespaces() -> Iterator[NamespacePair]:
    pair = NamespacePair()
    try:
        pair.create()
    except NamespaceUnavailable as exc:
        pytest.skip(f"network namespaces unavailable: {exc}")
    try:
        yield pair
    finally:
        pair.close()


def _link(ns: str, state: str) -> None:
    subprocess.run(["ip", "-n", ns, "link", "set", "adiva", state], check=True, timeout=10)


def test_a_session_survives_a_short_link_outage_and_a_new_invitation_works_after(
    namespaces: NamespacePair,
) -> None:
    (ns_a, ns_b), (ip_a, ip_b) = namespaces.names, NamespacePair.ADDRESSES
    run = secrets.token_hex(2)
    with short_dir() as base:
        a = HeadlessClient(base / "a", "a", interface=ip_a, alias=f"ann-{run}", netns=ns_a)
        b = HeadlessClient(base / "b", "b", interface=ip_b, alias=f"bob-{run}", netns=ns_b)
        with running_clients([a, b]):
            a.wait_for_peer(b)
            inv = a.cli("invite", b.device_id).ok()
            b.wait_for_invitation(inv["id"], ["received"])
            session = b.cli("accept", inv["id"][:8]).ok()
            a.wait_for_sessions(b, 1)

            _link(ns_a, "down")
            time.sleep(outage())  # the outage itself is what is tested
            _link(ns_a, "up")
            back = time.monotonic()

            # Shorter than the idle timeout: the same session is still open on both sides.
            assert [s["id"] for s in a.wait_for_sessions(b, 1)] == [session["id"]]
            assert [s["id"] for s in b.wait_for_sessions(a, 1)] == [session["id"]]
            assert b.cli("end", session["id"][:8]).ok() == {"id": session["id"]}
            a.wait_for_sessions(b, 0)

            again = a.cli("invite", b.device_id).ok()
            b.wait_for_invitation(again["id"], ["received"])
            second = b.cli("accept", again["id"][:8]).ok()
            a.wait_for_sessions(b, 1)
            recovered = time.monotonic() - back
            assert second["id"] != session["id"]
            record("link-down-up", "outage", outage(), "s")
            record("link-down-up", "new session after the link is back", recovered, "s")
