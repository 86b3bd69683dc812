"""The process's QApplication, apart from the qasync loop (ui/qt_loop.py): start-up makes it
and shows the main window before asyncio and qasync are loaded."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QApplication


def application(argv: Sequence[str] = ()) -> QApplication:
    """The process's QApplication, made on first use."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    return QApplication(list(argv) or ["anydesk-invite"])
