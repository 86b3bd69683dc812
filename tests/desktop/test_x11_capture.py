"""X11 shared-memory capture under a private Xvfb: what it grabs is the X server's own
picture (checked against a plain GetImage through python-xlib), and it cleans up after
itself."""

from __future__ import annotations

import pytest
from Xlib import X, display

from anydesk_invite.desktop.x11_capture import CaptureUnavailable, ShmScreen
from tests.helpers.xvfb import HEIGHT, WIDTH


def test_the_shared_memory_grab_is_the_servers_picture(xvfb_display: str) -> None:
    d = display.Display(xvfb_display)
    root = d.screen().root
    gc = root.create_gc(foreground=0x3366CC)
    root.fill_rectangle(gc, 100, 50, 300, 200)
    d.sync()
    expected = root.get_image(0, 0, WIDTH, HEIGHT, X.ZPixmap, 0xFFFFFFFF).data
    shm = ShmScreen(xvfb_display)
    try:
        assert shm.screens()[0].width == WIDTH and shm.screens()[0].height == HEIGHT
        frame = shm.grab(0)
        assert (frame.width, frame.height) == (WIDTH, HEIGHT)
        assert frame.data[: WIDTH * HEIGHT * 4] == bytes(expected)[: WIDTH * HEIGHT * 4]
        at = (60 * WIDTH + 120) * 4
        assert frame.data[at : at + 3] == b"\xcc\x66\x33"  # B, G, R of 0x3366cc
    finally:
        shm.close()
        d.close()


def test_a_screen_that_is_not_there_and_a_closed_capture_raise(xvfb_display: str) -> None:
    shm = ShmScreen(xvfb_display)
    with pytest.raises(IndexError):
        shm.grab(1)
    shm.close()
    shm.close()  # twice is fine
    with pytest.raises(IndexError):
        shm.grab(0)


def test_no_display_is_a_clear_error() -> None:
    with pytest.raises(CaptureUnavailable, match="cannot open X display"):
        ShmScreen(":4093")
