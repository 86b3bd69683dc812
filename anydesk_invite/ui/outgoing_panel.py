"""The inviter's list of sent invitations: time left, Edit and Cancel, and how each ended."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from anydesk_invite.core.alias import sanitize_display
from anydesk_invite.core.invitation import Kind, State
from anydesk_invite.services.facade import ActionRefused, ClientFacade
from anydesk_invite.services.views import Direction, InvitationView
from anydesk_invite.ui.countdown import TICK_MS, Countdown
from anydesk_invite.ui.i18n import profile_label
from anydesk_invite.ui.invite_dialog import InviteDialog
from anydesk_invite.ui.qt_loop import asyncSlot

FINAL_LINGER = 8.0
"""Seconds a finished invitation stays listed so the inviter can read how it ended."""

RESENDABLE = frozenset({State.EXPIRED, State.CANCELLED, State.REJECTED})
"""How an invitation can end and still be worth sending again as it was."""

PANEL_WIDTH_CHARS = 46
"""The panel's width in average characters: the same whatever its rows say."""

STATE_WORDS = {
    State.ACCEPTED: QT_TRANSLATE_NOOP("OutgoingRow", "Accepted, connecting…"),
    State.CONNECTED: QT_TRANSLATE_NOOP("OutgoingRow", "Connected"),
    State.REJECTED: QT_TRANSLATE_NOOP("OutgoingRow", "Rejected"),
    State.CANCELLED: QT_TRANSLATE_NOOP("OutgoingRow", "Cancelled"),
    State.EXPIRED: QT_TRANSLATE_NOOP("OutgoingRow", "Expired without an answer"),
    State.FAILED: QT_TRANSLATE_NOOP("OutgoingRow", "Failed"),
}
"""In English; state_words gives them in the UI's language."""


def state_words(view: InvitationView) -> str:
    """How an invitation ended (or where it stands), in the UI's language."""
    if view.state is State.FAILED and view.reason:
        # The reason comes from the client in English.
        return QCoreApplication.translate("OutgoingRow", "Failed: {reason}").format(
            reason=view.reason
        )
    words = STATE_WORDS.get(view.state, "")
    return QCoreApplication.translate("OutgoingRow", words) if words else ""


class OutgoingRow(QFrame):
    """One sent invitation.

    Signals: edit_requested(str), cancel_requested(str), resend_requested(str) with the
    invitation id.
    """

    edit_requested = Signal(str)
    cancel_requested = Signal(str)
    resend_requested = Signal(str)

    def __init__(
        self, view: InvitationView, clock: Callable[[], float], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName(f"outgoing_{view.invitation_id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._view = view
        self.name_label = QLabel(self)
        self.name_label.setObjectName("inviteeLabel")
        self.profile_label = QLabel(self)
        self.profile_label.setObjectName("profileLabel")
        self.countdown_label = QLabel(self)
        self.countdown_label.setObjectName("countdownLabel")
        self.countdown_label.setAccessibleName(self.tr("Time left"))
        self.state_label = QLabel(self)
        self.state_label.setObjectName("stateLabel")
        self.state_label.setWordWrap(True)
        self.edit_button = QPushButton(self.tr("Edit"), self)
        self.edit_button.setObjectName("editButton")
        self.edit_button.clicked.connect(lambda: self.edit_requested.emit(self._view.invitation_id))
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setToolTip(self.tr("Withdraw this invitation"))
        self.cancel_button.clicked.connect(
            lambda: self.cancel_requested.emit(self._view.invitation_id)
        )

        self.resend_button = QPushButton(self.tr("Resend"), self)
        self.resend_button.setObjectName("resendButton")
        self.resend_button.setToolTip(self.tr("Send it again with the same permissions"))
        self.resend_button.clicked.connect(
            lambda: self.resend_requested.emit(self._view.invitation_id)
        )

        text = QVBoxLayout()
        text.addWidget(self.name_label)
        text.addWidget(self.profile_label)
        text.addWidget(self.state_label)
        # The buttons under the text, so a long name never squeezes them (the panel's width
        # does not follow its rows).
        top = QHBoxLayout()
        top.addLayout(text, 1)
        top.addWidget(self.countdown_label, 0, Qt.AlignmentFlag.AlignTop)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.resend_button)
        row = QVBoxLayout(self)
        row.addLayout(top)
        row.addLayout(buttons)

        self._countdown = Countdown(clock, view.seconds_left, parent=self)
        self._countdown.changed.connect(self.countdown_label.setText)
        self.show_view(view)

    def view(self) -> InvitationView:
        return self._view

    def show_view(self, view: InvitationView) -> None:
        changed = view.revision != self._view.revision or view.state != self._view.state
        self._view = view
        name = sanitize_display(view.peer_alias)
        grouped = view.peer_id.grouped()
        self.name_label.setText(f"{name} ({grouped})" if name else grouped)
        if view.kind is Kind.REQUEST:
            self.profile_label.setText(self.tr("Connection request"))
        else:
            self.profile_label.setText(
                self.tr("Profile: {name}").format(
                    name=profile_label(view.profile) if view.profile else self.tr("Custom")
                )
            )
        pending = view.state is State.PENDING
        if changed:
            self._countdown.reset(view.seconds_left)
        if not pending:
            self._countdown.stop()
        self.countdown_label.setText(self._countdown.text())
        self.countdown_label.setVisible(pending)
        self.edit_button.setVisible(pending and view.kind is Kind.INVITATION)
        self.cancel_button.setVisible(pending)
        self.resend_button.setVisible(view.state in RESENDABLE)
        self.state_label.setText(state_words(view))
        self.state_label.setVisible(not pending)

    def show_error(self, message: str) -> None:
        self.state_label.setText(message)
        self.state_label.setVisible(True)


class OutgoingInvitationsPanel(QWidget):
    """Every invitation this device sent and has not yet forgotten, newest last."""

    def __init__(
        self,
        facade: ClientFacade,
        clock: Callable[[], float] = time.monotonic,
        linger: float = FINAL_LINGER,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("outgoingInvitationsView")
        self.setFixedWidth(self.fontMetrics().averageCharWidth() * PANEL_WIDTH_CHARS)
        self._facade = facade
        self._clock = clock
        self._linger = linger
        self._rows: dict[str, OutgoingRow] = {}
        self._final_since: dict[str, float] = {}
        self._forgotten: set[str] = set()
        self._edit_dialog: InviteDialog | None = None

        self._empty = QLabel(self.tr("No invitations sent."), self)
        self._empty.setObjectName("noOutgoingLabel")
        self._box = QVBoxLayout(self)
        self._box.addWidget(self._empty)
        self._box.addStretch(1)

        self._prune_timer = QTimer(self)
        self._prune_timer.setObjectName("outgoingPruneTimer")
        self._prune_timer.setInterval(TICK_MS)
        self._prune_timer.timeout.connect(self.prune)
        self._prune_timer.start()

        slot = self._on_changed
        facade.invitations_changed.connect(slot)
        self.destroyed.connect(lambda: facade.invitations_changed.disconnect(slot))
        self.refresh()

    def row(self, invitation_id: str) -> OutgoingRow | None:
        return self._rows.get(invitation_id)

    def rows(self) -> list[OutgoingRow]:
        return list(self._rows.values())

    def refresh(self) -> None:
        """Bring every row in line with the client's invitations."""
        now = self._clock()
        for view in self._facade.invitations():
            self._show(view, now)
        self._empty.setVisible(not self._rows)

    def _show(self, view: InvitationView, now: float) -> None:
        """Add, or bring up to date, the row of one invitation sent from here."""
        if view.direction is not Direction.OUTGOING:
            return
        inv_id = view.invitation_id
        if inv_id in self._forgotten:
            return
        row = self._rows.get(inv_id)
        if row is None:
            if view.state.final:
                return  # it ended before we saw it: nothing to tell
            row = OutgoingRow(view, self._clock, self)
            row.edit_requested.connect(self.edit)
            row.cancel_requested.connect(self._cancel)
            row.resend_requested.connect(self._resend)
            self._rows[inv_id] = row
            self._box.insertWidget(self._box.count() - 1, row)
        else:
            row.show_view(view)
        if view.state.final:
            self._final_since.setdefault(inv_id, now)

    def prune(self) -> None:
        """Drop finished invitations once they have been shown for a while."""
        now = self._clock()
        for inv_id, since in list(self._final_since.items()):
            if now - since >= self._linger:
                del self._final_since[inv_id]
                self._forgotten.add(inv_id)
                row = self._rows.pop(inv_id, None)
                if row is not None:
                    row.hide()
                    row.deleteLater()
        self._empty.setVisible(not self._rows)

    def edit(self, invitation_id: str) -> InviteDialog | None:
        """Open the invitation for editing (profile and permissions, not the invitee)."""
        row = self._rows.get(invitation_id)
        if row is None:
            return None
        if self._edit_dialog is not None:
            self._edit_dialog.close()
        dialog = InviteDialog.for_edit(self._facade, row.view(), parent=self)
        self._edit_dialog = dialog
        dialog.finished.connect(lambda _: self._forget_dialog(dialog))
        dialog.show()
        return dialog

    def edit_dialog(self) -> InviteDialog | None:
        return self._edit_dialog

    def _forget_dialog(self, dialog: InviteDialog) -> None:
        if self._edit_dialog is dialog:
            self._edit_dialog = None
        dialog.deleteLater()

    def _on_changed(self, view: InvitationView) -> None:
        """One invitation changed: update its row alone."""
        self._show(view, self._clock())
        self._empty.setVisible(not self._rows)

    def _forget(self, invitation_id: str) -> None:
        self._final_since.pop(invitation_id, None)
        self._forgotten.add(invitation_id)
        row = self._rows.pop(invitation_id, None)
        if row is not None:
            row.hide()
            row.deleteLater()
        self._empty.setVisible(not self._rows)

    @asyncSlot(str)
    async def _resend(self, invitation_id: str) -> None:
        """The same invitation (or connection request) again, to the same device; the new one
        takes the old row's place."""
        row = self._rows.get(invitation_id)
        if row is None:
            return
        view = row.view()
        row.resend_button.setEnabled(False)
        try:
            if view.kind is Kind.REQUEST:
                await self._facade.connect(view.peer_id.digits)
            else:
                await self._facade.invite(view.peer_id.digits, view.permissions, view.profile)
        except ActionRefused as e:
            row.resend_button.setEnabled(True)
            row.show_error(str(e))
            return
        self._forget(invitation_id)

    @asyncSlot(str)
    async def _cancel(self, invitation_id: str) -> None:
        try:
            await self._facade.cancel_invitation(invitation_id)
        except ActionRefused as e:
            row = self._rows.get(invitation_id)
            if row is not None:
                row.show_error(str(e))
