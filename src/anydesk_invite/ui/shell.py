"""The desktop shell: the main window and every window and toast around it, wired to a client."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QLabel

from anydesk_invite.services.facade import ClientFacade


class Shell:
    def __init__(self, facade: ClientFacade, on_quit: Callable[[], None]) -> None:
        self._facade = facade
        st = facade.status()
        self._window = QLabel(f"{st.device_id.grouped()}  {st.alias}")
        self._window.setObjectName("mainWindow")

    def show(self) -> None:
        self._window.show()

    def raise_window(self) -> None:
        self._window.raise_()
        self._window.activateWindow()

    def close(self) -> None:
        self._window.close()
