"""Discovery across subnets through the organisation's DNS, against a real BIND 9.

One BIND server (Debian's ``named``) runs for the whole module in its own network namespace
and subnet; clients run in other subnets joined by a routing namespace, so multicast (mDNS)
cannot reach from one to the other and everything found is found through the DNS. Records
are written by TSIG-signed dynamic updates and read back with ``dig`` too.
Skipped, with the reason, where namespaces cannot be made or BIND is not installed.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.dns_server import (
    DOMAIN,
    KEY_NAME,
    ZONE,
    Bind,
    RoutedSubnets,
    new_secret,
    secret_file,
)
from tests.helpers.processes import (
    HeadlessClient,
    NamespaceUnavailable,
    running_clients,
    wait_until,
)
from tests.helpers.short_dir import short_dir

pytestmark = [pytest.mark.e2e, pytest.mark.netns]

TTL = 3
"""Seconds: short, so a killed client ages out within the test (the real default is 120)."""
BROWSE = "0.5"


@dataclass
class Organisation:
    subnets: RoutedSubnets
    bind: Bind
    base: Path

    @property
    def server(self) -> str:
        return RoutedSubnets.address(0)

    def client(
        self,
        n: int,
        name: str,
        *,
        secret: str | None = None,
        domain: str = DOMAIN,
        server: str | None = None,
    ) -> HeadlessClient:
        """A client alone in subnet ``n`` that publishes and browses in ``domain``."""
        args = [
            "--dns-sd-server", server or self.server,
            "--dns-sd-domain", domain,
            "--dns-sd-ttl", str(TTL),
            "--dns-sd-browse-interval", BROWSE,
            "--tsig-key", f"{KEY_NAME}:hmac-sha256",
            "--tsig-secret-file", str(secret_file(self.base, secret or self.bind.secret)),
        ]  # fmt: skip
        return HeadlessClient(
            self.base / name,
            name,
            interface=RoutedSubnets.address(n),
            alias=f"{name}-{secrets.token_hex(2)}",
            netns=self.subnets.namespace(n),
            extra_args=tuple(args),
        )


@pytest.fixture(scope="module")
def org() -> Iterator[Organisation]:
    why = Bind.available()
    if why:
        pytest.skip(why)
    subnets = RoutedSubnets(count=5)
    try:
        subnets.create()
    except NamespaceUnavailable as exc:
        pytest.skip(f"network namespaces unavailable: {exc}")
    try:
        with short_dir() as base:
            bind = Bind(subnets.namespace(0), RoutedSubnets.address(0), base / "bind")
            bind.start()
            try:
                yield Organisation(subnets, bind, base)
            finally:
                bind.stop()
    finally:
        subnets.close()


def _listed(client: HeadlessClient, other: HeadlessClient) -> dict[str, object] | None:
    for p in client.cli("peers").ok():
        if p["id"] == other.device_id and p["online"]:
            return dict(p)
    return None


def _unescaped(dig_text: str) -> str:
    """dig writes the @ of an alias in a label as \\@."""
    return dig_text.replace("\\@", "@")


def _instances(org: Organisation) -> str:
    return _unescaped(org.bind.dig(f"_adinvite._tcp.{DOMAIN}", "PTR"))


def test_clients_on_two_subnets_find_each_other_through_dns_invite_and_age_out_when_killed(
    org: Organisation,
) -> None:
    a = org.client(1, "ann")
    b = org.client(2, "bob")
    with running_clients([a, b]):
        seen_by_a = a.wait_for_peer(b)
        seen_by_b = b.wait_for_peer(a)
        # Multicast does not cross the router: DNS is the only way they met.
        assert seen_by_a["found_via"] == ["dns"] and seen_by_b["found_via"] == ["dns"]
        assert (seen_by_a["alias"], seen_by_a["fingerprint"]) == (b.alias, b.fingerprint)
        assert "discovery" in seen_by_a["sources"]

        # dig, from a third subnet, shows the records the clients published.
        ptrs = org.bind.dig(f"_adinvite._tcp.{DOMAIN}", "PTR", netns=org.subnets.namespace(3))
        b_instance = next(line for line in ptrs.split() if _unescaped(line).startswith(b.alias))
        ptrs = _unescaped(ptrs)
        assert (
            f"{a.alias}-{a.fingerprint[:12]}" in ptrs and f"{b.alias}-{b.fingerprint[:12]}" in ptrs
        )
        txt = org.bind.dig(b_instance, "TXT")
        assert f'"id={b.device_id}"' in txt and f'"fp={b.fingerprint}"' in txt and '"exp=' in txt
        srv = org.bind.dig(b_instance, "SRV").split()
        assert srv[2] == b.cli("--get-status").ok()["listen"][0].rsplit(":", 1)[1]
        assert org.bind.dig(srv[3], "A").strip() == RoutedSubnets.address(2)
        assert "published" in a.cli("--get-status").ok()["wide_area"]
        assert org.bind.dig(f"_services._dns-sd._udp.{DOMAIN}", "PTR").strip() == (
            f"_adinvite._tcp.{DOMAIN}."
        )

        # An invitation by ID crosses the router, and so does the session.
        inv = a.cli("invite", b.device_id, "--profile", "Screen Sharing").ok()
        b.wait_for_invitation(inv["id"], ["received"])
        session = b.cli("accept", inv["id"][:8]).ok()
        assert (session["role"], session["peer_id"]) == ("guest", a.device_id)
        (hosted,) = a.wait_for_sessions(b, 1)
        assert hosted["id"] == session["id"]
        assert b.cli("end", session["id"][:8]).ok() == {"id": session["id"]}
        a.wait_for_sessions(b, 0)

        # Killed without a goodbye: its lease runs out, it leaves A's list, and A deletes
        # its records from the zone a TTL later.
        b.kill()
        wait_until(
            lambda: _listed(a, b) is None,
            timeout=4 * TTL + 10,
            what="the killed client to leave the list",
            interval=0.2,
        )
        wait_until(
            lambda: b.alias not in _instances(org),
            timeout=4 * TTL + 10,
            what="the killed client's records to be deleted from the zone",
            interval=0.3,
        )
        assert a.alias in _instances(org)
    # A quit cleanly: its records are gone at once.
    assert a.alias not in _instances(org)


def test_a_wrong_key_a_dead_server_and_a_missing_domain_are_reported_and_retried(
    org: Organisation,
) -> None:
    wrong = org.client(1, "wrongkey", secret=new_secret())
    dead = org.client(2, "deadsrv", server="10.78.4.2")
    missing = org.client(3, "nodomain", domain=f"nowhere.{ZONE}")
    with running_clients([wrong, dead, missing]):

        def reason(client: HeadlessClient, words: str) -> str | None:
            text = str(client.cli("--get-status").ok()["wide_area"])
            return text if words in text else None

        text = wait_until(
            lambda: reason(wrong, "wrong TSIG secret"), timeout=20, what="the refusal"
        )
        assert "retrying in" in text
        assert wrong.alias not in _instances(org)
        text = wait_until(
            lambda: reason(dead, "DNS server 10.78.4.2:53"), timeout=20, what="no answer"
        )
        assert "cannot be reached" in text or "did not answer" in text
        assert "retrying in" in text
        text = wait_until(lambda: reason(missing, "NXDOMAIN"), timeout=20, what="NXDOMAIN")
        # Publishing there is refused too: the key may write only below the fleet's domain.
        wait_until(lambda: reason(missing, "REFUSED"), timeout=20, what="the update refusal")
        # The client keeps working: it listens and answers, and says why in plain text.
        plain = wrong.cli("--get-status", as_json=False).stdout
        assert "DNS (wide):" in plain and "wrong TSIG secret" in plain
        assert all(c.cli("--get-status").ok()["online"] for c in (wrong, dead, missing))


def test_the_discovery_domain_is_learned_from_the_search_domain(org: Organisation) -> None:
    ns = org.subnets.namespace(3)
    etc = Path("/etc/netns") / ns
    etc.mkdir(parents=True, exist_ok=True)
    try:
        # `ip netns exec` puts this file over /etc/resolv.conf inside the namespace.
        (etc / "resolv.conf").write_text(f"search {ZONE}\nnameserver {org.server}\n")
        learner = org.client(3, "learner", domain="auto")
        other = org.client(1, "teller")
        with running_clients([learner, other]):
            assert learner.wait_for_peer(other)["found_via"] == ["dns"]
            assert DOMAIN in str(learner.cli("--get-status").ok()["wide_area"])
    finally:
        shutil.rmtree(etc, ignore_errors=True)
