"""The user's address book and favorites, as the front ends change them."""

from __future__ import annotations

import contextlib

from anydesk_invite.core.alias import AliasError, parse_alias
from anydesk_invite.core.ids import DeviceId
from anydesk_invite.services.directory import PeerDirectory
from anydesk_invite.services.refusals import RefusalKind, RefusedWithKind
from anydesk_invite.services.views import PeerView
from anydesk_invite.storage.contacts import AddressEntry
from anydesk_invite.storage.db import Database
from anydesk_invite.storage.errors import StorageValueError


class AddressBook:
    """Adds, edits and removes address-book entries and favorites; each change is announced
    by the directory (``PeerDirectory.changed``) with the peer's new view."""

    def __init__(self, db: Database, directory: PeerDirectory) -> None:
        self._db = db
        self._directory = directory

    def known_peer(self, fingerprint: bytes) -> bool:
        """A peer in the address book or one we had a session with: never crowded out."""
        device_id = DeviceId.from_fingerprint(fingerprint)
        return self._directory.in_address_book(fingerprint, device_id) or not (
            self._directory.first_contact(fingerprint)
        )

    def _known(self, device_id: DeviceId) -> PeerView | None:
        return next((p for p in self._directory.peers() if p.device_id == device_id), None)

    async def add(
        self,
        device_id: DeviceId,
        alias: str = "",
        display_name: str = "",
        tags: tuple[str, ...] = (),
        manual_address: str | None = None,
    ) -> None:
        """Add the peer, or change its entry when it has one."""
        try:
            parsed = parse_alias(alias) if alias else None
            known = self._known(device_id)
            fp = known.fingerprint if known else None
            entry = AddressEntry(device_id, parsed, display_name, tags, manual_address, fp)
        except (AliasError, StorageValueError) as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        book = self._db.address_book
        if book.get(device_id) is None:
            book.add(entry)
        else:
            book.update(entry)
        self._directory.touched(device_id)

    async def remove(self, device_id: DeviceId) -> None:
        self._db.address_book.remove(device_id)
        self._directory.touched(device_id)

    async def set_favorite(self, device_id: DeviceId, favorite: bool) -> None:
        if favorite:
            known = self._known(device_id)
            alias = None
            if known and known.alias:
                with contextlib.suppress(AliasError):
                    alias = parse_alias(known.alias)
            self._db.favorites.add(device_id, alias, known.fingerprint if known else None)
        else:
            self._db.favorites.remove(device_id)
        self._directory.touched(device_id)
