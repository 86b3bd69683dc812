"""The invitation toast: where it goes, what it shows, and how the stack follows the client."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QTextLayout
from PySide6.QtWidgets import QLabel

from anydesk_invite.core.clock import ManualClock
from anydesk_invite.core.invitation import Kind, State
from anydesk_invite.core.permissions import (
    BUILTIN_PROFILES,
    DEFAULT,
    Permission,
    PermissionProfile,
)
from anydesk_invite.ui.countdown import format_countdown
from anydesk_invite.ui.i18n import permission_label
from anydesk_invite.ui.toast import (
    TOAST_WIDTH,
    InvitationToast,
    ToastStack,
    stacked_positions,
    toast_position,
)
from tests.helpers.fake_client import ALICE_ID, FakeClient, invitation

AREA = QRect(0, 0, 1920, 1080)


def test_first_toast_sits_in_the_bottom_right_corner_with_a_margin() -> None:
    pos = toast_position(AREA, QSize(300, 100), 0)
    assert pos == QPoint(1920 - 16 - 300, 1080 - 16 - 100)


def test_toast_stays_clear_of_a_taskbar_at_the_bottom() -> None:
    # The screen is 1080 high, a 40 px taskbar leaves 1040 available.
    available = QRect(0, 0, 1920, 1040)
    pos = toast_position(available, QSize(300, 100), 0)
    assert pos.y() + 100 <= 1040 - 16
    assert pos == QPoint(1604, 924)


def test_toast_stays_clear_of_a_taskbar_on_the_right() -> None:
    available = QRect(0, 0, 1872, 1080)
    pos = toast_position(available, QSize(300, 100), 0, margin=10)
    assert pos == QPoint(1872 - 10 - 300, 1080 - 10 - 100)


def test_toast_goes_to_a_primary_screen_right_of_another_in_logical_coordinates() -> None:
    # Primary at x=1920 with devicePixelRatio 2: Qt reports 2560x1440 pixels as 1280x720.
    primary = QRect(1920, 0, 1280, 720)
    pos = toast_position(primary, QSize(360, 216), 0)
    assert pos == QPoint(1920 + 1280 - 16 - 360, 720 - 16 - 216)
    assert primary.contains(QRect(pos, QSize(360, 216)))


def test_toasts_stack_upward_by_index_with_spacing() -> None:
    size = QSize(300, 100)
    first, second, third = (toast_position(AREA, size, i, spacing=8) for i in range(3))
    assert first.x() == second.x() == third.x()
    assert first.y() - second.y() == 108
    assert second.y() - third.y() == 108


def test_countdown_text_rounds_up_to_whole_seconds() -> None:
    assert format_countdown(120) == "2:00"
    assert format_countdown(119.2) == "2:00"
    assert format_countdown(61) == "1:01"
    assert format_countdown(0.4) == "0:01"
    assert format_countdown(0) == "0:00"
    assert format_countdown(-3) == "0:00"


def _label(widget: InvitationToast, name: str) -> str:
    label = widget.findChild(QLabel, name)
    assert label is not None
    return label.text()


def test_toast_shows_inviter_alias_grouped_id_and_offered_permissions(qtbot) -> None:
    facade = FakeClient()
    toast = InvitationToast(facade, invitation(), ManualClock().now)
    qtbot.addWidget(toast)
    assert toast.objectName() == "invitationToast"
    assert "alice@ad" in _label(toast, "inviterLabel")
    assert ALICE_ID.grouped() in _label(toast, "inviterIdLabel")
    offer = _label(toast, "permissionsLabel")
    assert "Control keyboard and mouse" in offer
    assert "Clipboard" in offer
    assert "File transfer" not in offer
    assert _label(toast, "countdownLabel") == "2:00"


def test_toast_never_takes_the_focus(qtbot) -> None:
    toast = InvitationToast(FakeClient(), invitation(), ManualClock().now)
    qtbot.addWidget(toast)
    flags = toast.windowFlags()
    for flag in (
        Qt.WindowType.Tool,
        Qt.WindowType.FramelessWindowHint,
        Qt.WindowType.WindowStaysOnTopHint,
        Qt.WindowType.WindowDoesNotAcceptFocus,
    ):
        assert flags & flag
    assert toast.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)


def test_toast_counts_down_on_the_injected_clock(qtbot) -> None:
    clock = ManualClock()
    toast = InvitationToast(FakeClient(), invitation(seconds_left=90), clock.now)
    qtbot.addWidget(toast)
    assert _label(toast, "countdownLabel") == "1:30"
    clock.advance(31)
    # The toast's own timer notices the clock moved.
    qtbot.waitUntil(lambda: _label(toast, "countdownLabel") == "0:59")


def test_toast_closes_at_its_own_deadline(qtbot) -> None:
    clock = ManualClock()
    toast = InvitationToast(FakeClient(), invitation(seconds_left=5), clock.now)
    qtbot.addWidget(toast)
    toast.show()
    with qtbot.waitSignal(toast.finished) as blocker:
        clock.advance(5)
    assert blocker.args == ["aa01"]


def test_connect_accepts_the_invitation_and_closes_the_toast(qtbot, qasync_loop) -> None:
    facade = FakeClient()
    view = facade.put(invitation())
    toast = InvitationToast(facade, view, ManualClock().now)
    qtbot.addWidget(toast)
    toast.show()
    with qtbot.waitSignal(toast.finished):
        qtbot.mouseClick(toast.accept_button, Qt.MouseButton.LeftButton)
    assert facade.calls == [("accept", "aa01", None, "")]


def test_reject_rejects_the_invitation(qtbot, qasync_loop) -> None:
    facade = FakeClient()
    view = facade.put(invitation())
    toast = InvitationToast(facade, view, ManualClock().now)
    qtbot.addWidget(toast)
    toast.show()
    with qtbot.waitSignal(toast.finished):
        qtbot.mouseClick(toast.reject_button, Qt.MouseButton.LeftButton)
    assert facade.calls == [("reject", "aa01")]


def test_a_refused_connect_is_shown_in_the_toast(qtbot, qasync_loop) -> None:
    facade = FakeClient()
    view = facade.put(invitation())
    facade.refuse["accept"] = "the invitation has expired"
    toast = InvitationToast(facade, view, ManualClock().now)
    qtbot.addWidget(toast)
    toast.show()
    qtbot.mouseClick(toast.accept_button, Qt.MouseButton.LeftButton)
    error = toast.findChild(QLabel, "toastErrorLabel")
    qtbot.waitUntil(lambda: error.isVisible())
    assert error.text() == "the invitation has expired"
    assert toast.isVisible()
    assert toast.accept_button.isEnabled()


def _stack(facade: FakeClient, clock: ManualClock, area: QRect = AREA) -> ToastStack:
    return ToastStack(facade, clock.now, available=lambda: area)


def test_an_edit_updates_the_same_toast_in_place(qtbot) -> None:
    facade, clock = FakeClient(), ManualClock()
    stack = _stack(facade, clock)
    view = facade.receive(invitation())
    first = stack.toast("aa01")
    assert first is not None
    qtbot.addWidget(first)
    clock.advance(10)
    facade.put(replace(view, revision=2, permissions=frozenset(), seconds_left=110))
    assert stack.toasts() == [first]
    assert _label(first, "permissionsLabel") == "Offers Screen Sharing: View screen"
    assert _label(first, "countdownLabel") == "1:50"


def test_three_toasts_stack_upward_and_close_the_gap_when_one_goes(qtbot) -> None:
    facade, clock = FakeClient(), ManualClock()
    area = QRect(1920, 0, 1280, 720)
    stack = _stack(facade, clock, area)
    for n in range(3):
        facade.receive(invitation(f"id{n}"))
    toasts = stack.toasts()
    for t in toasts:
        qtbot.addWidget(t)
    size = toasts[0].size()
    assert all(t.size() == size for t in toasts)
    assert [t.pos() for t in toasts] == [toast_position(area, size, i) for i in range(3)]
    assert toasts[0].y() > toasts[1].y() > toasts[2].y()

    facade.put(replace(facade.views["id0"], state=State.CANCELLED, seconds_left=0))
    assert stack.toasts() == toasts[1:]
    assert [t.pos() for t in toasts[1:]] == [toast_position(area, size, i) for i in (0, 1)]


@pytest.mark.parametrize("final", [State.CANCELLED, State.EXPIRED, State.CONNECTED])
def test_toast_closes_when_the_invitation_is_no_longer_open(qtbot, final: State) -> None:
    facade, clock = FakeClient(), ManualClock()
    stack = _stack(facade, clock)
    facade.receive(invitation())
    toast = stack.toast("aa01")
    assert toast is not None
    qtbot.addWidget(toast)
    with qtbot.waitSignal(toast.finished):
        facade.put(replace(facade.views["aa01"], state=final, seconds_left=0))
    assert stack.toasts() == []


def test_connection_requests_get_no_toast(qtbot) -> None:
    facade = FakeClient()
    stack = _stack(facade, ManualClock())
    facade.receive(invitation(kind=Kind.REQUEST))
    assert stack.toasts() == []


def test_toast_for_a_peer_without_alias_names_it_by_id(qtbot) -> None:
    toast = InvitationToast(
        FakeClient(), invitation(alias="", permissions=frozenset(Permission)), ManualClock().now
    )
    qtbot.addWidget(toast)
    assert _label(toast, "inviterLabel") == "A device without alias invites you"
    assert ALICE_ID.grouped() in _label(toast, "inviterIdLabel")
    assert "Draw on screen" in _label(toast, "permissionsLabel")


def test_stacked_toasts_of_equal_size_sit_where_their_index_puts_them() -> None:
    size = QSize(TOAST_WIDTH, 120)
    assert stacked_positions(AREA, [size] * 3) == [toast_position(AREA, size, i) for i in range(3)]


def test_a_taller_toast_pushes_the_ones_above_it_up_by_its_own_height() -> None:
    low, high = QSize(TOAST_WIDTH, 150), QSize(TOAST_WIDTH, 100)
    first, second = stacked_positions(AREA, [low, high], margin=16, spacing=8)
    assert first == QPoint(1920 - 16 - TOAST_WIDTH, 1080 - 16 - 150)
    assert second.y() == first.y() - 8 - 100


def test_toast_height_fits_its_text_with_no_empty_band_above_the_buttons(qtbot) -> None:
    few = InvitationToast(FakeClient(), invitation(permissions=frozenset()), ManualClock().now)
    every = InvitationToast(
        FakeClient(), invitation(permissions=frozenset(Permission)), ManualClock().now
    )
    for toast in (few, every):
        qtbot.addWidget(toast)
        toast.show()
        assert toast.width() == TOAST_WIDTH
        offer = toast.findChild(QLabel, "permissionsLabel")
        # Only the layout's spacing lies between the offer text and the buttons.
        gap = toast.accept_button.geometry().top() - offer.geometry().bottom()
        assert 0 < gap <= 24
        assert toast.height() - toast.accept_button.geometry().bottom() <= 16
    assert every.height() > few.height()


def test_an_error_grows_the_toast_and_the_stack_moves_up_to_make_room(qtbot) -> None:
    facade, clock = FakeClient(), ManualClock()
    stack = _stack(facade, clock)
    for n in range(2):
        facade.receive(invitation(f"id{n}"))
    low, high = stack.toasts()
    for t in (low, high):
        qtbot.addWidget(t)
    before = low.height()
    low.show_error("the inviter is no longer reachable on the network")
    assert low.height() > before
    assert high.geometry().bottom() < low.geometry().top()
    assert [low.pos(), high.pos()] == stacked_positions(AREA, [low.size(), high.size()])


def _offer_lines(toast: InvitationToast) -> list[str]:
    """The lines the offer label shows: its text laid out at its width as Qt wraps it."""
    label = toast.findChild(QLabel, "permissionsLabel")
    assert label is not None
    width = label.contentsRect().width() if label.wordWrap() else 1_000_000
    lines = []
    for paragraph in label.text().split("\n"):
        layout = QTextLayout(paragraph, label.font())
        layout.beginLayout()
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            lines.append(paragraph[line.textStart() : line.textStart() + line.textLength()].strip())
        layout.endLayout()
    return lines


def test_the_offer_names_the_profile_its_permissions_match(qtbot) -> None:
    default = next(p for p in BUILTIN_PROFILES if p.name == DEFAULT)
    toast = InvitationToast(
        FakeClient(), invitation(permissions=default.permissions), ManualClock().now
    )
    qtbot.addWidget(toast)
    assert _offer_lines(toast)[0].startswith("Offers Default:")
    odd = InvitationToast(
        FakeClient(), invitation(permissions=frozenset({Permission.SYSTEM_INFO})), ManualClock().now
    )
    qtbot.addWidget(odd)
    assert _offer_lines(odd)[0].startswith("Offers:")  # no profile grants just that


def test_a_custom_profile_is_named_too(qtbot) -> None:
    facade = FakeClient()
    facade.custom_profiles = [PermissionProfile("Helpdesk", frozenset({Permission.CLIPBOARD}))]
    toast = InvitationToast(
        facade, invitation(permissions=frozenset({Permission.CLIPBOARD})), ManualClock().now
    )
    qtbot.addWidget(toast)
    assert _offer_lines(toast)[0].startswith("Offers Helpdesk:")


@pytest.mark.parametrize("size", range(len(Permission) + 1))
def test_the_offer_never_leaves_a_lone_word_on_a_line_and_fits_the_toast(qtbot, size) -> None:
    facade = FakeClient()
    for perms in itertools.combinations(Permission, size):
        toast = InvitationToast(facade, invitation(permissions=frozenset(perms)), ManualClock().now)
        qtbot.addWidget(toast)
        toast.show()
        label = toast.findChild(QLabel, "permissionsLabel")
        assert label is not None
        lines = _offer_lines(toast)
        for line in lines:
            assert label.fontMetrics().horizontalAdvance(line) <= label.contentsRect().width()
        if len(lines) > 1:
            assert all(len(line.split()) >= 2 for line in lines), lines
        text = " ".join(lines)
        for p in perms:
            assert permission_label(p) in text
        toast.close()
