"""The pieces the settings dialog is built of: labels for locked and wrong choices, the
choices the administrator's policy narrows, and a scroll area that asks for all its room.

Their texts belong to the dialog, so they are translated in its context.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QSize, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from anydesk_invite.core.policy import AcceptFrom, DiscoveryMode, Policy
from anydesk_invite.services.facade import Status
from anydesk_invite.ui.icons import icon
from anydesk_invite.ui.styles import ERROR_STYLE


def key_location_text(status: Status) -> str:
    """Where this device's private key is kept, in words."""
    if status.key_location == "keyring":
        return QCoreApplication.translate("SettingsDialog", "In the system keyring")
    return QCoreApplication.translate(
        "SettingsDialog", "In a file in the home folder ({home})"
    ).format(home=status.home)


def lock_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setAccessibleName(
        QCoreApplication.translate("SettingsDialog", "Locked by your administrator")
    )
    label.setPixmap(icon("lock").pixmap(QSize(16, 16)))
    label.hide()
    return label


def reason_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setAccessibleName(QCoreApplication.translate("SettingsDialog", "Why this is locked"))
    label.setWordWrap(True)
    label.setStyleSheet("color: #555555;")
    label.hide()
    return label


def error_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setAccessibleName(QCoreApplication.translate("SettingsDialog", "Error"))
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet(ERROR_STYLE)
    label.hide()
    return label


def choose_folder_dialog(parent: QWidget, start: str) -> str | None:
    folder = QFileDialog.getExistingDirectory(
        parent, QCoreApplication.translate("SettingsDialog", "Folder for received files"), start
    )
    return folder or None


class FullSizeScrollArea(QScrollArea):
    """Asks for room for all of its content, and scrolls only when the screen is smaller."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def sizeHint(self) -> QSize:
        inner = self.widget()
        if inner is None:
            return super().sizeHint()
        hint = inner.sizeHint()
        bar = self.verticalScrollBar().sizeHint().width()
        return QSize(hint.width() + bar, hint.height())

    def minimumSizeHint(self) -> QSize:
        inner = self.widget()
        width = inner.minimumSizeHint().width() if inner is not None else 0
        return QSize(width + self.verticalScrollBar().sizeHint().width(), 120)


def locked_row(combo: QComboBox, lock: QLabel, reason: QLabel) -> QVBoxLayout:
    row = QHBoxLayout()
    row.addWidget(combo, 1)
    row.addWidget(lock)
    column = QVBoxLayout()
    column.setSpacing(2)
    column.addLayout(row)
    column.addWidget(reason)
    return column


def fill_levels(
    combo: QComboBox,
    texts: dict[AcceptFrom, str] | dict[DiscoveryMode, str],
    current: AcceptFrom | DiscoveryMode,
    loosest: AcceptFrom | DiscoveryMode,
) -> None:
    for level, text in texts.items():
        combo.addItem(QCoreApplication.translate("SettingsDialog", text), level)
    model = combo.model()
    for i, level in enumerate(texts):
        # Looser than the administrator allows: listed, so the user sees what exists,
        # but not selectable.
        if level < loosest:
            item = model.item(i)  # type: ignore[attr-defined]
            item.setEnabled(False)
    combo.setCurrentIndex(combo.findData(current))


def lock_levels(
    policy: Policy,
    combo: QComboBox,
    lock: QLabel,
    reason: QLabel,
    loosest: AcceptFrom | DiscoveryMode,
    texts: dict[AcceptFrom, str] | dict[DiscoveryMode, str],
) -> None:
    if policy.broken:
        why = QCoreApplication.translate(
            "SettingsDialog",
            "Your administrator's custom client settings cannot be read: {problem}",
        ).format(problem=policy.broken)
        combo.setEnabled(False)
    elif loosest > min(texts):
        allowed = QCoreApplication.translate("SettingsDialog", texts[loosest])  # type: ignore[index]
        why = QCoreApplication.translate(
            "SettingsDialog", "Your administrator's custom client settings allow at most: {level}"
        ).format(level=allowed)
        if loosest == max(texts):
            combo.setEnabled(False)
    else:
        return
    lock.setToolTip(why)
    lock.show()
    reason.setText(why)
    reason.show()
