"""A tray for tests: offscreen and Xvfb have no system tray, so the shell gets this one."""

from __future__ import annotations

from collections.abc import Callable


class FakeTray:
    """Satisfies ui.tray.Tray; records what the shell did with it."""

    def __init__(self, available: bool = True) -> None:
        self._available = available
        self.shown = False
        self.on_open: Callable[[], None] | None = None
        self.on_quit: Callable[[], None] | None = None
        self.messages: list[tuple[str, str]] = []

    def available(self) -> bool:
        return self._available

    def show(self, on_open: Callable[[], None], on_quit: Callable[[], None]) -> None:
        self.shown = True
        self.on_open, self.on_quit = on_open, on_quit

    def notify(self, title: str, text: str) -> None:
        self.messages.append((title, text))

    def hide(self) -> None:
        self.shown = False
