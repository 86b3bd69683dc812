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
        browse: str = BROWSE,
    ) -> HeadlessClient:
        """A client alone in subnet ``n`` that publishes and browses in ``domain``."""
        args = [
            "--dns-sd-server", server or self.server,
            "--dns-sd-domain", domain,
            "--dns-sd-ttl", str(TTL),
            "--dns-sd-browse-interval", browse,
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
    subnets = RoutedSubnets(count=6)
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
    # Ann browses once at start and then only on demand (her next periodic browse is an hour
    # away); Bob browses every half second.
    a = org.client(1, "ann", browse="3600")
    b = org.client(2, "bob")
    with running_clients([a]):
        wait_until(
            lambda: "published, 0 peer(s)" in a.cli("--get-status").ok()["wide_area"],
            timeout=20,
            what="ann's first publish and browse",
        )
        with running_clients([b]):
            seen_by_b = b.wait_for_peer(a)
            # Multicast does not cross the router: DNS is the only way they met.
            assert seen_by_b["found_via"] == ["dns"] and "discovery" in seen_by_b["sources"]
            assert (seen_by_b["alias"], seen_by_b["fingerprint"]) == (a.alias, a.fingerprint)
            assert _listed(a, b) is None  # ann has not browsed since bob came

            # dig, from a third subnet, shows the records the clients published.
            ptrs = org.bind.dig(f"_adinvite._tcp.{DOMAIN}", "PTR", netns=org.subnets.namespace(3))
            b_instance = next(line for line in ptrs.split() if _unescaped(line).startswith(b.alias))
            ptrs = _unescaped(ptrs)
            assert f"{a.alias}-{a.fingerprint[:12]}" in ptrs
            assert f"{b.alias}-{b.fingerprint[:12]}" in ptrs
            txt = org.bind.dig(b_instance, "TXT")
            assert f'"id={b.device_id}"' in txt and f'"fp={b.fingerprint}"' in txt
            assert '"exp=' in txt
            srv = org.bind.dig(b_instance, "SRV").split()
            assert srv[2] == b.cli("--get-status").ok()["listen"][0].rsplit(":", 1)[1]
            assert org.bind.dig(srv[3], "A").strip() == RoutedSubnets.address(2)
            assert org.bind.dig(f"_services._dns-sd._udp.{DOMAIN}", "PTR").strip() == (
                f"_adinvite._tcp.{DOMAIN}."
            )

            # An invitation by ID to a peer not known yet asks the DNS on demand, and the
            # invitation and the session cross the router.
            inv = a.cli("invite", b.device_id, "--profile", "Screen Sharing").ok()
            assert _listed(a, b) is not None
            b.wait_for_invitation(inv["id"], ["received"])
            session = b.cli("accept", inv["id"][:8]).ok()
            assert (session["role"], session["peer_id"]) == ("guest", a.device_id)
            (hosted,) = a.wait_for_sessions(b, 1)
            assert hosted["id"] == session["id"]
            assert b.cli("end", session["id"][:8]).ok() == {"id": session["id"]}
            a.wait_for_sessions(b, 0)

            # Killed without a goodbye: ann's lease runs out, she leaves bob's list, and bob
            # deletes her records from the zone a TTL later.
            a.kill()
            wait_until(
                lambda: _listed(b, a) is None,
                timeout=4 * TTL + 10,
                what="the killed client to leave the list",
                interval=0.2,
            )
            wait_until(
                lambda: a.alias not in _instances(org),
                timeout=4 * TTL + 10,
                what="the killed client's records to be deleted from the zone",
                interval=0.3,
            )
            assert b.alias in _instances(org)
        # Bob quit cleanly: his records are gone at once.
        assert b.alias not in _instances(org)
    # The secret was kept in a 0600 file in the home (no keyring here), not in the database.
    secret_file_in_home = b.home / "tsig-secret"
    assert secret_file_in_home.stat().st_mode & 0o777 == 0o600
    assert org.bind.secret.encode() not in (b.home / "anydesk-invite.db").read_bytes()


def test_a_wrong_key_a_dead_server_and_a_missing_domain_are_reported_and_an_unset_one_learned(
    org: Organisation,
) -> None:
    learning = org.subnets.namespace(4)
    etc = Path("/etc/netns") / learning
    etc.mkdir(parents=True, exist_ok=True)
    # `ip netns exec` puts this file over /etc/resolv.conf inside that namespace only.
    (etc / "resolv.conf").write_text(f"search {ZONE}\nnameserver {org.server}\n")
    wrong = org.client(1, "wrongkey", secret=new_secret())
    dead = org.client(2, "deadsrv", server="10.78.5.2")
    missing = org.client(3, "nodomain", domain=f"nowhere.{ZONE}")
    learner = org.client(4, "learner", domain="auto")
    try:
        with running_clients([wrong, dead, missing, learner]):

            def reason(client: HeadlessClient, words: str) -> str | None:
                text = str(client.cli("--get-status").ok()["wide_area"])
                return text if words in text else None

            text = wait_until(
                lambda: reason(wrong, "wrong TSIG secret"), timeout=20, what="the refusal"
            )
            assert "retrying in" in text
            assert wrong.alias not in _instances(org)
            text = wait_until(
                lambda: reason(dead, "DNS server 10.78.5.2:53"), timeout=20, what="no answer"
            )
            assert "cannot be reached" in text or "did not answer" in text
            assert "retrying in" in text
            wait_until(lambda: reason(missing, "NXDOMAIN"), timeout=20, what="NXDOMAIN")
            # Publishing there is refused: the key may write only below the fleet's domain.
            wait_until(lambda: reason(missing, "REFUSED"), timeout=20, what="the refusal")
            # No domain set: learned from b._dns-sd._udp under the search domain.
            wait_until(
                lambda: reason(learner, f"{DOMAIN} via {org.server}:53: published"),
                timeout=20,
                what="the learned domain",
            )
            assert learner.alias in _instances(org)
            # The clients keep working: they listen and answer, and say why in plain text.
            plain = wrong.cli("--get-status", as_json=False).stdout
            assert "DNS (wide):" in plain and "wrong TSIG secret" in plain
            assert all(c.cli("--get-status").ok()["online"] for c in (wrong, dead, missing))
    finally:
        shutil.rmtree(etc, ignore_errors=True)
