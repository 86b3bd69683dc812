"""The Accept Window: answer a connection request, then watch and steer the session (host)."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from anydesk_invite.core.alias import sanitize_display
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.product import window_title
from anydesk_invite.services.facade import ActionRefused, ClientFacade
from anydesk_invite.services.views import InvitationView, Role, SessionView
from anydesk_invite.ui.countdown import Stopwatch
from anydesk_invite.ui.growing import schedule_grow
from anydesk_invite.ui.peer_form import error_label, peer_form
from anydesk_invite.ui.permission_toggles import PermissionToggles
from anydesk_invite.ui.qt_loop import asyncSlot
from anydesk_invite.ui.request_page import RequestPage
from anydesk_invite.ui.transfer_panel import DropsToTransferPanel, TransferPanel, Transfers


class AcceptWindow(DropsToTransferPanel, QWidget):
    """A connection request to accept or dismiss; after accepting, the running session.

    As host, this side enforces the permissions, so a change here applies to the session at
    once; it changes this session only, never the saved profile.

    Signals: closed() when the window has been closed.
    """

    closed = Signal()

    def __init__(
        self,
        facade: ClientFacade,
        request: InvitationView | None = None,
        session: SessionView | None = None,
        wall_clock: Callable[[], float] = time.time,
        parent: QWidget | None = None,
        transfers: Transfers | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("acceptWindow")
        self.setAcceptDrops(True)  # files dropped on it are offered to the guest
        self.setMinimumWidth(440)
        self._facade = facade
        self._wall_clock = wall_clock
        self._transfers = transfers
        self.transfer_panel: TransferPanel | None = None
        self._request = request
        self._session: SessionView | None = None
        self._send_chat: Callable[[str, str], object] | None = None
        self.chat_edit: QLineEdit | None = None
        self._ended = False
        self._stack = QStackedWidget(self)
        box = QVBoxLayout(self)
        box.addWidget(self._stack)
        self.request_page = QWidget(self._stack)
        self.session_page = QWidget(self._stack)
        self._stack.addWidget(self.request_page)
        self._stack.addWidget(self.session_page)
        self.toggles: PermissionToggles | None = None
        self.session_toggles: PermissionToggles | None = None
        self._stopwatch: Stopwatch | None = None
        self._clear_drawings: Callable[[], Awaitable[None]] | None = None
        self._control_problem = ""
        self.clear_drawings_button: QPushButton | None = None
        self.control_problem_label: QLabel | None = None
        facade.sessions_changed.connect(self._on_sessions_changed)
        if request is not None:
            self._show_request(request)
        if session is not None:
            self.show_session(session)

    def _show_request(self, request: InvitationView) -> None:
        page = RequestPage(self._facade, request, self._stack)
        self._stack.removeWidget(self.request_page)
        self.request_page.deleteLater()
        self._stack.insertWidget(0, page)
        self.request_page = page
        self.setWindowTitle(page.title)
        self.toggles = page.toggles
        self.accept_button, self.dismiss_button = page.accept_button, page.dismiss_button
        self.request_error = page.request_error
        self.first_contact_badge = page.first_contact_badge
        page.accepted.connect(self._request_accepted)
        page.dismissed.connect(self.close)
        self._stack.setCurrentWidget(page)

    def _request_accepted(self, session: SessionView) -> None:
        if self._session is None or self._session.session_id != session.session_id:
            self.show_session(session)

    # -- the running session, host side -------------------------------------------------

    def session(self) -> SessionView | None:
        return self._session

    @property
    def request(self) -> InvitationView | None:
        """The connection request this window was opened for, if any."""
        return self._request

    def show_session(self, session: SessionView) -> None:
        """Switch to the session this window's request (or an invitation) opened."""
        self._session = session
        # A fresh page each time, so nothing of an earlier session lingers.
        old = self.session_page
        page = QWidget(self._stack)
        self._stack.addWidget(page)
        self._stack.removeWidget(old)
        old.deleteLater()
        self.session_page = page
        name = sanitize_display(session.peer_alias) or session.peer_id.grouped()
        self.setWindowTitle(window_title(self.tr("Session with {name}").format(name=name)))
        heading = QLabel(self.tr("{name} is connected to this device.").format(name=name), page)
        # Wayland: the desktop asks its own user before sharing; its dialog is the consent.
        self.desktop_asking = QLabel(
            self.tr("Your desktop is asking whether to share the screen: answer its dialog."), page
        )
        self.desktop_asking.setObjectName("desktopAsking")
        self.desktop_asking.setWordWrap(True)
        self.desktop_asking.setVisible(session.desktop_asking)
        heading.setObjectName("sessionHeadingLabel")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)
        self.state_label = QLabel(page)
        self.state_label.setObjectName("sessionStateLabel")
        self.state_label.hide()
        self.duration_label = QLabel(page)
        self.duration_label.setObjectName("durationLabel")
        self.duration_label.setAccessibleName(self.tr("Session duration"))
        self._stopwatch = Stopwatch(self._wall_clock, session.started_at, parent=page)
        self._stopwatch.changed.connect(self.duration_label.setText)
        self.duration_label.setText(self._stopwatch.text())

        self.session_toggles = PermissionToggles(
            self._facade.profiles(),
            self._facade.policy(),
            session.permissions,
            extra_locked=session.locked,
            parent=page,
        )
        self.session_toggles.changed.connect(self._apply_permissions)
        note = QLabel(self.tr("Changes apply to this session only."), page)
        note.setObjectName("sessionOnlyNote")
        note.setStyleSheet("color: #555555;")
        self.session_error = error_label(page, "sessionErrorLabel")

        self.chat_view = QPlainTextEdit(page)
        self.chat_view.setObjectName("chatView")
        self.chat_view.setReadOnly(True)
        self.chat_view.setPlaceholderText(self.tr("Chat messages appear here."))
        self.chat_view.setMaximumHeight(110)
        # On a short screen (1080p at 200 %) the chat gives up its room first, not the rows
        # above it: two lines are enough to see that a message came in.
        self.chat_view.setMinimumHeight(self.chat_view.fontMetrics().lineSpacing() * 2 + 8)
        self.chat_edit = QLineEdit(page)
        self.chat_edit.setObjectName("chatEdit")
        self.chat_edit.setAccessibleName(self.tr("Chat message"))
        self.chat_edit.returnPressed.connect(self._chat)
        self._enable_chat()

        self.end_button = QPushButton(self.tr("&End session"), page)
        self.end_button.setObjectName("endSessionButton")
        self.end_button.clicked.connect(self._end)

        form = peer_form(
            page,
            "guest",
            session.peer_alias,
            session.peer_id,
            session.peer_fingerprint,
            self._facade.status().fingerprint,
        )
        form.addRow(self.tr("Duration:"), self.duration_label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.clear_drawings_button = QPushButton(self.tr("&Clear drawings"), page)
        self.clear_drawings_button.setObjectName("clearDrawingsButton")
        self.clear_drawings_button.setAccessibleName(self.tr("Clear the guest's drawings"))
        self.clear_drawings_button.setVisible(self._clear_drawings is not None)
        self.clear_drawings_button.clicked.connect(self._clear)
        self.control_problem_label = QLabel(page)
        self.control_problem_label.setObjectName("controlUnavailableLabel")
        self.control_problem_label.setWordWrap(True)
        self.control_problem_label.setTextFormat(Qt.TextFormat.PlainText)
        self._show_control_problem()
        box_extra = self.control_problem_label
        buttons.addWidget(self.clear_drawings_button)
        buttons.addWidget(self.end_button)
        box = QVBoxLayout(page)
        box.addWidget(heading)
        box.addWidget(self.desktop_asking)
        box.addLayout(form)
        box.addWidget(self.state_label)
        box.addWidget(self.session_toggles)
        box.addWidget(box_extra)
        box.addWidget(note)
        box.addWidget(self.session_error)
        if self.transfer_panel is not None:
            self.transfer_panel.detach()
        if self._transfers is not None:
            self.transfer_panel = TransferPanel(
                self._transfers, session.session_id, Role.HOST, parent=page
            )
            self.transfer_panel.set_permissions(session.permissions)
            self.transfer_panel.grown.connect(self._schedule_grow)
            box.addWidget(self.transfer_panel)
        box.addWidget(self.chat_view)
        box.addWidget(self.chat_edit)
        box.addLayout(buttons)
        self._ended = False
        self._stack.setCurrentWidget(page)

    def set_chat_sender(self, send: Callable[[str, str], object]) -> None:
        """Let the host chat with the guest: ``send(session_id, text)``."""
        self._send_chat = send
        self._enable_chat()

    def _enable_chat(self) -> None:
        edit = self.chat_edit
        if edit is None:
            return
        usable = self._send_chat is not None
        edit.setEnabled(usable)
        edit.setPlaceholderText(
            self.tr("Write a message and press Enter")
            if usable
            else self.tr("Chat is not available")
        )

    def add_chat(self, who: str, text: str) -> None:
        self.chat_view.appendPlainText(f"{who}: {text}")

    @asyncSlot()
    async def _chat(self) -> None:
        edit, send = self.chat_edit, self._send_chat
        if edit is None or send is None or self._session is None:
            return
        text = edit.text().strip()
        if not text:
            return
        edit.clear()
        self.add_chat(self.tr("You"), text)
        result = send(self._session.session_id, text)
        if inspect.isawaitable(result):
            try:
                await result
            except ActionRefused as exc:
                self.session_error.setText(str(exc))
                self.session_error.show()

    def attach_drawing(self, clear: Callable[[], Awaitable[None]], control_problem: str) -> None:
        """Offer Clear drawings (calling ``clear``), and say why control cannot work here."""
        self._clear_drawings = clear
        self._control_problem = control_problem
        if self.clear_drawings_button is not None:
            self.clear_drawings_button.setVisible(True)
        self._show_control_problem()

    def _show_control_problem(self) -> None:
        label = self.control_problem_label
        if label is None:
            return
        if self._control_problem:
            label.setText(
                self.tr("Control of keyboard and mouse is unavailable here: {problem}").format(
                    problem=self._control_problem
                )
            )
        label.setVisible(bool(self._control_problem))

    @asyncSlot()
    async def _clear(self) -> None:
        if self._clear_drawings is not None:
            await self._clear_drawings()

    @asyncSlot()
    async def _apply_permissions(self) -> None:
        if self._session is None or self.session_toggles is None:
            return
        wanted = self.session_toggles.effective()
        try:
            session = await self._facade.set_session_permissions(self._session.session_id, wanted)
        except ActionRefused as e:
            self.session_error.setText(str(e))
            self.session_error.show()
            self._show_granted(self._session.permissions)
            return
        self.session_error.hide()
        self._session = session
        self._show_granted(session.permissions)

    def _show_granted(self, perms: frozenset[Permission]) -> None:
        if self.transfer_panel is not None:
            self.transfer_panel.set_permissions(perms)
        if self.session_toggles is not None and self.session_toggles.effective() != perms:
            self.session_toggles.set_permissions(perms)

    @asyncSlot()
    async def _end(self) -> None:
        if self._session is None:
            return
        self.end_button.setEnabled(False)
        try:
            await self._facade.end_session(self._session.session_id)
        except ActionRefused as e:
            self.session_error.setText(str(e))
            self.session_error.show()
            self.end_button.setEnabled(True)
            return
        self.close()

    def _on_sessions_changed(self, current: SessionView) -> None:
        if self._session is None or self._ended:
            return
        if current.session_id != self._session.session_id:
            return
        if current.ended:
            self._show_ended()
            return
        self._session = current
        self.desktop_asking.setVisible(current.desktop_asking)
        if self.session_toggles is not None:
            self.session_toggles.set_policy(self._facade.policy(), current.locked)
        self._show_granted(current.permissions)

    def _show_ended(self) -> None:
        self._ended = True
        duration = self._stopwatch.text() if self._stopwatch is not None else ""
        name = ""
        if self._session is not None:
            name = sanitize_display(self._session.peer_alias) or self._session.peer_id.grouped()
        self.state_label.setText(
            self.tr("The session with {name} ended after {duration}.").format(
                name=name, duration=duration
            )
        )
        self.state_label.setStyleSheet("font-weight: bold;")
        self.state_label.show()
        if self._stopwatch is not None:
            self._stopwatch.stop()
        # Nothing of the session can be used any more; only Close is left.
        if self.session_toggles is not None:
            self.session_toggles.setEnabled(False)
        for widget in (self.clear_drawings_button, self.chat_edit):
            if widget is not None:
                widget.setEnabled(False)
        self.end_button.clicked.disconnect()
        self.end_button.setText(self.tr("&Close"))
        self.end_button.setObjectName("closeEndedButton")
        self.end_button.clicked.connect(self.close)
        self.end_button.setDefault(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self._ended:
            self.close()
            return
        super().keyPressEvent(event)

    def _schedule_grow(self) -> None:
        """Grow once the layout has caught up, if a transfer row or message needs room."""
        schedule_grow(self)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.transfer_panel is not None:
            self.transfer_panel.detach()
        self._facade.sessions_changed.disconnect(self._on_sessions_changed)
        if self._stopwatch is not None:
            self._stopwatch.stop()
        super().closeEvent(event)
        self.closed.emit()
