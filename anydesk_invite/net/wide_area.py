"""Finding peers beyond the subnet: DNS-SD over unicast DNS (RFC 6763 §11), kept by signed updates.

Each client publishes, in the organisation's discovery domain ``D``, the same records it
announces on mDNS (net/discovery.py)::

    _services._dns-sd._udp.D   PTR  _adinvite._tcp.D
    _adinvite._tcp.D           PTR  <instance>._adinvite._tcp.D
    <instance>._adinvite._tcp.D SRV 0 0 <port> adinvite-<fp12><tag>.D
    <instance>._adinvite._tcp.D TXT "v=1.0" "id=…" "alias=…" "fp=…" "exp=<unix time>"
    adinvite-<fp12><tag>.D     A / AAAA <listen addresses>

by a DNS UPDATE (RFC 2136) signed with TSIG (RFC 8945), on start, on a change, and again every
third of the TTL; it deletes them on quit.

Ageing. A DNS zone keeps a record until someone deletes it, whatever its TTL, and BIND does
not implement the update lease of RFC 9664. So the lease is in the record: ``exp`` in the TXT
is the wall-clock time (Unix seconds) after which the record is stale unless refreshed (one
TTL after the update). Browsers skip a stale record, and any client holding the fleet key
deletes records stale for more than one further TTL (a few per round), so a client killed
without a goodbye drops out of every list within about a TTL plus a browse interval and out
of the zone soon after. This needs clocks within a fraction of the TTL (NTP).

Browsing asks the server for the PTR records, then each new instance's SRV (whose answer
carries the host's addresses; asked separately only when it does not) and TXT records;
known instances are asked again only when their lease runs out. Every TXT goes through the
same checks as a multicast one (``records.parse_txt``: the ID derives from the key, alias
grammar and size), and everything is bounded: answers read per query, instances
kept, addresses per instance, bytes of TXT. A record is a hint: who a peer is is proven by
its pinned key when connecting, as on the LAN (a fleet-wide key lets any member write).

Failures (server down, update refused, NXDOMAIN, slow answers) never stop the LAN side: the
reason goes to ``status`` and the step is retried with exponential back-off.

The records and their checks are dns_sd.py; the exchanges with the DNS server dns_server.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from collections.abc import Callable, Sequence

import dns.asyncquery
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.PTR
import dns.rdtypes.ANY.TXT
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA
import dns.rdtypes.IN.SRV
import dns.rrset
import dns.tsig
import dns.update

from anydesk_invite.core.policy import DiscoveryMode
from anydesk_invite.core.signal import Signal
from anydesk_invite.core.wide_area import WideAreaSettings
from anydesk_invite.net.dns_sd import (
    MAX_INSTANCES,
    InstanceRecords,
    WideAreaPeer,
    WideAreaRecordError,
    build_publish,
    build_removal,
    check_instance,
    host_name,
    instance_name,
    read_search_domains,
    service_name,
)
from anydesk_invite.net.dns_server import QUERY_TIMEOUT, DnsServer, WideAreaProblem
from anydesk_invite.net.records import DiscoveredPeer, OwnRecord, TxtError

_log = logging.getLogger(__name__)

UPDATE_TIMEOUT = 5.0
GOODBYE_TIMEOUT = 2.0
MAX_BACKOFF = 300.0
MAX_DELETES_PER_ROUND = 16


class WideAreaDiscovery:
    """Publish our record and browse for peers in a DNS discovery domain.

    Signals:
        peer_seen(DiscoveredPeer): a peer was found or its record changed.
        peer_gone(bytes): the peer with this fingerprint left or its lease ran out.
        status_changed(str): ``status`` changed.
    """

    def __init__(
        self,
        settings: WideAreaSettings,
        secret: str | None,
        own_fingerprint: bytes,
        addresses: Sequence[str],
        *,
        tag: str = "",
        wall: Callable[[], float] = time.time,
        search_domains: Callable[[], list[str]] = read_search_domains,
        secret_problem: str | None = None,
        query_timeout: float = QUERY_TIMEOUT,
    ) -> None:
        self._own_fp = own_fingerprint
        self._addresses = [a.split("%")[0] for a in addresses]
        self._allow_loopback = any(ipaddress.ip_address(a).is_loopback for a in self._addresses)
        self._tag = tag
        self._wall = wall
        self._search_domains = search_domains
        self._query_timeout = query_timeout
        self.peer_seen: Signal[DiscoveredPeer] = Signal("wide_area.peer_seen")
        self.peer_gone: Signal[bytes] = Signal("wide_area.peer_gone")
        self.status_changed: Signal[str] = Signal("wide_area.status_changed")

        self._mode = DiscoveryMode.OFF
        self._wanted = DiscoveryMode.OFF
        self._record: OwnRecord | None = None
        self._queries_before = 0
        self._configure(settings, secret, secret_problem)
        self._published: tuple[dns.name.Name, dns.name.Name] | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._browsed = asyncio.Event()
        self._peers: dict[str, WideAreaPeer] = {}
        self._stale: dict[str, tuple[dns.name.Name, dns.name.Name | None]] = {}
        self._publish_problem: str | None = None
        self._browse_problem: str | None = None
        self._publish_failures = 0
        self._browse_failures = 0
        self._next_publish = 0.0
        self._next_browse = 0.0
        self._status = "off"

    def _configure(
        self, settings: WideAreaSettings, secret: str | None, problem: str | None
    ) -> None:
        self._settings = settings.checked()
        self._secret = secret
        self._secret_problem = problem
        self._key: dns.tsig.Key | None = None
        if self._settings.key_name and secret:
            self._key = dns.tsig.Key(
                self._settings.key_name, secret, self._settings.algorithm + "."
            )
        self._dns = DnsServer(
            self._settings, search_domains=self._search_domains, query_timeout=self._query_timeout
        )

    # -- public API -------------------------------------------------------------------------

    @property
    def settings(self) -> WideAreaSettings:
        return self._settings

    @property
    def mode_wanted(self) -> DiscoveryMode:
        """The mode asked for (it runs only while settings are complete)."""
        return self._wanted

    @property
    def status(self) -> str:
        """One line for the status bar and ``--get-status``: where, and what is wrong."""
        return self._status

    @property
    def domain(self) -> str:
        domain = self._dns.domain
        return domain.to_text(omit_final_dot=True) if domain is not None else ""

    @property
    def queries(self) -> int:
        """DNS queries sent so far (for bench/wide_area.py)."""
        return self._queries_before + self._dns.queries

    def peers(self) -> list[DiscoveredPeer]:
        return sorted((p.peer for p in self._peers.values()), key=lambda p: p.alias.lower())

    async def start(self, mode: DiscoveryMode, record: OwnRecord) -> None:
        self._record = record
        await self.set_mode(mode)

    async def reconfigure(
        self, settings: WideAreaSettings, secret: str | None, problem: str | None = None
    ) -> None:
        """New settings (the user's or the policy's): our records leave the old domain, the
        peers found there are gone, and the same mode starts again with the new ones."""
        if (settings.checked(), secret, problem) == (
            self._settings,
            self._secret,
            self._secret_problem,
        ):
            return
        wanted = self._wanted
        await self.set_mode(DiscoveryMode.OFF)
        self._queries_before += self._dns.queries
        self._configure(settings, secret, problem)
        self._publish_problem = self._browse_problem = None
        self._publish_failures = self._browse_failures = 0
        await self.set_mode(wanted)

    async def set_mode(self, mode: DiscoveryMode) -> None:
        """ON publishes and browses, HIDDEN browses only (our records are deleted), OFF stops."""
        self._wanted = mode
        if not self._settings.enabled:
            mode = DiscoveryMode.OFF
        before, self._mode = self._mode, mode
        if mode is DiscoveryMode.OFF:
            await self._stop_task()
            if before is not DiscoveryMode.OFF:
                await self._withdraw()
            self._drop_all()
        else:
            if mode is DiscoveryMode.HIDDEN and self._published is not None:
                await self._withdraw()
            if self._task is None:
                self._task = asyncio.create_task(self._run(), name="wide-area-discovery")
            self._next_publish = 0.0
            self._next_browse = 0.0
            self._wake.set()
        self._set_status()

    async def update_record(self, record: OwnRecord) -> None:
        """A changed record (alias): published at once, replacing the old instance name."""
        self._record = record
        self._next_publish = 0.0
        self._wake.set()

    async def browse_now(self, timeout: float = QUERY_TIMEOUT * 2) -> None:
        """Ask the server now (an ID or alias typed that is not known yet); returns when that
        browse is done or after ``timeout``."""
        if self._task is None:
            return
        self._browsed.clear()
        self._next_browse = 0.0
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._browsed.wait(), timeout)

    async def stop(self) -> None:
        """Delete our records (bounded wait: quitting is never held up long) and stop."""
        await self.set_mode(DiscoveryMode.OFF)

    # -- the loop ---------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            if self._mode is DiscoveryMode.ON and now >= self._next_publish:
                await self._publish_step(loop.time())
            now = loop.time()
            if now >= self._next_browse:
                await self._browse_step(loop.time())
                self._browsed.set()
            self._set_status()
            due = self._next_browse
            if self._mode is DiscoveryMode.ON:
                due = min(due, self._next_publish)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, due - loop.time()))

    def _backoff(self, failures: int) -> float:
        base = min(5.0, self._settings.ttl / 3, self._settings.browse_interval)
        return float(min(MAX_BACKOFF, base * 2 ** min(failures - 1, 16)))

    async def _publish_step(self, now: float) -> None:
        try:
            await self._publish()
        except WideAreaProblem as exc:
            self._publish_failures += 1
            delay = self._backoff(self._publish_failures)
            self._publish_problem = f"{exc}; retrying in {delay:g} s"
            _log.warning("wide-area discovery: %s", self._publish_problem)
            self._next_publish = now + delay
        else:
            self._publish_failures = 0
            self._publish_problem = None
            self._next_publish = now + self._settings.ttl / 3

    async def _browse_step(self, now: float) -> None:
        try:
            await self._browse()
        except WideAreaProblem as exc:
            self._browse_failures += 1
            delay = self._backoff(self._browse_failures)
            self._browse_problem = f"{exc}; retrying in {delay:g} s"
            _log.warning("wide-area discovery: %s", self._browse_problem)
            self._next_browse = now + delay
        else:
            self._browse_failures = 0
            self._browse_problem = None
            self._next_browse = now + self._settings.browse_interval

    def _set_status(self) -> None:
        if self._mode is DiscoveryMode.OFF:
            text = "off"
        else:
            where = f"{self.domain or '(domain not known yet)'} via {self._settings.server}"
            problems = [p for p in (self._publish_problem, self._browse_problem) if p]
            if self._mode is DiscoveryMode.ON and self._key is None:
                problems.insert(0, self._secret_problem or "no TSIG key: browsing only")
            if problems:
                text = f"{where}: " + "; ".join(problems)
            else:
                shown = "published" if self._published is not None else "browsing"
                text = f"{where}: {shown}, {len(self._peers)} peer(s)"
        if text != self._status:
            self._status = text
            self.status_changed.emit(text)

    async def _stop_task(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- publishing and browsing ---------------------------------------------------------

    async def _publish(self) -> None:
        if self._key is None or self._record is None:
            return
        domain = await self._dns.learn_domain()
        zone = await self._dns.zone_of(domain)
        record = self._record
        previous = self._published[0] if self._published is not None else None
        update = build_publish(
            zone,
            domain,
            record,
            self._addresses,
            self._settings.ttl,
            self._wall() + self._settings.ttl,
            self._key,
            tag=self._tag,
            previous=previous,
        )
        await self._dns.send_update(update, UPDATE_TIMEOUT)
        self._published = (
            instance_name(record, domain, self._tag),
            host_name(record, domain, self._tag),
        )

    async def _withdraw(self) -> None:
        published, self._published = self._published, None
        domain = self._dns.domain
        if published is None or domain is None or self._key is None:
            return
        zone = self._dns.zone or domain
        update = build_removal(zone, domain, published[0], published[1], self._key)
        try:
            await self._dns.send_update(update, GOODBYE_TIMEOUT)
        except WideAreaProblem as exc:
            _log.warning("wide-area discovery: our records stay until they age out: %s", exc)

    async def _browse(self) -> None:
        domain = await self._dns.learn_domain()
        service = service_name(domain)
        response = await self._dns.query(service, dns.rdatatype.PTR)
        rcode = response.rcode()
        if rcode == dns.rcode.NXDOMAIN:
            self._drop_all()
            raise WideAreaProblem(
                f"{service.to_text(omit_final_dot=True)} does not exist (NXDOMAIN): no client "
                f"has published in {self.domain} yet, or the domain is wrong"
            )
        if rcode != dns.rcode.NOERROR:
            raise WideAreaProblem(
                f"the DNS server {self._settings.server} answered {dns.rcode.to_text(rcode)}"
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
            and (self._published is None or key != self._published[0].to_text().lower())
        ]
        results = await asyncio.gather(
            *(self._dns.read_instance(name, domain) for _, name in todo), return_exceptions=True
        )
        now = self._wall()
        for (key, name), result in zip(todo, results, strict=True):
            if isinstance(result, WideAreaProblem):
                raise result
            if isinstance(result, BaseException):
                raise result
            self._take(key, name, result, domain, now)
        await self._collect_stale(domain)

    def _take(
        self,
        key: str,
        name: dns.name.Name,
        records: InstanceRecords,
        domain: dns.name.Name,
        now: float,
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
            if found.expires + self._settings.ttl <= now:
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

    async def _collect_stale(self, domain: dns.name.Name) -> None:
        """Delete records whose lease ran out more than a TTL ago (a crashed client's)."""
        if self._key is None or self._mode is not DiscoveryMode.ON or not self._stale:
            return
        zone = await self._dns.zone_of(domain)
        for key in list(self._stale)[:MAX_DELETES_PER_ROUND]:
            instance, host = self._stale.pop(key)
            _log.info("wide-area discovery: deleting %s, its lease ran out", instance)
            try:
                await self._dns.send_update(
                    build_removal(zone, domain, instance, host, self._key), 3.0
                )
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

    def _drop_all(self) -> None:
        for key in list(self._peers):
            self._drop(key)
        self._stale.clear()
