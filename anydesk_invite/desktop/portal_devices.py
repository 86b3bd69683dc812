"""The screens and the input device a portal session shares: ``PortalScreens`` (ScreenSource)
and ``PortalInput`` (InputSink) over a ``WaylandDesktop``. Input maps device pixels of a frame
to the stream's logical coordinates, keys to evdev codes or keysyms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from anydesk_invite.core.screen import RawFrame, ScreenInfo
from anydesk_invite.desktop.evdev_codes import BUTTONS, EVDEV
from anydesk_invite.desktop.input import is_text, keysyms_for_text
from anydesk_invite.desktop.pipewire_frames import FrameReader

if TYPE_CHECKING:
    from anydesk_invite.desktop.wayland import WaylandDesktop


class PortalScreens:
    """ScreenSource over the portal's streams: one screen per shared monitor, in device
    pixels; a grab is the newest frame PipeWire delivered (Mutter sends frames on change)."""

    def __init__(self, desktop: WaylandDesktop) -> None:
        self._desktop = desktop

    def screens(self) -> list[ScreenInfo]:
        out = []
        for i, r in enumerate(self._desktop.readers):
            f = r.frame
            w, h = (f.width, f.height) if f is not None else (r.stream.width, r.stream.height)
            out.append(ScreenInfo(i, f"Monitor {i + 1}", w, h))
        return out

    def grab(self, index: int) -> RawFrame:
        readers = self._desktop.readers
        if not 0 <= index < len(readers):
            raise IndexError(f"no screen {index}")
        frame = readers[index].frame
        if frame is None:
            raise IndexError(f"screen {index} has no frame yet")
        return frame


def to_stream(reader: FrameReader, x: int, y: int) -> tuple[float, float]:
    """Device pixels of a reader's frames → the stream's logical coordinates (a HiDPI monitor
    at scale 2 sends frames twice its logical size)."""
    s = reader.stream
    f = reader.frame
    fw, fh = (f.width, f.height) if f is not None else (s.width, s.height)
    lx = min(max(x, 0), fw - 1) * s.width / fw
    ly = min(max(y, 0), fh - 1) * s.height / fh
    return lx, ly


class PortalInput:
    """InputSink over the portal's RemoteDesktop session. Nothing waits: notifications leave
    in order from a worker thread."""

    def __init__(self, desktop: WaylandDesktop) -> None:
        self._desktop = desktop

    def problem(self) -> str | None:
        return self._desktop.control_problem()

    def move(self, screen: int, x: int, y: int) -> None:
        readers = self._desktop.readers
        if not 0 <= screen < len(readers):
            return
        lx, ly = to_stream(readers[screen], x, y)
        self._desktop.notify(
            "NotifyPointerMotionAbsolute", "udd", readers[screen].stream.node, lx, ly
        )

    def button(self, button: str, pressed: bool) -> None:
        code = BUTTONS.get(button)
        if code is not None:
            self._desktop.notify("NotifyPointerButton", "iu", code, 1 if pressed else 0)

    def scroll(self, notches_x: int, notches_y: int) -> None:
        if notches_y:
            self._desktop.notify("NotifyPointerAxisDiscrete", "ui", 0, notches_y)
        if notches_x:
            self._desktop.notify("NotifyPointerAxisDiscrete", "ui", 1, notches_x)

    def key(self, code: str, key: str, pressed: bool) -> bool:
        evdev = EVDEV.get(code)
        if evdev is not None:
            return self._desktop.notify("NotifyKeyboardKeycode", "iu", evdev, 1 if pressed else 0)
        if not is_text(key):
            return False
        if pressed:
            for sym in keysyms_for_text(key):
                self._desktop.notify("NotifyKeyboardKeysym", "iu", sym, 1)
                self._desktop.notify("NotifyKeyboardKeysym", "iu", sym, 0)
        return True
