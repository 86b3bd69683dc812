"""Right-click a tile or label the way a user does and work with the menu that pops up."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot

from anydesk_invite.ui.peer_pane import PeerPane
from tests.helpers.fake_client import id_for


def open_popup(qtbot: QtBot) -> QMenu:
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu), timeout=3000)
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu)
    return menu


def right_click_tile(qtbot: QtBot, pane: PeerPane, seed: str) -> QMenu:
    """Send a context-menu event to the tile of the peer made from `seed`."""
    index = pane.index_of(id_for(seed).digits)
    assert index.isValid()
    pos = pane.view.visualRect(index).center()
    viewport = pane.view.viewport()
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos), Qt.KeyboardModifier(0)
    )
    QApplication.sendEvent(viewport, event)
    return open_popup(qtbot)


def action(menu: QMenu, name: str) -> QAction:
    found = [a for a in menu.actions() if a.objectName() == name]
    assert found, f"no {name} in {[a.objectName() for a in menu.actions()]}"
    return found[0]


def close_menu(qtbot: QtBot, menu: QMenu) -> None:
    menu.close()
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None, timeout=3000)
