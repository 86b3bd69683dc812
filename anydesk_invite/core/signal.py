"""A small typed signal for core and services; ui/ adapts these into Qt signals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
_log = logging.getLogger(__name__)


class Signal(Generic[T]):
    """Call every connected slot with one payload. A failing slot is logged, not raised."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._slots: list[Callable[[T], object]] = []

    def connect(self, slot: Callable[[T], object]) -> None:
        self._slots.append(slot)

    def disconnect(self, slot: Callable[[T], object]) -> None:
        self._slots.remove(slot)

    def emit(self, payload: T) -> None:
        for slot in list(self._slots):
            try:
                slot(payload)
            except Exception:
                _log.exception("slot for signal %s failed", self.name)
