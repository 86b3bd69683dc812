"""What zeroconf reports to a Discovery: browser events and every record that arrives.

A module of its own so that zeroconf loads when discovery starts, not when the client does.
"""

from __future__ import annotations

from collections.abc import Callable

from zeroconf import RecordUpdate, RecordUpdateListener, ServiceListener, Zeroconf

_TYPE_TXT = 16
_TYPE_SRV = 33


class BrowserEvents(ServiceListener):
    """Passes the browser's added, updated and removed instance names on."""

    def __init__(self, changed: Callable[[str], None], removed: Callable[[str], None]) -> None:
        self._changed = changed
        self._removed = removed

    def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self._changed(name)

    def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self._changed(name)

    def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self._removed(name)


class HeardRecords(RecordUpdateListener):
    """Sees every record that arrives and passes on the instance names of live SRV and TXT
    records, so a Discovery knows who is still answering."""

    def __init__(self, heard: Callable[[str], None]) -> None:
        self._heard = heard

    def async_update_records(self, zc: Zeroconf, now: float, records: list[RecordUpdate]) -> None:
        for update in records:
            rec = update.new
            if rec.type in (_TYPE_SRV, _TYPE_TXT) and not rec.is_expired(now):
                self._heard(rec.name)
