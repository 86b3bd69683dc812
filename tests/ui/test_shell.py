"""The shell around a real client: settings from the main window, closing to the tray or to
the background (asked once, remembered in the database), and quitting."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from anydesk_invite.core.permissions import Permission
from anydesk_invite.services.views import PeerSource
from anydesk_invite.storage.settings import StoredSettings
from anydesk_invite.ui.first_window import show_main_window
from anydesk_invite.ui.shell import Shell
from tests.helpers.fake_tray import FakeTray
from tests.helpers.nodes import Node, Nodes, session_between
from tests.helpers.qt_async import finish


class Quits:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
def node(qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Node]:
    nodes = Nodes(tmp_path)
    yield finish(qtbot, nodes.make("maria"))
    finish(qtbot, nodes.close())


@pytest.fixture
def quits() -> Quits:
    return Quits()


def make_shell(qtbot: QtBot, node: Node, quits: Quits, tray: FakeTray) -> Shell:
    shell = Shell(node.client, on_quit=quits, tray=tray, interfaces=lambda: ["127.0.0.1"])
    shell.show()
    qtbot.waitExposed(shell.window)
    return shell


@pytest.fixture
def closing_shells() -> Iterator[list[Shell]]:
    made: list[Shell] = []
    yield made
    for s in made:
        s.close()


def question(qtbot: QtBot, shell: Shell) -> QMessageBox:
    qtbot.waitUntil(lambda: shell.background_question is not None)
    box = shell.background_question
    assert box is not None and box.objectName() == "backgroundQuestion"
    qtbot.waitUntil(box.isVisible)
    return box


def click(qtbot: QtBot, box: QMessageBox, name: str) -> None:
    button = box.findChild(QPushButton, name)
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def stored_answer(node: Node) -> bool | None:
    return node.db.settings.get(StoredSettings.KEEP_RUNNING_IN_BACKGROUND)


def test_closing_hides_to_the_tray_and_the_tray_opens_and_quits(
    qtbot: QtBot, node: Node, quits: Quits, closing_shells: list[Shell]
) -> None:
    tray = FakeTray(available=True)
    shell = make_shell(qtbot, node, quits, tray)
    closing_shells.append(shell)
    assert tray.shown
    shell.window.close()
    assert not shell.window.isVisible()
    assert shell.background_question is None
    assert quits.count == 0
    assert len(tray.messages) == 1 and "still running" in tray.messages[0][0]
    assert tray.on_open is not None and tray.on_quit is not None
    tray.on_open()
    qtbot.waitUntil(shell.window.isVisible)
    shell.window.close()
    assert len(tray.messages) == 1, "the tray balloon is shown only the first time"
    tray.on_quit()
    assert quits.count == 1
    assert stored_answer(node) is None


def test_without_a_tray_the_first_close_asks_and_keep_running_is_remembered(
    qtbot: QtBot, node: Node, quits: Quits, closing_shells: list[Shell]
) -> None:
    tray = FakeTray(available=False)
    shell = make_shell(qtbot, node, quits, tray)
    closing_shells.append(shell)
    assert not tray.shown
    shell.window.close()
    assert shell.window.isVisible(), "the window stays until the user answers"
    click(qtbot, question(qtbot, shell), "keepRunningButton")
    qtbot.waitUntil(lambda: not shell.window.isVisible())
    assert stored_answer(node) is True
    assert node.client.settings().keep_running_in_background is True
    assert quits.count == 0

    shell.raise_window()
    qtbot.waitUntil(shell.window.isVisible)
    shell.window.close()
    assert not shell.window.isVisible()
    assert shell.background_question is None, "asked once only"
    assert quits.count == 0


def test_without_a_tray_answering_quit_stops_the_client_and_is_remembered(
    qtbot: QtBot, node: Node, quits: Quits, closing_shells: list[Shell]
) -> None:
    shell = make_shell(qtbot, node, quits, FakeTray(available=False))
    closing_shells.append(shell)
    shell.window.close()
    click(qtbot, question(qtbot, shell), "quitButton")
    qtbot.waitUntil(lambda: quits.count == 1)
    assert stored_answer(node) is False
    shell.window.close()
    assert quits.count == 2
    assert shell.background_question is None


def test_escaping_the_question_is_no_answer_and_it_is_asked_again(
    qtbot: QtBot, node: Node, quits: Quits, closing_shells: list[Shell]
) -> None:
    shell = make_shell(qtbot, node, quits, FakeTray(available=False))
    closing_shells.append(shell)
    shell.window.close()
    box = question(qtbot, shell)
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: shell.background_question is None)
    assert shell.window.isVisible()
    assert stored_answer(node) is None and quits.count == 0
    shell.window.close()
    question(qtbot, shell)


def test_shell_close_really_closes_the_window_without_asking(
    qtbot: QtBot, node: Node, quits: Quits
) -> None:
    tray = FakeTray(available=True)
    shell = make_shell(qtbot, node, quits, tray)
    shell.close()
    assert not shell.window.isVisible()
    assert shell.background_question is None and not tray.shown
    assert quits.count == 0


def test_gear_button_and_menu_item_open_the_settings_and_quit_item_quits(
    qtbot: QtBot, node: Node, quits: Quits, closing_shells: list[Shell]
) -> None:
    shell = make_shell(qtbot, node, quits, FakeTray(available=False))
    closing_shells.append(shell)
    qtbot.mouseClick(shell.window.settings_button, Qt.MouseButton.LeftButton)
    first = shell.settings_dialog
    assert first is not None and first.objectName() == "settingsDialog"
    qtbot.waitUntil(first.isVisible)
    assert first.alias_edit.text() == "maria@ad"
    assert [first.interface_combo.itemText(i) for i in range(1, 2)] == ["127.0.0.1"]

    first.alias_edit.setText("maria.home@ad")
    qtbot.mouseClick(first.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.window.alias_label.text() == "maria.home@ad")

    action = shell.window.findChild(type(shell.window.menuBar().actions()[0]), "settingsAction")
    assert action is not None
    action.trigger()
    second = shell.settings_dialog
    assert second is not None and second is not first
    qtbot.waitUntil(second.isVisible)
    assert second.alias_edit.text() == "maria.home@ad"

    quit_action = shell.window.findChild(type(action), "quitAction")
    assert quit_action is not None
    quit_action.trigger()
    assert quits.count == 1
    assert QApplication.instance() is not None


def test_a_file_that_arrives_is_announced_from_the_tray_once(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path, quits: Quits
) -> None:
    nodes = Nodes(tmp_path)
    tray = FakeTray()
    shell: Shell | None = None
    try:
        anna, ben = finish(qtbot, nodes.pair())
        folder = tmp_path / "anna-downloads"
        anna.client.set_incoming_folder(str(folder))
        shell = Shell(
            anna.client, on_quit=quits, tray=tray,
            interfaces=lambda: ["127.0.0.1"],
        )  # fmt: skip
        shell.show()
        _, guest = finish(qtbot, session_between(anna, ben, frozenset({Permission.FILE_TRANSFER})))
        source = tmp_path / "minutes.txt"
        source.write_text("minutes of the meeting")
        sent = finish(qtbot, ben.client.send_file(guest.session_id, str(source)))
        finish(qtbot, ben.client.wait_transfer(sent.transfer_id))
        qtbot.waitUntil(lambda: len(tray.messages) == 1)
        title, text = tray.messages[0]
        assert title == "File received"
        assert text == f"minutes.txt from ben@ad, saved in {folder}"
        # The same finished transfer seen again announces nothing more.
        [done] = anna.client.transfers()
        anna.client.transfer_changed.emit(done)
        assert len(tray.messages) == 1
    finally:
        if shell is not None:
            shell.close()
        finish(qtbot, nodes.close())


def test_connect_to_a_device_not_found_says_what_to_do_and_add_its_address_opens_the_entry(
    qtbot: QtBot, node: Node, quits: Quits, closing_shells: list[Shell]
) -> None:
    shell = make_shell(qtbot, node, quits, FakeTray(available=True))
    closing_shells.append(shell)
    shell.window.connectRequested.emit("nobody@ad")
    qtbot.waitUntil(lambda: shell.not_found_box is not None)
    box = shell.not_found_box
    assert box is not None and box.objectName() == "notFoundBox"
    assert box.text() == (
        "No device with alias nobody@ad found. Is it running on this network? If discovery "
        "cannot reach it, add its address (host:port) to the address book."
    )
    click(qtbot, box, "addAddressButton")
    pane = shell.window.panes[PeerSource.ADDRESS_BOOK]
    assert shell.window.tabs.currentWidget() is pane
    dialog = pane.findChild(QDialog, "addressBookDialog")
    assert dialog is not None and dialog.isVisible()
    assert dialog.alias_edit.text() == "nobody@ad"  # type: ignore[attr-defined]


def test_the_shell_takes_over_the_main_window_start_up_showed_before_the_client(
    qtbot: QtBot,
    node: Node,
    quits: Quits,
    closing_shells: list[Shell],
    qapp: QApplication,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ADINVITE_LANG", "en")
    first = show_main_window(qapp)
    assert first.window.isVisible() and first.window.status_label.text() == "Starting…"
    tray = FakeTray(available=True)
    shell = Shell(node.client, on_quit=quits, tray=tray, first=first)
    closing_shells.append(shell)
    shell.show()
    assert shell.window is first.window and shell.placement is first.placement
    assert shell.window.id_label.text() == node.client.status().device_id.grouped()
    assert shell.window.centralWidget().isEnabled()
    assert shell.window.bell_slot.count() == 1 and shell.window.side_panels.isVisible()
    shell.window.close()  # now the shell's window: closing it hides it to the tray
    assert not shell.window.isVisible() and tray.messages and quits.count == 0
