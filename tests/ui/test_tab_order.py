"""Tab moves through every window in the order people read it: left to right along a row,
then down to the next row (a column to the right of another may start at the top again).

Each window is built with its real widgets; the chain is Qt's own (nextInFocusChain), the
positions are the widgets' places in the shown window.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QWidget
from pytestqt.qtbot import QtBot

from anydesk_invite.core.clock import ManualClock
from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import Kind
from anydesk_invite.core.permissions import Permission
from anydesk_invite.services.facade import Candidate
from anydesk_invite.services.views import Role
from anydesk_invite.ui.accept_window import AcceptWindow
from anydesk_invite.ui.address_book_dialog import AddressBookDialog
from anydesk_invite.ui.bell import BellButton
from anydesk_invite.ui.email_fallback import EmailFallbackDialog
from anydesk_invite.ui.invite_dialog import InviteDialog
from anydesk_invite.ui.main_window import MainWindow
from anydesk_invite.ui.peer_confirm import ConfirmPeerDialog
from anydesk_invite.ui.session_window import SessionWindow
from anydesk_invite.ui.settings_dialog import SettingsDialog
from tests.helpers.fake_client import ALICE_ID, FakeClient, invitation, session

SLACK = 4
"""Pixels two widgets may overlap and still count as side by side or one below the other."""


def tab_stops(window: QWidget) -> list[QWidget]:
    """The widgets Tab visits, in Qt's focus chain from the window round to it again."""
    stops: list[QWidget] = []
    w = window.nextInFocusChain()
    while w is not window and len(stops) < 500:
        # A spin box's or combo box's own line edit, and a tab widget that hands the focus to
        # its tab bar, are one stop with the widget they belong to.
        inner = isinstance(w.parentWidget(), (QAbstractSpinBox, QComboBox))
        inner = inner or w.focusProxy() is not None
        if (
            w.isVisibleTo(window)
            and w.isEnabled()
            and w.focusPolicy() & Qt.FocusPolicy.TabFocus
            and w.window() is window
            and not inner
        ):
            stops.append(w)
        w = w.nextInFocusChain()
    return stops


def place(w: QWidget, window: QWidget) -> QRect:
    return QRect(w.mapTo(window, w.rect().topLeft()), w.size())


def describe(w: QWidget) -> str:
    text = getattr(w, "text", lambda: "")() if hasattr(w, "text") else ""
    return f"{type(w).__name__}({w.objectName() or text!r})"


def out_of_order(window: QWidget) -> list[str]:
    """Each step of the chain that goes back up or back left along the same row."""
    stops = tab_stops(window)
    wrong = []
    for a, b in itertools.pairwise(stops):
        ra, rb = place(a, window), place(b, window)
        below = rb.top() >= ra.bottom() - SLACK
        right = rb.left() >= ra.right() - SLACK
        if not (below or right):
            wrong.append(f"{describe(a)} {ra.getRect()} -> {describe(b)} {rb.getRect()}")
    return wrong


def _shown(qtbot: QtBot, w: QWidget) -> QWidget:
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    QApplication.processEvents()
    return w


def _main(facade: FakeClient) -> QWidget:
    return MainWindow(facade)


def _invite(facade: FakeClient) -> QWidget:
    return InviteDialog(facade, "")


def _settings(facade: FakeClient) -> QWidget:
    return SettingsDialog(facade, ())  # type: ignore[arg-type]


def _address_book(_facade: FakeClient) -> QWidget:
    return AddressBookDialog()


def _confirm(_facade: FakeClient) -> QWidget:
    fp = bytes(range(32))
    one = Candidate(DeviceId.from_fingerprint(fp), "ben@ad", fp, "127.0.0.1:7070", None)
    fp2 = bytes(range(1, 33))
    two = Candidate(DeviceId.from_fingerprint(fp2), "ben@ad", fp2, "127.0.0.2:7070", None)
    return ConfirmPeerDialog("ben@ad", [one, two])


def _email(_facade: FakeClient) -> QWidget:
    clipboard = QGuiApplication.clipboard()
    return EmailFallbackDialog("Join me", "adinvite://connect?id=1", clipboard)


def _accept_request(facade: FakeClient) -> QWidget:
    view = facade.receive(invitation("rq1", kind=Kind.REQUEST, first_contact=True))
    return AcceptWindow(facade, request=view, wall_clock=ManualClock().now)


def _accept_session(facade: FakeClient) -> QWidget:
    view = session("h1", frozenset(Permission), role=Role.HOST)
    facade.session_views[view.session_id] = view
    return AcceptWindow(facade, session=view, wall_clock=ManualClock().now)


def _session_window(facade: FakeClient) -> QWidget:
    view = session("g1", frozenset(Permission), role=Role.GUEST)
    facade.session_views[view.session_id] = view
    return SessionWindow(facade, view)


WINDOWS: dict[str, Callable[[FakeClient], QWidget]] = {
    "main window": _main,
    "invite dialog": _invite,
    "settings": _settings,
    "address book entry": _address_book,
    "confirm the device": _confirm,
    "email fallback": _email,
    "accept window (request)": _accept_request,
    "accept window (session)": _accept_session,
    "session window": _session_window,
}


@pytest.mark.parametrize("name", list(WINDOWS))
def test_tab_follows_the_reading_order(qtbot: QtBot, name: str) -> None:
    window = _shown(qtbot, WINDOWS[name](FakeClient(peers=[])))
    assert len(tab_stops(window)) >= 2
    assert out_of_order(window) == []


def test_the_main_windows_header_is_tabbed_invite_bell_then_settings(qtbot: QtBot) -> None:
    facade = FakeClient()
    main = MainWindow(facade)
    main.set_bell_widget(BellButton(facade, ManualClock().now))  # as the shell does, later
    window = _shown(qtbot, main)
    assert out_of_order(window) == []
    names = [w.objectName() for w in tab_stops(window)]
    header = [n for n in names if n in ("inviteButton", "bellButton", "settingsButton")]
    assert header == ["inviteButton", "bellButton", "settingsButton"]


def test_the_check_finds_a_backward_step(qtbot: QtBot) -> None:
    window = _shown(qtbot, InviteDialog(FakeClient(), ALICE_ID.grouped()))
    stops = tab_stops(window)
    QWidget.setTabOrder(stops[-1], stops[1])  # the second one moved to the end
    assert out_of_order(window) != []
