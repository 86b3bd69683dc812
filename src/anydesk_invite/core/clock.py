"""Clocks. Invitations expire by an injected clock so expiry is tested without sleeping.

The real clock keeps counting while the machine is suspended: CLOCK_BOOTTIME on Linux;
elsewhere the larger of the monotonic and wall-clock elapsed times since start.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a clock that never goes back and counts through suspend."""
        ...


class SystemClock:
    """The real clock."""

    def __init__(self) -> None:
        self._boottime = getattr(time, "CLOCK_BOOTTIME", None)
        self._mono0 = time.monotonic()
        self._wall0 = time.time()

    def now(self) -> float:
        if self._boottime is not None:
            return time.clock_gettime(self._boottime)
        # No boot-time clock: an invitation is expired when either clock says so.
        return self._mono0 + max(time.monotonic() - self._mono0, time.time() - self._wall0)


class ManualClock:
    """A clock that moves only when told to; for tests and simulations."""

    def __init__(self, start: float = 1000.0) -> None:
        self._t = start

    def now(self) -> float:
        return self._t

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self._t += seconds
