"""Countdowns and elapsed-time displays driven by a QTimer and an injected clock."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QCoreApplication, QDate, QLocale, QObject, QTimer, Signal

TICK_MS = 250
"""Fast enough that a displayed second never lags by more than a quarter of one."""


def format_countdown(seconds: float) -> str:
    """Seconds left as ``m:ss``, rounded up so 0:00 appears only when the time is over."""
    whole = max(0, math.ceil(seconds - 1e-9))
    return f"{whole // 60}:{whole % 60:02d}"


def format_when(then: float, now: float) -> str:
    """A moment in the past as people say it: "today 09:14", "Mon 14:02" within the last week,
    then the date. Both are wall-clock epoch seconds, shown in local time."""
    t, n = datetime.fromtimestamp(then), datetime.fromtimestamp(now)
    clock = f"{t.hour:02d}:{t.minute:02d}"
    days = (n.date() - t.date()).days
    if days <= 0:
        return QCoreApplication.translate("When", "today {time}").format(time=clock)
    locale = QLocale()
    if days < 7:
        day = locale.dayName(t.isoweekday(), QLocale.FormatType.ShortFormat)
        return f"{day} {clock}"
    return locale.toString(QDate(t.year, t.month, t.day), QLocale.FormatType.ShortFormat)


def format_duration(seconds: float) -> str:
    """Elapsed time as ``m:ss`` or ``h:mm:ss``, rounded down."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


class Countdown(QObject):
    """Counts down to a deadline on the injected clock.

    The deadline is taken from the seconds left that a view reported, on the local clock, so
    each side counts on its own clock as the protocol says.

    Signals: changed(str) the new ``m:ss`` text; expired() once, when the time is over.
    """

    changed = Signal(str)
    expired = Signal()

    def __init__(
        self,
        clock: Callable[[], float],
        seconds_left: float,
        interval_ms: int = TICK_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._deadline = clock() + max(0.0, seconds_left)
        self._done = False
        self._text = format_countdown(seconds_left)
        self._timer = QTimer(self)
        self._timer.setObjectName("countdownTimer")
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.tick)
        self._timer.start()

    def seconds_left(self) -> float:
        return max(0.0, self._deadline - self._clock())

    def text(self) -> str:
        return self._text

    def reset(self, seconds_left: float) -> None:
        """Count to a new deadline (the service's latest word on the time left)."""
        self._deadline = self._clock() + max(0.0, seconds_left)
        self._done = False
        if not self._timer.isActive():
            self._timer.start()
        self.tick()

    def stop(self) -> None:
        self._timer.stop()

    def tick(self) -> None:
        """Recompute the text; emits changed when it differs and expired when time is up."""
        left = self.seconds_left()
        text = format_countdown(left)
        if text != self._text:
            self._text = text
            self.changed.emit(text)
        if left <= 0 and not self._done:
            self._done = True
            self._timer.stop()
            self.expired.emit()


class Stopwatch(QObject):
    """Time elapsed since a start on the injected clock, e.g. a session's duration.

    Signals: changed(str) the new elapsed text.
    """

    changed = Signal(str)

    def __init__(
        self,
        clock: Callable[[], float],
        started_at: float,
        interval_ms: int = TICK_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._started_at = started_at
        self._text = format_duration(clock() - started_at)
        self._timer = QTimer(self)
        self._timer.setObjectName("stopwatchTimer")
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.tick)
        self._timer.start()

    def text(self) -> str:
        return self._text

    def stop(self) -> None:
        self._timer.stop()

    def tick(self) -> None:
        text = format_duration(self._clock() - self._started_at)
        if text != self._text:
            self._text = text
            self.changed.emit(text)
