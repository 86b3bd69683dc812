"""The bell: badge count, the list of waiting and missed items, and answering by keyboard."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from PySide6.QtCore import QDate, QLocale, Qt

from anydesk_invite.core.clock import ManualClock
from anydesk_invite.core.invitation import Kind, State
from anydesk_invite.services.views import Direction
from anydesk_invite.ui.accept_window import AcceptWindow
from anydesk_invite.ui.bell import BellButton, BellPopup
from anydesk_invite.ui.countdown import format_when
from tests.helpers.fake_client import BOB_ID, FakeClient, invitation


def _bell(qtbot, facade: FakeClient, clock: ManualClock | None = None) -> BellButton:
    bell = BellButton(facade, (clock or ManualClock()).now)
    qtbot.addWidget(bell)
    bell.show()
    return bell


def _texts(bell: BellButton) -> list[str]:
    lst = bell.popup.list
    return [lst.item(i).text() for i in range(lst.count())]


def test_the_badge_counts_incoming_items_waiting_for_an_answer(qtbot) -> None:
    facade = FakeClient()
    bell = _bell(qtbot, facade)
    assert bell.objectName() == "bellButton"
    assert bell.count() == 0
    facade.receive(invitation("i1"))
    facade.receive(invitation("r1", kind=Kind.REQUEST, peer_id=BOB_ID, alias="bob@ad"))
    facade.put(invitation("o1", direction=Direction.OUTGOING))
    assert bell.count() == 2
    facade.put(replace(facade.views["i1"], state=State.REJECTED))
    assert bell.count() == 1


def test_the_list_shows_pending_items_with_time_left(qtbot) -> None:
    facade, clock = FakeClient(), ManualClock()
    facade.receive(invitation("i1", seconds_left=100))
    bell = _bell(qtbot, facade, clock)
    qtbot.mouseClick(bell, Qt.MouseButton.LeftButton)
    assert bell.popup.isVisible()
    assert bell.popup.list.objectName() == "bellList"
    [text] = _texts(bell)
    assert "alice@ad" in text
    assert "invites you" in text
    assert "1:40 left" in text
    clock.advance(40)
    qtbot.waitUntil(lambda: "1:00 left" in _texts(bell)[0])


def test_enter_connects_the_selected_invitation(qtbot, qasync_loop) -> None:
    facade = FakeClient()
    facade.receive(invitation("i1"))
    bell = _bell(qtbot, facade)
    bell.open_list()
    qtbot.keyClick(bell.popup.list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: facade.calls == [("accept", "i1", None, "")])
    assert bell.count() == 0


def test_delete_rejects_the_selected_invitation(qtbot, qasync_loop) -> None:
    facade = FakeClient()
    facade.receive(invitation("i1"))
    facade.receive(invitation("i2", peer_id=BOB_ID, alias="bob@ad"))
    bell = _bell(qtbot, facade)
    bell.open_list()
    qtbot.keyClick(bell.popup.list, Qt.Key.Key_Down)
    qtbot.keyClick(bell.popup.list, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: facade.calls == [("reject", "i2")])


def test_connect_and_reject_buttons_are_reachable_with_tab(qtbot, qasync_loop) -> None:
    facade = FakeClient()
    facade.receive(invitation("i1"))
    bell = _bell(qtbot, facade)
    bell.open_list()
    popup = bell.popup
    # The widgets Tab visits from the list, in order.
    order = []
    widget = popup.list.nextInFocusChain()
    while widget is not popup.list:
        tabbable = widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        if tabbable and widget.isVisible() and widget.isEnabled():
            order.append(widget.objectName())
        widget = widget.nextInFocusChain()
    assert order == ["bellRejectButton", "bellConnectButton"]
    qtbot.keyClick(popup.connect_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: facade.calls == [("accept", "i1", None, "")])


def test_a_missed_invitation_stays_listed_with_when_it_expired_and_connect_asks_to_connect(
    qtbot,
) -> None:
    facade = FakeClient()
    facade.receive(invitation("i1"))
    wall = datetime(2026, 12, 3, 9, 14).timestamp()
    bell = BellButton(facade, ManualClock().now, wall_clock=lambda: wall)
    qtbot.addWidget(bell)
    bell.show()
    facade.put(replace(facade.views["i1"], state=State.EXPIRED, missed=True, seconds_left=0))
    del facade.views["i1"]  # even once the client forgets it
    bell.open_list()
    assert bell.count() == 0
    grouped = invitation().peer_id.grouped()
    assert _texts(bell) == [f"Invitation from alice@ad ({grouped}), expired today 09:14"]
    bell.popup.list.setCurrentRow(0)
    assert bell.popup.connect_button.isEnabled() and bell.popup.connect_button.text() == "&Connect"
    assert not bell.popup.reject_button.isEnabled()
    with qtbot.waitSignal(bell.connect_requested) as asked:
        qtbot.keyClick(bell.popup.list, Qt.Key.Key_Return)
    assert asked.args == [invitation().peer_id.digits]
    assert facade.calls == []  # the expired invitation itself is not accepted


def test_a_cancelled_request_says_so_with_the_day_and_offers_to_invite_back(qtbot) -> None:
    facade = FakeClient()
    facade.receive(invitation("r1", kind=Kind.REQUEST, peer_id=BOB_ID, alias="bob@ad"))
    seen = datetime(2026, 12, 1, 14, 2)  # a Tuesday
    now = [seen.timestamp()]
    bell = BellButton(facade, ManualClock().now, wall_clock=lambda: now[0])
    qtbot.addWidget(bell)
    bell.show()
    facade.put(replace(facade.views["r1"], state=State.CANCELLED, seconds_left=0))
    now[0] = datetime(2026, 12, 3, 9, 0).timestamp()
    bell.open_list()
    grouped = BOB_ID.grouped()
    assert _texts(bell) == [f"Connection request from bob@ad ({grouped}), cancelled Tue 14:02"]
    bell.popup.list.setCurrentRow(0)
    button = bell.popup.connect_button
    assert button.text() == "&Invite back" and button.isEnabled()
    with qtbot.waitSignal(bell.invite_back_requested) as asked:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert asked.args == [BOB_ID.digits]
    assert not bell.popup.isVisible()


def test_a_missed_entry_older_than_a_week_shows_its_date(qtbot) -> None:
    then = datetime(2026, 11, 2, 8, 0).timestamp()
    assert format_when(then, datetime(2026, 12, 3, 9, 0).timestamp()) == QLocale().toString(
        QDate(2026, 11, 2), QLocale.FormatType.ShortFormat
    )


def test_a_refused_connect_is_shown_in_the_list(qtbot, qasync_loop) -> None:
    facade = FakeClient()
    facade.receive(invitation("i1"))
    facade.refuse["accept"] = "the invitation was cancelled"
    bell = _bell(qtbot, facade)
    bell.open_list()
    qtbot.keyClick(bell.popup.list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bell.popup.error_label.text() == "the invitation was cancelled")


def test_connect_on_a_request_opens_the_accept_window(qtbot, qasync_loop) -> None:
    facade = FakeClient()
    facade.receive(invitation("r1", kind=Kind.REQUEST))
    bell = _bell(qtbot, facade)
    bell.open_list()
    with qtbot.waitSignal(bell.request_opened) as blocker:
        qtbot.keyClick(bell.popup.list, Qt.Key.Key_Return)
    window = blocker.args[0]
    qtbot.addWidget(window)
    assert isinstance(window, AcceptWindow)
    assert window.request_page.isVisible()
    assert facade.calls == []  # the user picks the permissions there


def test_the_list_is_built_when_first_opened_with_what_arrived_before(qtbot) -> None:
    """Start-up builds the bell without its list; nothing that arrives meanwhile is lost."""
    facade, clock = FakeClient(), ManualClock()
    bell = _bell(qtbot, facade, clock)
    facade.receive(invitation("i1", seconds_left=100))
    facade.receive(invitation("r1", kind=Kind.REQUEST, peer_id=BOB_ID, alias="bob@ad"))
    facade.put(replace(facade.views["r1"], state=State.CANCELLED))
    assert bell.count() == 1
    assert bell.findChild(BellPopup) is None
    qtbot.mouseClick(bell, Qt.MouseButton.LeftButton)
    assert bell.findChild(BellPopup) is bell.popup and bell.popup.isVisible()
    waiting, missed = _texts(bell)
    assert "alice@ad" in waiting and "1:40 left" in waiting
    assert "bob@ad" in missed and "cancelled" in missed
    assert bell.popup.list.currentRow() == 0 and bell.popup.connect_button.isEnabled()
