"""The screens and the input device a portal session shares: ``PortalScreens`` (ScreenSource)
and ``PortalInput`` (InputSink) over a ``WaylandDesktop``. Input maps device pixels of a frame
to the stream's logical coordinates, keys to evdev codes or keysyms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from anydesk_invite.core.screen import RawFrame, ScreenInfo
from anydesk_invite.desktop.input import is_text, keysyms_for_text
from anydesk_invite.desktop.pipewire_frames import FrameReader

if TYPE_CHECKING:
    from anydesk_invite.desktop.wayland import WaylandDesktop

EVDEV: Mapping[str, int] = {
    "Escape": 1,
    **{f"Digit{d}": 2 + (d - 1) % 10 for d in range(10)},
    "Minus": 12,
    "Equal": 13,
    "Backspace": 14,
    "Tab": 15,
    **dict(zip([f"Key{c}" for c in "QWERTYUIOP"], range(16, 26), strict=True)),
    "BracketLeft": 26,
    "BracketRight": 27,
    "Enter": 28,
    "ControlLeft": 29,
    **dict(zip([f"Key{c}" for c in "ASDFGHJKL"], range(30, 39), strict=True)),
    "Semicolon": 39,
    "Quote": 40,
    "Backquote": 41,
    "ShiftLeft": 42,
    "Backslash": 43,
    **dict(zip([f"Key{c}" for c in "ZXCVBNM"], range(44, 51), strict=True)),
    "Comma": 51,
    "Period": 52,
    "Slash": 53,
    "ShiftRight": 54,
    "NumpadMultiply": 55,
    "AltLeft": 56,
    "Space": 57,
    "CapsLock": 58,
    **{f"F{n}": 58 + n for n in range(1, 11)},
    "NumLock": 69,
    "ScrollLock": 70,
    "Numpad7": 71,
    "Numpad8": 72,
    "Numpad9": 73,
    "NumpadSubtract": 74,
    "Numpad4": 75,
    "Numpad5": 76,
    "Numpad6": 77,
    "NumpadAdd": 78,
    "Numpad1": 79,
    "Numpad2": 80,
    "Numpad3": 81,
    "Numpad0": 82,
    "NumpadDecimal": 83,
    "IntlBackslash": 86,
    "F11": 87,
    "F12": 88,
    "NumpadEnter": 96,
    "ControlRight": 97,
    "NumpadDivide": 98,
    "PrintScreen": 99,
    "AltRight": 100,
    "Home": 102,
    "ArrowUp": 103,
    "PageUp": 104,
    "ArrowLeft": 105,
    "ArrowRight": 106,
    "End": 107,
    "ArrowDown": 108,
    "PageDown": 109,
    "Insert": 110,
    "Delete": 111,
    "Pause": 119,
    "MetaLeft": 125,
    "MetaRight": 126,
    "ContextMenu": 127,
}
"""W3C code (a place on the keyboard) → Linux evdev keycode: the compositor turns it into a
character with the layout the host's user chose, as for a physical key."""

BUTTONS: Mapping[str, int] = {
    "left": 0x110,
    "right": 0x111,
    "middle": 0x112,
    "back": 0x113,
    "forward": 0x114,
}
"""Pointer button → evdev BTN_* code."""
SHIFT = EVDEV["ShiftLeft"]


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
