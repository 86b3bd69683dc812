"""Remote control and drawing on a real X server (Xvfb): the injected pointer really moves,
a key really reaches a window, nothing is injected without CONTROL, revoking mid-press leaves
nothing held, and strokes show on a grab of the host's screen and vanish when cleared.

The host's input goes through the whole path: a guest client over TLS on 127.0.0.1, the
host's SessionService, RemoteInput and the XTEST adapter on the Xvfb display.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.desktop.input import XTestInput
from anydesk_invite.net.wire import KeyInput, PointerMove, PointerPosition, Refused
from anydesk_invite.services.facade import RemoteControl
from tests.helpers.nodes import Node, Nodes, eventually, nodes_for
from tests.helpers.raw_guest import RawGuest

pytestmark = [pytest.mark.e2e]
CONTROL = frozenset({Permission.CONTROL})
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def display(xvfb_module_display: str) -> str:
    """A private Xvfb shared by this module's tests (tests/helpers/xvfb.py)."""
    return xvfb_module_display


@pytest.fixture
def sink(display: str) -> Iterator[XTestInput]:
    s = XTestInput(display, environ={"DISPLAY": display}, origin=lambda _: (0, 0))
    assert s.problem() is None
    yield s
    s.close()


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path, tls=True):
        yield n


async def controlled(
    nodes: Nodes, sink: XTestInput, permissions: frozenset[Permission]
) -> tuple[Node, Node, str, RemoteControl]:
    anna = await nodes.make("anna", input_sink=sink)
    ben = await nodes.make("ben")
    anna.knows(ben)
    ben.knows(anna)
    sent = await anna.client.invite(ben.device_id, permissions, "")
    await ben.received.wait()
    guest = await ben.client.accept(sent.invitation_id)
    await eventually(lambda: len(anna.client.sessions()) == 1)
    control = ben.client.session_handle(guest.session_id).control
    assert control is not None
    return anna, ben, guest.session_id, control


def pointer(display: str) -> tuple[int, int]:
    out = subprocess.run(
        ["xdotool", "getmouselocation", "--shell"],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout
    values = dict(line.split("=", 1) for line in out.split())
    return int(values["X"]), int(values["Y"])


def held_state(display: str) -> tuple[set[int], int]:
    """Keycodes down and the pointer's button mask, straight from the X server."""
    from Xlib import X
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        keymap = d.query_keymap()
        down = {i * 8 + b for i, byte in enumerate(keymap) for b in range(8) if byte >> b & 1}
        mask = d.screen().root.query_pointer().mask
        buttons = mask & (X.Button1Mask | X.Button2Mask | X.Button3Mask)
        return down, buttons
    finally:
        d.close()


@pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool is not installed")
async def test_the_injected_pointer_really_moves(nodes: Nodes, sink: XTestInput, display: str):
    _, _, _, control = await controlled(nodes, sink, CONTROL)
    await eventually(control.usable)
    control.move(0, 321, 234)
    await eventually(lambda: pointer(display) == (321, 234))
    control.move(0, 1000, 700)
    await eventually(lambda: pointer(display) == (1000, 700))


@pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool is not installed")
async def test_nothing_is_injected_without_control_even_from_a_guest_bypassing_its_ui(
    nodes: Nodes, sink: XTestInput, display: str
) -> None:
    anna, ben, session_id, control = await controlled(nodes, sink, frozenset())
    sink.move(0, 10, 10)
    before = pointer(display)
    control.move(0, 500, 500)  # the UI's path: only a position for the marker
    raw = RawGuest(ben, session_id)
    await raw.send(PointerMove(0, 600, 600))
    assert await raw.expect(Refused) == Refused(what="control", reason="not permitted")
    await raw.send(KeyInput("KeyA", "a", True))
    seen: list[object] = []
    anna.client.pointer_seen.connect(seen.append)
    anna.clock.advance(1.0)  # past the marker's rate limit, after the UI's position
    await raw.send(PointerPosition(0, 1, 1))
    await eventually(lambda: len(seen) == 1)
    assert pointer(display) == before
    assert held_state(display) == (set(), 0)


async def test_revoking_control_mid_press_leaves_no_key_or_button_held(
    nodes: Nodes, sink: XTestInput, display: str
) -> None:
    anna, _, session_id, control = await controlled(nodes, sink, CONTROL)
    await eventually(control.usable)
    control.key("ShiftLeft", "Shift", True, frozenset())
    control.key("KeyQ", "Q", True, frozenset({"shift"}))
    control.button(0, 40, 40, "left", True)
    await eventually(lambda: len(held_state(display)[0]) == 2 and held_state(display)[1] != 0)
    await anna.client.set_session_permissions(session_id, frozenset())
    await eventually(lambda: held_state(display) == (set(), 0))


KEY_WINDOW = textwrap.dedent(
    """
    import sys
    from PySide6.QtWidgets import QApplication, QWidget

    class Keys(QWidget):
        def keyPressEvent(self, event):
            print("key", event.key(), repr(event.text()), flush=True)

        def showEvent(self, event):
            print("shown", flush=True)

    app = QApplication(sys.argv)
    w = Keys()
    w.setGeometry(0, 0, 400, 300)
    w.show()
    w.activateWindow()
    app.exec()
    """
)


async def test_a_key_really_reaches_a_window(nodes: Nodes, sink: XTestInput, display: str) -> None:
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        KEY_WINDOW,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line.strip() == b"shown"
        _, _, _, control = await controlled(nodes, sink, CONTROL)
        await eventually(control.usable)
        # Focus follows the pointer without a window manager: point into the window first.
        control.move(0, 200, 150)
        lines: list[bytes] = []

        async def read_until(text: bytes) -> None:
            while not any(text in x for x in lines):
                lines.append(await proc.stdout.readline())  # type: ignore[union-attr]

        for code, key in (("KeyH", "h"), ("KeyI", "i")):
            control.key(code, key, True, frozenset())
            control.key(code, key, False, frozenset())
        await asyncio.wait_for(read_until(b"'i'"), 10)
        typed = [x.split(b" ", 2)[2].strip() for x in lines if x.startswith(b"key")]
        assert typed == [b"'h'", b"'i'"]
        # A character with no key in a US layout is typed through a borrowed keycode.
        control.key("Unidentified", "é", True, frozenset())
        await asyncio.wait_for(read_until("'é'".encode()), 10)
    finally:
        proc.kill()
        await proc.wait()


OVERLAY = textwrap.dedent(
    """
    import sys
    import time
    from PySide6.QtCore import QEventLoop
    from PySide6.QtGui import QColor, QGuiApplication
    from PySide6.QtWidgets import QApplication, QWidget
    from anydesk_invite.core.signal import Signal
    from anydesk_invite.services.views import StrokeView
    from anydesk_invite.ui.draw_overlay import DrawOverlay

    class Strokes:
        def __init__(self):
            self.items = []
            self.strokes_changed = Signal("changed")
        def strokes(self, session_id=None):
            return list(self.items)

    app = QApplication(sys.argv)
    back = QWidget()
    back.setStyleSheet("background: #336699;")
    back.setGeometry(0, 0, 1280, 800)
    back.show()
    source = Strokes()
    overlay = DrawOverlay(source)

    def pixel(x, y):
        image = QGuiApplication.primaryScreen().grabWindow(0).toImage()
        return QColor(image.pixel(x, y)).name()

    def report(tag):
        print(tag, pixel(200, 100), pixel(200, 200), pixel(700, 500), flush=True)

    def settle(ready):
        # Paint until the grab shows what was asked for, or give up after five seconds.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            app.processEvents()
            if ready():
                return
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 20)

    wanted = {"start": ("#336699", 700, 500), "draw": ("#ff0000", 200, 100),
              "clear": ("#336699", 200, 100)}
    for line in sys.stdin:
        word = line.strip()
        if word == "draw":
            source.items = [StrokeView("ab", 1, 0, 0xFF0000, ((100, 100), (300, 100)))]
            source.strokes_changed.emit("ab")
        elif word == "clear":
            source.items = []
            source.strokes_changed.emit("ab")
        colour, x, y = wanted[word]
        settle(lambda: pixel(x, y) == colour)
        report(word)
    """
)


def test_strokes_show_on_a_grab_of_the_host_screen_and_vanish_when_cleared(
    display: str,
) -> None:
    env = {
        **os.environ,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", OVERLAY],
        input="start\ndraw\nclear\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = dict(
        (parts[0], parts[1:]) for parts in (x.split() for x in done.stdout.splitlines()) if parts
    )
    assert lines["start"] == ["#336699", "#336699", "#336699"], done.stderr
    on_stroke, off_stroke, far = lines["draw"]
    assert on_stroke == "#ff0000"
    assert off_stroke == far == "#336699"  # no black box around the strokes
    assert lines["clear"] == ["#336699", "#336699", "#336699"]
