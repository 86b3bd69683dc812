"""The main window's status line (reachability, discovery, interfaces, where the key is) and
the warnings its banner shows. The texts belong to the main window, translated in its context.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel

from anydesk_invite.core.policy import DiscoveryMode
from anydesk_invite.services.facade import Status

_DISCOVERY_TEXT = {
    DiscoveryMode.ON: QT_TRANSLATE_NOOP("MainWindow", "Discovery on"),
    DiscoveryMode.HIDDEN: QT_TRANSLATE_NOOP("MainWindow", "Discovery hidden (browsing only)"),
    DiscoveryMode.OFF: QT_TRANSLATE_NOOP("MainWindow", "Discovery off"),
}


def status_text(status: Status) -> str:
    """The status line: reachability, discovery, interfaces, where the key is (warnings have
    their banner above the tabs, so they are said once)."""
    if status.online:
        where = ", ".join(status.listen_addresses) or QCoreApplication.translate(
            "MainWindow", "no address"
        )
        parts = [QCoreApplication.translate("MainWindow", "Online ({where})").format(where=where)]
    else:
        parts = [QCoreApplication.translate("MainWindow", "Offline")]
    parts.append(QCoreApplication.translate("MainWindow", _DISCOVERY_TEXT[status.discovery]))
    interfaces = ", ".join(status.interfaces) or QCoreApplication.translate("MainWindow", "none")
    parts.append(
        QCoreApplication.translate("MainWindow", "Interfaces: {list}").format(list=interfaces)
    )
    if status.wide_area != "off":
        parts.append(
            QCoreApplication.translate("MainWindow", "DNS: {state}").format(state=status.wide_area)
        )
    parts.append(
        QCoreApplication.translate("MainWindow", "Key in keyring")
        if status.key_location == "keyring"
        else QCoreApplication.translate("MainWindow", "Key in a file")
    )
    return " · ".join(parts)


def warnings(status: Status) -> list[str]:
    out = []
    if status.key_warning:
        out.append(status.key_warning)
    if status.policy_broken:
        out.append(
            QCoreApplication.translate(
                "MainWindow",
                "Custom client settings cannot be read; invitations and sessions are refused "
                "until they are fixed: {problem}",
            ).format(problem=status.policy_broken)
        )
    return out


class StatusLine(QLabel):
    """One line that never widens the window: where it does not fit it ends in “…”, and the
    whole text stays its text, tooltip and accessible description (the warnings in it are
    also in the banner above the panes)."""

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)
        self.setAccessibleDescription(text)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(
            rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown
        )
        painter.end()
