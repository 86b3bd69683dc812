"""The Accept Window: answering a connection request, then the host's view of the session."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QPlainTextEdit, QPushButton

from anydesk_invite.core.clock import ManualClock
from anydesk_invite.core.ids import short_fingerprint, verification_code
from anydesk_invite.core.invitation import Kind
from anydesk_invite.core.permissions import DEFAULT, SCREEN_SHARING, Permission
from anydesk_invite.core.policy import Override, Policy
from anydesk_invite.services.views import SessionView
from anydesk_invite.ui.accept_window import AcceptWindow
from tests.helpers.fake_client import ALICE_ID, BOB_ID, FakeClient, invitation, session

DEFAULT_PERMS = frozenset(Permission) - {Permission.FILE_TRANSFER}


def _text(w: AcceptWindow, name: str) -> str:
    label = w.findChild(QLabel, name)
    assert label is not None, name
    return label.text()


def _request_window(qtbot, facade: FakeClient, first_contact: bool) -> AcceptWindow:
    view = facade.receive(invitation("rq1", kind=Kind.REQUEST, first_contact=first_contact))
    window = AcceptWindow(facade, request=view, wall_clock=ManualClock().now)
    qtbot.addWidget(window)
    window.show()
    return window


def test_a_request_shows_who_asks_with_id_and_short_fingerprint(qtbot) -> None:
    w = _request_window(qtbot, FakeClient(), first_contact=False)
    assert w.objectName() == "acceptWindow"
    assert _text(w, "requesterLabel") == "alice@ad"
    assert _text(w, "requesterIdLabel") == ALICE_ID.grouped()
    assert _text(w, "requesterFingerprintLabel") == short_fingerprint(bytes(range(32)))
    own = FakeClient().status().fingerprint
    assert _text(w, "requesterVerificationLabel") == verification_code(own, bytes(range(32)))
    assert not w.first_contact_badge.isVisible()


def test_a_first_contact_is_marked_and_preset_to_screen_sharing(qtbot) -> None:
    w = _request_window(qtbot, FakeClient(), first_contact=True)
    assert w.first_contact_badge.isVisible()
    assert w.toggles is not None
    assert w.toggles.profile_name() == SCREEN_SHARING
    assert w.toggles.effective() == frozenset()


def test_a_known_peer_is_preset_to_the_default_profile(qtbot) -> None:
    w = _request_window(qtbot, FakeClient(), first_contact=False)
    assert w.toggles is not None
    assert w.toggles.profile_name() == DEFAULT
    assert w.toggles.effective() == DEFAULT_PERMS


def test_accept_grants_the_chosen_permissions_and_turns_into_the_session(qtbot, qasync_loop):
    facade = FakeClient()
    w = _request_window(qtbot, facade, first_contact=True)
    qtbot.mouseClick(w.findChild(QCheckBox, "perm_clipboard"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(w.accept_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.session() is not None)
    assert facade.calls == [("accept", "rq1", frozenset({Permission.CLIPBOARD}), "")]
    assert w.isVisible()
    assert w.session_page.isVisible()
    assert not w.request_page.isVisible()
    assert w.findChild(QPushButton, "endSessionButton").isVisible()


def test_a_refused_accept_is_shown_and_the_request_stays(qtbot, qasync_loop) -> None:
    facade = FakeClient()
    facade.refuse["accept"] = "the request has expired"
    w = _request_window(qtbot, facade, first_contact=False)
    qtbot.mouseClick(w.accept_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.request_error.isVisible())
    assert w.request_error.text() == "the request has expired"
    assert w.request_page.isVisible()
    assert w.accept_button.isEnabled()


def test_dismiss_rejects_the_request_and_closes(qtbot, qasync_loop) -> None:
    facade = FakeClient()
    w = _request_window(qtbot, facade, first_contact=False)
    with qtbot.waitSignal(w.closed):
        qtbot.mouseClick(w.dismiss_button, Qt.MouseButton.LeftButton)
    assert facade.calls == [("reject", "rq1")]


def _session_window(
    qtbot, facade: FakeClient, s: SessionView, clock: ManualClock | None = None
) -> AcceptWindow:
    facade.session_views[s.session_id] = s
    w = AcceptWindow(facade, session=s, wall_clock=(clock or ManualClock()).now)
    qtbot.addWidget(w)
    w.show()
    return w


def test_the_session_shows_the_guest_and_a_ticking_duration(qtbot) -> None:
    clock = ManualClock(1000.0)
    w = _session_window(qtbot, FakeClient(), session(started_at=1000.0), clock)
    assert _text(w, "guestLabel") == "bob@ad"
    assert _text(w, "guestIdLabel") == BOB_ID.grouped()
    assert _text(w, "guestFingerprintLabel") == short_fingerprint(bytes(range(1, 33)))
    assert _text(w, "durationLabel") == "0:00"
    clock.advance(75)
    qtbot.waitUntil(lambda: _text(w, "durationLabel") == "1:15")
    clock.advance(3600)
    qtbot.waitUntil(lambda: _text(w, "durationLabel") == "1:01:15")
    assert w.findChild(QPlainTextEdit, "chatView") is not None
    assert w.findChild(QLineEdit, "chatEdit") is not None


def test_a_toggle_changes_this_sessions_permissions_at_once(qtbot, qasync_loop) -> None:
    facade = FakeClient()
    w = _session_window(qtbot, facade, session(permissions=frozenset({Permission.CONTROL})))
    qtbot.mouseClick(w.findChild(QCheckBox, "perm_draw"), Qt.MouseButton.LeftButton)
    want = frozenset({Permission.CONTROL, Permission.DRAW})
    qtbot.waitUntil(lambda: facade.calls == [("set_session_permissions", "s1", want)])
    assert facade.session_views["s1"].permissions == want
    assert facade.custom_profiles == []  # the saved profiles are left alone


def test_a_refused_change_is_shown_and_the_toggle_goes_back(qtbot, qasync_loop) -> None:
    facade = FakeClient()
    facade.refuse["set_session_permissions"] = "the guest has left"
    w = _session_window(qtbot, facade, session(permissions=frozenset({Permission.CONTROL})))
    draw = w.findChild(QCheckBox, "perm_draw")
    qtbot.mouseClick(draw, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.session_error.isVisible())
    assert w.session_error.text() == "the guest has left"
    assert not draw.isChecked()


def test_locked_permissions_cannot_be_changed_in_the_session(qtbot) -> None:
    facade = FakeClient(policy=Policy({Permission.CONTROL: Override.FORCE_OFF}))
    w = _session_window(
        qtbot, facade, session(permissions=frozenset(), locked=frozenset({Permission.CLIPBOARD}))
    )
    control = w.findChild(QCheckBox, "perm_control")
    clipboard = w.findChild(QCheckBox, "perm_clipboard")
    assert not control.isEnabled()
    assert "administrator" in control.toolTip()
    assert not clipboard.isEnabled()
    qtbot.mouseClick(control, Qt.MouseButton.LeftButton)
    assert facade.calls == []


def test_a_change_made_elsewhere_shows_in_the_window(qtbot) -> None:
    facade = FakeClient()
    w = _session_window(qtbot, facade, session(permissions=frozenset({Permission.CONTROL})))
    changed = facade.session_views["s1"] = session(permissions=frozenset({Permission.CLIPBOARD}))
    facade.sessions_changed.emit(changed)
    assert w.findChild(QCheckBox, "perm_clipboard").isChecked()
    assert not w.findChild(QCheckBox, "perm_control").isChecked()


def test_end_session_ends_it_and_closes_the_window(qtbot, qasync_loop) -> None:
    facade = FakeClient()
    w = _session_window(qtbot, facade, session())
    with qtbot.waitSignal(w.closed):
        qtbot.mouseClick(w.end_button, Qt.MouseButton.LeftButton)
    assert facade.calls == [("end_session", "s1")]


def test_a_session_ended_by_the_guest_is_shown_as_ended(qtbot) -> None:
    facade = FakeClient()
    w = _session_window(qtbot, facade, session())
    ended = facade.session_views.pop("s1")
    facade.sessions_changed.emit(dataclasses.replace(ended, ended=True))
    assert w.state_label.isVisible()
    assert w.state_label.text() == "The session with bob@ad ended after 0:00."
    assert w.chat_edit is not None and not w.chat_edit.isEnabled()
    assert w.session_toggles is not None and not w.session_toggles.isEnabled()
    assert w.end_button.text() == "&Close" and w.end_button.isEnabled()
    with qtbot.waitSignal(w.closed):
        qtbot.keyClick(w, Qt.Key.Key_Escape)


def test_close_on_an_ended_session_closes_the_window(qtbot) -> None:
    facade = FakeClient()
    w = _session_window(qtbot, facade, session())
    ended = facade.session_views.pop("s1")
    facade.sessions_changed.emit(dataclasses.replace(ended, ended=True))
    with qtbot.waitSignal(w.closed):
        qtbot.mouseClick(w.end_button, Qt.MouseButton.LeftButton)
    assert facade.calls == []


def test_the_host_chats_with_the_guest_from_the_session_state(qtbot, qasync_loop) -> None:
    facade = FakeClient()
    w = _session_window(qtbot, facade, session(session_id="s9"))
    assert w.chat_edit is not None and not w.chat_edit.isEnabled()
    sent: list[tuple[str, str]] = []

    async def send(session_id: str, text: str) -> None:
        sent.append((session_id, text))

    w.set_chat_sender(send)
    assert w.chat_edit.isEnabled()
    qtbot.keyClicks(w.chat_edit, "hello there")
    qtbot.keyClick(w.chat_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: sent == [("s9", "hello there")])
    w.add_chat("Guest", "hi!")
    assert w.chat_view.toPlainText().splitlines() == ["You: hello there", "Guest: hi!"]
