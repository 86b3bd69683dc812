"""Adding an Address Book entry from scratch in the window: the Add… button (also on the empty
state), a manual host:port probed at once and its answer shown. Two real clients on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from anydesk_invite.services.views import PeerSource
from anydesk_invite.ui.address_book_dialog import AddressBookDialog
from anydesk_invite.ui.peer_pane import PeerPane
from anydesk_invite.ui.shell import Shell
from tests.helpers.fake_tray import FakeTray
from tests.helpers.nodes import Node, Nodes
from tests.helpers.qt_async import finish

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def anna_and_ben(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> Iterator[tuple[Node, Node, Shell]]:
    nodes = Nodes(tmp_path)
    shell: Shell | None = None
    try:
        anna = finish(qtbot, nodes.make("anna"))
        ben = finish(qtbot, nodes.make("ben"))
        shell = Shell(
            anna.client,
            on_quit=lambda: None,
            tray=FakeTray(available=False),
            interfaces=lambda: ["127.0.0.1"],
        )
        shell.show()
        yield anna, ben, shell
    finally:
        if shell is not None:
            shell.close()
        finish(qtbot, nodes.close())


def book_pane(qtbot: QtBot, shell: Shell) -> PeerPane:
    pane = shell.window.panes[PeerSource.ADDRESS_BOOK]
    shell.window.tabs.setCurrentWidget(pane)
    qtbot.waitUntil(pane.isVisible)
    return pane


def fill(qtbot: QtBot, pane: PeerPane, device_id: str, address: str, name: str) -> None:
    qtbot.waitUntil(lambda: pane.findChild(AddressBookDialog) is not None)
    dialog = pane.findChild(AddressBookDialog)
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.windowTitle() == "Add to address book"
    assert dialog.id_edit.text() == "" and not dialog.id_edit.isReadOnly()
    qtbot.keyClicks(dialog.id_edit, device_id)
    qtbot.keyClicks(dialog.address_edit, address)
    qtbot.keyClicks(dialog.name_edit, name)
    assert dialog.save_button.isEnabled()
    qtbot.mouseClick(dialog.save_button, LEFT)


def test_add_on_the_empty_address_book_saves_an_entry_and_shows_that_its_address_answers(
    qtbot: QtBot, anna_and_ben: tuple[Node, Node, Shell]
) -> None:
    anna, ben, shell = anna_and_ben
    pane = book_pane(qtbot, shell)
    first = pane.findChild(QPushButton, "addFirstPeerButton")
    assert first is not None and first.isVisible() and pane.empty_label.isVisible()
    qtbot.mouseClick(first, LEFT)
    fill(qtbot, pane, ben.identity.device_id.grouped(), ben.manual_address, "Ben's laptop")

    qtbot.waitUntil(lambda: "online" in pane.message_label.text(), timeout=5000)
    assert pane.message_label.text() == (
        f"Ben's laptop answered at {ben.manual_address}: it is online."
    )
    entry = anna.db.address_book.get(ben.identity.device_id)
    assert entry is not None and entry.manual_address == ben.manual_address
    qtbot.waitUntil(lambda: pane.index_of(ben.device_id).isValid())
    [peer] = [p for p in anna.client.peers() if p.device_id == ben.identity.device_id]
    assert peer.online
    assert not first.isVisible(), "the empty state goes once there is an entry"


def test_an_address_where_nothing_answers_is_reported_at_once_with_what_to_do(
    qtbot: QtBot, anna_and_ben: tuple[Node, Node, Shell]
) -> None:
    _anna, ben, shell = anna_and_ben
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{s.getsockname()[1]}"
    pane = book_pane(qtbot, shell)
    assert pane.add_button is not None and pane.add_button.objectName() == "addPeerButton"
    qtbot.mouseClick(pane.add_button, LEFT)
    fill(qtbot, pane, ben.identity.device_id.grouped(), closed, "Printer room")
    qtbot.waitUntil(lambda: "did not answer" in pane.message_label.text(), timeout=8000)
    text = pane.message_label.text()
    assert text.startswith(f"Printer room did not answer at {closed}: ")
    assert "Check the address" in text
