"""The desktop shell: the main window and every window and toast around it, wired to a client.

Incoming invitations show as toasts and in the bell; an incoming connection request opens the
Accept Window; a session opens the Accept Window on the host (also with the main window
closed, with Clear drawings) and the session window on the guest (with the session's screen,
remote control and pen from its handle). Guests' strokes and pointer markers show on the
host's desktop. Closing the main window hides it to the tray
where there is one; otherwise the shell asks once whether to keep running in the background.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from anydesk_invite import PROJECT_URL
from anydesk_invite.core.alias import sanitize_display
from anydesk_invite.core.invitation import Kind
from anydesk_invite.services.facade import (
    ActionRefused,
    ClientFacade,
    RefusalKind,
    RefusedWithKind,
)
from anydesk_invite.services.views import (
    Direction,
    InvitationView,
    PeerSource,
    Role,
    SessionView,
    TransferDirection,
    TransferState,
    TransferView,
)
from anydesk_invite.ui.bell import BellButton
from anydesk_invite.ui.draw_overlay import DrawOverlay
from anydesk_invite.ui.email_fallback import EmailInvite
from anydesk_invite.ui.main_window import MainWindow
from anydesk_invite.ui.outgoing_panel import OutgoingInvitationsPanel
from anydesk_invite.ui.placement import WindowPlacement
from anydesk_invite.ui.pointer_marker import PointerMarkers
from anydesk_invite.ui.qt_loop import asyncSlot
from anydesk_invite.ui.toast import ToastStack
from anydesk_invite.ui.tray import SystemTray, Tray
from anydesk_invite.ui.window_closing import WindowClosing

if TYPE_CHECKING:
    # Imported where first used: the main window appears without them (bench/startup.py).
    from anydesk_invite.ui.accept_window import AcceptWindow
    from anydesk_invite.ui.first_window import FirstWindow
    from anydesk_invite.ui.invite_dialog import InviteDialog
    from anydesk_invite.ui.session_window import SessionWindow
    from anydesk_invite.ui.settings_dialog import SettingsDialog


class Shell(QObject):
    """Owns the windows of one running client."""

    def __init__(
        self,
        facade: ClientFacade,
        on_quit: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
        tray: Tray | None = None,
        interfaces: Callable[[], Sequence[str]] | None = None,
        first: FirstWindow | None = None,
    ) -> None:
        """``first``: the main window start-up already showed (ui/first_window.py), which
        the shell takes over and fills in; without it the shell builds its own."""
        super().__init__()
        self.setObjectName("shell")
        self._facade = facade
        self._on_quit = on_quit
        self._tray: Tray = tray if tray is not None else SystemTray()
        self._interfaces = interfaces or facade.interface_choices
        self.settings_dialog: SettingsDialog | None = None
        app = QApplication.instance()
        if isinstance(app, QApplication):
            # The client keeps serving invitations with its main window closed.
            app.setQuitOnLastWindowClosed(False)
        self.placement: WindowPlacement | None
        """Every window opens inside its screen and stays there when it grows."""
        if first is not None:
            self.window = first.window
            self.window.attach(facade)
            self.placement = first.placement
        else:
            self.window = MainWindow(facade)
            self.placement = (
                WindowPlacement(app, self.window) if isinstance(app, QApplication) else None
            )
        self.bell = BellButton(facade, clock)
        self.window.set_bell_widget(self.bell)
        self.outgoing = OutgoingInvitationsPanel(facade, clock)
        self.window.add_side_panel(self.outgoing)
        self.toasts = ToastStack(facade, clock)
        self.email = EmailInvite(PROJECT_URL, self.window)
        self.invite_dialog: InviteDialog | None = None
        self.accept_windows: dict[str, AcceptWindow] = {}
        """Keyed by request id while a request waits, then by session id."""
        self.session_windows: dict[str, SessionWindow] = {}
        self.not_found_box: QMessageBox | None = None
        self.window.inviteRequested.connect(self.open_invite_dialog)
        self.window.connectRequested.connect(self._connect)
        self.window.connectLinkRequested.connect(
            lambda digits, fp: self._connect(digits, fp)  # type: ignore[call-arg]
        )
        self.window.emailInviteRequested.connect(lambda: self.email.send(self._facade.status()))
        self.window.settingsRequested.connect(self.open_settings)
        self.window.quitRequested.connect(self.quit)
        self.window_closing = WindowClosing(self.window, facade, self._tray, self.quit)
        self.window.close_guard = self.window_closing.may_close
        self.bell.request_opened.connect(self._request_window_opened)
        self.bell.connect_requested.connect(self._connect)
        self.bell.invite_back_requested.connect(self.open_invite_dialog)
        facade.invitation_received.connect(self._on_invitation)
        facade.session_started.connect(self._on_session)
        self._announced: set[str] = set()
        facade.transfer_changed.connect(self._on_transfer)
        facade.chat_received.connect(self._on_chat)
        self.overlay = DrawOverlay(facade)
        """Guests' strokes on this desktop, above every window."""
        self.markers = PointerMarkers(facade.pointer_seen, facade.color_of)
        """Where guests without control point on this desktop."""

    # --- windows ----------------------------------------------------------------------

    def show(self) -> None:
        if self._tray.available():
            self._tray.show(self.raise_window, self.quit)
        self.window.show()

    def quit(self) -> None:
        """Stop the client (not only the window): the tray's and the menu's Quit."""
        self._on_quit()

    def raise_window(self) -> None:
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()

    @property
    def background_question(self) -> QMessageBox | None:
        """Whether to keep running in the background, while it is asked."""
        return self.window_closing.question

    def close(self) -> None:
        self.window_closing.shutting_down = True
        self._facade.transfer_changed.disconnect(self._on_transfer)
        self._facade.chat_received.disconnect(self._on_chat)
        self.overlay.detach()
        self.overlay.close()
        self.markers.close()
        self._tray.hide()
        self.toasts.detach()
        for d in (self.settings_dialog, self.background_question):
            if d is not None:
                d.close()
        for w in [*self.accept_windows.values(), *self.session_windows.values()]:
            w.close()
        if self.invite_dialog is not None:
            self.invite_dialog.close()
        self.window.detach()
        self.window.close()
        if self.placement is not None:
            self.placement.detach()

    def open_invite_dialog(self, target: str = "") -> InviteDialog:
        from anydesk_invite.ui.invite_dialog import InviteDialog

        if self.invite_dialog is not None:
            self.invite_dialog.close()
            self.invite_dialog.deleteLater()
        self.invite_dialog = InviteDialog(self._facade, target, self.window)
        self.invite_dialog.open()
        return self.invite_dialog

    def open_settings(self) -> SettingsDialog:
        from anydesk_invite.ui.settings_dialog import SettingsDialog

        if self.settings_dialog is not None:
            self.settings_dialog.close()
            self.settings_dialog.deleteLater()
        self.settings_dialog = SettingsDialog(self._facade, self._interfaces(), self.window)
        self.settings_dialog.open()
        return self.settings_dialog

    @asyncSlot(str)
    async def _connect(self, target: str, confirm: str | None = None) -> None:
        try:
            view = await self._facade.connect(target, confirm)
        except RefusedWithKind as exc:
            if exc.candidates and confirm is None:
                self._confirm_then_connect(target, exc)
                return
            if exc.kind in (RefusalKind.UNKNOWN, RefusalKind.OFFLINE):
                self.not_found(target, str(exc))
                return
            self.window.statusBar().showMessage(
                self.tr("Connect: {error}").format(error=exc), 10_000
            )
            return
        except ActionRefused as exc:
            self.window.statusBar().showMessage(
                self.tr("Connect: {error}").format(error=exc), 10_000
            )
            return
        self.window.statusBar().showMessage(
            self.tr("Asked {name} to let you connect…").format(
                name=view.peer_alias or view.peer_id.grouped()
            ),
            10_000,
        )

    def not_found(self, target: str, error: str) -> QMessageBox:
        """Say what to do when a device cannot be reached: check it runs on this network, or
        add its address (Add its address… opens the Address Book entry, filled in)."""
        if self.not_found_box is not None:
            self.not_found_box.close()
        box = QMessageBox(self.window)
        box.setObjectName("notFoundBox")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(self.tr("Not found"))
        box.setText(
            self.tr(
                "{error}. Is it running on this network? If discovery cannot reach it, "
                "add its address (host:port) to the address book."
            ).format(error=error[:1].upper() + error[1:])
        )
        add = box.addButton(self.tr("&Add its address…"), QMessageBox.ButtonRole.ActionRole)
        add.setObjectName("addAddressButton")
        close = box.addButton(QMessageBox.StandardButton.Close)
        close.setObjectName("notFoundCloseButton")
        box.setDefaultButton(add)
        add.clicked.connect(lambda: self._add_address(target))
        self.not_found_box = box
        box.finished.connect(lambda _: setattr(self, "not_found_box", None))
        box.show()
        return box

    def _add_address(self, target: str) -> None:
        pane = self.window.panes[PeerSource.ADDRESS_BOOK]
        self.window.tabs.setCurrentWidget(pane)
        dialog = pane.open_address_book_dialog()
        digits = "".join(c for c in target if not c.isspace())
        if digits.isdigit():
            dialog.id_edit.setText(target)
        else:
            dialog.alias_edit.setText(target)
        dialog.address_edit.setFocus()

    def _confirm_then_connect(self, target: str, refusal: RefusedWithKind) -> None:
        from anydesk_invite.ui.peer_confirm import ConfirmPeerDialog

        dialog = ConfirmPeerDialog(target, refusal.candidates, self.window)
        dialog.panel.confirmed.connect(
            lambda c: self._connect(target, c.fingerprint.hex())  # type: ignore[call-arg]
        )
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.open()

    # --- incoming -----------------------------------------------------------------------

    def _on_invitation(self, view: InvitationView) -> None:
        from anydesk_invite.ui.accept_window import AcceptWindow

        if view.kind is Kind.REQUEST and view.direction is Direction.INCOMING:
            if view.invitation_id not in self.accept_windows:
                w = AcceptWindow(self._facade, request=view, transfers=self._facade)
                self._track_accept(view.invitation_id, w)
                w.show()

    def _request_window_opened(self, window: object) -> None:
        from anydesk_invite.ui.accept_window import AcceptWindow

        if isinstance(window, AcceptWindow) and window.request is not None:
            self._track_accept(window.request.invitation_id, window)

    def _track_accept(self, key: str, window: AcceptWindow) -> None:
        window.set_chat_sender(self._facade.send_chat)
        self.accept_windows[key] = window
        window.closed.connect(lambda: self._forget(self.accept_windows, window))

    @staticmethod
    def _forget(table: dict[str, AcceptWindow] | dict[str, SessionWindow], w: QWidget) -> None:
        for k, v in list(table.items()):
            if v is w:
                del table[k]  # type: ignore[arg-type]

    def _on_session(self, view: SessionView) -> None:
        if view.role is Role.HOST:
            # A request accepted in its Accept Window switches to the session by itself. The
            # session can start before the window's accept call returns, so the window still
            # waiting on the request the session came from takes the session here.
            self._attach_drawing(self._accept_window_for(view), view.session_id)
            return
        try:
            handle = self._facade.session_handle(view.session_id)
        except ActionRefused:
            return  # it ended before its window could open
        from anydesk_invite.ui.session_window import SessionWindow

        sw = SessionWindow(
            self._facade, view, self._facade.send_chat, screen=handle.screen, transfers=self._facade
        )
        self.session_windows[view.session_id] = sw
        sw.closed.connect(lambda: self._forget(self.session_windows, sw))
        sw.attach_remote(handle.control, handle.pen)
        sw.show()

    def _accept_window_for(self, view: SessionView) -> AcceptWindow:
        """The host's Accept Window for this session: the one that already shows it, the one
        still waiting on the request it came from, or a new one."""
        for w in self.accept_windows.values():
            s = w.session()
            if s is not None and s.session_id == view.session_id:
                return w
        for key, w in list(self.accept_windows.items()):
            req = w.request
            if w.session() is None and req is not None and req.invitation_id == view.origin:
                w.show_session(view)
                del self.accept_windows[key]
                self.accept_windows[view.session_id] = w
                return w
        from anydesk_invite.ui.accept_window import AcceptWindow

        w = AcceptWindow(self._facade, session=view, transfers=self._facade)
        self._track_accept(view.session_id, w)
        w.show()
        return w

    def _attach_drawing(self, window: AcceptWindow, session_id: str) -> None:
        window.attach_drawing(
            lambda: self._facade.clear_drawings(session_id), self._facade.control_problem()
        )

    def _on_transfer(self, view: TransferView) -> None:
        """A file that arrived is announced from the tray: its window may be out of sight."""
        received = view.direction is TransferDirection.RECEIVE
        if not received or view.state is not TransferState.DONE or not view.path:
            return
        if view.transfer_id in self._announced or not self._tray.available():
            return
        self._announced.add(view.transfer_id)
        peer = next(
            (
                s.peer_alias or s.peer_id.grouped()
                for s in self._facade.sessions()
                if s.session_id == view.session_id
            ),
            "",
        )
        self._tray.notify(
            self.tr("File received"),
            self.tr("{name} from {peer}, saved in {folder}").format(
                name=view.name, peer=peer or self.tr("your guest"), folder=Path(view.path).parent
            ),
        )

    def _on_chat(self, payload: tuple[str, str]) -> None:
        session_id, text = payload
        peer = next(
            (
                sanitize_display(s.peer_alias) or s.peer_id.grouped()
                for s in self._facade.sessions()
                if s.session_id == session_id
            ),
            "",
        )
        sw = self.session_windows.get(session_id)
        if sw is not None:
            sw.add_chat(peer or self.tr("Host"), text)
            return
        for w in self.accept_windows.values():
            s = w.session()
            if s is not None and s.session_id == session_id:
                w.add_chat(peer or self.tr("Guest"), text)
                return
