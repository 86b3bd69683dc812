"""The inviter's panel of sent invitations: countdown, Edit, Cancel and final states."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox

from anydesk_invite.core.clock import ManualClock
from anydesk_invite.core.invitation import Kind, State
from anydesk_invite.core.permissions import SCREEN_SHARING, Permission
from anydesk_invite.services.views import Direction
from anydesk_invite.ui.outgoing_panel import OutgoingInvitationsPanel, OutgoingRow
from tests.helpers.fake_client import ALICE, ALICE_ID, FakeClient, invitation


def _sent(facade: FakeClient, inv_id: str = "o1", **kw) -> None:
    facade.put(invitation(inv_id, direction=Direction.OUTGOING, **kw))


def _panel(qtbot, facade: FakeClient, clock: ManualClock) -> OutgoingInvitationsPanel:
    panel = OutgoingInvitationsPanel(facade, clock.now, linger=5.0)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def _row(panel: OutgoingInvitationsPanel, inv_id: str = "o1") -> OutgoingRow:
    row = panel.row(inv_id)
    assert row is not None
    return row


def test_a_sent_invitation_shows_invitee_profile_and_live_countdown(qtbot) -> None:
    facade, clock = FakeClient(), ManualClock()
    panel = _panel(qtbot, facade, clock)
    assert panel.objectName() == "outgoingInvitationsView"
    assert panel.rows() == []
    _sent(facade, profile=SCREEN_SHARING, seconds_left=120)
    row = _row(panel)
    assert row.name_label.text() == f"alice@ad ({ALICE_ID.grouped()})"
    assert row.profile_label.text() == f"Profile: {SCREEN_SHARING}"
    assert row.countdown_label.text() == "2:00"
    clock.advance(45)
    qtbot.waitUntil(lambda: row.countdown_label.text() == "1:15")
    assert row.edit_button.isVisible()
    assert row.cancel_button.isVisible()


def test_cancel_withdraws_the_invitation_and_says_so(qtbot, qasync_loop) -> None:
    facade, clock = FakeClient(), ManualClock()
    _sent(facade)
    panel = _panel(qtbot, facade, clock)
    row = _row(panel)
    qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.state_label.isVisible())
    assert facade.calls == [("cancel_invitation", "o1")]
    assert row.state_label.text() == "Cancelled"
    assert not row.cancel_button.isVisible()
    assert not row.countdown_label.isVisible()


def test_a_refused_cancel_is_shown_on_the_row(qtbot, qasync_loop) -> None:
    facade, clock = FakeClient(), ManualClock()
    _sent(facade)
    facade.refuse["cancel_invitation"] = "the invitation was already accepted"
    panel = _panel(qtbot, facade, clock)
    row = _row(panel)
    qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.state_label.isVisible())
    assert row.state_label.text() == "the invitation was already accepted"


def test_edit_opens_the_invitation_in_the_dialog_and_saves_it(qtbot, qasync_loop) -> None:
    facade, clock = FakeClient(), ManualClock()
    _sent(facade, permissions=frozenset(), profile=SCREEN_SHARING)
    panel = _panel(qtbot, facade, clock)
    row = _row(panel)
    qtbot.mouseClick(row.edit_button, Qt.MouseButton.LeftButton)
    dialog = panel.edit_dialog()
    assert dialog is not None
    assert dialog.isVisible()
    assert dialog.editing() == facade.views["o1"]
    assert dialog.target_edit.isReadOnly()
    qtbot.mouseClick(dialog.findChild(QCheckBox, "perm_control"), Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.finished):
        qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    assert facade.calls == [("edit_invitation", "o1", frozenset({Permission.CONTROL}), "")]
    assert row.profile_label.text() == "Profile: Custom"


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (State.ACCEPTED, "Accepted, connecting…"),
        (State.REJECTED, "Rejected"),
        (State.EXPIRED, "Expired without an answer"),
        (State.CONNECTED, "Connected"),
    ],
)
def test_how_an_invitation_ended_is_shown_in_words(qtbot, state: State, words: str) -> None:
    facade, clock = FakeClient(), ManualClock()
    _sent(facade)
    panel = _panel(qtbot, facade, clock)
    facade.put(replace(facade.views["o1"], state=state, seconds_left=0))
    row = _row(panel)
    assert row.state_label.text() == words
    assert not row.edit_button.isVisible()


def test_a_failure_gives_its_reason(qtbot) -> None:
    facade, clock = FakeClient(), ManualClock()
    _sent(facade)
    panel = _panel(qtbot, facade, clock)
    facade.put(replace(facade.views["o1"], state=State.FAILED, reason="peer went offline"))
    assert _row(panel).state_label.text() == "Failed: peer went offline"


def test_a_finished_invitation_is_shown_briefly_then_dropped(qtbot) -> None:
    facade, clock = FakeClient(), ManualClock()
    _sent(facade)
    _sent(facade, "o2")
    panel = _panel(qtbot, facade, clock)
    facade.put(replace(facade.views["o1"], state=State.REJECTED, seconds_left=0))
    clock.advance(4)
    panel.prune()
    assert panel.row("o1") is not None
    clock.advance(1)
    qtbot.waitUntil(lambda: panel.row("o1") is None)
    assert [r.view().invitation_id for r in panel.rows()] == ["o2"]
    facade.invitations_changed.emit(facade.views["o1"])  # the client still lists it: stays gone
    assert panel.row("o1") is None


def test_incoming_invitations_are_not_listed_and_requests_cannot_be_edited(qtbot) -> None:
    facade, clock = FakeClient(), ManualClock()
    facade.put(invitation("in1"))
    _sent(facade, "r1", kind=Kind.REQUEST)
    panel = _panel(qtbot, facade, clock)
    assert panel.row("in1") is None
    row = _row(panel, "r1")
    assert row.profile_label.text() == "Connection request"
    assert not row.edit_button.isVisible()
    assert row.cancel_button.isVisible()


@pytest.mark.parametrize("ended", [State.EXPIRED, State.CANCELLED, State.REJECTED])
def test_resend_sends_an_ended_invitation_again_with_the_same_permissions(
    qtbot, qasync_loop, ended: State
) -> None:
    facade, clock = FakeClient(peers=[ALICE]), ManualClock()
    offered = frozenset({Permission.CONTROL, Permission.CLIPBOARD})
    _sent(facade, permissions=offered, profile="Default")
    panel = _panel(qtbot, facade, clock)
    row = _row(panel)
    assert not row.resend_button.isVisible()
    facade.put(replace(facade.views["o1"], state=ended, seconds_left=0))
    assert row.resend_button.isVisible() and row.resend_button.objectName() == "resendButton"
    qtbot.mouseClick(row.resend_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.row("o1") is None)
    assert facade.calls_of("invite") == [(ALICE_ID.digits, offered, "Default", None)]
    [new] = panel.rows()
    assert new.view().state is State.PENDING and new.view().permissions == offered
    assert not new.resend_button.isVisible()


def test_a_failed_or_connected_invitation_offers_no_resend(qtbot) -> None:
    facade, clock = FakeClient(), ManualClock()
    _sent(facade)
    panel = _panel(qtbot, facade, clock)
    for state in (State.FAILED, State.CONNECTED):
        facade.put(replace(facade.views["o1"], state=state, seconds_left=0))
        assert not _row(panel).resend_button.isVisible()


def test_the_panel_keeps_its_width_whatever_its_rows_say(qtbot) -> None:
    facade, clock = FakeClient(), ManualClock()
    panel = _panel(qtbot, facade, clock)
    empty = panel.width()
    _sent(facade, alias="a-rather-long-alias-name@ad")
    qtbot.waitUntil(lambda: _row(panel).isVisible())
    assert panel.width() == empty
    facade.put(replace(facade.views["o1"], state=State.EXPIRED, seconds_left=0))
    assert panel.width() == empty
