"""Qt key events as W3C ``code``/``key`` pairs and modifier names, for remote control."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent

from anydesk_invite.services.facade import Modifier

K = Qt.Key
_CODES: dict[int, str] = {
    K.Key_Return.value: "Enter",
    K.Key_Enter.value: "NumpadEnter",
    K.Key_Escape.value: "Escape",
    K.Key_Tab.value: "Tab",
    K.Key_Backtab.value: "Tab",
    K.Key_Backspace.value: "Backspace",
    K.Key_Delete.value: "Delete",
    K.Key_Insert.value: "Insert",
    K.Key_Home.value: "Home",
    K.Key_End.value: "End",
    K.Key_PageUp.value: "PageUp",
    K.Key_PageDown.value: "PageDown",
    K.Key_Up.value: "ArrowUp",
    K.Key_Down.value: "ArrowDown",
    K.Key_Left.value: "ArrowLeft",
    K.Key_Right.value: "ArrowRight",
    K.Key_Space.value: "Space",
    K.Key_Shift.value: "ShiftLeft",
    K.Key_Control.value: "ControlLeft",
    K.Key_Alt.value: "AltLeft",
    K.Key_AltGr.value: "AltRight",
    K.Key_Meta.value: "MetaLeft",
    K.Key_Super_L.value: "MetaLeft",
    K.Key_Super_R.value: "MetaRight",
    K.Key_CapsLock.value: "CapsLock",
    K.Key_NumLock.value: "NumLock",
    K.Key_ScrollLock.value: "ScrollLock",
    K.Key_Print.value: "PrintScreen",
    K.Key_Pause.value: "Pause",
    K.Key_Menu.value: "ContextMenu",
    K.Key_Minus.value: "Minus",
    K.Key_Underscore.value: "Minus",
    K.Key_Equal.value: "Equal",
    K.Key_Plus.value: "Equal",
    K.Key_BracketLeft.value: "BracketLeft",
    K.Key_BraceLeft.value: "BracketLeft",
    K.Key_BracketRight.value: "BracketRight",
    K.Key_BraceRight.value: "BracketRight",
    K.Key_Backslash.value: "Backslash",
    K.Key_Bar.value: "Backslash",
    K.Key_Semicolon.value: "Semicolon",
    K.Key_Colon.value: "Semicolon",
    K.Key_Apostrophe.value: "Quote",
    K.Key_QuoteDbl.value: "Quote",
    K.Key_QuoteLeft.value: "Backquote",
    K.Key_AsciiTilde.value: "Backquote",
    K.Key_Comma.value: "Comma",
    K.Key_Less.value: "Comma",
    K.Key_Period.value: "Period",
    K.Key_Greater.value: "Period",
    K.Key_Slash.value: "Slash",
    K.Key_Question.value: "Slash",
    **{K.Key_A.value + i: f"Key{chr(ord('A') + i)}" for i in range(26)},
    **{K.Key_0.value + i: f"Digit{i}" for i in range(10)},
    **{K.Key_F1.value + i: f"F{i + 1}" for i in range(24)},
}
# Shifted digits on a US keyboard, so Shift+1 still names the key Digit1.
for _digit, _sym in enumerate(")!@#$%^&*("):
    _CODES.setdefault(ord(_sym), f"Digit{_digit}")

_NAMES = {
    "Enter": "Enter",
    "NumpadEnter": "Enter",
    "Escape": "Escape",
    "Tab": "Tab",
    "Backspace": "Backspace",
    "Delete": "Delete",
    "ShiftLeft": "Shift",
    "ControlLeft": "Control",
    "AltLeft": "Alt",
    "AltRight": "AltGraph",
    "MetaLeft": "Meta",
    "MetaRight": "Meta",
}


def key_code(qt_key: int) -> str:
    """The W3C code for a Qt key; "Unidentified" for one not in the table."""
    return _CODES.get(qt_key, "Unidentified")


def key_pair(event: QKeyEvent) -> tuple[str, str]:
    """(code, key) for a key event: the key's place, and the text it typed (or its name)."""
    code = key_code(event.key())
    text = event.text()
    if text and text.isprintable():
        return code, text[:16]
    return code, _NAMES.get(code, code if code != "Unidentified" else "")


def modifiers(flags: Qt.KeyboardModifier) -> frozenset[Modifier]:
    out: set[Modifier] = set()
    if flags & Qt.KeyboardModifier.ShiftModifier:
        out.add("shift")
    if flags & Qt.KeyboardModifier.ControlModifier:
        out.add("control")
    if flags & Qt.KeyboardModifier.AltModifier:
        out.add("alt")
    if flags & Qt.KeyboardModifier.MetaModifier:
        out.add("meta")
    return frozenset(out)
