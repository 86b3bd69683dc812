"""An InputSink that records what it would inject, for hosts in tests and benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable


class RecordingInput:
    """Records every injected event as a tuple, with the time it arrived in ``times``.

    ``known`` are the key codes it can press; any other code is refused (False), as a
    desktop without that key would."""

    def __init__(
        self,
        problem: str | None = None,
        known: frozenset[str] | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._problem = problem
        self._known = known
        self._timer = timer
        self.events: list[tuple[object, ...]] = []
        self.times: list[float] = []

    def problem(self) -> str | None:
        return self._problem

    def _record(self, *event: object) -> None:
        self.events.append(event)
        self.times.append(self._timer())

    def move(self, screen: int, x: int, y: int) -> None:
        self._record("move", screen, x, y)

    def button(self, button: str, pressed: bool) -> None:
        self._record("button", button, pressed)

    def scroll(self, notches_x: int, notches_y: int) -> None:
        self._record("scroll", notches_x, notches_y)

    def key(self, code: str, key: str, pressed: bool) -> bool:
        if self._known is not None and code not in self._known:
            return False
        self._record("key", code, key, pressed)
        return True

    def held_keys(self) -> set[str]:
        held: set[str] = set()
        for e in self.events:
            if e[0] == "key":
                (held.add if e[3] else held.discard)(str(e[1]))
        return held

    def held_buttons(self) -> set[str]:
        held: set[str] = set()
        for e in self.events:
            if e[0] == "button":
                (held.add if e[2] else held.discard)(str(e[1]))
        return held
