"""The QScreen adapter: lists the screens and grabs what is shown, as BGRA bytes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from anydesk_invite.desktop.screen import QtScreens


def test_screens_lists_the_offscreen_screen_in_device_pixels(qapp: QApplication) -> None:
    [info] = QtScreens().screens()
    assert (info.index, info.width, info.height) == (0, 800, 800)
    assert info.name


def test_grab_returns_rgb32_bytes_of_what_a_window_shows(qtbot: QtBot) -> None:
    w = QWidget(None, Qt.WindowType.FramelessWindowHint)
    pal = w.palette()
    pal.setColor(QPalette.ColorRole.Window, QColor(200, 30, 10))
    w.setPalette(pal)
    w.setAutoFillBackground(True)
    w.setGeometry(100, 120, 200, 100)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    screens = QtScreens()
    qtbot.waitUntil(lambda: screens.grab_image(0).pixelColor(200, 170) == QColor(200, 30, 10))
    frame = screens.grab(0)
    assert (frame.width, frame.height) == (800, 800)
    assert frame.stride >= 800 * 4
    at = 170 * frame.stride + 200 * 4
    assert frame.data[at : at + 3] == bytes([10, 30, 200])  # B, G, R
    assert screens.grab_image(0).format() == QImage.Format.Format_RGB32


def test_grabbing_a_screen_that_does_not_exist_raises_index_error(qapp: QApplication) -> None:
    screens = QtScreens()
    for bad in (1, -1):
        try:
            screens.grab(bad)
        except IndexError as exc:
            assert str(bad) in str(exc)
        else:
            raise AssertionError(f"grab({bad}) did not fail")
