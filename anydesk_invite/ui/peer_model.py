"""Qt models over PeerView snapshots: a list model updated by small diffs, and its filter.

`PeerListModel.set_peers` compares the new snapshot with the rows it holds, keyed by device
ID, and announces only what changed (rows removed, rows appended, rows whose data changed),
so a view keeps its selection and scroll position when one peer goes offline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import IntEnum

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from anydesk_invite.services.views import PeerSource, PeerView

_Index = QModelIndex | QPersistentModelIndex


class PeerRole(IntEnum):
    """Custom data roles of PeerListModel."""

    PEER = Qt.ItemDataRole.UserRole + 1
    ALIAS = Qt.ItemDataRole.UserRole + 2
    ID = Qt.ItemDataRole.UserRole + 3
    """The ID's digits, ungrouped."""
    GROUPED_ID = Qt.ItemDataRole.UserRole + 4
    ONLINE = Qt.ItemDataRole.UserRole + 5
    TAGS = Qt.ItemDataRole.UserRole + 6
    """A list of tag strings."""
    LAST_SESSION = Qt.ItemDataRole.UserRole + 7
    """Epoch seconds (float) or None."""
    FIRST_CONTACT = Qt.ItemDataRole.UserRole + 8
    CONFLICT = Qt.ItemDataRole.UserRole + 9
    SORT_TITLE = Qt.ItemDataRole.UserRole + 10
    DISPLAY_NAME = Qt.ItemDataRole.UserRole + 11


class PeerListModel(QAbstractListModel):
    """One row per peer, in the order peers first appeared; the proxy sorts."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._peers: list[PeerView] = []

    # -- updates ---------------------------------------------------------------------------
    def set_peers(self, peers: Sequence[PeerView]) -> None:
        """Show exactly these peers, announcing only the differences."""
        incoming: dict[str, PeerView] = {}
        for p in peers:
            incoming.setdefault(p.device_id.digits, p)

        # Removals, bottom-up in contiguous runs, so each run is one beginRemoveRows.
        row = len(self._peers) - 1
        while row >= 0:
            if self._peers[row].device_id.digits in incoming:
                row -= 1
                continue
            last = row
            while row >= 0 and self._peers[row].device_id.digits not in incoming:
                row -= 1
            first = row + 1
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._peers[first : last + 1]
            self.endRemoveRows()

        # Changes in place, one dataChanged per contiguous run of changed rows.
        run_start: int | None = None
        for i, old in enumerate(self._peers):
            new = incoming.pop(old.device_id.digits)
            if new != old:
                self._peers[i] = new
                if run_start is None:
                    run_start = i
            elif run_start is not None:
                self._changed(run_start, i - 1)
                run_start = None
        if run_start is not None:
            self._changed(run_start, len(self._peers) - 1)

        # What is left in `incoming` is new: appended in one go.
        if incoming:
            first = len(self._peers)
            self.beginInsertRows(QModelIndex(), first, first + len(incoming) - 1)
            self._peers.extend(incoming.values())
            self.endInsertRows()

    def update_peer(self, device_id: str, peer: PeerView | None) -> None:
        """One peer changed: add, change or remove its row alone (None: remove)."""
        row = self.row_of(device_id)
        if peer is None:
            if row is not None:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._peers[row]
                self.endRemoveRows()
        elif row is None:
            self.beginInsertRows(QModelIndex(), len(self._peers), len(self._peers))
            self._peers.append(peer)
            self.endInsertRows()
        elif self._peers[row] != peer:
            self._peers[row] = peer
            self._changed(row, row)

    def _changed(self, first: int, last: int) -> None:
        self.dataChanged.emit(self.index(first), self.index(last))

    def peers(self) -> list[PeerView]:
        return list(self._peers)

    def peer_at(self, row: int) -> PeerView:
        return self._peers[row]

    def row_of(self, device_id: str) -> int | None:
        for i, p in enumerate(self._peers):
            if p.device_id.digits == device_id:
                return i
        return None

    # -- QAbstractListModel ------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._peers)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.parent().isValid() or index.column() != 0:
            return None
        row = index.row()
        if not 0 <= row < len(self._peers):
            return None
        p = self._peers[row]
        if role == Qt.ItemDataRole.DisplayRole:
            return p.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(p)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            state = (
                QCoreApplication.translate("PeerTile", "online")
                if p.online
                else QCoreApplication.translate("PeerTile", "offline")
            )
            return QCoreApplication.translate("PeerTile", "{title}, ID {id}, {state}").format(
                title=p.title, id=p.device_id.grouped(), state=state
            )
        return _custom(p, role)

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        for r in PeerRole:
            names[int(r)] = QByteArray(r.name.lower().encode())
        return names


def _custom(p: PeerView, role: int) -> object:
    match role:
        case PeerRole.PEER:
            return p
        case PeerRole.ALIAS:
            return p.alias
        case PeerRole.ID:
            return p.device_id.digits
        case PeerRole.GROUPED_ID:
            return p.device_id.grouped()
        case PeerRole.ONLINE:
            return p.online
        case PeerRole.TAGS:
            return list(p.tags)
        case PeerRole.LAST_SESSION:
            return p.last_session
        case PeerRole.FIRST_CONTACT:
            return p.first_contact
        case PeerRole.CONFLICT:
            return p.conflict
        case PeerRole.SORT_TITLE:
            return p.title.casefold()
        case PeerRole.DISPLAY_NAME:
            return p.display_name
    return None


def _tooltip(p: PeerView) -> str:
    lines = [
        p.title,
        QCoreApplication.translate("PeerTile", "ID {id}").format(id=p.device_id.grouped()),
    ]
    if p.alias and p.alias != p.title:
        lines.append(p.alias)
    lines.append(
        QCoreApplication.translate("PeerTile", "online")
        if p.online
        else QCoreApplication.translate("PeerTile", "offline")
    )
    if "dns" in p.found_via and "lan" not in p.found_via:
        lines.append(
            QCoreApplication.translate(
                "PeerTile", "found through your organisation's DNS (another subnet)"
            )
        )
    if p.manual_address:
        lines.append(
            QCoreApplication.translate("PeerTile", "address {address}").format(
                address=p.manual_address
            )
        )
    if p.tags:
        lines.append(
            QCoreApplication.translate("PeerTile", "tags: {tags}").format(tags=", ".join(p.tags))
        )
    if p.first_contact:
        lines.append(QCoreApplication.translate("PeerTile", "never connected"))
    if p.conflict:
        lines.append(
            QCoreApplication.translate(
                "PeerTile", "Warning: two devices claim this ID on the network"
            )
        )
    return "\n".join(lines)


_SEPARATORS = re.compile(r"[\s\-_.]+")


def peer_matches(peer: PeerView, query: str) -> bool:
    """Whether a filter text matches: alias, display name, tags, or ID digits (spaces or not)."""
    q = query.strip().casefold()
    if not q:
        return True
    compact = _SEPARATORS.sub("", q)
    if compact.isdigit() and compact in peer.device_id.digits:
        return True
    haystack = [peer.alias, peer.display_name, *peer.tags]
    return any(q in h.casefold() for h in haystack if h)


class PeerFilterModel(QSortFilterProxyModel):
    """Filters a PeerListModel by the filter box text and sorts it for one pane.

    Recent Sessions sorts by last session, newest first; the other panes by name.
    """

    def __init__(self, source: PeerSource, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._query = ""
        self.setDynamicSortFilter(True)
        if source is PeerSource.RECENT:
            self.setSortRole(PeerRole.LAST_SESSION)
            self.sort(0, Qt.SortOrder.DescendingOrder)
        else:
            self.setSortRole(PeerRole.SORT_TITLE)
            self.sort(0, Qt.SortOrder.AscendingOrder)

    def set_query(self, text: str) -> None:
        if text == self._query:
            return
        self.beginFilterChange()
        self._query = text
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def query(self) -> str:
        return self._query

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        if not self._query:
            return True
        model = self.sourceModel()
        peer = model.data(model.index(source_row, 0, source_parent), PeerRole.PEER)
        return isinstance(peer, PeerView) and peer_matches(peer, self._query)

    def lessThan(self, left: _Index, right: _Index) -> bool:
        role = self.sortRole()
        a = left.data(role)
        b = right.data(role)
        if role == PeerRole.LAST_SESSION:
            fa = a if isinstance(a, float) else float("-inf")
            fb = b if isinstance(b, float) else float("-inf")
            if fa != fb:
                return fa < fb
        elif a != b:
            return str(a) < str(b)
        # Ties break on the ID so the order never depends on arrival.
        return str(left.data(PeerRole.ID)) < str(right.data(PeerRole.ID))
