"""Discovery across subnets through the organisation's DNS, against a real BIND 9 (as root).

Run: .venv/bin/python bench/wide_area.py [--clients 1000] [--rounds 3] [--browse-interval 30]

Builds the e2e test's network (tests/helpers/dns_server.py): BIND in one namespace, clients
in others behind a router, so only DNS connects them. Prints, with baselines:
  ready_s          a headless client's start → answers --get-id (process start-up)
  listed_by_new_s  a newcomer's start → it lists a running peer on another subnet
  listed_new_s     a newcomer's start → the running peer lists it (waits for its next
                   periodic browse: --browse-interval, 30 s as shipped)
  zone_publish_s   publishing N clients' records (one signed update each, sequential)
  browse_full_s    one client's first browse of a zone with N clients (PTR, then SRV, TXT,
                   A of each: 4N+1 queries, 32 in flight)
  browse_again_s   the next browse (leases still valid: one PTR query)
  queries          queries sent by the first browse
  rss_mib          the browsing process's RSS growth holding N peers (MiB)
Needs root, iproute2 and Debian's bind9 (scripts/bootstrap.sh --test installs it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _zone_worker(server: str, secret: str, clients: int) -> dict[str, float]:
    """Inside a subnet namespace: publish ``clients`` records, then browse them all."""
    import dns.asyncquery
    import dns.name
    import dns.tsig

    from anydesk_invite.core.ids import DeviceId
    from anydesk_invite.core.policy import DiscoveryMode
    from anydesk_invite.core.wide_area import WideAreaSettings
    from anydesk_invite.net.dns_sd import build_publish
    from anydesk_invite.net.records import OwnRecord
    from anydesk_invite.net.wide_area import WideAreaDiscovery
    from tests.helpers.dns_server import DOMAIN, KEY_NAME, ZONE

    key = dns.tsig.Key(KEY_NAME, secret, "hmac-sha256.")
    domain, zone = dns.name.from_text(DOMAIN), dns.name.from_text(ZONE)
    started = time.monotonic()
    for n in range(clients):
        fp = n.to_bytes(4, "big") + os.urandom(28)
        record = OwnRecord(DeviceId.from_fingerprint(fp), f"bench{n}@ad", fp, 40000 + n % 20000)
        address = f"10.{100 + n // 60000}.{n // 250 % 250}.{n % 250 + 1}"
        update = build_publish(zone, domain, record, [address], 3600, time.time() + 3600, key)
        response = await dns.asyncquery.tcp(update, server, timeout=10)
        assert response.rcode() == 0, response
    publish_s = time.monotonic() - started

    settings = WideAreaSettings(domain=DOMAIN, server=server, ttl=3600, browse_interval=3600)
    wide = WideAreaDiscovery(settings, None, os.urandom(32), ["10.78.1.2"])
    me_fp = os.urandom(32)
    me = OwnRecord(DeviceId.from_fingerprint(me_fp), "me@ad", me_fp, 1)
    rss_before = _rss_mib()
    found = asyncio.Event()
    seen: set[bytes] = set()

    def on_seen(peer: object) -> None:
        seen.add(getattr(peer, "fingerprint", b""))
        if len(seen) >= clients:
            found.set()

    wide.peer_seen.connect(on_seen)
    started = time.monotonic()
    await wide.start(DiscoveryMode.HIDDEN, me)
    await asyncio.wait_for(found.wait(), 600)
    full_s = time.monotonic() - started
    queries = wide.queries
    started = time.monotonic()
    await wide.browse_now(timeout=60)
    again_s = time.monotonic() - started
    rss = _rss_mib() - rss_before
    await wide.stop()
    return {
        "zone_publish_s": publish_s,
        "browse_full_s": full_s,
        "browse_again_s": again_s,
        "queries": float(queries),
        "rss_mib": rss,
    }


def _listing(rounds: int, browse_interval: float) -> dict[str, float]:
    from tests.helpers.dns_server import KEY_NAME, Bind, RoutedSubnets, secret_file
    from tests.helpers.processes import HeadlessClient, wait_until
    from tests.helpers.short_dir import short_dir

    ready, listed_by_new, listed_new = [], [], []
    subnets = RoutedSubnets(count=3)
    subnets.create()
    try:
        with short_dir() as base:
            bind = Bind(subnets.namespace(0), RoutedSubnets.address(0), base / "bind")
            bind.start()
            try:

                def client(n: int, name: str) -> HeadlessClient:
                    args = (
                        "--dns-sd-server", RoutedSubnets.address(0),
                        "--dns-sd-domain", "clients.example.test",
                        "--tsig-key", KEY_NAME,
                        "--tsig-secret-file", str(secret_file(base, bind.secret)),
                        "--dns-sd-browse-interval", f"{browse_interval:g}",
                    )  # fmt: skip
                    return HeadlessClient(
                        base / name, name, interface=RoutedSubnets.address(n),
                        netns=subnets.namespace(n), extra_args=args,
                    )  # fmt: skip

                def online(c: HeadlessClient, other: HeadlessClient) -> bool:
                    return any(
                        p["id"] == other.device_id and p["online"] for p in c.cli("peers").ok()
                    )

                old = client(1, "old")
                old.start()
                old.wait_ready()
                try:
                    for r in range(rounds):
                        new = client(2, f"new{r}")
                        t0 = time.monotonic()
                        new.start()
                        new.wait_ready()
                        ready.append(time.monotonic() - t0)
                        wait_until(
                            lambda new=new: online(new, old),
                            timeout=120,
                            what="listed",
                            interval=0.05,
                        )
                        listed_by_new.append(time.monotonic() - t0)
                        wait_until(
                            lambda new=new: online(old, new),
                            timeout=browse_interval + 60,
                            what="listed",
                            interval=0.05,
                        )
                        listed_new.append(time.monotonic() - t0)
                        new.stop()
                finally:
                    old.stop()
            finally:
                bind.stop()
    finally:
        subnets.close()
    return {
        "ready_s": statistics.median(ready),
        "listed_by_new_s": statistics.median(listed_by_new),
        "listed_new_s": statistics.median(listed_new),
    }


def _zone(clients: int) -> dict[str, float]:
    from tests.helpers.dns_server import Bind, RoutedSubnets
    from tests.helpers.short_dir import short_dir

    subnets = RoutedSubnets(count=2)
    subnets.create()
    try:
        with short_dir() as base:
            bind = Bind(subnets.namespace(0), RoutedSubnets.address(0), base / "bind")
            bind.start()
            try:
                env = dict(os.environ, PYTHONPATH=str(ROOT))
                done = subprocess.run(
                    ["ip", "netns", "exec", subnets.namespace(1), sys.executable, __file__,
                     "--zone-worker", RoutedSubnets.address(0), bind.secret, str(clients)],
                    capture_output=True, text=True, timeout=1800, env=env, check=False,
                )  # fmt: skip
                if done.returncode != 0:
                    raise RuntimeError(f"zone worker failed:\n{done.stderr[-2000:]}")
                result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
                return result
            finally:
                bind.stop()
    finally:
        subnets.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--browse-interval", type=float, default=30.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--zone-worker", nargs=3, help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.zone_worker:
        server, secret, clients = ns.zone_worker
        print(json.dumps(asyncio.run(_zone_worker(server, secret, int(clients)))))
        return 0
    from tests.helpers.dns_server import Bind

    why = Bind.available()
    if why or os.geteuid() != 0:
        print(f"wide_area: cannot run here: {why or 'needs root for namespaces'}", file=sys.stderr)
        return 1
    figures = {**_listing(ns.rounds, ns.browse_interval), **_zone(ns.clients)}
    if ns.json:
        print(json.dumps(figures))
        return 0
    n = ns.clients
    print(f"start -> answers --get-id (baseline)      {figures['ready_s'] * 1000:8.0f} ms")
    print(f"start -> newcomer lists a peer (other net) {figures['listed_by_new_s'] * 1000:8.0f} ms")
    print(
        f"start -> peer lists the newcomer          {figures['listed_new_s'] * 1000:8.0f} ms"
        f"  (browse interval {ns.browse_interval:g} s)"
    )
    print(f"publish {n} clients (sequential updates)  {figures['zone_publish_s']:8.2f} s")
    print(
        f"first browse of {n} clients              {figures['browse_full_s'] * 1000:8.0f} ms"
        f"  ({figures['queries']:.0f} queries)"
    )
    print(f"next browse (leases valid)                {figures['browse_again_s'] * 1000:8.1f} ms")
    print(f"RSS growth holding {n} peers             {figures['rss_mib']:8.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
