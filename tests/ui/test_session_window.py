"""The guest's session window: what leaves the guest's machine is the guest's choice."""

from __future__ import annotations

from PySide6.QtCore import Qt

from anydesk_invite.core.permissions import Permission
from anydesk_invite.services.views import Role
from anydesk_invite.ui.session_window import SessionWindow
from tests.helpers.fake_client import FakeClient, session

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
