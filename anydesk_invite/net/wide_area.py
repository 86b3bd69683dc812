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
same checks as a multicast one (``discovery.parse_txt``: the ID derives from the key, alias
grammar and size), and everything is bounded: answers read per query, instances
kept, addresses per instance, bytes of TXT. A record is a hint: who a peer is is proven by
its pinned key when connecting, as on the LAN (a fleet-wide key lets any member write).

Failures (server down, update refused, NXDOMAIN, slow answers) never stop the LAN side: the
reason goes to ``status`` and the step is retried with exponential back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

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
from anydesk_invite.core.wide_area import WideAreaSettings, parse_server
from anydesk_invite.net.records import DiscoveredPeer, OwnRecord, TxtError, parse_txt

_log = logging.getLogger(__name__)

SERVICE_LABELS = (b"_adinvite", b"_tcp")
LEASE_KEY = "exp"
MAX_INSTANCES = 1500
"""PTR answers read per browse, and instances kept: a zone of ~1,400 clients still fits one
64 KiB answer; a bigger fleet uses one discovery domain per site."""
MAX_ADDRESSES = 8
MAX_TXT_BYTES = 1300
"""TXT record data we read per instance (RFC 6763 §6.2 suggests under 1300 bytes)."""
MAX_TXT_STRINGS = 16
MAX_LEASE_AHEAD = 2 * 86400
"""A lease further ahead than this is refused: a record must not outlive its writer forever."""
QUERY_TIMEOUT = 3.0
UPDATE_TIMEOUT = 5.0
GOODBYE_TIMEOUT = 2.0
MAX_BACKOFF = 300.0
MAX_CONCURRENT_QUERIES = 32
MAX_DELETES_PER_ROUND = 16
_ALIAS_LABEL_BYTES = 40


class WideAreaRecordError(ValueError):
    """A published instance that is not valid; the message says why."""


@dataclass(frozen=True, slots=True)
class InstanceRecords:
    """What the DNS holds for one instance, as read (before any check)."""

    name: str
    srv: tuple[tuple[int, str], ...]
    """(port, target) of each SRV record."""
    txt: tuple[bytes, ...]
    addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WideAreaPeer:
    """A peer found through the DNS, with the time its lease runs out."""

    peer: DiscoveredPeer
    expires: float


# -- names and records we publish -----------------------------------------------------------


def service_name(domain: dns.name.Name) -> dns.name.Name:
    return dns.name.Name(SERVICE_LABELS + domain.labels)


def _label(text: str) -> bytes:
    return re.sub(r"[^a-z0-9-]", "-", text.lower()).encode("ascii")[:63]


def instance_name(record: OwnRecord, domain: dns.name.Name, tag: str = "") -> dns.name.Name:
    """The instance name: ``<alias>-<fp12><tag>`` as on mDNS, the alias cut to fit a label."""
    alias = record.alias.encode("utf-8")[:_ALIAS_LABEL_BYTES].decode("utf-8", "ignore")
    label = f"{alias}-{record.fingerprint.hex()[:12]}{tag}".encode()[:63]
    return dns.name.Name((label, *service_name(domain).labels))


def host_name(record: OwnRecord, domain: dns.name.Name, tag: str = "") -> dns.name.Name:
    return dns.name.Name((_label(f"adinvite-{record.fingerprint.hex()[:12]}{tag}"), *domain.labels))


def txt_strings(record: OwnRecord, expires: float) -> list[bytes]:
    return [
        f"v={record.version}".encode(),
        f"id={record.device_id}".encode(),
        f"alias={record.alias}".encode(),
        f"fp={record.fingerprint.hex()}".encode(),
        f"{LEASE_KEY}={int(expires)}".encode(),
    ]


# dnspython's rdata constructors are not annotated; these are the only calls to them.
def _ptr(target: dns.name.Name) -> dns.rdata.Rdata:
    return dns.rdtypes.ANY.PTR.PTR(dns.rdataclass.IN, dns.rdatatype.PTR, target)  # type: ignore[no-untyped-call]


def _srv(port: int, target: dns.name.Name) -> dns.rdata.Rdata:
    return dns.rdtypes.IN.SRV.SRV(dns.rdataclass.IN, dns.rdatatype.SRV, 0, 0, port, target)  # type: ignore[no-untyped-call]


def _rdata_for_address(address: str) -> dns.rdata.Rdata:
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 4:
        return dns.rdtypes.IN.A.A(dns.rdataclass.IN, dns.rdatatype.A, str(ip))  # type: ignore[no-untyped-call]
    return dns.rdtypes.IN.AAAA.AAAA(dns.rdataclass.IN, dns.rdatatype.AAAA, str(ip))  # type: ignore[no-untyped-call]


def build_publish(
    zone: dns.name.Name,
    domain: dns.name.Name,
    record: OwnRecord,
    addresses: Sequence[str],
    ttl: int,
    expires: float,
    key: dns.tsig.Key | None,
    *,
    tag: str = "",
    previous: dns.name.Name | None = None,
) -> dns.update.UpdateMessage:
    """One signed UPDATE that (re)writes all our records, and drops a previous instance name
    (an alias change) in the same transaction."""
    update = dns.update.UpdateMessage(zone, keyring=key)
    service = service_name(domain)
    instance = instance_name(record, domain, tag)
    host = host_name(record, domain, tag)
    IN = dns.rdataclass.IN
    update.add(
        dns.name.Name((b"_services", b"_dns-sd", b"_udp", *domain.labels)),
        ttl,
        _ptr(service),
    )
    if previous is not None and previous != instance:
        update.delete(service, _ptr(previous))
        update.delete(previous)
    update.add(service, ttl, _ptr(instance))
    update.delete(instance)
    update.add(instance, ttl, _srv(record.port, host))
    update.add(
        instance,
        ttl,
        dns.rdtypes.ANY.TXT.TXT(IN, dns.rdatatype.TXT, txt_strings(record, expires)),
    )
    update.delete(host)
    for address in addresses:
        update.add(host, ttl, _rdata_for_address(address))
    return update


def build_removal(
    zone: dns.name.Name,
    domain: dns.name.Name,
    instance: dns.name.Name,
    host: dns.name.Name | None,
    key: dns.tsig.Key | None,
) -> dns.update.UpdateMessage:
    """One signed UPDATE that deletes an instance: its PTR, SRV, TXT and host addresses."""
    update = dns.update.UpdateMessage(zone, keyring=key)
    update.delete(
        service_name(domain),
        _ptr(instance),
    )
    update.delete(instance)
    if host is not None and host.is_subdomain(domain):
        update.delete(host)
    return update


# -- checking what we read ------------------------------------------------------------------


def parse_txt_strings(strings: Iterable[bytes]) -> dict[bytes, bytes | None]:
    """TXT strings to ``key -> value`` as RFC 6763 §6.4 says: keys are case-insensitive, the
    first of a repeated key wins, a string without ``=`` is a key without value."""
    props: dict[bytes, bytes | None] = {}
    total = 0
    for count, s in enumerate(strings):
        total += len(s) + 1
        if count >= MAX_TXT_STRINGS or total > MAX_TXT_BYTES:
            raise TxtError(f"TXT is larger than {MAX_TXT_STRINGS} strings or {MAX_TXT_BYTES} bytes")
        key, sep, value = s.partition(b"=")
        if not key:
            continue
        props.setdefault(key.lower(), value if sep else None)
    return props


def _usable_address(text: str, allow_loopback: bool) -> str | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if ip.is_multicast or ip.is_unspecified or ip.is_link_local or ip.is_reserved:
        return None
    if ip.is_loopback and not allow_loopback:
        return None
    return str(ip)


def check_instance(
    records: InstanceRecords,
    domain: dns.name.Name,
    now: float,
    *,
    allow_loopback: bool = False,
) -> WideAreaPeer:
    """Check one instance as strictly as a multicast one; WideAreaRecordError or TxtError."""
    props = parse_txt_strings(records.txt)
    version, device_id, alias, fingerprint = parse_txt(props)
    raw_exp = props.get(LEASE_KEY.encode())
    if raw_exp is None or not raw_exp.isdigit() or len(raw_exp) > 12:
        raise TxtError(f"no valid {LEASE_KEY!r} (lease) in TXT")
    expires = float(int(raw_exp))
    if expires > now + MAX_LEASE_AHEAD:
        raise WideAreaRecordError("its lease runs more than two days ahead")
    if len(records.srv) != 1:
        raise WideAreaRecordError(f"{len(records.srv)} SRV records, not one")
    port, target = records.srv[0]
    if not 0 < port < 65536:
        raise WideAreaRecordError(f"bad port {port}")
    target_name = dns.name.from_text(target)
    if not target_name.is_subdomain(domain):
        raise WideAreaRecordError(f"its host {target[:80]!r} is outside {domain}")
    addresses = tuple(
        dict.fromkeys(
            a
            for a in (_usable_address(x, allow_loopback) for x in records.addresses[:MAX_ADDRESSES])
            if a is not None
        )
    )
    if not addresses:
        raise WideAreaRecordError("no usable address")
    peer = DiscoveredPeer(device_id, alias, fingerprint, addresses, port, version, records.name)
    return WideAreaPeer(peer, expires)


def _addresses_of(target: dns.name.Name, rrsets: Iterable[dns.rrset.RRset]) -> list[str]:
    out: list[str] = []
    for rrset in rrsets:
        if rrset.name == target and rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            out.extend(rd.to_text() for rd in list(rrset)[:MAX_ADDRESSES])
    return out[:MAX_ADDRESSES]


def read_search_domains(path: Path = Path("/etc/resolv.conf")) -> list[str]:
    """The ``search`` (or ``domain``) names of resolv.conf, where browse domains are looked up."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")[:65536]
    except OSError:
        return []
    found: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("search", "domain"):
            found = [w.rstrip(".").lower() for w in words[1:7]]
    return found


# -- the running part -----------------------------------------------------------------------


class WideAreaProblem(Exception):
    """A step failed; the message says why in words for a person."""


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
        self._configure(settings, secret, secret_problem)
        self._published: tuple[dns.name.Name, dns.name.Name] | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._browsed = asyncio.Event()
        self._peers: dict[str, WideAreaPeer] = {}
        self._stale: dict[str, tuple[dns.name.Name, dns.name.Name | None]] = {}
        self._limit = asyncio.Semaphore(MAX_CONCURRENT_QUERIES)
        self._publish_problem: str | None = None
        self._browse_problem: str | None = None
        self._publish_failures = 0
        self._browse_failures = 0
        self._next_publish = 0.0
        self._next_browse = 0.0
        self._status = "off"
        self.queries = 0
        """DNS queries sent so far (for bench/wide_area.py)."""

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
        if self._settings.server:
            self._server, self._port = parse_server(self._settings.server)
        else:
            self._server, self._port = "", 53
        self._domain: dns.name.Name | None = (
            dns.name.from_text(self._settings.domain) if self._settings.domain else None
        )
        self._zone: dns.name.Name | None = None

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
        return self._domain.to_text(omit_final_dot=True) if self._domain is not None else ""

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

    # -- DNS exchanges ----------------------------------------------------------------------

    async def _query(
        self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType
    ) -> dns.message.Message:
        query = dns.message.make_query(name, rdtype)
        async with self._limit:
            self.queries += 1
            try:
                response, _ = await dns.asyncquery.udp_with_fallback(
                    query, self._server, timeout=self._query_timeout, port=self._port
                )
            except dns.exception.Timeout:
                raise WideAreaProblem(
                    f"the DNS server {self._settings.server} did not answer within "
                    f"{self._query_timeout:g} s"
                ) from None
            except OSError as exc:
                raise WideAreaProblem(
                    f"the DNS server {self._settings.server} cannot be reached "
                    f"({exc.strerror or exc})"
                ) from None
            except dns.exception.DNSException as exc:
                raise WideAreaProblem(
                    f"the DNS server {self._settings.server} sent a bad answer: {exc}"
                ) from None
        return response

    async def _send_update(self, update: dns.update.UpdateMessage, timeout: float) -> None:
        try:
            response = await dns.asyncquery.tcp(
                update, self._server, timeout=timeout, port=self._port
            )
        except dns.tsig.PeerBadKey:
            raise WideAreaProblem(
                f"update refused: the DNS server does not know the TSIG key "
                f"{self._settings.key_name!r} (BADKEY)"
            ) from None
        except dns.tsig.PeerBadSignature:
            raise WideAreaProblem(
                "update refused: wrong TSIG secret (the server says BADSIG)"
            ) from None
        except dns.tsig.PeerBadTime:
            raise WideAreaProblem(
                "update refused: this computer's clock is too far off (BADTIME)"
            ) from None
        except dns.exception.Timeout:
            raise WideAreaProblem(
                f"the DNS server {self._settings.server} did not answer the update within "
                f"{timeout:g} s"
            ) from None
        except OSError as exc:
            raise WideAreaProblem(
                f"the DNS server {self._settings.server} cannot be reached ({exc.strerror or exc})"
            ) from None
        except dns.exception.DNSException as exc:
            raise WideAreaProblem(
                f"the DNS server {self._settings.server} sent a bad answer to the update: {exc}"
            ) from None
        rcode = response.rcode()
        if rcode != dns.rcode.NOERROR:
            text = dns.rcode.to_text(rcode)
            hint = {
                dns.rcode.REFUSED: " (the server does not allow this key to update the zone)",
                dns.rcode.NOTAUTH: " (the server is not authoritative or the key was refused)",
                dns.rcode.NOTZONE: " (the name is outside the zone)",
                # BIND >= 9.18.28 refuses a 101st record of one type unless told otherwise.
                dns.rcode.SERVFAIL: " (a BIND server also says this when the zone's "
                "max-records-per-type is reached: see the README)",
            }.get(rcode, "")
            raise WideAreaProblem(f"update refused by {self._settings.server}: {text}{hint}")

    async def _learn_domain(self) -> dns.name.Name:
        if self._domain is not None:
            return self._domain
        searched = self._search_domains()
        for search in searched:
            for prefix in (b"lb", b"b"):
                try:
                    base = dns.name.from_text(search)
                except dns.exception.DNSException:
                    continue
                name = dns.name.Name((prefix, b"_dns-sd", b"_udp", *base.labels))
                response = await self._query(name, dns.rdatatype.PTR)
                for rrset in response.answer:
                    if rrset.rdtype == dns.rdatatype.PTR and rrset.name == name:
                        for rd in rrset:
                            assert isinstance(rd, dns.rdtypes.ANY.PTR.PTR)
                            self._domain = rd.target
                            _log.info("wide-area discovery: domain %s from %s", rd.target, name)
                            return rd.target
        looked = ", ".join(searched) or "none in /etc/resolv.conf"
        raise WideAreaProblem(
            f"no discovery domain set, and none found under b._dns-sd._udp of the search "
            f"domains ({looked})"
        )

    async def _zone_of(self, domain: dns.name.Name) -> dns.name.Name:
        if self._zone is not None:
            return self._zone
        response = await self._query(domain, dns.rdatatype.SOA)
        for rrset in (*response.answer, *response.authority):
            if rrset.rdtype == dns.rdatatype.SOA and domain.is_subdomain(rrset.name):
                self._zone = rrset.name
                return rrset.name
        raise WideAreaProblem(
            f"the DNS server {self._settings.server} is not authoritative for {domain} "
            f"({dns.rcode.to_text(response.rcode())}, no SOA)"
        )

    async def _publish(self) -> None:
        if self._key is None or self._record is None:
            return
        domain = await self._learn_domain()
        zone = await self._zone_of(domain)
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
        await self._send_update(update, UPDATE_TIMEOUT)
        self._published = (
            instance_name(record, domain, self._tag),
            host_name(record, domain, self._tag),
        )

    async def _withdraw(self) -> None:
        published, self._published = self._published, None
        if published is None or self._domain is None or self._key is None:
            return
        zone = self._zone or self._domain
        update = build_removal(zone, self._domain, published[0], published[1], self._key)
        try:
            await self._send_update(update, GOODBYE_TIMEOUT)
        except WideAreaProblem as exc:
            _log.warning("wide-area discovery: our records stay until they age out: %s", exc)

    async def _browse(self) -> None:
        domain = await self._learn_domain()
        service = service_name(domain)
        response = await self._query(service, dns.rdatatype.PTR)
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
            *(self._resolve(name, domain) for _, name in todo), return_exceptions=True
        )
        now = self._wall()
        for (key, name), result in zip(todo, results, strict=True):
            if isinstance(result, WideAreaProblem):
                raise result
            if isinstance(result, BaseException):
                raise result
            self._take(key, name, result, domain, now)
        await self._collect_stale(domain)

    async def _resolve(self, name: dns.name.Name, domain: dns.name.Name) -> InstanceRecords:
        srv_response, txt_response = await asyncio.gather(
            self._query(name, dns.rdatatype.SRV), self._query(name, dns.rdatatype.TXT)
        )
        srv: list[tuple[int, str]] = []
        for rrset in srv_response.answer:
            if rrset.rdtype == dns.rdatatype.SRV and rrset.name == name:
                for rd in list(rrset)[:4]:
                    assert isinstance(rd, dns.rdtypes.IN.SRV.SRV)
                    srv.append((rd.port, rd.target.to_text()))
        txt: list[bytes] = []
        for rrset in txt_response.answer:
            if rrset.rdtype == dns.rdatatype.TXT and rrset.name == name:
                rd = next(iter(rrset))
                assert isinstance(rd, dns.rdtypes.ANY.TXT.TXT)
                txt.extend(rd.strings[: MAX_TXT_STRINGS + 1])
                break
        addresses: list[str] = []
        if len(srv) == 1:
            target = dns.name.from_text(srv[0][1])
            if target.is_subdomain(domain):
                # An authoritative server puts the target's addresses in the additional
                # section of the SRV answer (BIND does): ask for them only when it did not.
                addresses = _addresses_of(target, srv_response.additional)
                if not addresses:
                    found = await asyncio.gather(
                        self._query(target, dns.rdatatype.A),
                        self._query(target, dns.rdatatype.AAAA),
                    )
                    for response in found:
                        addresses.extend(_addresses_of(target, response.answer))
        return InstanceRecords(name.to_text(), tuple(srv), tuple(txt), tuple(addresses))

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
        zone = await self._zone_of(domain)
        for key in list(self._stale)[:MAX_DELETES_PER_ROUND]:
            instance, host = self._stale.pop(key)
            _log.info("wide-area discovery: deleting %s, its lease ran out", instance)
            try:
                await self._send_update(build_removal(zone, domain, instance, host, self._key), 3.0)
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
