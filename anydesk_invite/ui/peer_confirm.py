"""Confirming, in the window, a device known only from discovery before the first contact.

An alias announced on the network proves nothing: before the first invitation or connection
request to a device never connected, the user checks its ID and fingerprint with its owner and
confirms it here (or picks one when several devices announce the same alias). The channel then
pins the confirmed key, as after a first session.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from anydesk_invite.core.ids import short_fingerprint
from anydesk_invite.services.facade import Candidate
from anydesk_invite.ui.dialogs import fit_contents


def seen_text(last_seen: float | None, now: float) -> str:
    """When a device was last announced, as a person says it."""
    if last_seen is None:
        return QCoreApplication.translate("PeerConfirmation", "seen earlier")
    ago = max(0.0, now - last_seen)
    if ago < 60:
        return QCoreApplication.translate("PeerConfirmation", "seen just now")
    if ago < 3600:
        return QCoreApplication.translate("PeerConfirmation", "seen {n} min ago").format(
            n=int(ago // 60)
        )
    return QCoreApplication.translate("PeerConfirmation", "seen at {time}").format(
        time=time.strftime("%H:%M", time.localtime(last_seen))
    )


def candidate_text(c: Candidate, now: float) -> str:
    """One line: ID, short fingerprint, address, last seen."""
    return QCoreApplication.translate(
        "PeerConfirmation", "ID {id} · fingerprint {fp} · {address} · {seen}"
    ).format(
        id=c.device_id.grouped(),
        fp=short_fingerprint(c.fingerprint),
        address=c.address,
        seen=seen_text(c.last_seen, now),
    )


class PeerConfirmation(QFrame):
    """The device (or the devices) an alias may mean, and a button to confirm one.

    Signals: confirmed(Candidate) when the user confirms the one they mean.
    """

    confirmed = Signal(object)

    def __init__(
        self,
        shown: str,
        candidates: Sequence[Candidate],
        action: str,
        parent: QWidget | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("peerConfirmation")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._candidates = list(candidates)
        box = QVBoxLayout(self)
        self.question = QLabel(self)
        self.question.setObjectName("confirmPeerQuestion")
        self.question.setWordWrap(True)
        self.question.setTextFormat(Qt.TextFormat.PlainText)
        box.addWidget(self.question)
        self.details = QLabel(self)
        self.details.setObjectName("confirmPeerDetails")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.choices = QListWidget(self)
        self.choices.setObjectName("peerChoiceList")
        self.choices.setAccessibleName(self.tr("Devices with this alias"))
        self.confirm_button = QPushButton(action, self)
        self.confirm_button.setObjectName("confirmPeerButton")
        self.confirm_button.clicked.connect(self._confirm)
        stamp = now()
        if len(self._candidates) == 1:
            c = self._candidates[0]
            self.question.setText(
                self.tr(
                    "{alias} is on this network, but this device has never connected to it. "
                    "Check with its owner that their window shows this ID, then confirm:"
                ).format(alias=shown)
            )
            self.details.setText(candidate_text(c, stamp))
            box.addWidget(self.details)
            self.choices.hide()
        else:
            self.question.setText(
                self.tr(
                    "Several devices on this network call themselves {alias}. "
                    "Ask its owner for the ID their window shows and pick that one:"
                ).format(alias=shown)
            )
            for c in self._candidates:
                item = QListWidgetItem(candidate_text(c, stamp))
                self.choices.addItem(item)
            self.choices.setMinimumHeight(
                min(6, len(self._candidates)) * (self.choices.sizeHintForRow(0) + 2) + 6
            )
            self.choices.currentRowChanged.connect(self._update)
            self.choices.itemDoubleClicked.connect(lambda _item: self._confirm())
            box.addWidget(self.choices)
            self.details.hide()
        box.addWidget(self.confirm_button, 0, Qt.AlignmentFlag.AlignRight)
        self._update()

    def candidates(self) -> list[Candidate]:
        return list(self._candidates)

    def chosen(self) -> Candidate | None:
        if len(self._candidates) == 1:
            return self._candidates[0]
        row = self.choices.currentRow()
        return self._candidates[row] if 0 <= row < len(self._candidates) else None

    def _update(self) -> None:
        self.confirm_button.setEnabled(self.chosen() is not None)

    def _confirm(self) -> None:
        c = self.chosen()
        if c is not None:
            self.confirm_button.setEnabled(False)
            self.confirmed.emit(c)


class ConfirmPeerDialog(QDialog):
    """The confirmation on its own, for the Connect field of the main window."""

    def __init__(
        self, shown: str, candidates: Sequence[Candidate], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("confirmPeerDialog")
        self.setWindowTitle(self.tr("Confirm the device"))
        self.setMinimumWidth(480)
        self.panel = PeerConfirmation(shown, candidates, self.tr("Confirm and &connect"), self)
        self.panel.confirmed.connect(lambda _c: self.accept())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(self.panel)
        box.addWidget(buttons)
        fit_contents(self)
