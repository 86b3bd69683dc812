"""The guest's screen view: messages before a picture, the frame scaled with its aspect kept,
and a screen switcher that asks the host only when there are several screens."""

from __future__ import annotations

import asyncio
import zlib

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from anydesk_invite.net.wire import (
    FrameTiles,
    Message,
    Refused,
    ScreenEntry,
    ScreenList,
    ScreenSelect,
    Tile,
)
from anydesk_invite.services.sessions.guest_screen import GuestScreen
from anydesk_invite.ui.screen_view import ScreenView, fit

RED = b"\x00\x00\xff\xff"  # B, G, R, A


class Outbox:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def __call__(self, msg: Message) -> None:
        self.sent.append(msg)


async def inline(fn, *args):  # type: ignore[no-untyped-def]
    return fn(*args)


def feed(qtbot: QtBot, loop: asyncio.AbstractEventLoop, screen: GuestScreen, msg: Message) -> None:
    task = loop.create_task(screen.handle(msg))
    qtbot.waitUntil(task.done)
    assert task.result()


def test_fit_keeps_the_aspect_ratio_and_centres() -> None:
    assert fit(QSize(1920, 1080), QRect(0, 0, 960, 1000)) == QRect(0, 230, 960, 540)
    assert fit(QSize(100, 100), QRect(10, 0, 300, 100)) == QRect(110, 0, 100, 100)
    assert fit(QSize(0, 0), QRect(0, 0, 10, 10)).isEmpty()


def test_without_a_screen_stream_the_view_says_sharing_is_unavailable(qtbot: QtBot) -> None:
    view = ScreenView(None)
    qtbot.addWidget(view)
    assert "not available" in view.message()
    assert view.image() is None


def test_the_view_asks_for_the_first_screen_and_paints_the_frame_letterboxed(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    out = Outbox()
    screen = GuestScreen(out, offload=inline)
    view = ScreenView(screen)
    qtbot.addWidget(view)
    view.resize(640, 640)
    view.show()
    assert view.message() == "Waiting for the host's screen…"
    feed(qtbot, qasync_loop, screen, ScreenList([ScreenEntry(0, "main", 64, 32)], 0))
    qtbot.waitUntil(lambda: out.sent == [ScreenSelect(0)])
    assert view.combo.isHidden()
    tile = Tile(0, 0, 64, 32, "zlib", zlib.compress(RED * 64 * 32))
    feed(qtbot, qasync_loop, screen, FrameTiles(1, 0, 64, 32, [tile], final=True))
    assert view.message() == ""
    assert view.frame_rect() == QRect(0, 160, 640, 320)
    shot = view.grab().toImage()
    assert shot.pixelColor(320, 320) == QColor(255, 0, 0)
    assert shot.pixelColor(320, 40) == QColor("#202124")  # the band above the picture


def test_several_screens_show_the_switcher_and_choosing_one_asks_the_host(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    out = Outbox()
    screen = GuestScreen(out, offload=inline)
    view = ScreenView(screen)
    qtbot.addWidget(view)
    view.show()
    entries = [ScreenEntry(0, "left", 1920, 1080), ScreenEntry(1, "right", 1280, 1024)]
    feed(qtbot, qasync_loop, screen, ScreenList(entries, 0))
    assert view.combo.isVisible()
    assert [view.combo.itemText(i) for i in range(2)] == ["left (1920×1080)", "right (1280×1024)"]
    view.combo.activated.emit(1)
    qtbot.waitUntil(lambda: out.sent == [ScreenSelect(0), ScreenSelect(1)])
    feed(qtbot, qasync_loop, screen, Refused("screen", "no screen 1"))
    assert view.message() == "The host's screen: no screen 1"
    view.detach()
    feed(qtbot, qasync_loop, screen, ScreenList(entries[:1], 0))
    assert view.combo.count() == 2  # detached: no longer follows the stream
