"""The settings dialog against a real client (real SQLite): what it shows, saves and locks."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QListWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from anydesk_invite.core.permissions import DEFAULT, FULL_ACCESS, Permission
from anydesk_invite.core.policy import AcceptFrom, DiscoveryMode, Policy
from anydesk_invite.net.interfaces import interface_choices
from anydesk_invite.ui.settings_dialog import (
    AUTOMATIC,
    RESTART_NOTE,
    SettingsDialog,
)
from tests.helpers.fake_client import FakeClient, make_status
from tests.helpers.nodes import Node, Nodes, session_between
from tests.helpers.qt_async import finish


@pytest.fixture
def nodes(qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Nodes]:
    made = Nodes(tmp_path)
    yield made
    finish(qtbot, made.close())


@pytest.fixture
def node(qtbot: QtBot, nodes: Nodes) -> Node:
    return finish(qtbot, nodes.make("maria"))


def open_dialog(qtbot: QtBot, facade: object, choices: tuple[str, ...] = ()) -> SettingsDialog:
    dialog = SettingsDialog(facade, choices)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def pick(combo: QComboBox, text: str) -> None:
    index = combo.findText(text, Qt.MatchFlag.MatchStartsWith)
    assert index >= 0, f"{text!r} not in {[combo.itemText(i) for i in range(combo.count())]}"
    combo.setCurrentIndex(index)


def test_saving_changes_alias_accept_from_discovery_interface_and_default_profile(
    qtbot: QtBot, node: Node
) -> None:
    dialog = open_dialog(qtbot, node.client, ("127.0.0.1", "10.0.0.7"))
    assert dialog.alias_edit.text() == "maria@ad"
    dialog.alias_edit.clear()
    qtbot.keyClicks(dialog.alias_edit, "maria.desk@ad")
    pick(dialog.accept_from_combo, "Only people in my address book")
    pick(dialog.discovery_combo, "Hidden")
    pick(dialog.interface_combo, "10.0.0.7")
    pick(dialog.default_profile_combo, FULL_ACCESS)
    dialog.background_check.setChecked(True)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    saved = node.client.settings()
    assert saved.alias == "maria.desk@ad" == node.client.status().alias
    assert saved.accept_from is AcceptFrom.ADDRESS_BOOK
    assert saved.discovery is DiscoveryMode.HIDDEN
    assert saved.interfaces == ("10.0.0.7",)
    assert saved.default_profile == FULL_ACCESS
    assert saved.keep_running_in_background is True


def test_interface_shows_the_stored_choice_and_says_a_change_needs_a_restart(
    qtbot: QtBot, node: Node
) -> None:
    dialog = open_dialog(qtbot, node.client, ("127.0.0.1",))
    assert dialog.interface_combo.itemText(0) == AUTOMATIC
    assert dialog.interface_combo.currentText() == AUTOMATIC
    assert dialog.interface_note.isVisible() and dialog.interface_note.text() == RESTART_NOTE
    stored = dataclasses.replace(node.client.settings(), interfaces=("10.9.8.7",))
    finish(qtbot, node.client.update_settings(stored))
    # An address no longer on this machine is still shown, so saving does not drop it.
    again = open_dialog(qtbot, node.client, ("127.0.0.1",))
    assert again.interface_combo.currentText() == "10.9.8.7"
    assert again.chosen().interfaces == ("10.9.8.7",)


def test_interface_choices_list_this_machines_addresses_once() -> None:
    choices = interface_choices()
    assert "127.0.0.1" in choices
    assert len(choices) == len(set(choices))


@pytest.mark.parametrize("bad", ["", "two words", "x" * 26, "anna@example.org"])
def test_an_invalid_alias_is_explained_and_cannot_be_saved(
    qtbot: QtBot, node: Node, bad: str
) -> None:
    dialog = open_dialog(qtbot, node.client)
    dialog.alias_edit.setText(bad)
    assert dialog.alias_error.isVisible() and dialog.alias_error.text()
    assert not dialog.save_button.isEnabled()
    qtbot.keyClick(dialog.alias_edit, Qt.Key.Key_Return)
    assert node.client.settings().alias == "maria@ad"
    dialog.alias_edit.setText("maria2")
    assert not dialog.alias_error.isVisible() and dialog.save_button.isEnabled()


def test_accept_from_forced_by_policy_is_locked_with_the_reason(qtbot: QtBot, node: Node) -> None:
    node.policy = Policy(max_accept_from=AcceptFrom.NOBODY)
    dialog = open_dialog(qtbot, node.client)
    assert not dialog.accept_from_combo.isEnabled()
    assert dialog.accept_from_combo.currentData() is AcceptFrom.NOBODY
    assert dialog.accept_from_lock.isVisible()
    assert "administrator" in dialog.accept_from_reason.text()
    assert dialog.accept_from_reason.isVisible()
    assert dialog.discovery_combo.isEnabled() and not dialog.discovery_lock.isVisible()
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    # The user's own choice stays beneath the lock, for when the policy goes away.
    assert node.client.settings().accept_from is AcceptFrom.EVERYONE


def test_discovery_levels_looser_than_the_policy_allows_cannot_be_picked(
    qtbot: QtBot, node: Node
) -> None:
    wanted_on = dataclasses.replace(node.client.settings(), discovery=DiscoveryMode.ON)
    finish(qtbot, node.client.update_settings(wanted_on))
    node.policy = Policy(max_discovery=DiscoveryMode.HIDDEN)
    dialog = open_dialog(qtbot, node.client)
    model = dialog.discovery_combo.model()
    on = dialog.discovery_combo.findData(DiscoveryMode.ON)
    assert not model.item(on).isEnabled()  # type: ignore[attr-defined]
    assert dialog.discovery_combo.currentData() is DiscoveryMode.HIDDEN
    assert "at most: Hidden" in dialog.discovery_reason.text()


def test_broken_policy_locks_both_choices(qtbot: QtBot, node: Node) -> None:
    node.policy = Policy(broken="policy.toml: bad value")
    dialog = open_dialog(qtbot, node.client)
    for combo in (dialog.accept_from_combo, dialog.discovery_combo):
        assert not combo.isEnabled()
    assert "cannot be read" in dialog.discovery_reason.text()


def test_custom_profile_is_created_renamed_and_deleted_builtins_stay_read_only(
    qtbot: QtBot, node: Node
) -> None:
    dialog = open_dialog(qtbot, node.client)
    dialog.profiles.profile_list.setCurrentRow(0)
    assert (
        dialog.profiles.selected_profile() is not None
        and dialog.profiles.selected_profile().builtin
    )  # type: ignore[union-attr]
    assert dialog.profiles.builtin_note.isVisible()
    assert not dialog.profiles.save_profile_button.isEnabled()
    assert not dialog.profiles.delete_profile_button.isEnabled()
    assert not dialog.profiles.profile_boxes[Permission.CONTROL].isEnabled()

    qtbot.mouseClick(dialog.profiles.new_profile_button, Qt.MouseButton.LeftButton)
    dialog.profiles.profile_name_edit.clear()
    qtbot.keyClicks(dialog.profiles.profile_name_edit, "Helpdesk")
    qtbot.mouseClick(dialog.profiles.profile_boxes[Permission.CONTROL], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.profiles.save_profile_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Helpdesk" in [p.name for p in node.client.profiles()])
    [helpdesk] = [p for p in node.client.profiles() if p.name == "Helpdesk"]
    assert helpdesk.permissions == frozenset({Permission.CONTROL})
    qtbot.waitUntil(lambda: dialog.profiles.profile_list.currentItem().text() == "Helpdesk")
    assert dialog.default_profile_combo.findText("Helpdesk") >= 0

    dialog.profiles.profile_name_edit.setText("Support")
    qtbot.mouseClick(dialog.profiles.save_profile_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Support" in [p.name for p in node.client.profiles()])
    names = [p.name for p in node.client.profiles()]
    assert "Helpdesk" not in names
    qtbot.waitUntil(lambda: dialog.profiles.profile_list.currentItem().text() == "Support")
    assert dialog.profiles.profile_boxes[Permission.CONTROL].isChecked()

    qtbot.mouseClick(dialog.profiles.delete_profile_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Support" not in [p.name for p in node.client.profiles()])
    qtbot.waitUntil(lambda: dialog.default_profile_combo.findText("Support") < 0)


def test_a_new_profile_may_not_take_a_builtin_name(qtbot: QtBot, node: Node) -> None:
    dialog = open_dialog(qtbot, node.client)
    qtbot.mouseClick(dialog.profiles.new_profile_button, Qt.MouseButton.LeftButton)
    dialog.profiles.profile_name_edit.setText(DEFAULT)
    qtbot.mouseClick(dialog.profiles.save_profile_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.profiles.profile_error.isVisible)
    assert "exists already" in dialog.profiles.profile_error.text()
    assert [p.name for p in node.client.profiles()].count(DEFAULT) == 1


def test_renaming_the_default_profile_keeps_it_the_default(qtbot: QtBot, node: Node) -> None:
    finish(qtbot, node.client.save_profile("Mine", frozenset({Permission.CLIPBOARD})))
    dialog = open_dialog(qtbot, node.client)
    pick(dialog.default_profile_combo, "Mine")
    dialog.profiles.profile_list.setCurrentRow(
        [p.name for p in node.client.profiles()].index("Mine")
    )
    dialog.profiles.profile_name_edit.setText("Ours")
    qtbot.mouseClick(dialog.profiles.save_profile_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.default_profile_combo.currentText() == "Ours")
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert node.client.settings().default_profile == "Ours"


def test_key_location_and_warning_are_shown_read_only(qtbot: QtBot) -> None:
    warning = "No keyring available: the private key is stored in a file in the home folder"
    stub = FakeClient(make_status(key_location="file", key_warning=warning, home="/h/maria"))
    dialog = open_dialog(qtbot, stub)
    assert "file" in dialog.key_label.text() and "/h/maria" in dialog.key_label.text()
    assert dialog.key_warning.isVisible() and warning in dialog.key_warning.text()
    keyring = open_dialog(qtbot, FakeClient())
    assert keyring.key_label.text() == "In the system keyring"
    assert not keyring.key_warning.isVisible()


def test_a_refused_save_is_shown_and_the_dialog_stays_open(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    stub = FakeClient()
    stub.refuse["update_settings"] = "the database is read-only"
    dialog = open_dialog(qtbot, stub)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.error_label.isVisible)
    assert "read-only" in dialog.error_label.text()
    assert dialog.isVisible() and dialog.save_button.isEnabled()


def test_every_control_has_an_object_name_and_an_accessible_name(qtbot: QtBot) -> None:
    dialog = open_dialog(qtbot, FakeClient(), ("127.0.0.1",))
    kinds = (QLineEdit, QComboBox, QCheckBox, QAbstractButton, QListWidget)
    controls = [w for w in dialog.findChildren(QWidget) if isinstance(w, kinds)]
    assert len(controls) > 15
    for w in controls:
        if isinstance(w, QLineEdit) and isinstance(w.parent(), QComboBox):
            continue
        assert w.objectName(), f"{type(w).__name__} {w!r} has no objectName"
        assert w.accessibleName(), f"{w.objectName()} has no accessibleName"


def test_received_files_go_to_the_folder_chosen_in_the_settings(
    qtbot: QtBot, nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = finish(qtbot, nodes.pair())
    chosen = tmp_path / "from guests"
    asked: list[str] = []

    def chooser(_parent: object, start: str) -> str:
        asked.append(start)
        return str(chosen)

    dialog = SettingsDialog(anna.client, (), choose_folder=chooser)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.folder_edit.text() == ""  # the default, Downloads, shown as the placeholder
    assert "(the default)" in dialog.folder_edit.placeholderText()
    qtbot.mouseClick(dialog.folder_button, Qt.MouseButton.LeftButton)
    assert asked and dialog.folder_edit.text() == str(chosen)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert anna.client.settings().incoming_folder == str(chosen)

    _, guest = finish(qtbot, session_between(anna, ben, frozenset({Permission.FILE_TRANSFER})))
    source = tmp_path / "agenda.txt"
    source.write_text("agenda")
    sent = finish(qtbot, ben.client.send_file(guest.session_id, str(source)))
    finish(qtbot, ben.client.wait_transfer(sent.transfer_id))
    assert (chosen / "agenda.txt").read_text() == "agenda"

    again = open_dialog(qtbot, anna.client)
    assert again.folder_edit.text() == str(chosen)
    again.folder_edit.clear()  # back to the default
    with qtbot.waitSignal(again.accepted, timeout=5000):
        qtbot.mouseClick(again.save_button, Qt.MouseButton.LeftButton)
    assert anna.client.settings().incoming_folder == ""


def test_a_relative_folder_for_received_files_is_refused_and_nothing_is_saved(
    qtbot: QtBot, node: Node
) -> None:
    dialog = open_dialog(qtbot, node.client)
    dialog.folder_edit.setText("Downloads/mine")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.error_label.isVisible)
    assert "must be absolute" in dialog.error_label.text()
    assert node.client.settings().incoming_folder == ""
