"""DNS-SD records for the organisation's DNS: what we publish, and how strictly we read them.

No server here: the update messages are built and read back as rdata, and what a browser
reads is checked through ``check_instance`` (the same TXT checks as multicast discovery).
The running part is tested against real sockets on 127.0.0.1 (a server that never
answers) and end to end against BIND in tests/e2e/test_wide_area.py.
"""

from __future__ import annotations

import asyncio
import os
import socket

import dns.name
import dns.rdatatype
import dns.tsig
import pytest

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.policy import DiscoveryMode
from anydesk_invite.core.wide_area import WideAreaSettings
from anydesk_invite.net.dns_sd import (
    MAX_LEASE_AHEAD,
    MAX_TXT_BYTES,
    InstanceRecords,
    WideAreaRecordError,
    build_publish,
    build_removal,
    check_instance,
    host_name,
    instance_name,
    parse_txt_strings,
    read_search_domains,
    txt_strings,
)
from anydesk_invite.net.records import OwnRecord, TxtError
from anydesk_invite.net.wide_area import WideAreaDiscovery

DOMAIN = dns.name.from_text("clients.example.test")
ZONE = dns.name.from_text("example.test")
NOW = 1_800_000_000.0
OTHER_ID = str(DeviceId.from_fingerprint(bytes(range(32))))


def _record(alias: str = "anna@ad", fingerprint: bytes | None = None) -> OwnRecord:
    fp = fingerprint or os.urandom(32)
    return OwnRecord(DeviceId.from_fingerprint(fp), alias, fp, 40123)


def _published(record: OwnRecord, addresses: tuple[str, ...] = ("10.1.2.3",)) -> InstanceRecords:
    """What a browser reads back for ``record``: built by build_publish, taken from the update."""
    key = dns.tsig.Key("fleet-key", "c2VjcmV0c2VjcmV0c2VjcmV0", "hmac-sha256.")
    update = build_publish(ZONE, DOMAIN, record, addresses, 120, NOW + 120, key)
    instance = instance_name(record, DOMAIN)
    srv, txt, found = [], [], []
    for rrset in update.update:
        for rd in rrset:
            if rrset.name == instance and rrset.rdtype == dns.rdatatype.SRV:
                srv.append((rd.port, rd.target.to_text()))
            elif rrset.name == instance and rrset.rdtype == dns.rdatatype.TXT:
                txt.extend(rd.strings)
            elif rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                found.append(rd.to_text())
    return InstanceRecords(instance.to_text(), tuple(srv), tuple(txt), tuple(found))


def test_a_published_record_reads_back_as_the_same_peer() -> None:
    record = _record()
    peer = check_instance(_published(record, ("10.1.2.3", "fd00::5")), DOMAIN, NOW)
    assert peer.expires == NOW + 120
    p = peer.peer
    assert (p.device_id, p.alias, p.fingerprint, p.port) == (
        record.device_id,
        "anna@ad",
        record.fingerprint,
        40123,
    )
    assert p.addresses == ("10.1.2.3", "fd00::5")


def test_the_update_is_signed_and_names_the_zone_and_every_record() -> None:
    record = _record()
    key = dns.tsig.Key("fleet-key", "c2VjcmV0c2VjcmV0c2VjcmV0", "hmac-sha256.")
    update = build_publish(ZONE, DOMAIN, record, ["10.1.2.3"], 60, NOW + 60, key)
    assert update.zone[0].name == ZONE
    assert update.keyname == dns.name.from_text("fleet-key")
    types = {(r.name.to_text(), dns.rdatatype.to_text(r.rdtype)) for r in update.update}
    instance = instance_name(record, DOMAIN).to_text()
    host = host_name(record, DOMAIN).to_text()
    assert {
        (f"_services._dns-sd._udp.{DOMAIN}", "PTR"),
        (f"_adinvite._tcp.{DOMAIN}", "PTR"),
        (instance, "SRV"),
        (instance, "TXT"),
        (host, "A"),
    } <= types
    assert all(r.ttl == 60 for r in update.update if r.rdtype != dns.rdatatype.ANY)


def test_a_new_alias_deletes_the_old_instance_in_the_same_update() -> None:
    old = _record("anna@ad")
    new = OwnRecord(old.device_id, "annie@ad", old.fingerprint, old.port)
    previous = instance_name(old, DOMAIN)
    update = build_publish(ZONE, DOMAIN, new, ["10.1.2.3"], 60, NOW, None, previous=previous)
    deleted = {r.name for r in update.update if r.rdtype == dns.rdatatype.ANY}
    assert previous in deleted
    assert instance_name(new, DOMAIN) != previous


def test_removal_deletes_only_our_ptr_and_our_names() -> None:
    record = _record()
    instance, host = instance_name(record, DOMAIN), host_name(record, DOMAIN)
    update = build_removal(ZONE, DOMAIN, instance, host, None)
    names = {(r.name, r.rdtype, r.deleting) for r in update.update}
    service = dns.name.from_text(f"_adinvite._tcp.{DOMAIN}")
    # The service PTR is removed value by value (class NONE), never as a whole RRset.
    ptr = [r for r in update.update if r.name == service]
    assert len(ptr) == 1 and ptr[0][0].target == instance
    assert (instance, dns.rdatatype.ANY, dns.rdataclass.ANY) in names
    assert (host, dns.rdatatype.ANY, dns.rdataclass.ANY) in names


def test_a_long_alias_is_cut_to_fit_one_dns_label() -> None:
    record = _record("ä" * 60 + "@ad")
    label = instance_name(record, DOMAIN, "tag").labels[0]
    assert len(label) <= 63
    assert label.decode("utf-8")  # cut on a character boundary


def _with_txt(base: InstanceRecords, *strings: bytes, drop: str = "") -> InstanceRecords:
    kept = [s for s in base.txt if not (drop and s.startswith(drop.encode() + b"="))]
    return InstanceRecords(base.name, base.srv, (*strings, *kept), base.addresses)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"drop": "exp"}, "lease"),
        ({"add": b"exp=soon"}, "lease"),
        ({"drop": "fp"}, "'fp'"),
        ({"drop": "alias"}, "'alias'"),
        ({"add": b"alias=" + b"x" * 200}, "alias is"),
        ({"add": b"v=banana"}, "protocol version"),
        ({"add": b"id=" + OTHER_ID.encode()}, "does not derive"),
        ({"add": b"id=111111111"}, "bad ID"),
    ],
)
def test_a_txt_that_multicast_discovery_would_refuse_is_refused(
    change: dict[str, object], why: str
) -> None:
    base = _published(_record())
    add = change.get("add")
    strings = (add,) if isinstance(add, bytes) else ()
    records = _with_txt(base, *strings, drop=str(change.get("drop", "")))
    with pytest.raises((TxtError, WideAreaRecordError), match=why):
        check_instance(records, DOMAIN, NOW)


def test_an_oversized_txt_is_refused_before_it_is_read() -> None:
    base = _published(_record())
    big = tuple(b"k%d=" % i + b"x" * 200 for i in range(8))
    assert sum(len(s) for s in big) > MAX_TXT_BYTES
    with pytest.raises(TxtError, match="larger than"):
        check_instance(_with_txt(base, *big), DOMAIN, NOW)


def test_txt_keys_are_case_insensitive_and_the_first_one_wins() -> None:
    assert parse_txt_strings([b"ID=1", b"id=2", b"flag", b"=x"]) == {b"id": b"1", b"flag": None}


def test_a_lease_far_in_the_future_is_refused() -> None:
    record = _record()
    base = _published(record)
    late = f"exp={int(NOW + MAX_LEASE_AHEAD + 10)}".encode()
    with pytest.raises(WideAreaRecordError, match="lease"):
        check_instance(_with_txt(base, late, drop="exp"), DOMAIN, NOW)


def test_srv_records_must_be_one_and_point_inside_the_domain() -> None:
    base = _published(_record())
    two = InstanceRecords(base.name, base.srv * 2, base.txt, base.addresses)
    with pytest.raises(WideAreaRecordError, match="2 SRV"):
        check_instance(two, DOMAIN, NOW)
    outside = InstanceRecords(base.name, ((40123, "evil.example.org."),), base.txt, base.addresses)
    with pytest.raises(WideAreaRecordError, match="outside"):
        check_instance(outside, DOMAIN, NOW)
    zero = InstanceRecords(base.name, ((0, base.srv[0][1]),), base.txt, base.addresses)
    with pytest.raises(WideAreaRecordError, match="port"):
        check_instance(zero, DOMAIN, NOW)


def test_loopback_link_local_and_multicast_addresses_are_not_dialled() -> None:
    base = _published(_record())
    odd = InstanceRecords(
        base.name, base.srv, base.txt, ("127.0.0.1", "169.254.1.1", "224.0.0.251", "::", "x")
    )
    with pytest.raises(WideAreaRecordError, match="no usable address"):
        check_instance(odd, DOMAIN, NOW)
    # A client that itself runs on loopback (tests, one machine) may dial loopback.
    assert check_instance(odd, DOMAIN, NOW, allow_loopback=True).peer.addresses == ("127.0.0.1",)


def test_addresses_per_instance_are_bounded() -> None:
    base = _published(_record())
    many = tuple(f"10.0.0.{i}" for i in range(1, 50))
    found = check_instance(InstanceRecords(base.name, base.srv, base.txt, many), DOMAIN, NOW)
    assert len(found.peer.addresses) == 8


def test_the_lease_in_the_txt_is_the_wall_time_when_the_record_goes_stale() -> None:
    record = _record()
    assert b"exp=1800000120" in txt_strings(record, NOW + 120)


def test_search_domains_come_from_resolv_conf(tmp_path) -> None:  # type: ignore[no-untyped-def]
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 10.0.0.1\nsearch Corp.Example.org. lab.example.org\n")
    assert read_search_domains(conf) == ["corp.example.org", "lab.example.org"]
    assert read_search_domains(tmp_path / "missing") == []


# -- the running part against real sockets on 127.0.0.1 -------------------------------------


def _settings(port: int) -> WideAreaSettings:
    return WideAreaSettings(
        domain="clients.example.test",
        server=f"127.0.0.1:{port}",
        key_name="fleet-key",
        ttl=3,
        browse_interval=0.5,
    )


async def _wait_status(wide: WideAreaDiscovery, words: str) -> str:
    seen = asyncio.Event()
    wide.status_changed.connect(lambda text: seen.set() if words in text else None)
    if words not in wide.status:
        await asyncio.wait_for(seen.wait(), 10)
    return wide.status


async def test_a_server_that_never_answers_is_reported_and_retried_with_back_off() -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    # TCP too, so updates also wait: the listener accepts nothing, its backlog holds them.
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", silent.getsockname()[1]))
    tcp.listen(1)
    try:
        wide = WideAreaDiscovery(
            _settings(silent.getsockname()[1]),
            "c2VjcmV0c2VjcmV0c2VjcmV0",
            os.urandom(32),
            ["127.0.0.1"],
            query_timeout=0.2,
        )
        await wide.start(DiscoveryMode.HIDDEN, _record())
        text = await _wait_status(wide, "did not answer")
        assert "retrying in 0.5 s" in text
        text = await _wait_status(wide, "retrying in 1 s")
        await _wait_status(wide, "retrying in 2 s")
        await wide.browse_now(timeout=1.0)  # on demand: returns, whatever the server does
        await wide.stop()
        assert wide.status == "off" and wide.peers() == []
    finally:
        silent.close()
        tcp.close()


async def test_without_a_secret_it_only_browses_and_says_so() -> None:
    wide = WideAreaDiscovery(_settings(9), None, os.urandom(32), ["127.0.0.1"], query_timeout=0.2)
    await wide.start(DiscoveryMode.ON, _record())
    assert "no TSIG key: browsing only" in wide.status
    await wide.stop()


async def test_without_a_server_it_stays_off_and_opens_nothing() -> None:
    wide = WideAreaDiscovery(WideAreaSettings(), None, os.urandom(32), ["127.0.0.1"])
    await wide.start(DiscoveryMode.ON, _record())
    assert wide.status == "off"
    await wide.browse_now()
    await wide.stop()
