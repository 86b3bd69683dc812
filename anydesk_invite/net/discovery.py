"""Finding peers on the LAN: DNS-SD over mDNS (zeroconf) on the chosen interfaces only.

Each client announces one ``_adinvite._tcp.local.`` instance whose TXT carries ``v``
(protocol version), ``id`` (device ID), ``alias`` and ``fp`` (hex SHA-256 fingerprint), and
browses for the others. A record is only a hint: the ID must derive from the fingerprint and
every field is checked, but identity is proven on connect, by the channel.

Liveness. zeroconf keeps a PTR record for at least 1125 s whatever TTL the peer sent, so a
peer killed without a goodbye would stay listed for many minutes. Instead, every known
instance has a *last heard* time, bumped by any SRV or TXT record of it that arrives (ours
or anyone's answer: all go by multicast). A peer silent for a third of ``offline_after`` is
asked for its SRV record (a question with no known answers, so it is never suppressed),
again a third later if need be, never more than once a second; a peer silent for
``offline_after`` (15 s by default, what ships) is reported gone. So a live peer costs
about one question and one answer per five seconds on the LAN, a vanished one is gone
within ``offline_after`` (a sweep each second), and this holds against any responder,
whatever TTLs it uses. Below about 3 s, ``offline_after`` leaves room for a single
question only; it is meant for tests. Our own records carry a 10 s TTL, so other mDNS
browsers drop us soon too. A goodbye (unregister) reaches browsers at once.

Probing. The instance name holds 48 bits of our own key's fingerprint, so no other device
owns it; name probing (1.2 s measured by bench/discovery.py) protects nothing here and is
skipped by default (``cooperating_responders``): a started peer is listed about 1 ms after
start() on one machine. ``probe=True`` turns it back on.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import secrets
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.policy import DiscoveryMode
from anydesk_invite.net.interfaces import list_addresses, validate_interface
from anydesk_invite.net.lan_peers import LanPeers, Subnet
from anydesk_invite.net.records import (
    DiscoveredPeer,
    OwnRecord,
    instance_label,
)

if TYPE_CHECKING:
    # zeroconf loads when discovery starts, not with this module (bench/startup.py).
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    from anydesk_invite.net.zeroconf_events import BrowserEvents, HeardRecords

SERVICE_TYPE = "_adinvite._tcp.local."
RECORD_TTL = 10
"""Seconds, on every record we announce (host and other records alike)."""

_log = logging.getLogger(__name__)

# DNS numbers (RFC 1035, RFC 2782); zeroconf keeps its own copies private.
_TYPE_PTR = 12
_TYPE_SRV = 33
_CLASS_IN = 1
_FLAGS_QUERY = 0x0000

_RESOLVE_TIMEOUT_MS = 3000
MAX_LISTED = 256
"""Devices listed at once; records of further ones are ignored until some go."""
MAX_RESOLVING = 32
"""Records being resolved at once; a flood of names waits for the next announcement."""
# Ask for multicast answers only. zeroconf's first question asks for a unicast answer, and
# where several clients share one address (side by side on one machine, as --home allows)
# the kernel hands a unicast datagram to one of the sockets on port 5353 only, often not
# the one that asked: the peer would then be found a second later, on the next question.
_QUESTION_TYPE = "QM"
"""zeroconf.DNSQuestionType.QM, by its name."""
_SUFFIX = "." + SERVICE_TYPE


def _subnets_of(interfaces: list[str]) -> list[Subnet]:
    known = {a.address: a.network() for a in list_addresses()}
    out: list[Subnet] = []
    for addr in interfaces:
        # An address not found on this machine still gets its own host network, so a
        # record pointing at exactly it is kept and nothing else is.
        out.append(known.get(addr) or ipaddress.ip_network(addr.split("%")[0]))
    return out


class Discovery:
    """Announce ourselves and browse for peers on the given interface addresses.

    Signals:
        peer_seen(DiscoveredPeer): a peer appeared or its record changed.
        peer_gone(bytes): the peer with this fingerprint said goodbye or went silent.
        conflict(DeviceId): two different fingerprints claim this ID (see ``conflicts()``).
    """

    def __init__(
        self,
        interfaces: list[str],
        own_fingerprint: bytes,
        *,
        instance_tag: str = "",
        offline_after: float = 15.0,
        probe: bool = False,
        max_listed: int = MAX_LISTED,
    ) -> None:
        if not interfaces:
            raise ValueError("discovery needs at least one interface address")
        if offline_after <= 0:
            raise ValueError("offline_after must be positive")
        self._interfaces = [validate_interface(i) for i in interfaces]
        self._subnets = _subnets_of(self._interfaces)
        self._tag = instance_tag
        self._offline_after = offline_after
        self._probe = probe
        self._listing = LanPeers(own_fingerprint, self._subnets, max_listed)
        self.peer_seen = self._listing.peer_seen
        self.peer_gone = self._listing.peer_gone
        self.conflict = self._listing.conflict

        self._lock = asyncio.Lock()
        self._mode = DiscoveryMode.OFF
        self._record: OwnRecord | None = None
        self._zc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._events: BrowserEvents | None = None
        self._heard: HeardRecords | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._registered: AsyncServiceInfo | None = None
        self._announcing: asyncio.Future[object] | None = None

        # Keys are lower-cased instance names: mDNS names are case-insensitive.
        self._resolving: dict[str, asyncio.Task[None]] = {}
        self._resolve_again: set[str] = set()

    # -- public API -------------------------------------------------------------------------

    @property
    def mode(self) -> DiscoveryMode:
        return self._mode

    async def start(self, mode: DiscoveryMode, record: OwnRecord) -> None:
        async with self._lock:
            self._record = record
            await self._apply(mode)

    async def set_mode(self, mode: DiscoveryMode) -> None:
        """ON announces and browses, HIDDEN only browses, OFF does neither (no sockets)."""
        async with self._lock:
            await self._apply(mode)

    async def update_record(self, record: OwnRecord) -> None:
        """Announce a changed record (e.g. a new alias) without dropping off the LAN."""
        async with self._lock:
            self._record = record
            if self._registered is None or self._zc is None:
                return
            new = self._service_info(record)
            if new.name.lower() == self._registered.name.lower():
                self._registered = new
                self._announcing = _as_future(await self._zc.async_update_service(new))
                return
            # A new alias renames the instance: announce the new name fully before the
            # goodbye for the old one, so browsers never see the peer missing.
            old = self._registered
            await self._register(new)
            if self._announcing is not None:
                await self._announcing
            await self._unregister(old)
            self._registered = new

    def peers(self) -> list[DiscoveredPeer]:
        return self._listing.peers()

    def conflicts(self) -> set[DeviceId]:
        """IDs claimed by more than one fingerprint since discovery started (sticky)."""
        return self._listing.conflicts()

    async def stop(self) -> None:
        """Say goodbye (the peer disappears elsewhere at once), then close every socket."""
        async with self._lock:
            await self._apply(DiscoveryMode.OFF)

    # -- mode changes -----------------------------------------------------------------------

    async def _apply(self, mode: DiscoveryMode) -> None:
        if mode is DiscoveryMode.OFF:
            await self._close()
        else:
            await self._open()
            if mode is DiscoveryMode.ON and self._registered is None:
                if self._record is None:
                    raise RuntimeError("call start() with our record before switching discovery on")
                info = self._service_info(self._record)
                await self._register(info)
                self._registered = info
            elif mode is DiscoveryMode.HIDDEN and self._registered is not None:
                await self._unregister(self._registered)
                self._registered = None
        self._mode = mode

    async def _open(self) -> None:
        if self._zc is not None:
            return
        from zeroconf import DNSQuestionType
        from zeroconf._dns import DNSQuestion
        from zeroconf._protocol.outgoing import DNSOutgoing
        from zeroconf.asyncio import AsyncServiceBrowser, AsyncZeroconf

        from anydesk_invite.net.zeroconf_events import BrowserEvents, HeardRecords

        zc = AsyncZeroconf(interfaces=list(self._interfaces))
        self._zc = zc
        self._heard = HeardRecords(self._on_heard)
        self._events = BrowserEvents(self._on_added_or_updated, self._on_removed)
        zc.zeroconf.async_add_listener(self._heard, None)
        self._browser = AsyncServiceBrowser(
            zc.zeroconf,
            SERVICE_TYPE,
            listener=self._events,
            question_type=DNSQuestionType[_QUESTION_TYPE],
        )
        self._sweeper = asyncio.create_task(self._sweep(), name="discovery-liveness")
        # The browser's first question is byte-identical from every client, and zeroconf
        # drops a packet identical to one it got less than 0.8 s before: a client started
        # right after another would wait a second for its next question. Ask once more in
        # a packet of our own, made unique by a random id (zeroconf writes the id only for
        # packets it does not mark multicast; the mark changes nothing else in a question
        # without the unicast-response bit, and responders ignore the id).
        await zc.zeroconf.async_wait_for_start()
        out = DNSOutgoing(_FLAGS_QUERY, multicast=False, id_=secrets.randbelow(0xFFFF) + 1)
        out.add_question(DNSQuestion(SERVICE_TYPE, _TYPE_PTR, _CLASS_IN))
        zc.zeroconf.async_send(out)

    async def _close(self) -> None:
        zc = self._zc
        if zc is None:
            return
        if self._registered is not None:
            await self._unregister(self._registered)
            self._registered = None
        tasks = [t for t in (self._sweeper, *self._resolving.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._sweeper = None
        self._resolving.clear()
        if self._browser is not None:
            await self._browser.async_cancel()
            self._browser = None
        if self._heard is not None:
            zc.zeroconf.async_remove_listener(self._heard)
        await zc.async_close()
        self._zc = None
        self._resolve_again.clear()
        self._listing.clear()

    async def _register(self, info: AsyncServiceInfo) -> None:
        assert self._zc is not None
        self._listing.mark_own(info.name.lower())
        announced = await self._zc.async_register_service(
            info, cooperating_responders=not self._probe
        )
        self._announcing = _as_future(announced)

    async def _unregister(self, info: AsyncServiceInfo) -> None:
        assert self._zc is not None
        if self._announcing is not None and not self._announcing.done():
            # A late announcement after the goodbye would bring us back on other screens.
            self._announcing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._announcing
        self._announcing = None
        self._drop_queued_answers(info)
        goodbye = await self._zc.async_unregister_service(info)
        await goodbye

    def _drop_queued_answers(self, info: AsyncServiceInfo) -> None:
        """Take our records out of zeroconf's queue of answers waiting to be multicast.

        zeroconf holds answers to multicast questions for up to half a second to aggregate
        them, and does not drop them on unregister: one going out after our goodbye would
        bring us back on every other screen until the liveness check drops us again.
        """
        assert self._zc is not None
        zc = self._zc.zeroconf
        ours = {info.name.lower(), (info.server or "").lower()}
        for queue in (zc.out_queue, zc.out_delay_queue):
            for group in queue.queue:
                for rec in list(group.answers):
                    alias = getattr(rec, "alias", None)
                    if rec.name.lower() in ours or (alias is not None and alias.lower() in ours):
                        del group.answers[rec]

    def _service_info(self, record: OwnRecord) -> AsyncServiceInfo:
        from zeroconf.asyncio import AsyncServiceInfo

        label = instance_label(record, self._tag)
        host = re.sub(r"[^a-z0-9-]", "-", f"adinvite-{record.fingerprint.hex()[:12]}{self._tag}")
        return AsyncServiceInfo(
            SERVICE_TYPE,
            f"{label}.{SERVICE_TYPE}",
            port=record.port,
            properties={
                "v": record.version,
                "id": str(record.device_id),
                "alias": record.alias,
                "fp": record.fingerprint.hex(),
            },
            server=f"{host.lower()}.local.",
            host_ttl=RECORD_TTL,
            other_ttl=RECORD_TTL,
            parsed_addresses=[a.split("%")[0] for a in self._interfaces],
        )

    # -- what the browser and the record listener report -----------------------------------

    def _on_added_or_updated(self, name: str) -> None:
        self._listing.unignore(name.lower())
        self._resolve(name)

    def _on_removed(self, name: str) -> None:
        self._listing.drop_instance(name.lower())

    def _on_heard(self, name: str) -> None:
        key = name.lower()
        if not key.endswith(_SUFFIX) or self._listing.is_own(key):
            return
        if self._listing.heard(key, asyncio.get_running_loop().time()):
            # A peer we dropped as silent is back with records zeroconf still has cached,
            # so the browser reports nothing new: resolve it ourselves.
            self._resolve(name)

    def _resolve(self, name: str) -> None:
        key = name.lower()
        if self._listing.is_own(key) or self._zc is None:
            return
        if key in self._resolving:
            self._resolve_again.add(key)
            return
        if len(self._resolving) >= MAX_RESOLVING:
            return  # it announces again; a flood of names must not start a task each
        self._resolving[key] = asyncio.create_task(self._resolve_task(name), name="resolve")

    async def _resolve_task(self, name: str) -> None:
        from zeroconf import DNSQuestionType
        from zeroconf.asyncio import AsyncServiceInfo

        key = name.lower()
        try:
            while True:
                self._resolve_again.discard(key)
                assert self._zc is not None
                info = AsyncServiceInfo(SERVICE_TYPE, name)
                resolved = await info.async_request(
                    self._zc.zeroconf,
                    _RESOLVE_TIMEOUT_MS,
                    question_type=DNSQuestionType[_QUESTION_TYPE],
                )
                if resolved:
                    self._listing.accept(name, info, asyncio.get_running_loop().time())
                else:
                    _log.debug("discovery: %s did not answer", name)
                if key not in self._resolve_again:
                    break
        finally:
            self._resolving.pop(key, None)

    # -- liveness ---------------------------------------------------------------------------

    async def _sweep(self) -> None:
        from zeroconf._dns import DNSQuestion
        from zeroconf._protocol.outgoing import DNSOutgoing

        loop = asyncio.get_running_loop()
        tick = min(1.0, self._offline_after / 10)
        # At least a second apart: responders multicast a record at most once a second
        # and zeroconf drops a repeat of a packet it got less than 0.8 s before.
        ask_after = max(self._offline_after / 3, 1.0)
        while True:
            await asyncio.sleep(tick)
            ask = self._listing.sweep(loop.time(), tick, self._offline_after, ask_after)
            if ask and self._zc is not None:
                out = DNSOutgoing(_FLAGS_QUERY)
                for name in ask:
                    out.add_question(DNSQuestion(name, _TYPE_SRV, _CLASS_IN))
                self._zc.zeroconf.async_send(out)


def _as_future(awaitable: Awaitable[object]) -> asyncio.Future[object]:
    return asyncio.ensure_future(awaitable)
