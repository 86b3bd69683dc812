"""Two real clients in one process on 127.0.0.1 (in-memory channels, real SQLite), each with its own
shell, driven only through the widgets: clicks and key presses on the objectNames.

The invitation stories (cancel, expiry, accept and end) share one pair of clients in one
test, which keeps the module quick.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QWidget
from pytestqt.qtbot import QtBot

from anydesk_invite.core.alias import parse_alias
from anydesk_invite.core.invitation import INVITATION_LIFETIME
from anydesk_invite.core.invitation import Direction as StoredDirection
from anydesk_invite.core.permissions import (
    FULL_ACCESS,
    SCREEN_SHARING,
    Permission,
)
from anydesk_invite.services.views import PeerSource, Role
from anydesk_invite.storage.history import RecentKind, RecentSession
from anydesk_invite.ui.accept_window import AcceptWindow
from anydesk_invite.ui.i18n import permissions_text
from anydesk_invite.ui.invite_dialog import InviteDialog
from anydesk_invite.ui.outgoing_panel import FINAL_LINGER, OutgoingRow
from anydesk_invite.ui.shell import Shell
from anydesk_invite.ui.toast import InvitationToast
from tests.helpers.fake_tray import FakeTray
from tests.helpers.nodes import Node, Nodes
from tests.helpers.popup_menus import action, close_menu, open_popup
from tests.helpers.qt_async import finish

LEFT = Qt.MouseButton.LeftButton
ALL_LABELS = permissions_text(frozenset(Permission))


@dataclass
class Side:
    node: Node
    shell: Shell

    @property
    def window(self) -> QWidget:
        return self.shell.window


@pytest.fixture
def sides(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> Iterator[tuple[Side, Side]]:
    nodes = Nodes(tmp_path)
    made: list[Side] = []
    try:
        anna, ben = finish(qtbot, nodes.pair())
        for node in (anna, ben):
            shell = Shell(
                node.client,
                on_quit=lambda: None,
                clock=node.clock.now,
                tray=FakeTray(available=False),
                interfaces=lambda: ["127.0.0.1"],
            )
            shell.show()
            made.append(Side(node, shell))
        yield made[0], made[1]
    finally:
        # Always: a shell left open keeps its main window's close guard, which would refuse
        # the application's quit in the loop fixture's teardown.
        for side in made:
            side.shell.close()
        finish(qtbot, nodes.close())


def one_toast(qtbot: QtBot, side: Side) -> InvitationToast:
    qtbot.waitUntil(lambda: len(side.shell.toasts.toasts()) == 1, timeout=5000)
    [toast] = side.shell.toasts.toasts()
    qtbot.waitUntil(toast.isVisible)
    return toast


def label(widget: QWidget, name: str) -> str:
    found = widget.findChild(QLabel, name)
    assert found is not None, name
    return found.text()


def pick_profile(qtbot: QtBot, root: QWidget, name: str) -> None:
    """Choose a profile the keyboard way: focus the combo and type the start of its name."""
    combo = root.findChild(QComboBox, "profileCombo")
    assert combo is not None
    combo.setFocus()
    qtbot.keyClicks(combo, name[:4])
    assert combo.currentText() == name


def invite_dialog(qtbot: QtBot, side: Side) -> InviteDialog:
    qtbot.waitUntil(lambda: side.shell.invite_dialog is not None)
    dialog = side.shell.invite_dialog
    assert dialog is not None and dialog.objectName() == "inviteDialog"
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def send_invitation(qtbot: QtBot, inviter: Side, invitee: Side, profile: str) -> InvitationToast:
    qtbot.mouseClick(inviter.shell.window.invite_button, LEFT)
    dialog = invite_dialog(qtbot, inviter)
    qtbot.keyClicks(dialog.target_edit, invitee.node.identity.device_id.grouped())
    pick_profile(qtbot, dialog, profile)
    qtbot.mouseClick(dialog.send_button, LEFT)
    qtbot.waitUntil(lambda: not dialog.isVisible() or dialog.error_label.isVisible(), timeout=5000)
    assert not dialog.error_label.isVisible(), dialog.error_label.text()
    return one_toast(qtbot, invitee)


def outgoing_row(qtbot: QtBot, side: Side) -> OutgoingRow:
    panel = side.shell.outgoing
    assert panel.objectName() == "outgoingInvitationsView"
    qtbot.waitUntil(lambda: len(panel.rows()) == 1)
    return panel.rows()[0]


def test_cancel_and_expiry_remove_the_toast_then_invite_edit_accept_and_end(
    qtbot: QtBot, sides: tuple[Side, Side]
) -> None:
    # One pair of clients for all three invitations: see the module docstring.
    anna, ben = sides
    panel = anna.shell.outgoing
    for story in (cancel_removes_the_toast, expiry_removes_the_toast):
        story(qtbot, anna, ben)
        # A finished invitation stays listed for a while; the inviter's clock ends that.
        anna.node.clock.advance(FINAL_LINGER + 1)
        qtbot.waitUntil(lambda: not panel.rows(), timeout=5000)
    toast = send_invitation(qtbot, anna, ben, FULL_ACCESS)
    assert toast.objectName() == "invitationToast"
    assert label(toast, "inviterLabel") == "anna@ad invites you"
    assert label(toast, "inviterIdLabel") == f"ID {anna.node.identity.device_id.grouped()}"
    offer = label(toast, "permissionsLabel").replace("\n", " ")
    assert offer == f"Offers Full Access: {ALL_LABELS}"
    assert label(toast, "countdownLabel") == "2:00"

    # Edit from the inviter's list: the same toast shows the new permissions.
    row = outgoing_row(qtbot, anna)
    qtbot.mouseClick(row.edit_button, LEFT)
    edit = anna.shell.outgoing.edit_dialog()
    assert edit is not None
    qtbot.waitUntil(edit.isVisible)
    assert edit.target_edit.isReadOnly()
    pick_profile(qtbot, edit, SCREEN_SHARING)
    qtbot.mouseClick(edit.send_button, LEFT)
    qtbot.waitUntil(
        lambda: label(toast, "permissionsLabel") == "Offers Screen Sharing: View screen"
    )
    assert ben.shell.toasts.toasts() == [toast]
    assert toast.view().revision == 2

    qtbot.mouseClick(toast.accept_button, LEFT)
    qtbot.waitUntil(lambda: len(ben.shell.session_windows) == 1, timeout=5000)
    [guest_window] = ben.shell.session_windows.values()
    qtbot.waitUntil(guest_window.isVisible)
    assert guest_window.objectName() == "sessionWindow"
    assert label(guest_window, "sessionPermissionsLabel") == "View screen"
    qtbot.waitUntil(lambda: len(anna.shell.accept_windows) == 1, timeout=5000)
    [host_window] = anna.shell.accept_windows.values()
    assert host_window.objectName() == "acceptWindow"
    qtbot.waitUntil(host_window.isVisible)
    assert label(host_window, "guestLabel") == "ben@ad"
    [host] = anna.node.client.sessions()
    [guest] = ben.node.client.sessions()
    assert host.role is Role.HOST and guest.role is Role.GUEST
    assert host.session_id == guest.session_id
    assert host.permissions == guest.permissions == frozenset()
    qtbot.waitUntil(lambda: not ben.shell.toasts.toasts())
    qtbot.waitUntil(lambda: "Connected" in row.state_label.text())

    end = guest_window.findChild(QWidget, "endSessionButton")
    assert end is not None
    qtbot.mouseClick(end, LEFT)
    qtbot.waitUntil(lambda: not anna.node.client.sessions() and not ben.node.client.sessions())
    qtbot.waitUntil(lambda: "ended after" in label(host_window, "sessionStateLabel"))
    assert label(guest_window, "sessionStateLabel").startswith(
        "You ended the session with anna@ad after "
    )


def cancel_removes_the_toast(qtbot: QtBot, anna: Side, ben: Side) -> None:
    invitation_id = send_invitation(qtbot, anna, ben, FULL_ACCESS).invitation_id()
    row = outgoing_row(qtbot, anna)
    qtbot.mouseClick(row.cancel_button, LEFT)
    qtbot.waitUntil(lambda: not ben.shell.toasts.toasts(), timeout=5000)
    assert ben.node.state(invitation_id) == "cancelled"
    qtbot.waitUntil(lambda: row.state_label.text() == "Cancelled")


def expiry_removes_the_toast(qtbot: QtBot, anna: Side, ben: Side) -> None:
    toast = send_invitation(qtbot, anna, ben, SCREEN_SHARING)
    row = outgoing_row(qtbot, anna)
    ben.node.clock.advance(INVITATION_LIFETIME - 30)
    qtbot.waitUntil(lambda: label(toast, "countdownLabel") == "0:30")
    assert ben.shell.toasts.toasts() == [toast]
    ben.node.clock.advance(31)
    qtbot.waitUntil(lambda: not ben.shell.toasts.toasts(), timeout=5000)
    anna.node.clock.advance(INVITATION_LIFETIME + 1)
    qtbot.waitUntil(lambda: row.state_label.text() == "Expired without an answer", timeout=5000)


def test_right_click_invite_on_a_tile_in_each_pane_opens_the_dialog_prefilled(
    qtbot: QtBot, sides: tuple[Side, Side]
) -> None:
    anna, ben = sides
    b = ben.node
    # Ben is in anna's address book already; put him in the three other panes too.
    anna.node.db.favorites.add(b.identity.device_id, parse_alias(b.alias), b.identity.fingerprint)
    anna.node.db.recent_sessions.record(
        RecentSession(
            at=time.time() - 60,
            direction=StoredDirection.OUTGOING,
            kind=RecentKind.SESSION,
            peer_id=b.identity.device_id,
            peer_alias=parse_alias(b.alias),
            peer_fingerprint=b.identity.fingerprint,
            outcome="ended",
            duration=30.0,
        )
    )
    anna.node.seen_on_lan(b.identity, b.alias, b.port, "b")
    window = anna.shell.window
    for source in PeerSource:
        pane = window.panes[source]
        window.tabs.setCurrentWidget(pane)
        qtbot.waitUntil(lambda pane=pane: pane.index_of(b.device_id).isValid())
        index = pane.index_of(b.device_id)
        pos = pane.view.visualRect(index).center()
        # What a right click delivers (QTest's mouse click does not raise this event).
        viewport = pane.view.viewport()
        QApplication.sendEvent(
            viewport,
            QContextMenuEvent(
                QContextMenuEvent.Reason.Mouse,
                pos,
                viewport.mapToGlobal(pos),
                Qt.KeyboardModifier(0),
            ),
        )
        menu = open_popup(qtbot)
        action(menu, "inviteAction").trigger()
        close_menu(qtbot, menu)
        dialog = invite_dialog(qtbot, anna)
        assert dialog.target_edit.text() == b.identity.device_id.grouped(), source
        assert dialog.send_button.isEnabled()
        dialog.close()
        anna.shell.invite_dialog = None


def test_connect_field_sends_a_request_the_other_accepts_with_a_profile(
    qtbot: QtBot, sides: tuple[Side, Side]
) -> None:
    anna, ben = sides
    ben_window = ben.shell.window
    qtbot.keyClicks(ben_window.connect_edit, anna.node.identity.device_id.grouped())
    qtbot.mouseClick(ben_window.connect_button, LEFT)

    qtbot.waitUntil(lambda: len(anna.shell.accept_windows) == 1, timeout=5000)
    [window] = anna.shell.accept_windows.values()
    assert isinstance(window, AcceptWindow) and window.objectName() == "acceptWindow"
    qtbot.waitUntil(window.isVisible)
    assert window.request is not None
    assert label(window, "requesterLabel") == "ben@ad"
    assert label(window, "requesterIdLabel") == ben.node.identity.device_id.grouped()
    pick_profile(qtbot, window, FULL_ACCESS)
    qtbot.mouseClick(window.accept_button, LEFT)

    qtbot.waitUntil(lambda: len(ben.shell.session_windows) == 1, timeout=5000)
    [guest_window] = ben.shell.session_windows.values()
    qtbot.waitUntil(guest_window.isVisible)
    assert label(guest_window, "sessionPermissionsLabel") == ALL_LABELS
    qtbot.waitUntil(lambda: window.session() is not None)
    assert len(anna.shell.accept_windows) == 1, "the request's window serves the session"
    [host] = anna.node.client.sessions()
    [guest] = ben.node.client.sessions()
    assert host.permissions == guest.permissions == frozenset(Permission)

    # Chat names the peer by its alias, on both sides.
    finish(qtbot, ben.node.client.send_chat(guest.session_id, "hello anna"))
    qtbot.waitUntil(lambda: "ben@ad: hello anna" in window.chat_view.toPlainText())
    finish(qtbot, anna.node.client.send_chat(host.session_id, "hi ben"))
    chat = guest_window.chat_view
    qtbot.waitUntil(lambda: "anna@ad: hi ben" in [chat.item(i).text() for i in range(chat.count())])

    qtbot.mouseClick(window.end_button, LEFT)
    qtbot.waitUntil(lambda: not anna.node.client.sessions() and not ben.node.client.sessions())
    qtbot.waitUntil(
        lambda: label(guest_window, "sessionStateLabel").startswith(
            "The session with anna@ad ended after "
        )
    )
