"""DNS-SD in unicast DNS (RFC 6763 §11), as records: the names and records a client publishes
in the discovery domain (and the update that removes them), and the checks every instance read
from the DNS passes before it is listed. wide_area.py runs publishing and browsing over these."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from anydesk_invite.net.records import DiscoveredPeer, OwnRecord, TxtError, parse_txt

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


def addresses_of(target: dns.name.Name, rrsets: Iterable[dns.rrset.RRset]) -> list[str]:
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
