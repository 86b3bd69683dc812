"""Keyboard and pointer injection into an X11 desktop through the XTEST extension.

Keys arrive as W3C ``code``/``key`` pairs. A code in the table below is pressed as the keysym
a US layout gives that place (``KeyA`` → ``a``), found on whatever key of the host's layout
carries it; modifiers travel as keys of their own, so Shift+KeyA gives ``A``. An unknown code
types its ``key`` text instead, keysym by keysym, borrowing a spare keycode for a character the
host's keymap lacks. The display is opened on first use, never on import.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

# python-xlib loads on the first key or pointer event, not at start-up (bench/startup.py).

_log = logging.getLogger(__name__)

_NAMED: dict[str, str] = {
    "Enter": "Return",
    "NumpadEnter": "KP_Enter",
    "Escape": "Escape",
    "Tab": "Tab",
    "Backspace": "BackSpace",
    "Delete": "Delete",
    "Insert": "Insert",
    "Home": "Home",
    "End": "End",
    "PageUp": "Prior",
    "PageDown": "Next",
    "ArrowUp": "Up",
    "ArrowDown": "Down",
    "ArrowLeft": "Left",
    "ArrowRight": "Right",
    "Space": "space",
    "ShiftLeft": "Shift_L",
    "ShiftRight": "Shift_R",
    "ControlLeft": "Control_L",
    "ControlRight": "Control_R",
    "AltLeft": "Alt_L",
    "AltRight": "Alt_R",
    "MetaLeft": "Super_L",
    "MetaRight": "Super_R",
    "CapsLock": "Caps_Lock",
    "NumLock": "Num_Lock",
    "ScrollLock": "Scroll_Lock",
    "PrintScreen": "Print",
    "Pause": "Pause",
    "ContextMenu": "Menu",
    "Minus": "minus",
    "Equal": "equal",
    "BracketLeft": "bracketleft",
    "BracketRight": "bracketright",
    "Backslash": "backslash",
    "IntlBackslash": "less",
    "Semicolon": "semicolon",
    "Quote": "apostrophe",
    "Backquote": "grave",
    "Comma": "comma",
    "Period": "period",
    "Slash": "slash",
    "NumpadAdd": "KP_Add",
    "NumpadSubtract": "KP_Subtract",
    "NumpadMultiply": "KP_Multiply",
    "NumpadDivide": "KP_Divide",
    "NumpadDecimal": "KP_Decimal",
}
KEY_NAMES: Mapping[str, str] = {
    **_NAMED,
    **{f"Key{c}": c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    **{f"Digit{d}": str(d) for d in range(10)},
    **{f"Numpad{d}": f"KP_{d}" for d in range(10)},
    **{f"F{n}": f"F{n}" for n in range(1, 25)},
}
"""W3C code → X keysym name, for the keys every keyboard has."""

BUTTONS: Mapping[str, int] = {"left": 1, "middle": 2, "right": 3, "back": 8, "forward": 9}
_TEXT_KEYSYMS = {"\n": "Return", "\r": "Return", "\t": "Tab", " ": "space"}


def keysym_for_code(code: str) -> int | None:
    """The keysym a US layout has at W3C ``code``, or None for a code not in the table."""
    from Xlib import XK

    name = KEY_NAMES.get(code)
    if name is None:
        return None
    sym: int = XK.string_to_keysym(name)
    return sym or None


def keysyms_for_text(text: str) -> list[int]:
    """The keysyms that type ``text``: Latin-1 keysyms equal their code point, others are
    0x01000000 + code point (X11's Unicode keysyms)."""
    from Xlib import XK

    out = []
    for ch in text:
        named = _TEXT_KEYSYMS.get(ch)
        if named is not None:
            out.append(XK.string_to_keysym(named))
        elif not ch.isprintable():
            continue
        elif 0x20 <= ord(ch) <= 0xFF:
            out.append(ord(ch))
        else:
            out.append(0x0100_0000 + ord(ch))
    return out


def is_text(key: str) -> bool:
    """Whether a W3C ``key`` value is text the key typed rather than a key name ("Shift")."""
    return len(key) == 1 or (bool(key) and not key.isascii())


def qt_screen_origin(index: int) -> tuple[int, int]:
    """Where screen ``index`` (QtScreens' numbering) starts on the X root, in device pixels."""
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is None:
        return 0, 0
    screens = QGuiApplication.screens()
    if not 0 <= index < len(screens):
        return 0, 0
    s = screens[index]
    top_left = s.geometry().topLeft()
    ratio = s.devicePixelRatio()
    return round(top_left.x() * ratio), round(top_left.y() * ratio)


class XTestInput:
    """An InputSink for X11: XTEST fake input on display ``display_name`` (default $DISPLAY).

    ``environ`` is read to tell a Wayland session, where XTEST reaches only X11 windows.
    """

    def __init__(
        self,
        display_name: str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        origin: Callable[[int], tuple[int, int]] = qt_screen_origin,
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._name = display_name or self._environ.get("DISPLAY") or None
        self._origin = origin
        self._display: Any = None
        self._problem: str | None = None
        self._opened = False
        self._borrowed: dict[int, int] = {}
        """keysym → spare keycode it was mapped onto."""

    def problem(self) -> str | None:
        self._open()
        return self._problem

    def _open(self) -> Any:
        if self._opened:
            return self._display
        self._opened = True
        env = self._environ
        if self._name is None:
            if env.get("WAYLAND_DISPLAY"):
                self._problem = "a Wayland session without XWayland: input cannot be injected"
            else:
                self._problem = "no X display (DISPLAY is not set): input cannot be injected"
            return None
        if env.get("XDG_SESSION_TYPE") == "wayland" or env.get("WAYLAND_DISPLAY"):
            self._problem = (
                "a Wayland session: injected input would reach X11 windows only, so remote "
                "control is off"
            )
            return None
        try:
            from Xlib import display as xdisplay

            d = xdisplay.Display(self._name)
        except Exception as exc:
            self._problem = f"cannot open X display {self._name}: {exc}"
            return None
        if not d.query_extension("XTEST").present:
            d.close()
            self._problem = f"X display {self._name} has no XTEST extension"
            return None
        self._display = d
        return d

    def _d(self) -> Any:
        d = self._open()
        if d is None:
            raise RuntimeError(self._problem or "no X display")
        return d

    def move(self, screen: int, x: int, y: int) -> None:
        from Xlib import X
        from Xlib.ext import xtest

        d = self._d()
        ox, oy = self._origin(screen)
        xtest.fake_input(d, X.MotionNotify, x=ox + x, y=oy + y)
        d.flush()

    def button(self, button: str, pressed: bool) -> None:
        from Xlib import X
        from Xlib.ext import xtest

        d = self._d()
        number = BUTTONS.get(button)
        if number is None:
            return
        xtest.fake_input(d, X.ButtonPress if pressed else X.ButtonRelease, number)
        d.flush()

    def scroll(self, notches_x: int, notches_y: int) -> None:
        from Xlib import X
        from Xlib.ext import xtest

        d = self._d()
        for count, less, more in ((notches_y, 4, 5), (notches_x, 6, 7)):
            number = more if count > 0 else less
            for _ in range(abs(count)):
                xtest.fake_input(d, X.ButtonPress, number)
                xtest.fake_input(d, X.ButtonRelease, number)
        d.flush()

    def key(self, code: str, key: str, pressed: bool) -> bool:
        from Xlib import X
        from Xlib.ext import xtest

        d = self._d()
        sym = keysym_for_code(code)
        keycode = d.keysym_to_keycode(sym) if sym is not None else 0
        if keycode:
            xtest.fake_input(d, X.KeyPress if pressed else X.KeyRelease, keycode)
            d.flush()
            return True
        if not is_text(key):
            return False
        if pressed:
            for s in keysyms_for_text(key):
                self._type_keysym(d, s)
            d.flush()
        return True

    def _type_keysym(self, d: Any, sym: int) -> None:
        from Xlib import X
        from Xlib.ext import xtest

        keycode = d.keysym_to_keycode(sym) or self._borrow(d, sym)
        if not keycode:
            _log.info("no key can type keysym %#x on this display", sym)
            return
        xtest.fake_input(d, X.KeyPress, keycode)
        xtest.fake_input(d, X.KeyRelease, keycode)
        d.sync()

    def _borrow(self, d: Any, sym: int) -> int:
        """Map ``sym`` onto a keycode that has no keysyms, as xdotool does."""
        if sym in self._borrowed:
            return self._borrowed[sym]
        first = d.display.info.min_keycode
        count = d.display.info.max_keycode - first + 1
        mapping = d.get_keyboard_mapping(first, count)
        used = set(self._borrowed.values())
        for i, syms in enumerate(mapping):
            keycode = first + i
            if keycode not in used and not any(syms):
                d.change_keyboard_mapping(keycode, [(sym, sym)])
                d.sync()
                self._borrowed[sym] = keycode
                return keycode
        return 0

    def close(self) -> None:
        d, self._display = self._display, None
        if d is not None:
            from Xlib import X

            for keycode in self._borrowed.values():
                d.change_keyboard_mapping(keycode, [(X.NoSymbol, X.NoSymbol)])
            self._borrowed.clear()
            d.close()
