"""The guest's screen view as a remote control: pointer, buttons, wheel and keys mapped to the
host's frame pixels and sent only while control is usable; drags draw in draw mode; keys
become W3C code/key pairs."""

from __future__ import annotations

import asyncio
import zlib

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeyEvent
from pytestqt.qtbot import QtBot

from anydesk_invite.net.wire import FrameTiles, Message, ScreenEntry, ScreenList, Tile
from anydesk_invite.services.sessions.guest_screen import GuestScreen
from anydesk_invite.ui.remote_keys import key_code, key_pair, modifiers
from anydesk_invite.ui.screen_view import ScreenView


class Sent:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def __call__(self, msg: Message) -> None:
        self.sent.append(msg)


async def inline(fn, *args):  # type: ignore[no-untyped-def]
    return fn(*args)


class Control:
    """Records what the view asks of the remote control (the service is tested on its own)."""

    def __init__(self, usable: bool) -> None:
        self.on = usable
        self.calls: list[tuple[object, ...]] = []

    def usable(self) -> bool:
        return self.on

    def move(self, screen: int, x: int, y: int) -> None:
        self.calls.append(("move", screen, x, y))

    def leave(self) -> None:
        self.calls.append(("leave",))

    def button(self, screen: int, x: int, y: int, button: str, pressed: bool) -> bool:
        if self.on:
            self.calls.append(("button", screen, x, y, button, pressed))
        return self.on

    def wheel(self, dx: int, dy: int) -> bool:
        self.calls.append(("wheel", dx, dy))
        return self.on

    def key(self, code: str, key: str, pressed: bool, mods: frozenset[str]) -> bool:
        if self.on:
            self.calls.append(("key", code, key, pressed, mods))
        return self.on


class Pen:
    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def usable(self) -> bool:
        return True

    def begin(self, screen: int, x: int, y: int) -> bool:
        self.calls.append(("begin", screen, x, y))
        return True

    def extend(self, x: int, y: int) -> bool:
        self.calls.append(("extend", x, y))
        return True

    def end(self) -> None:
        self.calls.append(("end",))


@pytest.fixture
def view(qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop) -> ScreenView:
    """A view 640x640 showing a 1280x640 frame of screen 0 at (0, 160, 640, 320)."""
    screen = GuestScreen(Sent(), offload=inline)
    v = ScreenView(screen)
    qtbot.addWidget(v)
    v.resize(640, 640)
    v.show()
    for msg in (
        ScreenList([ScreenEntry(0, "main", 1280, 640)], 0),
        FrameTiles(
            1, 0, 1280, 640, [Tile(0, 0, 1, 1, "zlib", zlib.compress(b"\0\0\0\xff"))], final=True
        ),
    ):
        task = qasync_loop.create_task(screen.handle(msg))
        qtbot.waitUntil(task.done)
    assert v.frame_rect().y() == 160
    return v


def test_pointer_and_buttons_are_sent_in_host_pixels_while_controlling(
    qtbot: QtBot, view: ScreenView
) -> None:
    control = Control(usable=True)
    view.set_remote(control, None)  # type: ignore[arg-type]
    qtbot.mouseMove(view, QPoint(320, 320))
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 200))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 200))
    assert ("move", 0, 640, 320) in control.calls
    assert ("button", 0, 200, 80, "left", True) in control.calls
    assert ("button", 0, 200, 80, "left", False) in control.calls
    qtbot.mousePress(view, Qt.MouseButton.RightButton, pos=QPoint(100, 50))  # letterbox
    assert not any(c[0] == "button" and c[4] == "right" for c in control.calls)


def test_keys_go_to_the_host_as_code_and_key_and_are_released_when_the_view_lets_go(
    qtbot: QtBot, view: ScreenView
) -> None:
    control = Control(usable=True)
    view.set_remote(control, None)  # type: ignore[arg-type]
    view.setFocus()
    qtbot.keyPress(view, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier, -1)
    assert control.calls[-1][:4] == ("key", "KeyA", "a", True)  # the text the event carried
    assert control.calls[-1][4] == frozenset({"shift"})
    qtbot.keyPress(view, Qt.Key.Key_Tab)
    assert control.calls[-1][:4] == ("key", "Tab", "Tab", True)
    assert view.hasFocus()  # Tab went to the host, not to the next widget
    view.release_held()
    released = [c[1] for c in control.calls if c[0] == "key" and c[3] is False]
    assert sorted(released) == ["KeyA", "ShiftLeft", "Tab"]  # QTest pressed Shift too


def test_without_control_only_the_position_is_reported_and_no_key_or_button_is_held(
    qtbot: QtBot, view: ScreenView
) -> None:
    control = Control(usable=False)
    view.set_remote(control, None)  # type: ignore[arg-type]
    qtbot.mouseMove(view, QPoint(320, 320))
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(320, 320))
    view.setFocus()
    qtbot.keyPress(view, Qt.Key.Key_B)
    assert [c[0] for c in control.calls] == ["move"]
    view.release_held()
    assert [c[0] for c in control.calls] == ["move"]


def test_a_drag_in_draw_mode_draws_instead_of_clicking(qtbot: QtBot, view: ScreenView) -> None:
    control = Control(usable=True)
    pen = Pen()
    view.set_remote(control, pen)  # type: ignore[arg-type]
    view.draw_mode = True
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(10, 170))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(10, 170))
    assert pen.calls == [("begin", 0, 20, 20), ("end",)]
    assert not any(c[0] == "button" for c in control.calls)


@pytest.mark.parametrize(
    ("qt_key", "code"),
    [
        (Qt.Key.Key_Z, "KeyZ"),
        (Qt.Key.Key_7, "Digit7"),
        (Qt.Key.Key_F11, "F11"),
        (Qt.Key.Key_Left, "ArrowLeft"),
        (Qt.Key.Key_Return, "Enter"),
        (Qt.Key.Key_Escape, "Escape"),
        (Qt.Key.Key_Backspace, "Backspace"),
        (Qt.Key.Key_PageDown, "PageDown"),
        (Qt.Key.Key_Shift, "ShiftLeft"),
        (Qt.Key.Key_Exclam, "Digit1"),
        (Qt.Key.Key_Question, "Slash"),
        (Qt.Key.Key_Eacute, "Unidentified"),
    ],
)
def test_qt_keys_map_to_w3c_codes(qt_key: Qt.Key, code: str) -> None:
    assert key_code(qt_key.value) == code


def test_a_named_key_travels_by_name_and_a_typed_one_by_its_text() -> None:
    press = QKeyEvent(QKeyEvent.Type.KeyPress, Qt.Key.Key_Shift, Qt.KeyboardModifier.NoModifier)
    assert key_pair(press) == ("ShiftLeft", "Shift")
    typed = QKeyEvent(
        QKeyEvent.Type.KeyPress, Qt.Key.Key_Eacute, Qt.KeyboardModifier.NoModifier, "é"
    )
    assert key_pair(typed) == ("Unidentified", "é")
    both = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    assert modifiers(both) == frozenset({"control", "alt"})
