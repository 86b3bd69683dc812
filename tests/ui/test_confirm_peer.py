"""Inviting or connecting by alias to a device known only from discovery: the window shows the
device (or the devices sharing the alias) and the user confirms in place; the key is pinned.

Two real clients on 127.0.0.1 (in-memory channels, real SQLite), driven through the widgets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QListWidget, QPushButton
from pytestqt.qtbot import QtBot

from anydesk_invite.core.ids import short_fingerprint
from anydesk_invite.net.identity import Identity
from anydesk_invite.ui.peer_confirm import ConfirmPeerDialog
from anydesk_invite.ui.shell import Shell
from tests.helpers.fake_tray import FakeTray
from tests.helpers.nodes import Node, Nodes
from tests.helpers.qt_async import finish

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def strangers(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> Iterator[tuple[Node, Node, Shell]]:
    """anna (with a shell) and ben, who have never met; anna sees ben through discovery."""
    nodes = Nodes(tmp_path)
    shell: Shell | None = None
    try:
        anna = finish(qtbot, nodes.make("anna"))
        ben = finish(qtbot, nodes.make("ben"))
        anna.seen_on_lan(ben.identity, ben.alias, ben.port)
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


def test_inviting_an_alias_seen_only_on_the_network_is_confirmed_in_the_dialog_and_pinned(
    qtbot: QtBot, strangers: tuple[Node, Node, Shell]
) -> None:
    anna, ben, shell = strangers
    assert anna.db.pinned_peers.get_by_fingerprint(ben.identity.fingerprint) is None
    qtbot.mouseClick(shell.window.invite_button, LEFT)
    qtbot.waitUntil(lambda: shell.invite_dialog is not None)
    dialog = shell.invite_dialog
    assert dialog is not None
    qtbot.keyClicks(dialog.target_edit, "ben@ad")
    qtbot.mouseClick(dialog.send_button, LEFT)

    qtbot.waitUntil(lambda: dialog.findChild(QPushButton, "confirmPeerButton") is not None)
    confirm = dialog.findChild(QPushButton, "confirmPeerButton")
    details = dialog.findChild(QLabel, "confirmPeerDetails")
    assert confirm is not None and details is not None
    qtbot.waitUntil(confirm.isVisible)
    text = details.text()
    assert ben.identity.device_id.grouped() in text
    assert short_fingerprint(ben.identity.fingerprint) in text
    assert f"127.0.0.1:{ben.port}" in text
    assert "--confirm" not in text and "--confirm" not in dialog.error_label.text()
    assert not dialog.error_label.isVisible()
    assert not dialog.send_button.isEnabled()

    qtbot.mouseClick(confirm, LEFT)
    qtbot.waitUntil(lambda: bool(ben.received.items), timeout=5000)
    assert ben.received.items[0].peer_alias == "anna@ad"
    qtbot.waitUntil(lambda: not dialog.isVisible())
    pin = anna.db.pinned_peers.get_by_fingerprint(ben.identity.fingerprint)
    assert pin is not None and pin.device_id == ben.identity.device_id

    # Confirmed once: the alias now resolves without asking again.
    target = anna.client.directory.resolve("ben@ad")
    assert target.fingerprint == ben.identity.fingerprint


def test_several_devices_with_one_alias_are_listed_and_the_chosen_one_is_invited(
    qtbot: QtBot, strangers: tuple[Node, Node, Shell]
) -> None:
    anna, ben, shell = strangers
    impostor = Identity.generate()
    anna.seen_on_lan(impostor, "ben@ad", 9)
    dialog = shell.open_invite_dialog("ben@ad")
    qtbot.mouseClick(dialog.send_button, LEFT)

    qtbot.waitUntil(lambda: dialog.findChild(QListWidget, "peerChoiceList") is not None)
    choices = dialog.findChild(QListWidget, "peerChoiceList")
    confirm = dialog.findChild(QPushButton, "confirmPeerButton")
    assert choices is not None and confirm is not None
    qtbot.waitUntil(choices.isVisible)
    lines = [choices.item(i).text() for i in range(choices.count())]
    assert len(lines) == 2
    assert all("seen just now" in line for line in lines)
    assert not confirm.isEnabled(), "nothing is chosen yet"
    [row] = [i for i, line in enumerate(lines) if ben.identity.device_id.grouped() in line]
    assert short_fingerprint(ben.identity.fingerprint) in lines[row]
    assert f"127.0.0.1:{ben.port}" in lines[row]
    choices.setCurrentRow(row)
    assert confirm.isEnabled()
    qtbot.mouseClick(confirm, LEFT)

    qtbot.waitUntil(lambda: bool(ben.received.items), timeout=5000)
    assert anna.db.pinned_peers.get_by_fingerprint(ben.identity.fingerprint) is not None
    assert anna.db.pinned_peers.get_by_fingerprint(impostor.fingerprint) is None


def test_connecting_to_an_alias_seen_only_on_the_network_asks_to_confirm_it(
    qtbot: QtBot, strangers: tuple[Node, Node, Shell]
) -> None:
    anna, ben, shell = strangers
    qtbot.keyClicks(shell.window.connect_edit, "ben@ad")
    qtbot.mouseClick(shell.window.connect_button, LEFT)
    qtbot.waitUntil(lambda: shell.window.findChild(ConfirmPeerDialog) is not None)
    dialog = shell.window.findChild(ConfirmPeerDialog)
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    assert ben.identity.device_id.grouped() in dialog.panel.details.text()
    qtbot.mouseClick(dialog.panel.confirm_button, LEFT)
    qtbot.waitUntil(lambda: bool(ben.received.items), timeout=5000)
    assert ben.received.items[0].peer_alias == "anna@ad"
    assert anna.db.pinned_peers.get_by_fingerprint(ben.identity.fingerprint) is not None
