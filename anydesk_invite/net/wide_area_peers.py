"""The peers found in the DNS discovery domain: browsing it (the instances, then the records of
each new or expired one), the checks of dns_sd.py, the leases, and deleting records whose lease
ran out more than a TTL ago. wide_area.py runs it in its loop beside publishing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from anydesk_invite.core.signal import Signal
from anydesk_invite.net.dns_sd import (
    MAX_INSTANCES,
    InstanceRecords,
    WideAreaPeer,
    WideAreaRecordError,
    build_removal,
    check_instance,
    service_name,
)
from anydesk_invite.net.dns_server import DnsServer, WideAreaProblem
from anydesk_invite.net.records import DiscoveredPeer, TxtError

if TYPE_CHECKING:
    import dns.name
    import dns.rcode
    import dns.rdatatype
    import dns.rdtypes.ANY.PTR
    import dns.tsig
else:
    from anydesk_invite.net.dns_lazy import dns


# Logged as wide-area discovery: what a person filtering the log for it wants to see.
_log = logging.getLogger("anydesk_invite.net.wide_area")

MAX_DELETES_PER_ROUND = 16


class WideAreaPeers:
    """Peers listed from the discovery domain, by lower-cased instance name.

    Signals:
        peer_seen(DiscoveredPeer): a peer was found or its record changed.
        peer_gone(bytes): the peer with this fingerprint left or its lease ran out.
    """

    def __init__(
        self, own_fingerprint: bytes, allow_loopback: bool, wall: Callable[[], float]
    ) -> None:
        self._own_fp = own_fingerprint
        self._allow_loopback = allow_loopback
        self._wall = wall
        self.peer_seen: Signal[DiscoveredPeer] = Signal("wide_area.peer_seen")
        self.peer_gone: Signal[bytes] = Signal("wide_area.peer_gone")
        self._peers: dict[str, WideAreaPeer] = {}
        self._stale: dict[str, tuple[dns.name.Name, dns.name.Name | None]] = {}

    def peers(self) -> list[DiscoveredPeer]:
        return sorted((p.peer for p in self._peers.values()), key=lambda p: p.alias.lower())

    def __len__(self) -> int:
        return len(self._peers)

    async def browse(
        self,
        server: DnsServer,
        published: dns.name.Name | None,
        ttl: float,
        deleting_key: dns.tsig.Key | None,
    ) -> None:
        """Ask the server for the instances of the domain and read the new or expired ones;
        ``published``: our own instance, skipped; ``deleting_key``: delete records stale for
        more than a TTL with it (None: leave them)."""
        domain = await server.learn_domain()
        service = service_name(domain)
        response = await server.query(service, dns.rdatatype.PTR)
        rcode = response.rcode()
        if rcode == dns.rcode.NXDOMAIN:
            self.drop_all()
            shown = domain.to_text(omit_final_dot=True)
            raise WideAreaProblem(
                f"{service.to_text(omit_final_dot=True)} does not exist (NXDOMAIN): no client "
                f"has published in {shown} yet, or the domain is wrong"
            )
        if rcode != dns.rcode.NOERROR:
            raise WideAreaProblem(
                f"the DNS server {server.server} answered {dns.rcode.to_text(rcode)}"
            )
        names: dict[str, dns.name.Name] = {}
        for rrset in response.answer:
            if rrset.rdtype != dns.rdatatype.PTR or rrset.name != service:
                continue
            for rd in rrset:
                assert isinstance(rd, dns.rdtypes.ANY.PTR.PTR)
                target = rd.target
                # An instance is exactly one label under the service type.
                if len(target) == len(service) + 1 and target.parent() == service:
                    names.setdefault(target.to_text().lower(), target)
                if len(names) >= MAX_INSTANCES:
                    break
        now = self._wall()
        for key in [k for k in self._peers if k not in names]:
            self._drop(key)
        for key in [k for k in self._stale if k not in names]:
            del self._stale[key]
        todo = [
            (key, name)
            for key, name in names.items()
            if (key not in self._peers or self._peers[key].expires <= now)
            and (published is None or key != published.to_text().lower())
        ]
        results = await asyncio.gather(
            *(server.read_instance(name, domain) for _, name in todo), return_exceptions=True
        )
        now = self._wall()
        for (key, name), result in zip(todo, results, strict=True):
            if isinstance(result, WideAreaProblem):
                raise result
            if isinstance(result, BaseException):
                raise result
            self._take(key, name, result, domain, now, ttl)
        if deleting_key is not None:
            await self._collect_stale(server, domain, deleting_key)

    def _take(
        self,
        key: str,
        name: dns.name.Name,
        records: InstanceRecords,
        domain: dns.name.Name,
        now: float,
        ttl: float,
    ) -> None:
        try:
            found = check_instance(records, domain, now, allow_loopback=self._allow_loopback)
        except (TxtError, WideAreaRecordError) as exc:
            _log.info("wide-area discovery: ignored %s: %s", name, exc)
            self._drop(key)
            return
        if found.peer.fingerprint == self._own_fp:
            return
        if found.expires <= now:
            self._drop(key)
            if found.expires + ttl <= now:
                target = dns.name.from_text(records.srv[0][1]) if records.srv else None
                self._stale[key] = (name, target)
            return
        self._stale.pop(key, None)
        before = self._peers.get(key)
        if before is None and len(self._peers) >= MAX_INSTANCES:
            return
        self._peers[key] = found
        if before is None or before.peer != found.peer:
            if before is not None and before.peer.fingerprint != found.peer.fingerprint:
                self.peer_gone.emit(before.peer.fingerprint)
            self.peer_seen.emit(found.peer)

    async def _collect_stale(
        self, server: DnsServer, domain: dns.name.Name, tsig_key: dns.tsig.Key
    ) -> None:
        """Delete records whose lease ran out more than a TTL ago (a crashed client's)."""
        if not self._stale:
            return
        zone = await server.zone_of(domain)
        for key in list(self._stale)[:MAX_DELETES_PER_ROUND]:
            instance, host = self._stale.pop(key)
            _log.info("wide-area discovery: deleting %s, its lease ran out", instance)
            try:
                await server.send_update(build_removal(zone, domain, instance, host, tsig_key), 3.0)
            except WideAreaProblem as exc:
                # Our own publishing reports a refused key; browsing goes on regardless.
                _log.info("wide-area discovery: could not delete %s: %s", instance, exc)
                return

    def _drop(self, key: str) -> None:
        gone = self._peers.pop(key, None)
        if gone is not None and not any(
            p.peer.fingerprint == gone.peer.fingerprint for p in self._peers.values()
        ):
            self.peer_gone.emit(gone.peer.fingerprint)

    def drop_all(self) -> None:
        for key in list(self._peers):
            self._drop(key)
        self._stale.clear()
