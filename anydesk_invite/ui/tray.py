"""The system tray, behind a small adapter: the shell hides the main window there on close.

Where the desktop has no tray (Xvfb, some Wayland desktops), `available()` is False and the
shell asks instead whether to keep running in the background.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from anydesk_invite.core.product import DISPLAY_NAME
from anydesk_invite.ui.icons import APP_ICON, icon


class Tray(Protocol):
    """What the shell needs from a tray icon."""

    def available(self) -> bool:
        """Whether the desktop shows tray icons at all."""
        ...

    def show(self, on_open: Callable[[], None], on_quit: Callable[[], None]) -> None:
        """Put the icon in the tray; its menu (and a click) opens the window or quits."""
        ...

    def notify(self, title: str, text: str) -> None:
        """A short balloon message beside the icon."""
        ...

    def hide(self) -> None: ...


class SystemTray:
    """The real tray icon (QSystemTrayIcon) with Open and Quit in its menu."""

    def __init__(self) -> None:
        self._icon: QSystemTrayIcon | None = None
        self._menu: QMenu | None = None

    def available(self) -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self, on_open: Callable[[], None], on_quit: Callable[[], None]) -> None:
        if self._icon is not None:
            return
        tray = QSystemTrayIcon(icon(APP_ICON))
        tray.setObjectName("trayIcon")
        tray.setToolTip(
            QCoreApplication.translate(
                "SystemTray", "{app}: people can invite you while it runs"
            ).format(app=DISPLAY_NAME)
        )
        menu = QMenu()
        menu.setObjectName("trayMenu")
        open_action = menu.addAction(
            QCoreApplication.translate("SystemTray", "&Open {app}").format(app=DISPLAY_NAME)
        )
        open_action.setObjectName("trayOpenAction")
        open_action.triggered.connect(on_open)
        menu.addSeparator()
        quit_action = menu.addAction(QCoreApplication.translate("SystemTray", "&Quit"))
        quit_action.setObjectName("trayQuitAction")
        quit_action.triggered.connect(on_quit)
        tray.setContextMenu(menu)

        def activated(reason: QSystemTrayIcon.ActivationReason) -> None:
            if reason is QSystemTrayIcon.ActivationReason.Trigger:
                on_open()

        tray.activated.connect(activated)
        tray.show()
        self._icon, self._menu = tray, menu

    def notify(self, title: str, text: str) -> None:
        if self._icon is not None:
            self._icon.showMessage(title, text, icon(APP_ICON), 5000)

    def hide(self) -> None:
        if self._icon is not None:
            self._icon.hide()
            self._icon.deleteLater()
            self._icon = None
        if self._menu is not None:
            self._menu.deleteLater()
            self._menu = None
