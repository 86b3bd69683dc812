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

The records and their checks are dns_sd.py; the exchanges with the DNS server dns_server.py;
browsing and the peers it found wide_area_peers.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from anydesk_invite.core.policy import DiscoveryMode
from anydesk_invite.core.signal import Signal
from anydesk_invite.core.wide_area import WideAreaSettings
from anydesk_invite.net.dns_sd import (
    build_publish,
    build_removal,
    host_name,
    instance_name,
    read_search_domains,
)
from anydesk_invite.net.dns_server import QUERY_TIMEOUT, DnsServer, WideAreaProblem
from anydesk_invite.net.records import DiscoveredPeer, OwnRecord
from anydesk_invite.net.wide_area_peers import WideAreaPeers

if TYPE_CHECKING:
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
else:
    from anydesk_invite.net.dns_lazy import dns


_log = logging.getLogger(__name__)

UPDATE_TIMEOUT = 5.0
GOODBYE_TIMEOUT = 2.0
MAX_BACKOFF = 300.0


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
        self._addresses = [a.split("%")[0] for a in addresses]
        allow_loopback = any(ipaddress.ip_address(a).is_loopback for a in self._addresses)
        self._tag = tag
        self._wall = wall
        self._search_domains = search_domains
        self._query_timeout = query_timeout
        self._found = WideAreaPeers(own_fingerprint, allow_loopback, wall)
        self.peer_seen = self._found.peer_seen
        self.peer_gone = self._found.peer_gone
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
        return self._found.peers()

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
            self._found.drop_all()
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
            published = self._published[0] if self._published is not None else None
            deleting = self._key if self._mode is DiscoveryMode.ON else None
            await self._found.browse(self._dns, published, self._settings.ttl, deleting)
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
                text = f"{where}: {shown}, {len(self._found)} peer(s)"
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
