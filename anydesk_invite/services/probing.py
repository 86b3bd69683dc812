"""Presence of address-book entries with a manual address: reached now and then, and on demand.

A probe is an ordinary link: it stays open (heartbeats keep it alive) and later invitations use
it. A probe that closed at once could race with an invitation that the other side sends on it,
and the invitation would be lost.
"""

from __future__ import annotations

import asyncio

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.net.channel import ChannelClosed
from anydesk_invite.services.directory import PeerDirectory
from anydesk_invite.services.facade import ProbeResult
from anydesk_invite.services.links import Links, Unreachable
from anydesk_invite.services.refusals import RefusalKind, RefusedWithKind
from anydesk_invite.storage.contacts import AddressEntry
from anydesk_invite.storage.db import Database

PROBE_INTERVAL = 10.0


class ManualProbe:
    """Probes every entry with a manual address each PROBE_INTERVAL seconds (``run``) and one
    entry when asked (``probe_address``); the directory shows what it found."""

    def __init__(
        self,
        db: Database,
        directory: PeerDirectory,
        links: Links,
        interval: float = PROBE_INTERVAL,
    ) -> None:
        self._db = db
        self._directory = directory
        self._links = links
        self._interval = interval

    async def run(self) -> None:
        while True:
            for entry in self._directory.manual_entries():
                await self._probe_entry(entry)
            await asyncio.sleep(self._interval)

    async def probe_address(self, device_id: DeviceId) -> ProbeResult:
        entry = self._db.address_book.get(device_id)
        if entry is None or not entry.manual_address:
            raise RefusedWithKind(
                RefusalKind.INVALID, f"{device_id.grouped()} has no address in the address book"
            )
        return await self._probe_entry(entry, fresh=True)

    async def _probe_entry(self, entry: AddressEntry, fresh: bool = False) -> ProbeResult:
        """Reach the entry's manual address (``fresh``: over a new connection, so the answer is
        about that address and not about a link already open to the device)."""
        directory = self._directory
        addr = directory.address_of_manual(entry)
        shown = entry.manual_address or ""
        if addr is None:
            return ProbeResult(False, shown, "no address")
        known = entry.fingerprint or directory.pinned_fingerprint(entry.device_id)
        online = False
        reason = ""
        try:
            if fresh:
                ch = await self._links.dial([addr], known)
            else:
                ch = await self._links.channel_to(known, [addr])
        except (Unreachable, ChannelClosed, OSError) as exc:
            reason = str(exc).removeprefix(f"{addr}: ") or "no answer"
        else:
            online = ch.peer.device_id == entry.device_id
            if online:
                directory.learn_address(ch.peer.fingerprint, addr)
            else:
                reason = (
                    f"{shown} answers as ID {ch.peer.device_id.grouped()}, "
                    f"not {entry.device_id.grouped()}"
                )
                await ch.close("not the device in the address book")
        directory.set_manual_presence(entry.device_id, online)
        return ProbeResult(online, shown, reason)
