"""The Accept Window's first self: a connection request, who asks (with the fingerprint and the
verification code), what to grant, and Accept / Dismiss."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from anydesk_invite.core.alias import sanitize_display
from anydesk_invite.core.permissions import SCREEN_SHARING
from anydesk_invite.core.product import window_title
from anydesk_invite.services.facade import ActionRefused, ClientFacade
from anydesk_invite.services.views import InvitationView
from anydesk_invite.ui.peer_form import error_label, peer_form
from anydesk_invite.ui.permission_toggles import PermissionToggles
from anydesk_invite.ui.qt_loop import asyncSlot

FIRST_CONTACT_TEXT = QT_TRANSLATE_NOOP(
    "RequestPage",
    "First contact: this device has never connected before. Compare the fingerprint "
    "with its owner before you grant more than viewing.",
)
"""In English; the window shows it translated."""


class RequestPage(QWidget):
    """A connection request to accept or dismiss.

    Signals: accepted(SessionView) once the session runs; dismissed() once it is turned down.
    """

    accepted = Signal(object)
    dismissed = Signal()

    def __init__(
        self, facade: ClientFacade, request: InvitationView, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._facade = facade
        self._request = request
        name = sanitize_display(request.peer_alias) or request.peer_id.grouped()
        self.title = window_title(self.tr("Connection request from {name}").format(name=name))
        intro = QLabel(self.tr("{name} asks to connect to this device.").format(name=name), self)
        intro.setObjectName("requestIntroLabel")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        badge = QLabel(QCoreApplication.translate("RequestPage", FIRST_CONTACT_TEXT), self)
        badge.setObjectName("firstContactBadge")
        badge.setWordWrap(True)
        badge.setStyleSheet(
            "background: #fff4ce; color: #5c4400; border: 1px solid #e0c060;"
            " border-radius: 4px; padding: 6px;"
        )
        badge.setVisible(request.first_contact)
        self.first_contact_badge = badge

        profiles = self._facade.profiles()
        preset = (
            SCREEN_SHARING if request.first_contact else self._facade.settings().default_profile
        )
        perms = next((p.permissions for p in profiles if p.name == preset), frozenset())
        self.toggles = PermissionToggles(
            profiles, self._facade.policy(), perms, preset, parent=self
        )

        self.request_error = error_label(self, "requestErrorLabel")
        self.accept_button = QPushButton(self.tr("&Accept"), self)
        self.accept_button.setObjectName("acceptRequestButton")
        self.accept_button.setDefault(True)
        self.accept_button.clicked.connect(self._accept)
        self.dismiss_button = QPushButton(self.tr("&Dismiss"), self)
        self.dismiss_button.setObjectName("dismissButton")
        self.dismiss_button.clicked.connect(self._dismiss)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.dismiss_button)
        buttons.addWidget(self.accept_button)
        QWidget.setTabOrder(self.dismiss_button, self.accept_button)  # as they are seen

        box = QVBoxLayout(self)
        box.addWidget(intro)
        box.addLayout(
            peer_form(
                self,
                "requester",
                request.peer_alias,
                request.peer_id,
                request.peer_fingerprint,
                self._facade.status().fingerprint,
            )
        )
        box.addWidget(badge)
        box.addWidget(self.toggles)
        box.addWidget(self.request_error)
        box.addStretch(1)
        box.addLayout(buttons)

    @asyncSlot()
    async def _accept(self) -> None:
        self.set_busy(True)
        try:
            session = await self._facade.accept(
                self._request.invitation_id, self.toggles.effective(), self.toggles.profile_name()
            )
        except ActionRefused as e:
            self.request_error.setText(str(e))
            self.request_error.show()
            self.set_busy(False)
            return
        self.accepted.emit(session)

    @asyncSlot()
    async def _dismiss(self) -> None:
        self.set_busy(True)
        try:
            await self._facade.reject(self._request.invitation_id)
        except ActionRefused as e:
            self.request_error.setText(str(e))
            self.request_error.show()
            self.set_busy(False)
            return
        self.dismissed.emit()

    def set_busy(self, busy: bool) -> None:
        self.accept_button.setEnabled(not busy)
        self.dismiss_button.setEnabled(not busy)
