"""The guest's session window: what leaves the guest's machine is the guest's choice."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from anydesk_invite.core.permissions import Permission
from anydesk_invite.services.views import Role
from anydesk_invite.ui.session_window import SessionWindow
from tests.helpers.fake_client import FakeClient, session
from tests.helpers.nodes import Nodes, session_between
from tests.helpers.qt_async import finish

CLIPBOARD = frozenset({Permission.CLIPBOARD})


def _window(qtbot, facade: FakeClient, permissions: frozenset[Permission]) -> SessionWindow:
    view = session("g1", permissions, role=Role.GUEST)
    facade.session_views[view.session_id] = view
    window = SessionWindow(facade, view)
    qtbot.addWidget(window)
    window.show()
    return window


def test_the_guests_clipboard_stays_home_until_the_guest_switches_sending_on(
    qtbot, qasync_loop
) -> None:
    facade = FakeClient()
    w = _window(qtbot, facade, CLIPBOARD)
    assert w.clipboard_check.objectName() == "sendClipboardCheck"
    assert w.clipboard_check.isEnabled() and not w.clipboard_check.isChecked()
    assert facade.calls_of("set_send_clipboard") == []
    qtbot.mouseClick(w.clipboard_check, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: facade.calls_of("set_send_clipboard") == [("g1", True)])


def test_sending_the_clipboard_cannot_be_switched_on_without_the_permission(qtbot) -> None:
    w = _window(qtbot, FakeClient(), frozenset())
    assert not w.clipboard_check.isEnabled()


def test_a_revoked_clipboard_unticks_sending(qtbot, qasync_loop) -> None:
    facade = FakeClient()
    w = _window(qtbot, facade, CLIPBOARD)
    qtbot.mouseClick(w.clipboard_check, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: facade.calls_of("set_send_clipboard") == [("g1", True)])
    w.show_session(session("g1", frozenset(), role=Role.GUEST))
    assert not w.clipboard_check.isChecked() and not w.clipboard_check.isEnabled()


def test_the_draw_tool_stays_off_with_the_reason_when_the_host_cannot_show_drawings(
    qtbot, qasync_loop, tmp_path: Path
) -> None:
    """A headless host grants DRAW but has no overlay: the guest cannot draw into the void."""
    nodes = Nodes(tmp_path)
    try:
        anna, ben = finish(qtbot, nodes.pair())
        anna.features.drawing.display_problem = "no window to draw in"
        _, guest = finish(qtbot, session_between(anna, ben, frozenset({Permission.DRAW})))
        window = SessionWindow(ben.client, guest)
        qtbot.addWidget(window)
        window.show()
        handle = ben.client.session_handle(guest.session_id)
        window.attach_remote(handle.control, handle.pen)
        button = window.draw_button
        assert button.objectName() == "drawToolButton"
        qtbot.waitUntil(lambda: "no window to draw in" in button.toolTip())
        assert not button.isEnabled()
        assert button.toolTip() == "Drawing is unavailable on this host: no window to draw in"
        window.close()
    finally:
        finish(qtbot, nodes.close())


GRANTED_ALL = frozenset(
    {Permission.CONTROL, Permission.DRAW, Permission.CLIPBOARD, Permission.FILE_TRANSFER}
)


def test_when_the_host_ends_the_session_the_guest_sees_the_ended_state_and_every_control_goes_off(
    qtbot, qasync_loop, tmp_path: Path
) -> None:
    nodes = Nodes(tmp_path)
    try:
        anna, ben = finish(qtbot, nodes.pair())
        anna.features.drawing.display_problem = ""
        _, guest = finish(qtbot, session_between(anna, ben, GRANTED_ALL))
        window = SessionWindow(
            ben.client,
            guest,
            ben.client.send_chat,
            transfers=ben.client,
            wall_clock=lambda: guest.started_at + 125,
        )
        qtbot.addWidget(window)
        window.show()
        handle = ben.client.session_handle(guest.session_id)
        window.attach_remote(handle.control, handle.pen)
        assert window.transfer_panel is not None
        send = window.transfer_panel.send_button
        assert send.isEnabled() and window.clipboard_check.isEnabled()
        panel = window.findChild(QWidget, "sessionEndedPanel")
        assert panel is not None and not panel.isVisible()

        finish(qtbot, anna.client.end_session(guest.session_id))
        qtbot.waitUntil(panel.isVisible)

        ended = window.findChild(QLabel, "sessionEndedLabel")
        assert ended is not None
        assert ended.text() == "The session with anna@ad ended after 2:05."
        for control in (window.draw_button, window.clipboard_check, window.chat_edit, send):
            assert not control.isEnabled(), control.objectName()
        assert window.screen_view.message() == ""  # no "waiting for the screen" under it
        close = window.findChild(QPushButton, "closeEndedButton")
        assert close is not None and close.isEnabled()
        qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
        assert not window.isVisible()
    finally:
        finish(qtbot, nodes.close())


def test_a_guest_who_ends_the_session_is_told_so_and_escape_closes_the_window(
    qtbot, qasync_loop
) -> None:
    facade = FakeClient()
    view = session("g1", GRANTED_ALL, role=Role.GUEST, started_at=1000.0)
    facade.session_views[view.session_id] = view
    window = SessionWindow(facade, view, wall_clock=lambda: 1000.0 + 3725)
    qtbot.addWidget(window)
    window.show()
    qtbot.mouseClick(window.end_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(window.screen_view.ended_panel.isVisible)
    assert window.screen_view.ended_label.text() == (
        "You ended the session with bob@ad after 1:02:05."
    )
    assert window.end_button.text() == "&Close"
    assert window.windowTitle() == "Session with bob@ad — LAN Invite"
    window.show_session(view)  # a late view of the session switches nothing on again
    assert not window.clipboard_check.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.isVisible()


def test_the_guest_is_told_when_the_host_turns_a_permission_off_or_on(
    qtbot, qasync_loop, tmp_path: Path
) -> None:
    nodes = Nodes(tmp_path)
    try:
        anna, ben = finish(qtbot, nodes.pair())
        granted = frozenset({Permission.CONTROL, Permission.CLIPBOARD})
        host, guest = finish(qtbot, session_between(anna, ben, granted))
        window = SessionWindow(ben.client, guest)
        qtbot.addWidget(window)
        window.show()
        notice = window.findChild(QLabel, "permissionNoticeLabel")
        assert notice is not None and not notice.isVisible()

        finish(
            qtbot,
            anna.client.set_session_permissions(
                host.session_id, frozenset({Permission.CLIPBOARD, Permission.FILE_TRANSFER})
            ),
        )
        qtbot.waitUntil(notice.isVisible)
        assert notice.text() == (
            "anna@ad turned off “Control keyboard and mouse”.\nanna@ad turned on “File transfer”."
        )
        chat = [window.chat_view.item(i).text() for i in range(window.chat_view.count())]
        assert chat[-2:] == notice.text().split("\n")
        window.close()
    finally:
        finish(qtbot, nodes.close())


def _squeezed(window: QWidget) -> list[str]:
    """Labels shown shorter than their wrapped text needs."""
    return [
        label.objectName()
        for label in window.findChildren(QLabel)
        if label.isVisible()
        and label.wordWrap()
        and label.height() < label.heightForWidth(label.width())
    ]


def test_a_note_that_wraps_makes_the_window_taller_instead_of_squeezing_it(qtbot) -> None:
    window = _window(qtbot, FakeClient(), frozenset(Permission))
    qtbot.waitExposed(window)
    window.resize(window.width(), window.minimumHeight())
    qtbot.waitUntil(lambda: not _squeezed(window))
    before = window.height()
    window.permission_notice.setWordWrap(True)
    window.permission_notice.setText("anna@ad turned off control and the clipboard. " * 6)
    window.permission_notice.show()
    qtbot.waitUntil(lambda: window.height() > before)
    qtbot.waitUntil(lambda: not _squeezed(window))
