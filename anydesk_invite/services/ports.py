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
    """The local screens, captured as raw BGRA frames. Called on the event loop's thread,
    except ``grab`` of a source whose ``grab_off_loop`` attribute is True (a worker thread)."""

    def screens(self) -> list[ScreenInfo]: ...
    def grab(self, index: int) -> RawFrame: ...


class PhotoCodec(Protocol):
    """A lossy codec for photo-like screen tiles (JPEG), safe to call from worker threads.
    Pixels are BGRA rows, packed."""

    def encode(self, bgra: bytes, width: int, height: int) -> bytes: ...

    def decode(self, data: bytes, width: int, height: int) -> bytes | None:
        """The pixels; None unless ``data`` decodes to exactly ``width`` x ``height``."""
        ...


class VideoEncoder(Protocol):
    """One video stream's encoder: pictures of a fixed size in, access units out."""

    def encode(self, bgra: bytes | memoryview) -> tuple[bytes, bool]:
        """One picture (packed BGRA rows) in; its access unit and whether it is a keyframe.
        The picture is read before the call returns, not kept."""
        ...


class VideoDecoder(Protocol):
    """One video stream's decoder, from a keyframe on; its picture size is fixed."""

    def decode(self, data: bytes, out_width: int, out_height: int) -> bytes | memoryview | None:
        """The picture scaled to ``out_width`` x ``out_height`` packed BGRA rows (valid until
        the next call); None when the unit gives no picture of the stream's size. ValueError
        for data that is no video."""
        ...


class VideoCodec(Protocol):
    """A video codec for moving screen content (H.264 through PyAV), safe to call from worker
    threads (one call at a time per encoder or decoder)."""

    name: str
    """The codec's name on the wire, as in ScreenSelect.video."""

    def encoder(
        self,
        width: int,
        height: int,
        out_width: int,
        out_height: int,
        bitrate: int,
        fps: float,
        keyframe_bytes: int = 0,
    ) -> VideoEncoder:
        """Pictures of ``width`` x ``height`` scaled to ``out_width`` x ``out_height`` (even);
        the stream's first picture (its keyframe) within ``keyframe_bytes`` (0: within what the
        bitrate allows any picture)."""
        ...

    def decoder(self, width: int, height: int) -> VideoDecoder:
        """A decoder that refuses to build any picture other than ``width`` x ``height``."""
        ...


class InputSink(Protocol):
    """Injects keyboard and pointer input into the local desktop (the host's side of remote
    control). Called on the event loop's thread; each call returns once the event is sent."""

    def problem(self) -> str | None:
        """Why input cannot be injected here (no display, no XTEST, Wayland), or None."""
        ...

    def move(self, screen: int, x: int, y: int) -> None:
        """Put the pointer at (x, y) device pixels of screen ``screen``."""
        ...

    def button(self, button: str, pressed: bool) -> None:
        """Press or release 'left', 'middle', 'right', 'back' or 'forward'."""
        ...

    def scroll(self, notches_x: int, notches_y: int) -> None:
        """Scroll by whole notches; positive y scrolls down, positive x right."""
        ...

    def key(self, code: str, key: str, pressed: bool) -> bool:
        """Press or release the key with W3C ``code``; where the code is unknown, type ``key``
        (on press). False when neither maps to anything on this desktop."""
        ...


class DesktopAccess(Protocol):
    """A desktop that asks its own user before its screen or input is shared (the Wayland
    portal). The host's session waits for the answer; a refusal ends it."""

    def asks(self, control: bool) -> bool:
        """Whether ``open(control)`` would ask the desktop's user now."""
        ...

    async def open(self, control: bool) -> str | None:
        """Share the screen (and input, when ``control``); None once shared, else why not."""
        ...

    async def release(self) -> None:
        """No session needs the desktop any more."""
        ...


class InvitationNotifier(Protocol):
    """Desktop notifications with two buttons (org.freedesktop.Notifications), for a desktop
    where the toast cannot place itself (Wayland without XWayland)."""

    answered: Signal[tuple[str, bool]]
    """(key, accepted) when the person clicks a button; closing a notification says nothing."""

    async def show(self, key: str, summary: str, body: str, accept_label: str) -> None:
        """Show (or replace) the notification for ``key`` with ``accept_label`` and Reject."""
        ...

    async def withdraw(self, key: str) -> None:
        """Take back the notification for ``key`` (answered elsewhere, expired, cancelled)."""
        ...
