"""Two clients on two hosts: network namespaces joined by a veth pair, nothing on loopback.

Each client runs inside its own namespace (10.77.0.1 and 10.77.0.2) and the command line runs
in the same namespace, so discovery, the invitation and the session cross the veth link.
Skipped, with the reason, where namespaces cannot be made (not root, no iproute2).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.helpers.processes import (
    HeadlessClient,
    NamespacePair,
    NamespaceUnavailable,
    running_clients,
)
from tests.helpers.short_dir import short_dir

pytestmark = [pytest.mark.e2e, pytest.mark.netns]


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


def test_invite_accept_and_end_across_two_network_namespaces(namespaces: NamespacePair) -> None:
    (ns_a, ns_b), (ip_a, ip_b) = namespaces.names, NamespacePair.ADDRESSES
    run = secrets.token_hex(2)
    with short_dir() as base:
        a = HeadlessClient(base / "a", "a", interface=ip_a, alias=f"ann-{run}", netns=ns_a)
        b = HeadlessClient(base / "b", "b", interface=ip_b, alias=f"bob-{run}", netns=ns_b)
        with running_clients([a, b]):
            status = a.cli("--get-status").ok()
            assert status["interfaces"] == [ip_a]
            assert [addr.rsplit(":", 1)[0] for addr in status["listen"]] == [ip_a]

            seen_by_a = a.wait_for_peer(b)
            assert (seen_by_a["alias"], seen_by_a["fingerprint"]) == (b.alias, b.fingerprint)
            assert b.wait_for_peer(a)["fingerprint"] == a.fingerprint

            inv = a.cli("invite", b.device_id, "--profile", "Screen Sharing").ok()
            assert inv["state"] == "pending"
            b.wait_for_invitation(inv["id"], ["received"])

            session = b.cli("accept", inv["id"][:8]).ok()
            assert (session["role"], session["peer_id"]) == ("guest", a.device_id)
            (hosted,) = a.wait_for_sessions(b, 1)
            assert (hosted["id"], hosted["role"], hosted["permissions"]) == (
                session["id"],
                "host",
                [],
            )

            assert b.cli("end", session["id"][:8]).ok() == {"id": session["id"]}
            a.wait_for_sessions(b, 0)
            assert b.sessions_with(a) == []
            # The control socket is a file, so the command line works from outside too.
            assert a.cli("--get-id", as_json=False, netns=False).stdout.strip() == a.device_id
