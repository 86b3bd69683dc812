"""The Settings dialog's part for discovery through the organisation's DNS (other subnets).

Server, domain and TSIG key as the user sets them; read-only, with the reason, when the
administrator's policy sets them or switches them off. The secret is typed here and handed
to the client, which keeps it in the keyring or a 0600 file, never in the database; an
empty field keeps the stored one.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QWidget

from anydesk_invite.core.policy import Policy
from anydesk_invite.core.wide_area import TSIG_ALGORITHMS, WideAreaSettings


class WideAreaGroup(QGroupBox):
    """Edits WideAreaSettings; ``chosen()`` and ``secret()`` give what was typed."""

    def __init__(
        self, chosen: WideAreaSettings, policy: Policy, status: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(self.tr("Other subnets (the organisation's DNS)"), parent)
        self.setObjectName("wideAreaGroup")
        self._chosen = chosen
        form = QFormLayout(self)
        shown = policy.wide_area if policy.wide_area is not None else chosen

        def line(name: str, text: str, accessible: str, placeholder: str) -> QLineEdit:
            edit = QLineEdit(text, self)
            edit.setObjectName(name)
            edit.setAccessibleName(accessible)
            edit.setPlaceholderText(placeholder)
            return edit

        self.server_edit = line(
            "wideAreaServerEdit", shown.server, self.tr("DNS server"), self.tr("e.g. 10.0.0.53")
        )
        form.addRow(self.tr("DNS &server:"), self.server_edit)
        self.domain_edit = line(
            "wideAreaDomainEdit",
            shown.domain,
            self.tr("Discovery domain"),
            self.tr("empty: learned from the search domain"),
        )
        form.addRow(self.tr("&Domain:"), self.domain_edit)
        self.key_edit = line(
            "wideAreaKeyEdit",
            shown.key_name,
            self.tr("TSIG key name"),
            self.tr("empty: browse only"),
        )
        form.addRow(self.tr("TSIG &key:"), self.key_edit)
        self.algorithm_combo = QComboBox(self)
        self.algorithm_combo.setObjectName("wideAreaAlgorithmCombo")
        self.algorithm_combo.setAccessibleName(self.tr("TSIG algorithm"))
        self.algorithm_combo.addItems(list(TSIG_ALGORITHMS))
        self.algorithm_combo.setCurrentText(shown.algorithm)
        form.addRow(self.tr("&Algorithm:"), self.algorithm_combo)
        self.secret_edit = line(
            "wideAreaSecretEdit",
            "",
            self.tr("TSIG secret"),
            self.tr("base64; empty keeps the stored secret"),
        )
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("S&ecret:"), self.secret_edit)
        self.status_label = QLabel(status, self)
        self.status_label.setObjectName("wideAreaStatusLabel")
        self.status_label.setAccessibleName(self.tr("DNS discovery status"))
        self.status_label.setWordWrap(True)
        form.addRow(self.tr("Now:"), self.status_label)
        self.lock_reason = QLabel(self)
        self.lock_reason.setObjectName("wideAreaLockReason")
        self.lock_reason.setWordWrap(True)
        reason = ""
        if policy.broken or not policy.wide_area_allowed:
            reason = self.tr("Switched off by your administrator's custom client settings")
        elif policy.wide_area is not None:
            reason = self.tr("Set by your administrator's custom client settings")
        self.lock_reason.setText(reason)
        self.lock_reason.setVisible(bool(reason))
        form.addRow(self.lock_reason)
        self.locked = bool(reason)
        for w in (
            self.server_edit,
            self.domain_edit,
            self.key_edit,
            self.algorithm_combo,
            self.secret_edit,
        ):
            w.setEnabled(not self.locked)

    def chosen(self) -> WideAreaSettings:
        """What the user set (unchecked: the client refuses bad values with a reason). While
        a policy decides, the user's own choice is kept beneath it unchanged."""
        if self.locked:
            return self._chosen
        return WideAreaSettings(
            domain=self.domain_edit.text().strip(),
            server=self.server_edit.text().strip(),
            key_name=self.key_edit.text().strip(),
            algorithm=self.algorithm_combo.currentText(),
            ttl=self._chosen.ttl,
            browse_interval=self._chosen.browse_interval,
        )

    def secret(self) -> str | None:
        """A newly typed secret, or None to keep the stored one."""
        text = self.secret_edit.text().strip()
        return text if text and not self.locked else None
