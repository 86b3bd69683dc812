"""The dialog that invites a peer by ID or alias, or edits a pending invitation."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from anydesk_invite.core.alias import AliasError, parse_alias
from anydesk_invite.core.email_invite import (
    LINK_SCHEME,
    ConnectLinkError,
    parse_connect_link,
)
from anydesk_invite.core.ids import IdError, looks_like_id, parse_id
from anydesk_invite.core.invitation import Kind, State
from anydesk_invite.services.facade import (
    ActionRefused,
    Candidate,
    ClientFacade,
    RefusedWithKind,
)
from anydesk_invite.services.views import Direction, InvitationView
from anydesk_invite.ui.dialogs import fit_contents
from anydesk_invite.ui.peer_confirm import PeerConfirmation
from anydesk_invite.ui.permission_toggles import PermissionToggles
from anydesk_invite.ui.qt_loop import asyncSlot
from anydesk_invite.ui.styles import ERROR_STYLE


def link_target(text: str) -> str | None:
    """The grouped ID a pasted connect link names (None when the text is no such link)."""
    if not text.strip().lower().startswith(LINK_SCHEME + ":"):
        return None
    try:
        device_id, _fingerprint = parse_connect_link(text)
    except ConnectLinkError:
        return None
    return device_id.grouped()


def target_problem(text: str) -> str | None:
    """Why the text names no peer, in a sentence; None when it is a well-formed ID or alias."""
    if text.strip().lower().startswith(LINK_SCHEME + ":"):
        try:
            parse_connect_link(text)
        except ConnectLinkError as e:
            msg = str(e)
            return msg[:1].upper() + msg[1:] + "."
        return None
    if not text.strip():
        return QCoreApplication.translate("InviteDialog", "Enter an ID or an alias (name@ad).")
    try:
        if looks_like_id(text):
            parse_id(text)
        else:
            parse_alias(text)
    except (IdError, AliasError) as e:
        msg = str(e)
        return msg[:1].upper() + msg[1:] + "."
    return None


def normalized_target(text: str) -> str:
    """The ID as plain digits or the alias as ``name@ad``; the text must be valid."""
    if looks_like_id(text):
        return parse_id(text).digits
    return str(parse_alias(text))


def completions(facade: ClientFacade) -> list[str]:
    """Aliases and grouped IDs of every known peer, for the target field's completer."""
    out: list[str] = []
    for peer in facade.peers():
        if peer.alias:
            out.append(peer.alias)
        out.append(peer.device_id.grouped())
    return sorted(set(out), key=str.casefold)


class InviteDialog(QDialog):
    """Invite a peer (new mode) or change what a pending invitation offers (edit mode).

    Signals: done_with(InvitationView) after the client sent or saved the invitation.
    """

    done_with = Signal(object)

    def __init__(
        self,
        facade: ClientFacade,
        target: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("inviteDialog")
        self.setWindowTitle(self.tr("Invite to a session"))
        self.setMinimumWidth(420)
        self._facade = facade
        self._editing: InvitationView | None = None
        self._pending: InvitationView | None = None
        self.confirmation: PeerConfirmation | None = None
        """Shown when the invitee is known only from discovery and must be confirmed."""

        self.target_edit = QLineEdit(self)
        self.target_edit.setObjectName("inviteTargetEdit")
        self.target_edit.setPlaceholderText(self.tr("ID (1 234 567 890) or alias (name@ad)"))
        self.target_edit.setClearButtonEnabled(True)
        completer = QCompleter(completions(facade), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.target_edit.setCompleter(completer)
        self.target_edit.textChanged.connect(self._validate)

        self.error_label = QLabel(self)
        self.error_label.setObjectName("inviteErrorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.hide()

        policy = facade.policy()
        default = facade.settings().default_profile
        profiles = facade.profiles()
        base = next((p.permissions for p in profiles if p.name == default), frozenset())
        start = policy.defaults(base)
        self.toggles = PermissionToggles(profiles, policy, start, default, parent=self)

        self.edit_pending_button = QPushButton(self.tr("Edit the pending invitation"), self)
        self.edit_pending_button.setObjectName("editPendingButton")
        self.edit_pending_button.hide()
        self.edit_pending_button.clicked.connect(self._open_pending)

        self._buttons = QDialogButtonBox(self)
        self.send_button = self._buttons.addButton(
            self.tr("&Send invitation"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.send_button.setObjectName("sendInviteButton")
        self.send_button.setDefault(True)
        self._buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self._buttons.accepted.connect(self._submit)
        self._buttons.rejected.connect(self.reject)

        self._target_label = QLabel(self.tr("&Invitee:"), self)
        self._target_label.setBuddy(self.target_edit)
        form = QFormLayout()
        form.addRow(self._target_label, self.target_edit)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(self.error_label)
        box.addWidget(self.edit_pending_button)
        self._confirm_slot = QVBoxLayout()
        box.addLayout(self._confirm_slot)
        box.addWidget(self.toggles)
        box.addStretch(1)
        box.addWidget(self._buttons)
        fit_contents(self)

        if looks_like_id(target) and target_problem(target) is None:
            target = parse_id(target).grouped()  # as the ID is shown everywhere else
        self.target_edit.setText(target)
        self._validate()

    @classmethod
    def for_edit(
        cls, facade: ClientFacade, invitation: InvitationView, parent: QWidget | None = None
    ) -> InviteDialog:
        """The dialog for changing a pending invitation; its invitee cannot be changed."""
        dialog = cls(facade, parent=parent)
        dialog._enter_edit(invitation)
        return dialog

    def editing(self) -> InvitationView | None:
        return self._editing

    # -- validation ---------------------------------------------------------------

    def _validate(self) -> None:
        if self._editing is not None:
            self.send_button.setEnabled(True)
            return
        text = self.target_edit.text()
        linked = link_target(text)
        if linked is not None:
            # A pasted connect link invites the device it names.
            self.target_edit.setText(linked)
            return
        problem = target_problem(text)
        self.edit_pending_button.hide()
        self._drop_confirmation()
        # An empty field is not an error yet, only a reason Send is off.
        self._show_error(problem if text.strip() else None)
        self.send_button.setEnabled(problem is None)

    def _show_error(self, message: str | None) -> None:
        was = self.error_label.isVisible()
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))
        if was and not message and self.isVisible():
            self.adjustSize()  # no gap where the error was

    # -- actions ------------------------------------------------------------------

    def _submit(self) -> None:
        if self.send_button.isEnabled():
            self._send()

    def _drop_confirmation(self) -> None:
        if self.confirmation is not None:
            self.confirmation.hide()
            self.confirmation.deleteLater()
            self.confirmation = None
            self.adjustSize()

    def _ask_confirmation(self, candidates: tuple[Candidate, ...]) -> None:
        self._drop_confirmation()
        shown = normalized_target(self.target_edit.text())
        panel = PeerConfirmation(shown, candidates, self.tr("Confirm and s&end"), self)
        panel.confirmed.connect(self._send_confirmed)
        self._confirm_slot.addWidget(panel)
        self.confirmation = panel
        # The confirm button takes over from Send until the text changes.
        self.send_button.setEnabled(False)
        self.send_button.setDefault(False)
        panel.confirm_button.setDefault(True)
        panel.confirm_button.setFocus()

    def _send_confirmed(self, candidate: Candidate) -> None:
        self._send(candidate.fingerprint.hex())

    @asyncSlot()
    async def _send(self, confirm: str | None = None) -> None:
        perms = self.toggles.effective()
        profile = self.toggles.profile_name()
        self.send_button.setEnabled(False)
        try:
            if self._editing is not None:
                view = await self._facade.edit_invitation(
                    self._editing.invitation_id, perms, profile
                )
            else:
                target = normalized_target(self.target_edit.text())
                view = await self._facade.invite(target, perms, profile, confirm)
        except RefusedWithKind as e:
            if e.candidates and self._editing is None:
                self._show_error(None)
                self._ask_confirmation(e.candidates)
                return
            self._refused(e)
            return
        except ActionRefused as e:
            self._refused(e)
            return
        self.done_with.emit(view)
        self.accept()

    def _refused(self, e: ActionRefused) -> None:
        self._drop_confirmation()
        self._show_error(str(e))
        self.send_button.setEnabled(True)
        self.send_button.setDefault(True)
        if self._editing is None:
            self._offer_pending(self.target_edit.text())

    def _offer_pending(self, text: str) -> None:
        """After a refusal: if an invitation to this peer is pending, offer to edit it."""
        self._pending = pending_invitation_to(self._facade.invitations(), text)
        self.edit_pending_button.setVisible(self._pending is not None)

    def _open_pending(self) -> None:
        if self._pending is not None:
            self._enter_edit(self._pending)

    def _enter_edit(self, invitation: InvitationView) -> None:
        self._editing = invitation
        self.setWindowTitle(self.tr("Edit invitation"))
        name = invitation.peer_alias or invitation.peer_id.grouped()
        if invitation.peer_alias:
            name = f"{invitation.peer_alias} ({invitation.peer_id.grouped()})"
        self.target_edit.blockSignals(True)
        self.target_edit.setText(name)
        self.target_edit.blockSignals(False)
        self.target_edit.setReadOnly(True)
        self.target_edit.setClearButtonEnabled(False)
        self.target_edit.setToolTip(self.tr("The invitee of an invitation cannot be changed"))
        self.toggles.set_permissions(invitation.permissions, invitation.profile)
        self.send_button.setText(self.tr("&Save changes"))
        self.edit_pending_button.hide()
        self._show_error(None)
        self._validate()


def pending_invitation_to(views: list[InvitationView], text: str) -> InvitationView | None:
    """The pending outgoing invitation to the peer named by ID or alias, if there is one."""
    if target_problem(text) is not None:
        return None
    want_id = parse_id(text).digits if looks_like_id(text) else None
    want_alias = None if want_id else parse_alias(text).key()
    for view in views:
        if (
            view.direction is not Direction.OUTGOING
            or view.kind is not Kind.INVITATION
            or view.state is not State.PENDING
        ):
            continue
        if want_id is not None and view.peer_id.digits == want_id:
            return view
        if want_alias is not None and view.peer_alias:
            try:
                if parse_alias(view.peer_alias).key() == want_alias:
                    return view
            except AliasError:
                continue
    return None
