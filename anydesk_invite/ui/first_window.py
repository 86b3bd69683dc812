"""The main window shown first, before the client behind it is built.

Start-up shows it as soon as Qt is up (the translation installed, the placement watching), so
that a person sees the client's window at once; it says "Starting…" and takes no input until
the Shell attaches the client to it (bench/startup.py measures how soon it shows). Only the
main window's own modules load before it: the services, the keyring, the database and the
network load behind it.
"""

from __future__ import annotations

import dataclasses
import time

from PySide6.QtCore import QTranslator
from PySide6.QtWidgets import QApplication

from anydesk_invite.ui.i18n import install_translator
from anydesk_invite.ui.main_window import MainWindow
from anydesk_invite.ui.placement import WindowPlacement

EXPOSE_WAIT = 1.0
"""Seconds start-up waits at most for the window to be on screen before it goes on."""


@dataclasses.dataclass(frozen=True, slots=True)
class FirstWindow:
    """What start-up built before the client: the Shell takes them over."""

    window: MainWindow
    placement: WindowPlacement
    translator: QTranslator | None
    """The UI's translation (None for English), installed before the window was built."""


def show_main_window(app: QApplication) -> FirstWindow:
    """Install the translation, build the main window without a client and show it, and let
    Qt put it on screen and paint it (at most EXPOSE_WAIT seconds) before returning, since
    what follows holds the event loop up until the client is built."""
    # Before any widget exists: widgets translate their texts when they are built.
    translator = install_translator(app)
    window = MainWindow(None)
    placement = WindowPlacement(app, window)
    window.show()
    deadline = time.monotonic() + EXPOSE_WAIT
    while window.isVisible() and time.monotonic() < deadline:
        app.processEvents()
        handle = window.windowHandle()
        if handle is not None and handle.isExposed():
            break
        time.sleep(0.002)
    app.processEvents()  # the exposed window paints
    return FirstWindow(window, placement, translator)
