"""The organisation's DNS server, as one configuration of wide-area discovery uses it: queries
(a bounded number at once), updates signed with TSIG, the discovery domain and its zone
(learnt once and kept), and what the DNS holds for one instance. Every failure is a
WideAreaProblem whose message says what went wrong in words for a person."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from anydesk_invite.core.wide_area import WideAreaSettings, parse_server
from anydesk_invite.net.dns_sd import MAX_TXT_STRINGS, InstanceRecords, addresses_of

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

QUERY_TIMEOUT = 3.0
MAX_CONCURRENT_QUERIES = 32


class WideAreaProblem(Exception):
    """A step failed; the message says why in words for a person."""


class DnsServer:
    """One DNS server and discovery domain (the settings' ``server``, ``domain``, key name)."""

    def __init__(
        self,
        settings: WideAreaSettings,
        *,
        search_domains: Callable[[], list[str]],
        query_timeout: float = QUERY_TIMEOUT,
    ) -> None:
        self._name = settings.server
        self._key_name = settings.key_name
        if settings.server:
            self._server, self._port = parse_server(settings.server)
        else:
            self._server, self._port = "", 53
        self.domain: dns.name.Name | None = (
            dns.name.from_text(settings.domain) if settings.domain else None
        )
        """The discovery domain: set, or learnt from the search domains (``learn_domain``)."""
        self.zone: dns.name.Name | None = None
        """The zone the domain is in, once asked (``zone_of``)."""
        self._search_domains = search_domains
        self._query_timeout = query_timeout
        self._limit = asyncio.Semaphore(MAX_CONCURRENT_QUERIES)
        self.queries = 0
        """DNS queries sent so far."""

    @property
    def server(self) -> str:
        """The server as the settings name it, for messages."""
        return self._name

    async def query(
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
                    f"the DNS server {self._name} did not answer within {self._query_timeout:g} s"
                ) from None
            except OSError as exc:
                raise WideAreaProblem(
                    f"the DNS server {self._name} cannot be reached ({exc.strerror or exc})"
                ) from None
            except dns.exception.DNSException as exc:
                raise WideAreaProblem(
                    f"the DNS server {self._name} sent a bad answer: {exc}"
                ) from None
        return response

    async def send_update(self, update: dns.update.UpdateMessage, timeout: float) -> None:
        try:
            response = await dns.asyncquery.tcp(
                update, self._server, timeout=timeout, port=self._port
            )
        except dns.tsig.PeerBadKey:
            raise WideAreaProblem(
                f"update refused: the DNS server does not know the TSIG key "
                f"{self._key_name!r} (BADKEY)"
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
                f"the DNS server {self._name} did not answer the update within {timeout:g} s"
            ) from None
        except OSError as exc:
            raise WideAreaProblem(
                f"the DNS server {self._name} cannot be reached ({exc.strerror or exc})"
            ) from None
        except dns.exception.DNSException as exc:
            raise WideAreaProblem(
                f"the DNS server {self._name} sent a bad answer to the update: {exc}"
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
            raise WideAreaProblem(f"update refused by {self._name}: {text}{hint}")

    async def learn_domain(self) -> dns.name.Name:
        if self.domain is not None:
            return self.domain
        searched = self._search_domains()
        for search in searched:
            for prefix in (b"lb", b"b"):
                try:
                    base = dns.name.from_text(search)
                except dns.exception.DNSException:
                    continue
                name = dns.name.Name((prefix, b"_dns-sd", b"_udp", *base.labels))
                response = await self.query(name, dns.rdatatype.PTR)
                for rrset in response.answer:
                    if rrset.rdtype == dns.rdatatype.PTR and rrset.name == name:
                        for rd in rrset:
                            assert isinstance(rd, dns.rdtypes.ANY.PTR.PTR)
                            self.domain = rd.target
                            _log.info("wide-area discovery: domain %s from %s", rd.target, name)
                            return rd.target
        looked = ", ".join(searched) or "none in /etc/resolv.conf"
        raise WideAreaProblem(
            f"no discovery domain set, and none found under b._dns-sd._udp of the search "
            f"domains ({looked})"
        )

    async def zone_of(self, domain: dns.name.Name) -> dns.name.Name:
        if self.zone is not None:
            return self.zone
        response = await self.query(domain, dns.rdatatype.SOA)
        for rrset in (*response.answer, *response.authority):
            if rrset.rdtype == dns.rdatatype.SOA and domain.is_subdomain(rrset.name):
                self.zone = rrset.name
                return rrset.name
        raise WideAreaProblem(
            f"the DNS server {self._name} is not authoritative for {domain} "
            f"({dns.rcode.to_text(response.rcode())}, no SOA)"
        )

    async def read_instance(self, name: dns.name.Name, domain: dns.name.Name) -> InstanceRecords:
        srv_response, txt_response = await asyncio.gather(
            self.query(name, dns.rdatatype.SRV), self.query(name, dns.rdatatype.TXT)
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
                addresses = addresses_of(target, srv_response.additional)
                if not addresses:
                    found = await asyncio.gather(
                        self.query(target, dns.rdatatype.A),
                        self.query(target, dns.rdatatype.AAAA),
                    )
                    for response in found:
                        addresses.extend(addresses_of(target, response.answer))
        return InstanceRecords(name.to_text(), tuple(srv), tuple(txt), tuple(addresses))
