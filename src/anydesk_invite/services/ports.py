"""What services need from the local desktop; app.py injects adapters from desktop/."""

from __future__ import annotations

from typing import Protocol

from anydesk_invite.core.screen import RawFrame, ScreenInfo
from anydesk_invite.core.sysinfo import SystemInformation


class SystemInfoSource(Protocol):
    def system_information(self) -> SystemInformation: ...


class ClipboardPort(Protocol):
    """The local clipboard (text)."""

    def text(self) -> str: ...
    def set_text(self, text: str) -> None: ...


class ScreenSource(Protocol):
    """The local screens, captured as raw BGRA frames. Called on the event loop's thread."""

    def screens(self) -> list[ScreenInfo]: ...
    def grab(self, index: int) -> RawFrame: ...
