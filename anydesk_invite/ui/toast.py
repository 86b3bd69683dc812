"""The invitation toast at the bottom-right of the primary screen, and the stack of them."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

from PySide6.QtCore import QObject, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from anydesk_invite.core.alias import sanitize_display
from anydesk_invite.core.invitation import Kind, State
from anydesk_invite.core.permissions import Permission, PermissionProfile
from anydesk_invite.services.facade import ActionRefused, ClientFacade
from anydesk_invite.services.views import Direction, InvitationView
from anydesk_invite.ui.countdown import Countdown
from anydesk_invite.ui.i18n import (
    permission_items,
    profile_label,
)
from anydesk_invite.ui.qt_loop import asyncSlot
from anydesk_invite.ui.styles import ERROR_STYLE

TOAST_WIDTH = 360
"""Every toast is this wide; its height fits what it says."""

_SHOWN_STATES = frozenset({State.RECEIVED, State.ACCEPTING})


def toast_position(
    available: QRect, toast_size: QSize, index: int, margin: int = 16, spacing: int = 8
) -> QPoint:
    """Top-left of toast number ``index`` (0 = lowest) in the bottom-right of ``available``.

    ``available`` is the primary screen's available geometry in logical pixels, which leaves
    out the taskbar; toasts stack upward from its bottom-right corner.
    """
    x = available.x() + available.width() - margin - toast_size.width()
    y = (
        available.y()
        + available.height()
        - margin
        - toast_size.height()
        - index * (toast_size.height() + spacing)
    )
    return QPoint(x, y)


def stacked_positions(
    available: QRect, sizes: Sequence[QSize], margin: int = 16, spacing: int = 8
) -> list[QPoint]:
    """Top-left of each toast, the first lowest, each right above the one before it.

    Toasts of equal size land where ``toast_position`` puts them by index.
    """
    out: list[QPoint] = []
    below = 0
    for size in sizes:
        x = available.x() + available.width() - margin - size.width()
        y = available.y() + available.height() - margin - below - size.height()
        out.append(QPoint(x, y))
        below += size.height() + spacing
    return out


def matching_profile(perms: frozenset[Permission], profiles: Sequence[PermissionProfile]) -> str:
    """The name of the first profile that grants exactly ``perms`` (built-ins come first),
    or "" when none does. Matched here, on this device's profiles: the inviter's own name for
    them is informative only and may not be the one the invitee knows."""
    return next((p.name for p in profiles if p.permissions == perms), "")


def balanced_lines(units: Sequence[str], width: int, advance: Callable[[str], int]) -> list[str]:
    """``units`` (never split: a permission's name stays whole) packed into lines of at most
    ``width`` pixels, joined by spaces, without a last line of one lone word: a unit moves
    down from the line above to keep it company."""
    lines: list[list[str]] = []
    for unit in units:
        if lines and advance(" ".join([*lines[-1], unit])) <= width:
            lines[-1].append(unit)
        else:
            lines.append([unit])

    def words(line: list[str]) -> int:
        return len(" ".join(line).split())

    while (
        len(lines) > 1
        and words(lines[-1]) < 2
        and len(lines[-2]) > 1
        and advance(" ".join([lines[-2][-1], *lines[-1]])) <= width
    ):
        lines[-1].insert(0, lines[-2].pop())
    return [" ".join(line) for line in lines]


class InvitationToast(QFrame):
    """One incoming invitation: who, what is offered, the time left, Connect and Reject.

    It never takes the focus from what the user is doing.

    Signals:
        finished(str): the invitation id, once the toast has closed for good.
        resized(): its height changed to fit new text (an edit, an error); the stack moves.
    """

    finished = Signal(str)
    resized = Signal()

    def __init__(
        self,
        facade: ClientFacade,
        view: InvitationView,
        clock: Callable[[], float] = time.monotonic,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("invitationToast")
        self.setWindowFlags(
            Qt.WindowType.Tool
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.WindowDoesNotAcceptFocus
        )
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setFixedWidth(TOAST_WIDTH)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#invitationToast { background: palette(window); border: 1px solid #8a8a8a;"
            " border-radius: 6px; }"
        )
        self._facade = facade
        self._view = view
        self._closed = False

        self._title = QLabel(self)
        self._title.setObjectName("inviterLabel")
        self._title.setStyleSheet("font-weight: bold; font-size: 14px;")
        self._title.setTextFormat(Qt.TextFormat.PlainText)
        self._id = QLabel(self)
        self._id.setObjectName("inviterIdLabel")
        self._id.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._offer = QLabel(self)
        self._offer.setObjectName("permissionsLabel")
        # Broken into lines here, between whole permission names: never a lone word below.
        self._offer.setWordWrap(False)
        self._offer.setTextFormat(Qt.TextFormat.PlainText)
        self._countdown_label = QLabel(self)
        self._countdown_label.setObjectName("countdownLabel")
        self._countdown_label.setAccessibleName(self.tr("Time left"))
        self._error = QLabel(self)
        self._error.setObjectName("toastErrorLabel")
        self._error.setWordWrap(True)
        self._error.setStyleSheet(ERROR_STYLE)
        self._error.hide()

        self.accept_button = QPushButton(self.tr("Connect"), self)
        self.accept_button.setObjectName("acceptButton")
        self.accept_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.accept_button.clicked.connect(self._accept)
        self.reject_button = QPushButton(self.tr("Reject"), self)
        self.reject_button.setObjectName("rejectButton")
        self.reject_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.reject_button.clicked.connect(self._reject)

        head = QHBoxLayout()
        head.addWidget(self._title, 1)
        head.addWidget(self._countdown_label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.reject_button)
        buttons.addWidget(self.accept_button)
        box = QVBoxLayout(self)
        box.setContentsMargins(14, 12, 14, 12)
        box.addLayout(head)
        box.addWidget(self._id)
        box.addWidget(self._offer)
        box.addWidget(self._error)
        box.addSpacing(4)
        box.addLayout(buttons)

        self._countdown = Countdown(clock, view.seconds_left, parent=self)
        self._countdown.changed.connect(self._countdown_label.setText)
        self._countdown.expired.connect(self._on_expired)
        self._fill(view)

    def view(self) -> InvitationView:
        return self._view

    def invitation_id(self) -> str:
        return self._view.invitation_id

    def countdown(self) -> Countdown:
        return self._countdown

    def update_view(self, view: InvitationView) -> None:
        """Show a newer revision in place (the inviter edited the invitation)."""
        self._view = view
        self._countdown.reset(view.seconds_left)
        self._fill(view)

    def _fill(self, view: InvitationView) -> None:
        alias = sanitize_display(view.peer_alias)
        name = alias or view.peer_id.grouped()
        self._title.setText(
            self.tr("{alias} invites you").format(alias=alias)
            if alias
            else self.tr("A device without alias invites you")
        )
        self._id.setText(self.tr("ID {id}").format(id=view.peer_id.grouped()))
        self._offer.setText(self.offer_text(view.permissions))
        self._countdown_label.setText(self._countdown.text())
        self.setToolTip(
            self.tr("Invitation from {name} ({id})").format(name=name, id=view.peer_id.grouped())
        )
        self._fit()

    def offer_text(self, perms: frozenset[Permission]) -> str:
        """'Offers Default: View screen, …' (the profile's name when the permissions match
        one), broken into lines that fit the toast with no lone word on a line."""
        profile = matching_profile(perms, self._facade.profiles())
        head = (
            self.tr("Offers {profile}:").format(profile=profile_label(profile))
            if profile
            else self.tr("Offers:")
        )
        items = permission_items(perms)
        units = [head, *(f"{item}," for item in items[:-1]), items[-1]]
        self.ensurePolished()
        margins = self.layout().contentsMargins()
        width = TOAST_WIDTH - margins.left() - margins.right() - 2 * self.frameWidth()
        metrics = self._offer.fontMetrics()
        return "\n".join(balanced_lines(units, width, metrics.horizontalAdvance))

    def show_error(self, message: str) -> None:
        self._error.setText(message)
        self._error.show()
        self._fit()

    def _fit(self) -> None:
        # Wrapped labels need the width to know their height; the stack needs the height
        # before the toast is shown, to place it.
        self.ensurePolished()
        layout = self.layout()
        height = (
            layout.totalHeightForWidth(TOAST_WIDTH)
            if layout.hasHeightForWidth()
            else layout.totalSizeHint().height()
        )
        if height != self.height() or self.minimumHeight() != height:
            self.setFixedHeight(height)
            self.resized.emit()

    @asyncSlot()
    async def _accept(self) -> None:
        await self._answer(self._facade.accept(self._view.invitation_id))

    @asyncSlot()
    async def _reject(self) -> None:
        await self._answer(self._facade.reject(self._view.invitation_id))

    async def _answer(self, answering: Awaitable[object]) -> None:
        """Wait for the client's answer: close on success, show the refusal otherwise."""
        self._set_busy(True)
        try:
            await answering
        except ActionRefused as e:
            if not self._closed:
                self.show_error(str(e))
                self._set_busy(False)
            return
        if not self._closed:
            self.close()

    def _set_busy(self, busy: bool) -> None:
        self.accept_button.setEnabled(not busy)
        self.reject_button.setEnabled(not busy)

    def _on_expired(self) -> None:
        # Our own clock decides, even if the inviter has vanished and says nothing.
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        # A Connect or Reject still awaiting the client checks _closed before touching
        # the widget: the answer may arrive after the toast was closed and deleted.
        self._countdown.stop()
        if not self._closed:
            self._closed = True
            self.finished.emit(self._view.invitation_id)
        super().closeEvent(event)


class ToastStack(QObject):
    """The toasts on screen, keyed by invitation id, stacked upward from the bottom-right.

    Shows a toast for each incoming invitation, updates it in place when a new revision
    arrives, closes it when the invitation is no longer open and closes the gap it leaves.
    """

    def __init__(
        self,
        facade: ClientFacade,
        clock: Callable[[], float] = time.monotonic,
        available: Callable[[], QRect] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("toastStack")
        self._facade = facade
        self._clock = clock
        self._available = available or _primary_available
        self._toasts: dict[str, InvitationToast] = {}
        facade.invitation_received.connect(self.show_invitation)
        facade.invitations_changed.connect(self._on_invitations_changed)

    def detach(self) -> None:
        """Stop following the client and close every toast (the app is shutting down)."""
        self._facade.invitation_received.disconnect(self.show_invitation)
        self._facade.invitations_changed.disconnect(self._on_invitations_changed)
        for toast in list(self._toasts.values()):
            toast.close()

    def toasts(self) -> list[InvitationToast]:
        """From the lowest (oldest) to the highest."""
        return list(self._toasts.values())

    def toast(self, invitation_id: str) -> InvitationToast | None:
        return self._toasts.get(invitation_id)

    def show_invitation(self, view: InvitationView) -> None:
        if view.kind is not Kind.INVITATION or view.direction is not Direction.INCOMING:
            return  # connection requests open the Accept Window instead
        existing = self._toasts.get(view.invitation_id)
        if existing is not None:
            if view.revision > existing.view().revision:
                existing.update_view(view)
            return
        if view.state not in _SHOWN_STATES:
            return
        toast = InvitationToast(self._facade, view, self._clock)
        toast.finished.connect(self._forget)
        toast.resized.connect(self.restack)
        self._toasts[view.invitation_id] = toast
        self.restack()
        toast.show()

    def refresh(self, views: list[InvitationView]) -> None:
        """Bring the toasts in line with the client's invitations."""
        by_id = {v.invitation_id: v for v in views}
        for inv_id, toast in list(self._toasts.items()):
            view = by_id.get(inv_id)
            if view is None or view.state not in _SHOWN_STATES:
                toast.close()
            elif view.revision != toast.view().revision:
                toast.update_view(view)

    def restack(self) -> None:
        toasts = list(self._toasts.values())
        places = stacked_positions(self._available(), [t.size() for t in toasts])
        for toast, place in zip(toasts, places, strict=True):
            toast.move(place)

    def _on_invitations_changed(self, view: InvitationView) -> None:
        """One invitation changed: close or update its toast, if it has one."""
        toast = self._toasts.get(view.invitation_id)
        if toast is None:
            return
        if view.state not in _SHOWN_STATES:
            toast.close()
        elif view.revision != toast.view().revision:
            toast.update_view(view)

    def _forget(self, invitation_id: str) -> None:
        if self._toasts.pop(invitation_id, None) is not None:
            self.restack()


def _primary_available() -> QRect:
    screen = QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, 800, 600)
