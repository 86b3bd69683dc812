"""The XTEST adapter's key mapping (W3C code → keysym, text → keysyms) and how it says why it
cannot inject, without an X server."""

from __future__ import annotations

import gc

import pytest
from Xlib import XK

from anydesk_invite.desktop.input import (
    KEY_NAMES,
    XTestInput,
    is_text,
    keysym_for_code,
    keysyms_for_text,
)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("KeyA", "a"),
        ("KeyZ", "z"),
        ("Digit0", "0"),
        ("F1", "F1"),
        ("F12", "F12"),
        ("ArrowUp", "Up"),
        ("Enter", "Return"),
        ("Escape", "Escape"),
        ("Tab", "Tab"),
        ("Backspace", "BackSpace"),
        ("Delete", "Delete"),
        ("Home", "Home"),
        ("End", "End"),
        ("PageUp", "Prior"),
        ("PageDown", "Next"),
        ("Space", "space"),
        ("ShiftLeft", "Shift_L"),
        ("ControlRight", "Control_R"),
        ("AltLeft", "Alt_L"),
        ("MetaLeft", "Super_L"),
        ("Minus", "minus"),
        ("Slash", "slash"),
        ("Quote", "apostrophe"),
    ],
)
def test_common_codes_map_to_the_us_layout_keysym(code: str, name: str) -> None:
    assert keysym_for_code(code) == XK.string_to_keysym(name) != 0


def test_every_code_in_the_table_names_a_real_keysym() -> None:
    missing = [c for c in KEY_NAMES if keysym_for_code(c) is None]
    assert missing == []


def test_an_unknown_code_has_no_keysym() -> None:
    assert keysym_for_code("Unidentified") is None
    assert keysym_for_code("Lang9") is None


def test_text_becomes_latin1_or_unicode_keysyms() -> None:
    assert keysyms_for_text("aZ") == [ord("a"), ord("Z")]
    assert keysyms_for_text("é") == [0xE9]
    assert keysyms_for_text("€") == [0x0100_20AC]
    assert keysyms_for_text("\n") == [XK.string_to_keysym("Return")]
    assert keysyms_for_text("\x07") == []  # a control character types nothing


def test_key_names_are_not_typed_as_text() -> None:
    assert is_text("a") and is_text("é") and is_text("€")
    assert not is_text("Shift") and not is_text("ArrowLeft") and not is_text("")


# python-xlib leaves the socket of a failed connection to be collected.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.parametrize(
    ("environ", "says"),
    [
        ({}, "no X display"),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "Wayland session without XWayland"),
        ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"}, "Wayland session"),
        ({"DISPLAY": "127.0.0.1:99"}, "cannot open X display"),
    ],
)
def test_where_injection_is_impossible_the_adapter_says_why(
    environ: dict[str, str], says: str
) -> None:
    sink = XTestInput(environ=environ)
    problem = sink.problem()
    assert problem is not None and says in problem
    with pytest.raises(RuntimeError):
        sink.move(0, 1, 1)
    gc.collect()  # the leaked socket goes here, under this test's filters


def test_creating_the_adapter_opens_nothing() -> None:
    sink = XTestInput(environ={"DISPLAY": "127.0.0.1:99"})
    assert sink._display is None and not sink._opened
