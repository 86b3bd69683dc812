"""One of the four peer panes (Favorites, Recent Sessions, Discovery, Address Book).

A filter box over a list of tiles, with the right-click menu that invites a peer, manages
favorites and the address book, and copies the ID. Changes go to the facade through async
slots; the pane shows a refusal in its message line and keeps the user's input.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.services.facade import ActionRefused, ClientFacade
from anydesk_invite.services.views import PeerChange, PeerSource, PeerView
from anydesk_invite.ui.address_book_dialog import AddressBookDialog, AddressBookEntry
from anydesk_invite.ui.pane_titles import pane_title
from anydesk_invite.ui.peer_model import PeerFilterModel, PeerListModel, PeerRole
from anydesk_invite.ui.qt_loop import asyncSlot
from anydesk_invite.ui.styles import ERROR_STYLE, NOTE_STYLE
from anydesk_invite.ui.tile_delegate import TILE_SIZE, PeerTileDelegate

PANE_NAMES = {
    PeerSource.FAVORITES: "favorites",
    PeerSource.RECENT: "recent",
    PeerSource.DISCOVERY: "discovery",
    PeerSource.ADDRESS_BOOK: "addressBook",
}
_EMPTY_TEXT = {
    PeerSource.FAVORITES: QT_TRANSLATE_NOOP(
        "PeerPane", "No favorites yet. Right-click a device and pick Add to favorites."
    ),
    PeerSource.RECENT: QT_TRANSLATE_NOOP("PeerPane", "No sessions yet."),
    PeerSource.DISCOVERY: QT_TRANSLATE_NOOP("PeerPane", "No devices found on your network yet."),
    PeerSource.ADDRESS_BOOK: QT_TRANSLATE_NOOP(
        "PeerPane",
        "Your address book is empty. Add a device by its ID, with its address where discovery "
        "cannot reach it, or right-click a device in another tab.",
    ),
}


class PeerPane(QWidget):
    """A filter box and tiles for one source of peers.

    Signals:
        inviteRequested(str): the device ID (digits) of the peer to invite.
        connectRequested(str): the device ID (digits) of a peer to connect to (double-click).
    """

    inviteRequested = Signal(str)
    connectRequested = Signal(str)

    def __init__(
        self, source: PeerSource, facade: ClientFacade, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.source = source
        self._facade = facade
        self._tasks: set[asyncio.Future[Any]] = set()
        self._menu: QMenu | None = None
        self._dialog: AddressBookDialog | None = None
        name = PANE_NAMES[source]
        title = pane_title(source)
        self.setObjectName(f"{name}Pane")
        self.setAccessibleName(title)

        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName(f"{name}Filter")
        self.filter_edit.setAccessibleName(self.tr("Filter {pane}").format(pane=title))
        self.filter_edit.setPlaceholderText(self.tr("Filter by alias, name, ID or tag"))
        self.filter_edit.setClearButtonEnabled(True)

        self.model = PeerListModel(self)
        self.proxy = PeerFilterModel(source, self)
        self.proxy.setSourceModel(self.model)
        self.view = QListView()
        self.view.setObjectName(f"{name}View")
        self.view.setAccessibleName(title)
        self.view.setModel(self.proxy)
        self.view.setItemDelegate(PeerTileDelegate(source, self.view))
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setWrapping(True)
        self.view.setUniformItemSizes(True)
        self.view.setSpacing(4)
        self.view.setGridSize(TILE_SIZE + QSize(8, 8))
        self.view.setMouseTracking(True)
        self.view.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._show_menu)
        self.view.doubleClicked.connect(self._on_double_click)

        self.empty_label = QLabel(QCoreApplication.translate("PeerPane", _EMPTY_TEXT[source]))
        self.empty_label.setObjectName(f"{name}Empty")
        self.empty_label.setAccessibleName(self.tr("{pane} is empty").format(pane=title))
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet(NOTE_STYLE)  # secondary, yet readable (not disabled grey)
        self.empty_label.setWordWrap(True)
        self.add_button: QPushButton | None = None
        self.add_first_button: QPushButton | None = None
        if source is PeerSource.ADDRESS_BOOK:
            self.add_button = QPushButton(self.tr("&Add…"))
            self.add_button.setObjectName("addPeerButton")
            self.add_button.setAccessibleName(self.tr("Add a device to the address book"))
            self.add_button.clicked.connect(lambda: self.open_address_book_dialog())
            self.add_first_button = QPushButton(self.tr("Add a device…"))
            self.add_first_button.setObjectName("addFirstPeerButton")
            self.add_first_button.clicked.connect(lambda: self.open_address_book_dialog())

        self.message_label = QLabel()
        self.message_label.setObjectName(f"{name}Message")
        self.message_label.setAccessibleName(self.tr("{pane} message").format(pane=title))
        self.message_label.setWordWrap(True)
        self.message_label.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        if self.add_button is not None:
            top.addWidget(self.add_button)
        layout.addLayout(top)
        layout.addWidget(self.message_label)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty_label)
        if self.add_first_button is not None:
            layout.addWidget(self.add_first_button, 0, Qt.AlignmentFlag.AlignHCenter)
        self.filter_edit.textChanged.connect(self.proxy.set_query)
        self.proxy.rowsInserted.connect(self._update_empty)
        self.proxy.rowsRemoved.connect(self._update_empty)
        self.proxy.modelReset.connect(self._update_empty)
        self.proxy.layoutChanged.connect(self._update_empty)
        self._update_empty()

    # -- data ---------------------------------------------------------------------------
    def set_peers(self, peers: Iterable[PeerView]) -> None:
        """Show the peers that belong to this pane (from a snapshot of all peers)."""
        self.model.set_peers([p for p in peers if self.source in p.sources])
        self._update_empty()

    def update_peer(self, change: PeerChange) -> None:
        """One peer changed: its tile alone appears, changes or goes (from this pane)."""
        peer = change.peer
        belongs = peer is not None and self.source in peer.sources
        self.model.update_peer(change.device_id.digits, peer if belongs else None)
        self._update_empty()

    def _update_empty(self, *_: object) -> None:
        empty = self.model.rowCount() == 0
        self.empty_label.setVisible(empty)
        if self.add_first_button is not None:
            self.add_first_button.setVisible(empty)

    def index_of(self, device_id: str) -> QModelIndex:
        """The view index of a peer's tile (invalid when filtered out or absent)."""
        row = self.model.row_of(device_id)
        if row is None:
            return QModelIndex()
        return self.proxy.mapFromSource(self.model.index(row))

    # -- the tile menu ------------------------------------------------------------------
    def _show_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        peer = index.data(PeerRole.PEER)
        if not isinstance(peer, PeerView):
            return
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        # One menu at a time, replaced (not deleted on close) so that a triggered action's
        # menu is never freed under its own signal.
        if self._menu is not None:
            self._menu.deleteLater()
        self._menu = self.menu_for(peer)
        # popup(), not exec(): a nested event loop would stall the asyncio tasks.
        self._menu.popup(self.view.viewport().mapToGlobal(pos))

    def menu_for(self, peer: PeerView) -> QMenu:
        """The right-click menu of one tile."""
        menu = QMenu(self)
        menu.setObjectName("peerMenu")
        menu.setAccessibleName(self.tr("Actions for {peer}").format(peer=peer.title))
        digits = peer.device_id.digits

        def add(name: str, text: str, slot: Any) -> QAction:
            action = menu.addAction(text)
            action.setObjectName(name)
            action.triggered.connect(slot)
            return action

        invite = add("inviteAction", self.tr("Invite"), lambda: self.inviteRequested.emit(digits))
        menu.setDefaultAction(invite)
        add(
            "connectAction",
            self.tr("Connect (ask to be let in)"),
            lambda: self.connectRequested.emit(digits),
        )
        menu.addSeparator()
        if PeerSource.FAVORITES in peer.sources:
            add(
                "unfavoriteAction",
                self.tr("Remove from favorites"),
                lambda: self._track(self.set_favorite(digits, False)),
            )
        else:
            add(
                "favoriteAction",
                self.tr("Add to favorites"),
                lambda: self._track(self.set_favorite(digits, True)),
            )
        if PeerSource.ADDRESS_BOOK in peer.sources:
            add("editAction", self.tr("Edit…"), lambda: self.open_address_book_dialog(peer))
        else:
            add(
                "addToAddressBookAction",
                self.tr("Add to address book…"),
                lambda: self.open_address_book_dialog(peer),
            )
        add("copyIdAction", self.tr("Copy ID"), lambda: self._copy(peer.device_id.grouped()))
        if self.source is PeerSource.ADDRESS_BOOK:
            menu.addSeparator()
            add(
                "removeAction",
                self.tr("Remove from address book"),
                lambda: self._track(self.remove_from_address_book(digits)),
            )
        return menu

    def _on_double_click(self, index: QModelIndex) -> None:
        digits = index.data(PeerRole.ID)
        if isinstance(digits, str):
            self.connectRequested.emit(digits)

    @staticmethod
    def _copy(text: str) -> None:
        QGuiApplication.clipboard().setText(text)

    # -- address book dialog -------------------------------------------------------------
    def open_address_book_dialog(self, peer: PeerView | None = None) -> AddressBookDialog:
        """Open the add/edit dialog (not blocking); Save sends the entry to the facade."""
        if self._dialog is not None:
            self._dialog.deleteLater()
        dialog = AddressBookDialog(peer, self)
        self._dialog = dialog

        def saved() -> None:
            entry = dialog.entry()
            if entry is not None:
                self._track(self.add_to_address_book(entry))

        dialog.accepted.connect(saved)
        dialog.open()
        return dialog

    # -- async slots: each calls one facade method -----------------------------------------
    @asyncSlot(str, bool)
    async def set_favorite(self, digits: str, favorite: bool) -> None:
        await self._report(self._facade.set_favorite(DeviceId(digits), favorite))

    @asyncSlot(str)
    async def remove_from_address_book(self, digits: str) -> None:
        await self._report(self._facade.remove_from_address_book(DeviceId(digits)))

    @asyncSlot(object)
    async def add_to_address_book(self, entry: AddressBookEntry) -> None:
        saved = await self._report(
            self._facade.add_to_address_book(
                entry.device_id,
                alias=entry.alias,
                display_name=entry.display_name,
                tags=entry.tags,
                manual_address=entry.manual_address,
            )
        )
        if saved and entry.manual_address:
            await self.probe(entry)

    async def probe(self, entry: AddressBookEntry) -> None:
        """Try a manual address at once and say what came back."""
        name = entry.display_name or entry.alias or entry.device_id.grouped()
        address = entry.manual_address or ""
        self.show_message(self.tr("Checking {address}…").format(address=address), error=False)
        try:
            result = await self._facade.probe_address(entry.device_id)
        except ActionRefused as e:
            self.show_message(str(e))
            return
        if result.reachable:
            self.show_message(
                self.tr("{name} answered at {address}: it is online.").format(
                    name=name, address=address
                ),
                error=False,
            )
        else:
            self.show_message(
                self.tr(
                    "{name} did not answer at {address}: {reason}. Check the address and that "
                    "the app runs there; it is tried again in the background."
                ).format(name=name, address=address, reason=result.reason)
            )

    async def _report(self, call: Awaitable[None]) -> bool:
        try:
            await call
        except ActionRefused as e:
            self.show_message(str(e))
            return False
        self.message_label.hide()
        return True

    def show_message(self, text: str, error: bool = True) -> None:
        self.message_label.setText(text)
        self.message_label.setProperty("error", error)
        self.message_label.setStyleSheet(ERROR_STYLE if error else NOTE_STYLE)
        self.message_label.show()

    def _track(self, task: Any) -> None:
        if isinstance(task, asyncio.Future):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def pending_tasks(self) -> int:
        return len(self._tasks)

    def cancel_tasks(self) -> None:
        """Cancel what this pane started; called when the window closes."""
        for task in list(self._tasks):
            task.cancel()
