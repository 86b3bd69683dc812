"""The guest's session window: the host's screen, the permissions granted, chat, End session."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from anydesk_invite.core.alias import sanitize_display
from anydesk_invite.core.ids import verification_code
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.product import window_title
from anydesk_invite.services.facade import (
    ActionRefused,
    ClientFacade,
    Pen,
    RemoteControl,
    RemoteScreen,
)
from anydesk_invite.services.views import Role, SessionView
from anydesk_invite.ui.countdown import format_duration
from anydesk_invite.ui.growing import schedule_grow
from anydesk_invite.ui.i18n import permission_label, permissions_text
from anydesk_invite.ui.qt_loop import asyncSlot
from anydesk_invite.ui.screen_view import ScreenView
from anydesk_invite.ui.transfer_panel import DropsToTransferPanel, TransferPanel, Transfers


class SessionWindow(DropsToTransferPanel, QWidget):
    """A session as the guest sees it.

    Signals: closed() when the window closed.
    """

    closed = Signal()

    def __init__(
        self,
        facade: ClientFacade,
        session: SessionView,
        send_chat: Callable[[str, str], object] | None = None,
        parent: QWidget | None = None,
        screen: RemoteScreen | None = None,
        transfers: Transfers | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("sessionWindow")
        self.setAcceptDrops(True)  # files dropped on it are sent to the host
        self._facade = facade
        self._session = session
        self._send_chat = send_chat
        self._ended = False
        self._ended_by_me = False
        self._wall_clock = wall_clock
        self.setWindowTitle(
            window_title(
                self.tr("Session with {name}").format(
                    name=sanitize_display(session.peer_alias) or session.peer_id.grouped()
                )
            )
        )

        self.screen_view = ScreenView(screen, self)
        self.screen_view.close_requested.connect(self.close)

        self.peer_label = QLabel(f"{session.peer_alias}  ·  {session.peer_id.grouped()}", self)
        self.peer_label.setObjectName("sessionPeerLabel")
        own = facade.status().fingerprint
        self.verification_label = QLabel(
            self.tr("Verification code: {code}").format(
                code=verification_code(own, session.peer_fingerprint)
            ),
            self,
        )
        self.verification_label.setObjectName("sessionVerificationLabel")
        self.verification_label.setToolTip(
            self.tr(
                "The host sees the same code for this connection. If it differs, end the session."
            )
        )
        self.permissions_label = QLabel(self)
        self.permissions_label.setObjectName("sessionPermissionsLabel")
        self.permissions_label.setAccessibleName(self.tr("Granted permissions"))
        self.permissions_label.setWordWrap(True)
        self.state_label = QLabel(self)
        self.state_label.setObjectName("sessionStateLabel")
        self.permission_notice = QLabel(self)
        self.permission_notice.setObjectName("permissionNoticeLabel")
        self.permission_notice.setAccessibleName(self.tr("Permission changes"))
        self.permission_notice.setWordWrap(True)
        self.permission_notice.setStyleSheet("font-weight: bold;")
        self.permission_notice.hide()

        self.chat_view = QListWidget(self)
        self.chat_view.setObjectName("chatView")
        self.chat_view.setAccessibleName(self.tr("Chat"))
        # On a short screen the chat gives up its room first, not the controls around it.
        self.chat_view.setMinimumHeight(self.chat_view.fontMetrics().lineSpacing() * 2 + 8)
        self.chat_edit = QLineEdit(self)
        self.chat_edit.setObjectName("chatEdit")
        self.chat_edit.setAccessibleName(self.tr("Chat message"))
        self.chat_edit.setPlaceholderText(self.tr("Write a message and press Enter"))
        self.chat_edit.returnPressed.connect(self._chat)
        self.end_button = QPushButton(self.tr("End session"), self)
        self.end_button.setObjectName("endSessionButton")
        self.end_button.setAccessibleName(self.tr("End session"))
        self.end_button.clicked.connect(self._end)
        self.draw_button = QPushButton(self.tr("Draw"), self)
        self.draw_button.setObjectName("drawToolButton")
        self.draw_button.setAccessibleName(self.tr("Draw on the host's screen"))
        self.draw_button.setCheckable(True)
        self.draw_button.setEnabled(False)
        self.draw_button.toggled.connect(self._draw_toggled)
        self.clipboard_check = QCheckBox(self.tr("Send my clipboard to the host"), self)
        self.clipboard_check.setObjectName("sendClipboardCheck")
        self.clipboard_check.setAccessibleName(self.tr("Send my clipboard to the host"))
        self.clipboard_check.setToolTip(
            self.tr(
                "Off until you switch it on: what you copy stays on this computer. "
                "The host's clipboard reaches you while it grants the clipboard."
            )
        )
        self.clipboard_check.toggled.connect(self._clipboard_toggled)
        self.control_label = QLabel(self)
        self.control_label.setObjectName("controlStateLabel")
        self.control_label.setWordWrap(True)
        self._control: RemoteControl | None = None
        self._pen: Pen | None = None
        self.transfer_panel = (
            TransferPanel(transfers, session.session_id, Role.GUEST, parent=self)
            if transfers is not None
            else None
        )
        if self.transfer_panel is not None:
            self.transfer_panel.grown.connect(self._schedule_grow)

        side = QVBoxLayout()
        side.addWidget(self.peer_label)
        side.addWidget(self.verification_label)
        side.addWidget(self.permissions_label)
        side.addWidget(self.permission_notice)
        side.addWidget(self.state_label)
        side.addWidget(self.control_label)
        side.addWidget(self.draw_button)
        side.addWidget(self.clipboard_check)
        side.addWidget(self.chat_view, 1)
        side.addWidget(self.chat_edit)
        if self.transfer_panel is not None:
            side.addWidget(self.transfer_panel)
        side.addWidget(self.end_button)
        box = QHBoxLayout(self)
        box.addWidget(self.screen_view, 3)
        box.addLayout(side, 1)
        # Tab goes down the side column as it is seen (the widgets were made in another order).
        # The transfer panel keeps its own order (its rows come and go).
        column: list[QWidget] = [self.draw_button, self.clipboard_check, self.chat_view]
        column += [self.chat_edit, self.end_button]
        for first, second in itertools.pairwise(column):
            QWidget.setTabOrder(first, second)
        self.show_session(session)
        facade.sessions_changed.connect(self._on_sessions_changed)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def session_id(self) -> str:
        return self._session.session_id

    def show_session(self, session: SessionView) -> None:
        if self._ended:
            return  # nothing of an ended session can be switched on again
        self._session = session
        self.permissions_label.setText(permissions_text(session.permissions))
        self._schedule_grow()
        granted = Permission.CLIPBOARD in session.permissions
        self.clipboard_check.setEnabled(granted)
        if not granted and self.clipboard_check.isChecked():
            # The host took the clipboard away; the client stopped sending already.
            self.clipboard_check.blockSignals(True)
            self.clipboard_check.setChecked(False)
            self.clipboard_check.blockSignals(False)
        self._show_remote()
        if self.transfer_panel is not None:
            self.transfer_panel.set_permissions(session.permissions)

    @asyncSlot(bool)
    async def _clipboard_toggled(self, on: bool) -> None:
        try:
            await self._facade.set_send_clipboard(self._session.session_id, on)
        except ActionRefused as exc:
            self.state_label.setText(str(exc))
            self.clipboard_check.blockSignals(True)
            self.clipboard_check.setChecked(not on)
            self.clipboard_check.blockSignals(False)

    def attach_remote(self, control: RemoteControl | None, pen: Pen | None) -> None:
        """Let the screen view control the host and draw on it, each while granted."""
        if self._control is not None:
            self._control.unavailable_changed.disconnect(self._on_unavailable)
        self._control, self._pen = control, pen
        if control is not None:
            control.unavailable_changed.connect(self._on_unavailable)
        self.screen_view.set_remote(control, pen)
        self._show_remote()

    def _on_unavailable(self, session_id: str) -> None:
        if session_id == self._session.session_id:
            self._show_remote()

    def _show_remote(self) -> None:
        if self._ended:
            return
        perms = self._session.permissions
        pen = self._pen
        draw_problem = pen.unavailable() if pen is not None else ""
        can_draw = pen is not None and Permission.DRAW in perms and not draw_problem
        self.draw_button.setEnabled(can_draw)
        self.draw_button.setToolTip(
            self.tr("Drawing is unavailable on this host: {problem}").format(problem=draw_problem)
            if draw_problem and Permission.DRAW in perms
            else ""
        )
        if not can_draw and self.draw_button.isChecked():
            self.draw_button.setChecked(False)
        control = self._control
        if control is None:
            text = ""
        elif Permission.CONTROL not in perms:
            text = self.tr("The host sees where you point.")
        elif control.unavailable():
            text = self.tr("Control is unavailable on this host: {problem}").format(
                problem=control.unavailable()
            )
        else:
            text = self.tr("You control the host's keyboard and mouse.")
        self.control_label.setText(text)
        self._schedule_grow()

    def _draw_toggled(self, on: bool) -> None:
        self.screen_view.draw_mode = on

    def add_chat(self, who: str, text: str) -> None:
        self.chat_view.addItem(f"{who}: {text}")
        self.chat_view.scrollToBottom()

    def _on_sessions_changed(self, current: SessionView) -> None:
        if current.session_id != self._session.session_id:
            return
        if current.ended:
            self._show_ended()
            return
        if not self._ended:
            self._tell_changes(self._session.permissions, current.permissions)
        self.show_session(current)

    def permission_changes(
        self, before: frozenset[Permission], after: frozenset[Permission]
    ) -> list[str]:
        """What the host switched on or off, one sentence each, in the permissions' order."""
        name = sanitize_display(self._session.peer_alias) or self._session.peer_id.grouped()
        lines = []
        for p in Permission:
            if p in before and p not in after:
                lines.append(
                    self.tr("{name} turned off “{permission}”.").format(
                        name=name, permission=permission_label(p)
                    )
                )
            elif p in after and p not in before:
                lines.append(
                    self.tr("{name} turned on “{permission}”.").format(
                        name=name, permission=permission_label(p)
                    )
                )
        return lines

    def _tell_changes(self, before: frozenset[Permission], after: frozenset[Permission]) -> None:
        lines = self.permission_changes(before, after)
        if not lines:
            return
        # The latest change is what the guest needs to read; the chat keeps the history.
        self.permission_notice.setText("\n".join(lines))
        self.permission_notice.show()
        self._schedule_grow()
        for line in lines:
            self.chat_view.addItem(line)
        self.chat_view.scrollToBottom()

    def ended_text(self) -> str:
        """Who ended the session (when this side knows it) and how long it lasted."""
        s = self._session
        name = sanitize_display(s.peer_alias) or s.peer_id.grouped()
        duration = format_duration(self._wall_clock() - s.started_at) if s.started_at else ""
        if self._ended_by_me:
            if duration:
                return self.tr("You ended the session with {name} after {duration}.").format(
                    name=name, duration=duration
                )
            return self.tr("You ended the session with {name}.").format(name=name)
        if duration:
            return self.tr("The session with {name} ended after {duration}.").format(
                name=name, duration=duration
            )
        return self.tr("The session with {name} has ended.").format(name=name)

    def _show_ended(self) -> None:
        if self._ended:
            return
        text = self.ended_text()
        # Every session control goes off; only Close is left.
        if self.draw_button.isChecked():
            self.draw_button.setChecked(False)
        if self.clipboard_check.isChecked():
            self.clipboard_check.blockSignals(True)
            self.clipboard_check.setChecked(False)
            self.clipboard_check.blockSignals(False)
        self._ended = True
        self.permission_notice.hide()
        self.state_label.setText(text)
        self.control_label.setText("")
        self._schedule_grow()
        for widget in (self.draw_button, self.clipboard_check, self.chat_edit):
            widget.setEnabled(False)
            widget.setToolTip("")
        if self.transfer_panel is not None:
            self.transfer_panel.set_permissions(frozenset())
            self.transfer_panel.send_button.setToolTip(self.tr("The session has ended."))
        self.end_button.clicked.disconnect()
        self.end_button.setText(self.tr("&Close"))
        self.end_button.setObjectName("closeSessionButton")
        self.end_button.setAccessibleName(self.tr("Close"))
        self.end_button.clicked.connect(self.close)
        self.end_button.setEnabled(True)
        self.screen_view.show_ended(text)

    @asyncSlot()
    async def _end(self) -> None:
        self.end_button.setEnabled(False)
        # The ended view can arrive before end_session returns: it is this side's doing.
        self._ended_by_me = True
        try:
            await self._facade.end_session(self._session.session_id)
        except ActionRefused as exc:
            self._ended_by_me = False
            self.state_label.setText(str(exc))
            self.end_button.setEnabled(True)
            return
        self._show_ended()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self._ended:
            self.close()
            return
        super().keyPressEvent(event)

    @asyncSlot()
    async def _chat(self) -> None:
        text = self.chat_edit.text().strip()
        if not text or self._send_chat is None:
            return
        self.chat_edit.clear()
        self.add_chat(self.tr("You"), text)
        result = self._send_chat(self._session.session_id, text)
        if asyncio.iscoroutine(result):
            try:
                await result
            except ActionRefused as exc:
                self.state_label.setText(str(exc))

    def _schedule_grow(self) -> None:
        """Grow once the layout has caught up, if a text that changed needs more room."""
        schedule_grow(self)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._facade.sessions_changed.disconnect(self._on_sessions_changed)
        if self._control is not None:
            self._control.unavailable_changed.disconnect(self._on_unavailable)
        self.screen_view.detach()
        if self.transfer_panel is not None:
            self.transfer_panel.detach()
        self.closed.emit()
        super().closeEvent(event)
