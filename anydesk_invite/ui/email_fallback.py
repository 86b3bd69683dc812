"""“Invite via email…”: open the mail program, or show the message to copy by hand.

The URL opener is injected (QDesktopServices.openUrl by default) because whether a mail
program exists is up to the desktop; when none opens, the user still gets the text.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QUrl
from PySide6.QtGui import QClipboard, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from anydesk_invite.core.email_invite import (
    SUBJECT,
    connect_link,
    invitation_text,
    mailto_url,
)
from anydesk_invite.services.facade import Status
from anydesk_invite.ui.dialogs import fit_contents

UrlOpener = Callable[[QUrl], bool]


class EmailFallbackDialog(QDialog):
    """The invitation text with buttons to copy it or just the connect link."""

    def __init__(
        self, message: str, link: str, clipboard: QClipboard, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("emailFallbackDialog")
        self.setWindowTitle(self.tr("Invite via email"))
        self._clipboard = clipboard
        self.link = link
        intro = QLabel(
            self.tr(
                "No mail program opened. Copy this message into an email or chat "
                "(subject: “{subject}”)."
            ).format(subject=SUBJECT)
        )
        intro.setObjectName("emailFallbackIntro")
        intro.setWordWrap(True)
        self.message_edit = QPlainTextEdit(message)
        self.message_edit.setObjectName("emailMessageText")
        self.message_edit.setAccessibleName(self.tr("Invitation message"))
        self.message_edit.setReadOnly(True)
        self.message_edit.setMinimumSize(520, 220)
        self.copy_message_button = QPushButton(self.tr("Copy message"))
        self.copy_message_button.setObjectName("copyMessageButton")
        self.copy_message_button.setAccessibleName(self.tr("Copy message"))
        self.copy_link_button = QPushButton(self.tr("Copy link"))
        self.copy_link_button.setObjectName("copyLinkButton")
        self.copy_link_button.setAccessibleName(self.tr("Copy connect link"))
        self.copy_message_button.clicked.connect(
            lambda: self._clipboard.setText(self.message_edit.toPlainText())
        )
        self.copy_link_button.clicked.connect(lambda: self._clipboard.setText(self.link))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setObjectName("emailFallbackCloseButton")
        close.setAccessibleName(self.tr("Close"))
        buttons.addButton(self.copy_message_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copy_link_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.message_edit)
        layout.addWidget(buttons)
        fit_contents(self)
        # The button box lays Close out last but made it first: Tab goes as they are seen.
        QWidget.setTabOrder(self.message_edit, self.copy_message_button)
        QWidget.setTabOrder(self.copy_message_button, self.copy_link_button)
        QWidget.setTabOrder(self.copy_link_button, close)


class EmailInvite:
    """Sends the email invitation for this device through the desktop's mail program."""

    def __init__(
        self,
        project_url: str,
        parent: QWidget | None = None,
        opener: UrlOpener = QDesktopServices.openUrl,
        clipboard: QClipboard | None = None,
    ) -> None:
        self._project_url = project_url
        self._parent = parent
        self._opener = opener
        self._clipboard = clipboard
        self.dialog: EmailFallbackDialog | None = None

    def send(self, status: Status) -> bool:
        """Open the mail program; True when it opened, else the fallback dialog is shown."""
        url = mailto_url(status.device_id, status.alias, status.fingerprint, self._project_url)
        if self._opener(QUrl(url, QUrl.ParsingMode.StrictMode)):
            return True
        text = invitation_text(
            status.device_id, status.alias, status.fingerprint, self._project_url
        ).replace("\r\n", "\n")
        link = connect_link(status.device_id, status.fingerprint)
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = EmailFallbackDialog(
            text, link, self._clipboard or QGuiApplication.clipboard(), self._parent
        )
        self.dialog.open()
        return False
