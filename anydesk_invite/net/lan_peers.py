"""The peers LAN discovery lists: one per key, from the resolved records of their DNS-SD
instances (a hint, checked by records.parse_txt), with when each was last heard, the names
ignored, the IDs two keys claim, and the bounds on all of it. discovery.py feeds it from
zeroconf and asks the silent ones again."""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.records import DiscoveredPeer, TxtError, parse_txt

if TYPE_CHECKING:
    from zeroconf.asyncio import AsyncServiceInfo

# Logged as discovery: what a person filtering the log for discovery wants to see.
_log = logging.getLogger("anydesk_invite.net.discovery")

MAX_IGNORED = 1024
"""Names of ignored records remembered (so they are not resolved again on every packet)."""

Subnet = ipaddress.IPv4Network | ipaddress.IPv6Network


class LanPeers:
    """Peers found on the LAN. Keys are lower-cased instance names: mDNS names are
    case-insensitive.

    Signals:
        peer_seen(DiscoveredPeer): a peer appeared or its record changed.
        peer_gone(bytes): the peer with this fingerprint said goodbye or went silent.
        conflict(DeviceId): two different fingerprints claim this ID.
    """

    def __init__(self, own_fingerprint: bytes, subnets: list[Subnet], max_listed: int) -> None:
        self._own_fp = own_fingerprint
        self._subnets = subnets
        self._max_listed = max_listed
        self.peer_seen: Signal[DiscoveredPeer] = Signal("peer_seen")
        self.peer_gone: Signal[bytes] = Signal("peer_gone")
        self.conflict: Signal[DeviceId] = Signal("conflict")
        self._peers: dict[bytes, DiscoveredPeer] = {}
        self._by_instance: dict[str, DiscoveredPeer] = {}
        self._last_heard: dict[str, float] = {}
        self._last_asked: dict[str, float] = {}
        self._ignored: set[str] = set()
        self._own_names: set[str] = set()
        self._conflicts: set[DeviceId] = set()

    def peers(self) -> list[DiscoveredPeer]:
        return sorted(self._peers.values(), key=lambda p: (p.alias.lower(), p.fingerprint))

    def conflicts(self) -> set[DeviceId]:
        """IDs claimed by more than one fingerprint since discovery started (sticky)."""
        return set(self._conflicts)

    def mark_own(self, key: str) -> None:
        self._own_names.add(key)

    def is_own(self, key: str) -> bool:
        return key in self._own_names

    def unignore(self, key: str) -> None:
        self._ignored.discard(key)

    def heard(self, key: str, now: float) -> bool:
        """A record of this instance arrived. True: not listed and not ignored (a peer dropped
        as silent is back with records zeroconf still has cached): resolve it."""
        if key in self._last_heard:
            self._last_heard[key] = now
            return False
        return key not in self._ignored

    def sweep(self, now: float, tick: float, offline_after: float, ask_after: float) -> list[str]:
        """Drop the instances silent for ``offline_after``; the names to ask again."""
        ask: list[str] = []
        for key, heard in list(self._last_heard.items()):
            silent = now - heard
            # Gone one sweep early rather than late: the peer fell silent at or before
            # its last answer, so it is reported within offline_after of vanishing.
            if silent + tick > offline_after:
                _log.info("discovery: %s silent for %.1f s, gone", key, silent)
                self.drop_instance(key)
            elif silent > ask_after and now - self._last_asked.get(key, 0.0) > ask_after:
                self._last_asked[key] = now
                known = self._by_instance.get(key)
                ask.append(known.instance if known is not None else key)
        return ask

    def clear(self) -> None:
        """Discovery stopped: forget everything; every listed peer is gone."""
        gone = list(self._peers)
        self._peers.clear()
        self._by_instance.clear()
        self._last_heard.clear()
        self._last_asked.clear()
        self._ignored.clear()
        self._own_names.clear()
        for fp in gone:
            self.peer_gone.emit(fp)

    def accept(self, name: str, info: AsyncServiceInfo, now: float) -> None:
        """A resolved record: listed, changed, or ignored (the log says why)."""
        key = name.lower()
        try:
            version, device_id, alias, fingerprint = parse_txt(info.properties)
        except TxtError as e:
            self.ignore(key, name, str(e))
            return
        if fingerprint == self._own_fp:
            self._own_names.add(key)
            return
        port = info.port
        if port is None or not 0 < port < 65536:
            self.ignore(key, name, f"bad port {port}")
            return
        addresses = tuple(a for a in info.parsed_scoped_addresses() if self._on_our_subnets(a))
        if not addresses:
            self.ignore(key, name, "no address on the chosen interfaces' subnets")
            return
        if key not in self._by_instance and len(self._by_instance) >= self._max_listed:
            self.ignore(key, name, f"{self._max_listed} devices listed already")
            return
        peer = DiscoveredPeer(device_id, alias, fingerprint, addresses, port, version, name)
        self._last_heard[key] = now
        before = self._by_instance.get(key)
        if before is not None and before.fingerprint != fingerprint:
            self.drop_instance(key)
        self._by_instance[key] = peer
        listed = self._peers.get(fingerprint)
        if listed is not None and listed.instance.lower() != key:
            # The same key under a second instance name: an alias change, the new name
            # announced before the old one says goodbye. Keep showing the old one until
            # then, so a late answer for either name cannot flip the list back and forth.
            return
        self._peers[fingerprint] = peer

        new_conflict = False
        if device_id not in self._conflicts and any(
            p.device_id == device_id and p.fingerprint != fingerprint for p in self._peers.values()
        ):
            _log.warning("discovery: two keys claim ID %s", device_id)
            self._conflicts.add(device_id)
            new_conflict = True
        if listed != peer:
            self.peer_seen.emit(peer)
        if new_conflict:
            self.conflict.emit(device_id)

    def ignore(self, key: str, name: str, reason: str) -> None:
        _log.info("discovery: ignored record %r: %s", name, reason)
        if len(self._ignored) >= MAX_IGNORED:
            self._ignored.clear()
        self._ignored.add(key)
        self.drop_instance(key)

    def drop_instance(self, key: str) -> None:
        self._last_heard.pop(key, None)
        self._last_asked.pop(key, None)
        gone = self._by_instance.pop(key, None)
        if gone is None:
            return
        fp = gone.fingerprint
        listed = self._peers.get(fp)
        if listed is None or listed.instance.lower() != key:
            return
        successor = next((p for p in self._by_instance.values() if p.fingerprint == fp), None)
        if successor is not None:
            self._peers[fp] = successor
            self.peer_seen.emit(successor)
        else:
            del self._peers[fp]
            self.peer_gone.emit(fp)

    def _on_our_subnets(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return False
        return any(ip.version == net.version and ip in net for net in self._subnets)
