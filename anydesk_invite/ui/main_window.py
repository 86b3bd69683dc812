"""The main window: this device's ID and alias, the Connect field, the four peer panes and
the status line. Other windows (invite dialog, bell, outgoing invitations) plug in through
the signals and the two placement methods.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QCloseEvent, QFont, QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from anydesk_invite.core.product import window_title
from anydesk_invite.services.facade import ClientFacade, Status
from anydesk_invite.services.views import PeerChange, PeerSource, PeerView
from anydesk_invite.ui.connect_row import ConnectRow
from anydesk_invite.ui.icons import APP_ICON, icon
from anydesk_invite.ui.pane_titles import PANE_ORDER, pane_title
from anydesk_invite.ui.placement import default_size
from anydesk_invite.ui.status_line import StatusLine, status_text, warnings
from anydesk_invite.ui.styles import NOTE_STYLE

if TYPE_CHECKING:
    # Built with the client (attach), behind the first window: see ui/first_window.py.
    from anydesk_invite.ui.peer_pane import PeerPane

INVITE_TOOLTIP = QT_TRANSLATE_NOOP("MainWindow", "Invite someone to connect to this device")
_WARNING_STYLE = (
    "QLabel { background: #fff3cd; color: #5c3c00; border: 1px solid #e0a800;"
    " border-radius: 4px; padding: 6px; }"
)


class MainWindow(QMainWindow):
    """The main window of a running client.

    Signals:
        inviteRequested(str): open the invite dialog; '' for an empty one, else the ID to
            prefill (from a tile's Invite).
        connectRequested(str): send a connection request to this ID (digits) or alias.
        emailInviteRequested(): the user picked “Invite via email…”.
        settingsRequested(): the gear button or the Settings… menu item.
        quitRequested(): the Quit menu item (the client stops, not just the window).
    """

    inviteRequested = Signal(str)
    connectRequested = Signal(str)
    connectLinkRequested = Signal(str, str)
    """A pasted connect link: the device ID (digits) and the key fingerprint (hex) it names."""
    emailInviteRequested = Signal()
    settingsRequested = Signal()
    quitRequested = Signal()

    def __init__(self, facade: ClientFacade | None, parent: QWidget | None = None) -> None:
        """``facade`` None: the window of a client still starting (start-up shows it before
        the client behind it is built). It says so in its status line and takes no input
        until ``attach`` gives it the client; then it shows the ID, peers and status."""
        super().__init__(parent)
        self._facade = facade
        self._peers: dict[str, PeerView] = {}
        """Every peer shown, by ID digits: the completer offers their aliases and IDs."""
        self._status: Status | None = None
        self._id_menu: QMenu | None = None
        self.close_guard: Callable[[], bool] | None = None
        """Asked when the user closes the window; False keeps it from closing (the shell
        hides it to the tray or asks first)."""
        self.setObjectName("mainWindow")
        self.setWindowTitle(window_title(""))
        self.setWindowIcon(icon(APP_ICON))

        central = QWidget()
        central.setObjectName("centralWidget")
        outer = QVBoxLayout(central)
        outer.setContentsMargins(12, 10, 12, 6)
        outer.addWidget(self._build_header())
        self.connect_row = ConnectRow()
        self.connect_row.connectRequested.connect(self.connectRequested)
        self.connect_row.connectLinkRequested.connect(self.connectLinkRequested)
        self.connect_edit = self.connect_row.connect_edit
        self.connect_button = self.connect_row.connect_button
        self.connect_error = self.connect_row.connect_error
        outer.addWidget(self.connect_row)
        self.warning_label = QLabel()
        self.warning_label.setObjectName("warningLabel")
        self.warning_label.setAccessibleName(self.tr("Warning"))
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet(_WARNING_STYLE)
        self.warning_label.hide()
        outer.addWidget(self.warning_label)

        body = QHBoxLayout()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("peerTabs")
        self.tabs.setAccessibleName(self.tr("Devices"))
        self.panes: dict[PeerSource, PeerPane] = {}
        """The peer panes, one per tab: built with the client (attach)."""
        for source in PANE_ORDER:
            self.tabs.addTab(QWidget(), pane_title(source))  # its pane comes with the client
        body.addWidget(self.tabs, 1)
        self.side_panels = QWidget()
        self.side_panels.setObjectName("sidePanels")
        self._side_layout = QVBoxLayout(self.side_panels)
        self._side_layout.setContentsMargins(0, 0, 0, 0)
        self._side_layout.addStretch(1)
        self.side_panels.hide()
        body.addWidget(self.side_panels)
        outer.addLayout(body, 1)
        self.setCentralWidget(central)
        self._build_menu()

        self.status_label = StatusLine()
        self.status_label.setObjectName("statusLabel")
        self.status_label.setAccessibleName(self.tr("Status"))
        self.statusBar().addWidget(self.status_label, 1)

        self._attached = False
        # Closing only hides the main window (the client keeps running); when the window is
        # really destroyed, the facade must stop calling into it.
        self.destroyed.connect(lambda: self.detach())
        screen = QGuiApplication.primaryScreen()
        area = screen.availableGeometry() if screen is not None else QRect(0, 0, 1000, 680)
        self.resize(default_size(QSize(1000, 680), area))
        if facade is not None:
            self.attach(facade)
        else:
            self.status_label.setText(self.tr("Starting…"))
            central.setEnabled(False)
            self.menuBar().setEnabled(False)

    def attach(self, facade: ClientFacade) -> None:
        """Show the client's ID, peers and status, follow its changes, and take input."""
        self._facade = facade
        self._build_panes(facade)
        facade.status_changed.connect(self.show_status)
        facade.peers_changed.connect(self._on_peers_changed)
        self._attached = True
        self.show_status(facade.status())
        self.show_peers(facade.peers())
        self.centralWidget().setEnabled(True)
        self.menuBar().setEnabled(True)

    # -- building ------------------------------------------------------------------------
    def _build_header(self) -> QWidget:
        header = QFrame()
        header.setObjectName("header")
        grid = QHBoxLayout(header)
        grid.setContentsMargins(0, 0, 0, 0)
        ident = QVBoxLayout()
        ident.setSpacing(0)
        caption = QLabel(self.tr("This device"))
        caption.setObjectName("idCaption")
        caption.setStyleSheet(NOTE_STYLE)  # secondary, yet readable (disabled grey was not)
        ident.addWidget(caption)
        id_row = QHBoxLayout()
        id_row.setSpacing(8)
        self.id_label = QLabel()
        self.id_label.setObjectName("idLabel")
        self.id_label.setAccessibleName(self.tr("Your ID"))
        font = QFont(self.id_label.font())
        font.setPointSizeF(font.pointSizeF() * 2.0)
        font.setWeight(QFont.Weight.DemiBold)
        self.id_label.setFont(font)
        self.id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.id_label.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.id_label.customContextMenuRequested.connect(
            lambda pos: self._show_id_menu(self.id_label, pos)
        )
        id_row.addWidget(self.id_label)
        self.invite_button = QToolButton()
        self.invite_button.setObjectName("inviteButton")
        self.invite_button.setAccessibleName(self.tr("Invite"))
        self.invite_button.setToolTip(QCoreApplication.translate("MainWindow", INVITE_TOOLTIP))
        self.invite_button.setIcon(icon("invite"))
        self.invite_button.setIconSize(QSize(28, 28))
        self.invite_button.setAutoRaise(True)
        self.invite_button.clicked.connect(lambda: self.inviteRequested.emit(""))
        id_row.addWidget(self.invite_button)
        id_row.addStretch(1)
        ident.addLayout(id_row)
        self.alias_label = QLabel()
        self.alias_label.setObjectName("aliasLabel")
        self.alias_label.setAccessibleName(self.tr("Your alias"))
        self.alias_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.alias_label.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.alias_label.customContextMenuRequested.connect(
            lambda pos: self._show_id_menu(self.alias_label, pos)
        )
        ident.addWidget(self.alias_label)
        grid.addLayout(ident, 1)
        self.bell_slot = QHBoxLayout()
        grid.addLayout(self.bell_slot)
        self.settings_button = QToolButton()
        self.settings_button.setObjectName("settingsButton")
        self.settings_button.setAccessibleName(self.tr("Settings"))
        self.settings_button.setToolTip(self.tr("Settings"))
        self.settings_button.setIcon(icon("settings"))
        self.settings_button.setIconSize(QSize(24, 24))
        self.settings_button.setAutoRaise(True)
        self.settings_button.clicked.connect(self.settingsRequested)
        grid.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignTop)
        return header

    def _build_panes(self, facade: ClientFacade) -> None:
        """Put each tab's pane in place of the empty page the window was shown with."""
        from anydesk_invite.ui.peer_pane import PeerPane

        current = self.tabs.currentIndex()
        for index, source in enumerate(PANE_ORDER):
            pane = PeerPane(source, facade)
            pane.inviteRequested.connect(self.inviteRequested)
            pane.connectRequested.connect(self.connectRequested)
            self.panes[source] = pane
            page = self.tabs.widget(index)
            self.tabs.removeTab(index)
            self.tabs.insertTab(index, pane, pane_title(source))
            if page is not None:
                page.deleteLater()
        self.tabs.setCurrentIndex(current)

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu(self.tr("&Client"))
        menu.setObjectName("clientMenu")
        settings = menu.addAction(icon("settings"), self.tr("&Settings…"))
        settings.setObjectName("settingsAction")
        settings.triggered.connect(self.settingsRequested)
        menu.addSeparator()
        close = menu.addAction(self.tr("&Close window"))
        close.setObjectName("closeWindowAction")
        close.triggered.connect(self.close)
        quit_ = menu.addAction(self.tr("&Quit"))
        quit_.setObjectName("quitAction")
        quit_.triggered.connect(self.quitRequested)

    # -- hooks for the other windows -----------------------------------------------------
    def set_bell_widget(self, widget: QWidget) -> None:
        """Place the notification bell at the top right, beside the ID."""
        while self.bell_slot.count():
            item = self.bell_slot.takeAt(0)
            old = item.widget() if item is not None else None
            if old is not None:
                old.setParent(None)
        self.bell_slot.addWidget(widget, 0, Qt.AlignmentFlag.AlignTop)
        # Added after the window was built, it would come last on Tab: it goes where it is
        # seen, between the invite button and settings.
        QWidget.setTabOrder(self.invite_button, widget)
        QWidget.setTabOrder(widget, self.settings_button)

    def add_side_panel(self, widget: QWidget) -> None:
        """Add a panel (e.g. outgoing invitations) to the right of the peer panes."""
        # Before the trailing stretch, so panels stack from the top.
        self._side_layout.insertWidget(self._side_layout.count() - 1, widget)
        self.side_panels.show()

    # -- facade events -------------------------------------------------------------------
    def show_status(self, status: Status) -> None:
        self._status = status
        self.id_label.setText(status.device_id.grouped())
        self.alias_label.setText(status.alias or self.tr("no alias"))
        self.setWindowTitle(window_title(status.alias))
        self.status_label.setText(status_text(status))
        found = warnings(status)
        self.warning_label.setText("\n".join(f"⚠ {w}" for w in found))
        self.warning_label.setVisible(bool(found))

    def _on_peers_changed(self, change: PeerChange) -> None:
        """One peer changed: its tiles alone, and the completer's words."""
        if change.peer is None:
            self._peers.pop(change.device_id.digits, None)
        else:
            self._peers[change.device_id.digits] = change.peer
        for pane in self.panes.values():
            pane.update_peer(change)
        self.connect_row.offer(self._peers.values())

    def show_peers(self, peers: list[PeerView]) -> None:
        self._peers = {p.device_id.digits: p for p in peers}
        for pane in self.panes.values():
            pane.set_peers(peers)
        self.connect_row.offer(self._peers.values())

    # -- actions ---------------------------------------------------------------------------
    def id_menu(self) -> QMenu:
        """The right-click menu of the own ID and alias."""
        menu = QMenu(self)
        menu.setObjectName("idMenu")
        status = self._status
        copy_id = menu.addAction(self.tr("Copy ID"))
        copy_id.setObjectName("copyIdAction")
        copy_id.setEnabled(status is not None)
        copy_id.triggered.connect(
            lambda: self._copy(self._status.device_id.grouped() if self._status else "")
        )
        copy_alias = menu.addAction(self.tr("Copy alias"))
        copy_alias.setObjectName("copyAliasAction")
        copy_alias.setEnabled(status is not None and bool(status.alias))
        copy_alias.triggered.connect(lambda: self._copy(self._status.alias if self._status else ""))
        menu.addSeparator()
        email = menu.addAction(icon("email"), self.tr("Invite via email…"))
        email.setObjectName("emailInviteAction")
        email.triggered.connect(self.emailInviteRequested)
        return menu

    def _show_id_menu(self, anchor: QWidget, pos: QPoint) -> None:
        # Replaced on the next right-click rather than deleted on close: an action's menu
        # must outlive the action's own signal.
        if self._id_menu is not None:
            self._id_menu.deleteLater()
        self._id_menu = self.id_menu()
        self._id_menu.popup(anchor.mapToGlobal(pos))

    @staticmethod
    def _copy(text: str) -> None:
        QGuiApplication.clipboard().setText(text)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.close_guard is not None and not self.close_guard():
            event.ignore()
            return
        for pane in self.panes.values():
            pane.cancel_tasks()
        super().closeEvent(event)

    def detach(self) -> None:
        """Stop listening to the facade (the window is going away)."""
        if self._attached and self._facade is not None:
            self._attached = False
            self._facade.status_changed.disconnect(self.show_status)
            self._facade.peers_changed.disconnect(self._on_peers_changed)
