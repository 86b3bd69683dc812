"""The bell: a count of waiting invitations and requests, and their list, missed ones too."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from anydesk_invite.core.alias import sanitize_display
from anydesk_invite.core.invitation import Kind, State
from anydesk_invite.services.facade import ActionRefused, ClientFacade
from anydesk_invite.services.views import Direction, InvitationView
from anydesk_invite.ui.countdown import TICK_MS, format_countdown, format_when
from anydesk_invite.ui.i18n import permissions_text
from anydesk_invite.ui.icons import icon
from anydesk_invite.ui.qt_loop import asyncSlot
from anydesk_invite.ui.styles import ERROR_STYLE

if TYPE_CHECKING:
    from anydesk_invite.ui.accept_window import AcceptWindow

_ID_ROLE = Qt.ItemDataRole.UserRole
_PENDING_ROLE = Qt.ItemDataRole.UserRole + 1
_KIND_ROLE = Qt.ItemDataRole.UserRole + 2


def is_missed(view: InvitationView) -> bool:
    return view.missed or view.state in (State.EXPIRED, State.CANCELLED)


def missed_text(view: InvitationView, when: str) -> str:
    """A missed entry: from whom, whether it was cancelled or expired (or just missed), when."""
    name = sanitize_display(view.peer_alias)
    who = f"{name} ({view.peer_id.grouped()})" if name else view.peer_id.grouped()
    if view.kind is Kind.INVITATION:
        if view.state is State.CANCELLED:
            text = QCoreApplication.translate(
                "BellButton", "Invitation from {who}, cancelled {when}"
            )
        elif view.state is State.EXPIRED:
            text = QCoreApplication.translate("BellButton", "Invitation from {who}, expired {when}")
        else:
            text = QCoreApplication.translate("BellButton", "Missed invitation from {who}, {when}")
    elif view.state is State.CANCELLED:
        text = QCoreApplication.translate(
            "BellButton", "Connection request from {who}, cancelled {when}"
        )
    elif view.state is State.EXPIRED:
        text = QCoreApplication.translate(
            "BellButton", "Connection request from {who}, expired {when}"
        )
    else:
        text = QCoreApplication.translate(
            "BellButton", "Missed connection request from {who}, {when}"
        )
    return text.format(who=who, when=when)


def item_text(view: InvitationView, seconds_left: float) -> str:
    name = sanitize_display(view.peer_alias)
    who = f"{name} ({view.peer_id.grouped()})" if name else view.peer_id.grouped()
    left = format_countdown(seconds_left)
    if view.kind is Kind.REQUEST:
        return QCoreApplication.translate(
            "BellButton", "{who} asks to connect · {left} left"
        ).format(who=who, left=left)
    offer = permissions_text(view.permissions)
    return QCoreApplication.translate(
        "BellButton", "{who} invites you · {offer} · {left} left"
    ).format(who=who, offer=offer, left=left)


class BellList(QListWidget):
    """Enter connects the selected item, Delete rejects it.

    Signals: connect_requested(str), reject_requested(str) with the invitation id.
    """

    connect_requested = Signal(str)
    reject_requested = Signal(str)
    missed_action_requested = Signal(str)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        item = self.currentItem()
        if (
            item is not None
            and not item.data(_PENDING_ROLE)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self.missed_action_requested.emit(str(item.data(_ID_ROLE)))
            return
        if item is not None and item.data(_PENDING_ROLE):
            inv_id = str(item.data(_ID_ROLE))
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.connect_requested.emit(inv_id)
                return
            if event.key() == Qt.Key.Key_Delete:
                self.reject_requested.emit(inv_id)
                return
        super().keyPressEvent(event)


class BellPopup(QFrame):
    """The list under the bell, with Connect and Reject for the selected entry."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("bellPopup")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.list = BellList(self)
        self.list.setObjectName("bellList")
        self.list.setAccessibleName(self.tr("Invitations and requests"))
        self.list.setWordWrap(True)
        self.list.setMinimumSize(QSize(420, 160))
        self.empty_label = QLabel(self.tr("Nothing waiting."), self)
        self.empty_label.setObjectName("bellEmptyLabel")
        self.error_label = QLabel(self)
        self.error_label.setObjectName("bellErrorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.hide()
        self.connect_button = QPushButton(self.tr("&Connect"), self)
        self.connect_button.setObjectName("bellConnectButton")
        self.reject_button = QPushButton(self.tr("&Reject"), self)
        self.reject_button.setObjectName("bellRejectButton")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.reject_button)
        buttons.addWidget(self.connect_button)
        # Tab follows the buttons as they are seen, left to right; Enter connects anyway.
        QWidget.setTabOrder(self.list, self.reject_button)
        QWidget.setTabOrder(self.reject_button, self.connect_button)
        box = QVBoxLayout(self)
        box.addWidget(self.empty_label)
        box.addWidget(self.list)
        box.addWidget(self.error_label)
        box.addLayout(buttons)
        self.list.currentItemChanged.connect(lambda *_: self.update_buttons())
        self.connect_button.clicked.connect(self._connect_current)
        self.reject_button.clicked.connect(self._reject_current)
        self.update_buttons()

    def current_pending_id(self) -> str | None:
        item = self.list.currentItem()
        if item is None or not item.data(_PENDING_ROLE):
            return None
        return str(item.data(_ID_ROLE))

    def update_buttons(self) -> None:
        pending = self.current_pending_id() is not None
        item = self.list.currentItem()
        missed_kind = item.data(_KIND_ROLE) if item is not None and not pending else None
        # A missed entry's action: connect to whoever invited, invite back whoever asked.
        if missed_kind == Kind.REQUEST.value:
            self.connect_button.setText(self.tr("&Invite back"))
        else:
            self.connect_button.setText(self.tr("&Connect"))
        self.connect_button.setEnabled(pending or missed_kind is not None)
        self.reject_button.setEnabled(pending)
        self.empty_label.setVisible(self.list.count() == 0)

    def _connect_current(self) -> None:
        inv_id = self.current_pending_id()
        if inv_id is not None:
            self.list.connect_requested.emit(inv_id)
            return
        item = self.list.currentItem()
        if item is not None:
            self.list.missed_action_requested.emit(str(item.data(_ID_ROLE)))

    def _reject_current(self) -> None:
        inv_id = self.current_pending_id()
        if inv_id is not None:
            self.list.reject_requested.emit(inv_id)


class BellButton(QToolButton):
    """The bell with a badge counting incoming invitations and requests that wait.

    A click opens the list. Connect on an invitation accepts it; on a connection request it
    opens the Accept Window, where the permissions are chosen.

    A missed invitation offers Connect (a connection request to whoever invited), a missed
    connection request Invite back.

    Signals: request_opened(AcceptWindow) when a connection request was opened;
    connect_requested(str) and invite_back_requested(str) with the peer's ID digits.
    """

    request_opened = Signal(object)
    connect_requested = Signal(str)
    invite_back_requested = Signal(str)

    def __init__(
        self,
        facade: ClientFacade,
        clock: Callable[[], float] = time.monotonic,
        parent: QWidget | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("bellButton")
        self.setIcon(icon("bell"))
        self.setIconSize(QSize(22, 22))
        self.setAutoRaise(True)
        self._facade = facade
        self._clock = clock
        self._pending: dict[str, tuple[InvitationView, float]] = {}
        self._missed: dict[str, InvitationView] = {}
        self._missed_at: dict[str, float] = {}
        """When each missed entry was first seen missed (wall clock)."""
        self._wall_clock = wall_clock
        self._windows: list[AcceptWindow] = []

        self._popup: BellPopup | None = None
        self.clicked.connect(self.open_list)

        self._timer = QTimer(self)
        self._timer.setObjectName("bellTimer")
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

        slot = self._on_changed
        facade.invitations_changed.connect(slot)
        self.destroyed.connect(lambda: facade.invitations_changed.disconnect(slot))
        self.refresh()

    @property
    def popup(self) -> BellPopup:
        """The list under the bell, built when it is first opened (or looked at): start-up
        does not wait for it."""
        if self._popup is None:
            popup = BellPopup(self)
            popup.list.connect_requested.connect(self._connect)
            popup.list.reject_requested.connect(self._reject)
            popup.list.missed_action_requested.connect(self._missed_action)
            self._popup = popup
            self._fill()
        return self._popup

    def count(self) -> int:
        """Incoming invitations and requests waiting for an answer."""
        return len(self._pending)

    def refresh(self) -> None:
        """Bring the list in line with the client's invitations."""
        now = self._clock()
        self._pending.clear()
        for view in self._facade.invitations():
            self._take(view, now)
        self._fill()
        self._update_badge()

    def _take(self, view: InvitationView, now: float) -> None:
        """File one invitation as waiting, missed, or neither (answered, or sent from here)."""
        if view.direction is not Direction.INCOMING:
            return
        self._pending.pop(view.invitation_id, None)
        if is_missed(view):
            self._missed[view.invitation_id] = view
            self._missed_at.setdefault(view.invitation_id, self._wall_clock())
        elif view.state is State.RECEIVED:
            self._pending[view.invitation_id] = (view, now + view.seconds_left)

    def open_list(self) -> None:
        self.refresh()
        self.popup.adjustSize()
        below = self.mapToGlobal(QPoint(0, self.height()))
        self.popup.move(below.x() + self.width() - self.popup.width(), below.y())
        self.popup.show()
        self.popup.list.setFocus()
        if self.popup.list.currentRow() < 0 and self.popup.list.count():
            self.popup.list.setCurrentRow(0)

    def _fill(self) -> None:
        if self._popup is None:
            return  # filled when it is built
        lst = self._popup.list
        current = self.popup.current_pending_id()
        lst.clear()
        now = self._clock()
        for inv_id, (view, deadline) in self._pending.items():
            item = QListWidgetItem(item_text(view, deadline - now))
            item.setData(_ID_ROLE, inv_id)
            item.setData(_PENDING_ROLE, True)
            lst.addItem(item)
            if inv_id == current:
                lst.setCurrentItem(item)
        wall = self._wall_clock()
        for inv_id, view in reversed(self._missed.items()):
            item = QListWidgetItem(missed_text(view, format_when(self._missed_at[inv_id], wall)))
            item.setData(_ID_ROLE, inv_id)
            item.setData(_PENDING_ROLE, False)
            item.setData(_KIND_ROLE, view.kind.value)
            item.setForeground(QColor("#707070"))
            lst.addItem(item)
        self.popup.update_buttons()

    def _tick(self) -> None:
        if self._popup is None or not self._popup.isVisible():
            return
        now = self._clock()
        lst = self.popup.list
        for row in range(lst.count()):
            item = lst.item(row)
            entry = self._pending.get(str(item.data(_ID_ROLE)))
            if entry is not None and item.data(_PENDING_ROLE):
                item.setText(item_text(entry[0], entry[1] - now))

    def _update_badge(self) -> None:
        n = self.count()
        self.setToolTip(self.tr("%n waiting", "", n) if n else self.tr("No invitations waiting"))
        self.setAccessibleName(self.tr("Notifications, %n waiting", "", n))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        n = self.count()
        if not n:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = str(n) if n < 10 else "9+"
        side = max(14, self.fontMetrics().horizontalAdvance(text) + 6)
        badge = QRect(self.width() - side, 0, side, 14)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#d32f2f"))
        p.drawRoundedRect(badge, 7, 7)
        p.setPen(QColor("white"))
        font = p.font()
        font.setPixelSize(10)
        font.setBold(True)
        p.setFont(font)
        p.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        p.end()

    def _on_changed(self, view: InvitationView) -> None:
        """One invitation changed: file it again, and show the list and the badge anew."""
        self._take(view, self._clock())
        self._fill()
        self._update_badge()

    def _show_error(self, message: str) -> None:
        self.popup.error_label.setText(message)
        self.popup.error_label.setVisible(bool(message))

    @asyncSlot(str)
    async def _connect(self, invitation_id: str) -> None:
        entry = self._pending.get(invitation_id)
        if entry is None:
            return
        view = entry[0]
        self._show_error("")
        if view.kind is Kind.REQUEST:
            from anydesk_invite.ui.accept_window import AcceptWindow

            window = AcceptWindow(self._facade, request=view)
            window.closed.connect(lambda: self._windows.remove(window))
            self._windows.append(window)
            window.show()
            self.popup.hide()
            self.request_opened.emit(window)
            return
        try:
            await self._facade.accept(invitation_id)
        except ActionRefused as e:
            self._show_error(str(e))

    def _missed_action(self, invitation_id: str) -> None:
        view = self._missed.get(invitation_id)
        if view is None:
            return
        self.popup.hide()
        if view.kind is Kind.INVITATION:
            self.connect_requested.emit(view.peer_id.digits)
        else:
            self.invite_back_requested.emit(view.peer_id.digits)

    @asyncSlot(str)
    async def _reject(self, invitation_id: str) -> None:
        self._show_error("")
        try:
            await self._facade.reject(invitation_id)
        except ActionRefused as e:
            self._show_error(str(e))
