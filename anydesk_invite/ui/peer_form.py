"""Who is on the other side, as the Accept Window shows it before and during a session: alias,
ID, fingerprint and the verification code both sides see; and the window's error lines.

The texts belong to the Accept Window, so they are translated in its context.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from anydesk_invite.core.alias import sanitize_display
from anydesk_invite.core.ids import DeviceId, short_fingerprint, verification_code
from anydesk_invite.ui.styles import ERROR_STYLE


def error_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet(ERROR_STYLE)
    label.hide()
    return label


def peer_form(
    parent: QWidget,
    prefix: str,
    alias: str,
    device_id: DeviceId,
    fingerprint: bytes,
    own_fingerprint: bytes,
) -> QFormLayout:
    form = QFormLayout()
    name = QLabel(
        sanitize_display(alias) or QCoreApplication.translate("AcceptWindow", "(no alias)"), parent
    )
    name.setObjectName(f"{prefix}Label")
    name.setTextFormat(Qt.TextFormat.PlainText)
    name.setStyleSheet("font-weight: bold;")
    ident = QLabel(device_id.grouped(), parent)
    ident.setObjectName(f"{prefix}IdLabel")
    ident.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    fp = QLabel(short_fingerprint(fingerprint), parent)
    fp.setObjectName(f"{prefix}FingerprintLabel")
    fp.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    fp.setStyleSheet("font-family: monospace;")
    form.addRow(QCoreApplication.translate("AcceptWindow", "Alias:"), name)
    form.addRow(QCoreApplication.translate("AcceptWindow", "ID:"), ident)
    form.addRow(QCoreApplication.translate("AcceptWindow", "Fingerprint:"), fp)
    code = QLabel(verification_code(own_fingerprint, fingerprint), parent)
    code.setObjectName(f"{prefix}VerificationLabel")
    code.setAccessibleName(QCoreApplication.translate("AcceptWindow", "Verification code"))
    code.setToolTip(
        QCoreApplication.translate(
            "AcceptWindow",
            "The other side sees the same code for this connection. If it differs, someone is "
            "in between: end the session.",
        )
    )
    code.setStyleSheet("font-family: monospace; font-weight: bold;")
    form.addRow(QCoreApplication.translate("AcceptWindow", "Verification code:"), code)
    return form
