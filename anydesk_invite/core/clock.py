"""Clocks. Invitations expire by an injected clock so expiry is tested without sleeping.

The real clock keeps counting while the machine is suspended: CLOCK_BOOTTIME on Linux;
elsewhere the larger of the monotonic and wall-clock elapsed times since start.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a clock that never goes back and counts through suspend."""
        ...


class SystemClock:
    """The real clock.

    The time sources can be passed in so that the fallback used where there is no boot-time
    clock can be exercised; by default they are the ``time`` module's.
    """

    def __init__(
        self,
        *,
        use_boottime: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._boottime = getattr(time, "CLOCK_BOOTTIME", None) if use_boottime else None
        self._monotonic = monotonic
        self._wall = wall
        self._mono0 = monotonic()
        self._wall0 = wall()
        self._last = self._mono0

    def now(self) -> float:
        if self._boottime is not None:
            return time.clock_gettime(self._boottime)
        # No boot-time clock: an invitation is expired when either clock says so.
        elapsed = max(self._monotonic() - self._mono0, self._wall() - self._wall0)
        # The wall clock can be set back; never let that move this clock back with it.
        self._last = max(self._last, self._mono0 + elapsed)
        return self._last


class ManualClock:
    """A clock that moves only when told to; for tests and simulations."""

    def __init__(self, start: float = 1000.0) -> None:
        self._t = start

    def now(self) -> float:
        return self._t

    def advance(self, seconds: float) -> None:
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("a clock moves forward by a finite number of seconds")
        self._t += seconds
