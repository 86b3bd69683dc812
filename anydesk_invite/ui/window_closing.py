"""What closing the main window does: the client keeps serving invitations, so the window hides
to the tray where there is one (saying so once); otherwise the user is asked once whether to
keep running in the background, and the answer is kept in the settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject
from PySide6.QtWidgets import QMainWindow, QMessageBox

from anydesk_invite.core.product import DISPLAY_NAME
from anydesk_invite.services.facade import ActionRefused, ClientFacade
from anydesk_invite.ui.qt_loop import asyncSlot
from anydesk_invite.ui.tray import Tray

BACKGROUND_QUESTION = QT_TRANSLATE_NOOP(
    "WindowClosing",
    "Keep {app} running in the background when its window is closed? "
    "While it runs, people can invite you and you can be reached. "
    "Start it again to bring the window back.",
)
"""In English; the question box shows it translated."""


class WindowClosing(QObject):
    """The main window's close guard (``may_close``) and the question it may ask."""

    def __init__(
        self, window: QMainWindow, facade: ClientFacade, tray: Tray, quit: Callable[[], None]
    ) -> None:
        super().__init__(window)
        self._window = window
        self._facade = facade
        self._tray = tray
        self._quit = quit
        self.shutting_down = False
        """The client is shutting down: the window closes for real."""
        self._told_about_tray = False
        self.question: QMessageBox | None = None
        """The keep-running question while it is open."""

    def may_close(self) -> bool:
        """The main window's close guard: False keeps it open (hidden, asked, or quitting)."""
        if self.shutting_down:
            return True
        if self._tray.available():
            self._window.hide()
            if not self._told_about_tray:
                self._told_about_tray = True
                self._tray.notify(
                    self.tr("{app} is still running").format(app=DISPLAY_NAME),
                    self.tr("People can invite you. Open or quit it from the tray icon."),
                )
            return False
        keep = self._facade.settings().keep_running_in_background
        if keep is None:
            self._ask_about_background()
        elif keep:
            self._window.hide()
        else:
            self._quit()
        return False

    def _ask_about_background(self) -> None:
        if self.question is not None:
            self.question.raise_()
            return
        box = QMessageBox(self._window)
        box.setObjectName("backgroundQuestion")
        box.setWindowTitle(self.tr("Keep running in the background?"))
        box.setIcon(QMessageBox.Icon.Question)
        box.setText(
            QCoreApplication.translate("WindowClosing", BACKGROUND_QUESTION).format(
                app=DISPLAY_NAME
            )
        )
        keep = box.addButton(self.tr("&Keep running"), QMessageBox.ButtonRole.AcceptRole)
        keep.setObjectName("keepRunningButton")
        keep.setAccessibleName(self.tr("Keep running in the background"))
        quit_ = box.addButton(self.tr("&Quit"), QMessageBox.ButtonRole.DestructiveRole)
        quit_.setObjectName("quitButton")
        quit_.setAccessibleName(self.tr("Quit"))
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        cancel.setObjectName("cancelCloseButton")
        cancel.setAccessibleName(self.tr("Do not close"))
        box.setDefaultButton(keep)
        box.setEscapeButton(cancel)
        self.question = box

        def answered(_: int) -> None:
            self.question = None
            box.deleteLater()
            clicked = box.clickedButton()
            if clicked is keep:
                self._remember_background(True)
            elif clicked is quit_:
                self._remember_background(False)
            # Cancel or Escape: not an answer, so the window stays and the question comes
            # again next time.

        box.finished.connect(answered)
        box.open()

    @asyncSlot(bool)
    async def _remember_background(self, keep: bool) -> None:
        settings = self._facade.settings()
        try:
            await self._facade.update_settings(
                dataclasses.replace(settings, keep_running_in_background=keep)
            )
        except ActionRefused as exc:
            self._window.statusBar().showMessage(
                self.tr("Settings: {error}").format(error=exc), 10_000
            )
        if keep:
            self._window.hide()
        else:
            self._quit()
