"""Clocks: the system clock never goes back; the manual clock moves only when told."""

from __future__ import annotations

import math
import time

import pytest

from anydesk_invite.core.clock import Clock, ManualClock, SystemClock


class _Source:
    """A settable time source, standing in for the monotonic or the wall clock."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_system_clock_is_monotone() -> None:
    clock: Clock = SystemClock()
    readings = [clock.now() for _ in range(2000)]
    assert readings == sorted(readings)


def test_system_clock_fallback_is_monotone_when_the_wall_clock_is_set_back() -> None:
    mono, wall = _Source(50.0), _Source(1_700_000_000.0)
    clock = SystemClock(use_boottime=False, monotonic=mono, wall=wall)
    start = clock.now()
    wall.t += 100.0  # the wall clock jumps ahead (or the machine slept)...
    ahead = clock.now()
    assert ahead == pytest.approx(start + 100.0)
    wall.t -= 100.0  # ...and is then set back
    mono.t += 1.0
    assert clock.now() >= ahead


def test_system_clock_fallback_counts_suspend_through_the_wall_clock() -> None:
    mono, wall = _Source(50.0), _Source(1_700_000_000.0)
    clock = SystemClock(use_boottime=False, monotonic=mono, wall=wall)
    start = clock.now()
    mono.t += 2.0  # monotonic clocks may stop while suspended
    wall.t += 600.0
    assert clock.now() - start == pytest.approx(600.0)
    mono.t += 900.0
    assert clock.now() - start == pytest.approx(902.0)


def test_manual_clock_moves_only_when_advanced() -> None:
    clock = ManualClock(start=5.0)
    assert clock.now() == clock.now() == 5.0
    clock.advance(2.5)
    assert clock.now() == 7.5
    clock.advance(0)
    assert clock.now() == 7.5


@pytest.mark.parametrize("step", [-0.001, math.nan, math.inf])
def test_manual_clock_refuses_to_go_back_or_jump_to_nowhere(step: float) -> None:
    clock = ManualClock()
    with pytest.raises(ValueError):
        clock.advance(step)
    assert clock.now() == 1000.0


@pytest.mark.skipif(not hasattr(time, "CLOCK_BOOTTIME"), reason="Linux has CLOCK_BOOTTIME")
def test_system_clock_reads_the_boot_time_clock_where_there_is_one() -> None:
    # The fallback time sources are frozen: only the boot-time clock can make this count.
    clock = SystemClock(monotonic=lambda: 0.0, wall=lambda: 0.0)
    before = time.clock_gettime(time.CLOCK_BOOTTIME)
    now = clock.now()
    assert before <= now <= time.clock_gettime(time.CLOCK_BOOTTIME)


@pytest.mark.parametrize("step", [-1.0, math.inf, math.nan])
def test_manual_clock_says_how_it_may_move(step: float) -> None:
    with pytest.raises(ValueError, match=r"^a clock moves forward by a finite number of seconds$"):
        ManualClock().advance(step)
