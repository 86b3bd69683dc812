"""Trust on first use, by fingerprint: pins each authenticated peer's key.

A new key whose ID collides with a pinned peer's is refused, and the user is warned.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from anydesk_invite.core.alias import AliasError, parse_alias
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.channel import PeerInfo, TrustError
from anydesk_invite.storage.db import Database
from anydesk_invite.storage.pins import PinnedPeer


class PinnedTrust:
    """The PeerTrust the channel layer calls after authentication.

    Signals: warning (str) when a key is refused.
    """

    def __init__(self, db: Database, wall: Callable[[], float] = time.time) -> None:
        self._db = db
        self._wall = wall
        self.warning: Signal[str] = Signal("trust.warning")

    def check(self, peer: PeerInfo) -> None:
        pins = self._db.pinned_peers
        now = self._wall()
        try:
            alias = parse_alias(peer.alias) if peer.alias else None
        except AliasError:
            alias = None
        if pins.get_by_fingerprint(peer.fingerprint) is not None:
            pins.touch(peer.fingerprint, now, alias)
            return
        other = pins.get_by_device_id(peer.device_id)
        if other is not None:
            text = (
                f"a device with a new key claims the ID {peer.device_id.grouped()} of "
                f"{other.alias or 'a known peer'}; refused (it may be an impostor)"
            )
            self.warning.emit(text)
            raise TrustError(text)
        pins.pin(PinnedPeer(peer.fingerprint, peer.device_id, alias, now, now))
