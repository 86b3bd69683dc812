"""The peer panes' titles and object names, apart from the panes: the main window shows its
tabs before the panes in them are built (behind the first window, with the client)."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from anydesk_invite.services.views import PeerSource

PANE_TITLES = {
    PeerSource.FAVORITES: QT_TRANSLATE_NOOP("PeerPane", "Favorites"),
    PeerSource.RECENT: QT_TRANSLATE_NOOP("PeerPane", "Recent Sessions"),
    PeerSource.DISCOVERY: QT_TRANSLATE_NOOP("PeerPane", "Discovery"),
    PeerSource.ADDRESS_BOOK: QT_TRANSLATE_NOOP("PeerPane", "Address Book"),
}
"""The panes' titles in English; pane_title gives them in the UI's language."""
PANE_ORDER = (
    PeerSource.FAVORITES,
    PeerSource.RECENT,
    PeerSource.DISCOVERY,
    PeerSource.ADDRESS_BOOK,
)
"""The tabs of the main window, left to right."""


def pane_title(source: PeerSource) -> str:
    """A pane's title in the UI's language."""
    return QCoreApplication.translate("PeerPane", PANE_TITLES[source])
