"""What services need from the local desktop; app.py injects adapters from desktop/."""

from __future__ import annotations

from typing import Protocol

from anydesk_invite.core.screen import RawFrame, ScreenInfo
from anydesk_invite.core.signal import Signal
from anydesk_invite.core.sysinfo import SystemInformation


class SystemInfoSource(Protocol):
    def system_information(self) -> SystemInformation: ...


class ClipboardPort(Protocol):
    """The local clipboard (text)."""

    def text(self) -> str: ...
    def set_text(self, text: str) -> None: ...

    changed: Signal[str]
    """Emitted with the new text whenever the clipboard changes, set_text included."""


class ScreenSource(Protocol):
    """The local screens, captured as raw BGRA frames. Called on the event loop's thread."""

    def screens(self) -> list[ScreenInfo]: ...
    def grab(self, index: int) -> RawFrame: ...
