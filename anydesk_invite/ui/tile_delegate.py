"""Paints one peer tile: avatar with initials, alias, grouped ID, online dot and extras.

Colours come from the widget's palette (so light and dark themes both work) except the
avatar, whose hue is derived from the ID so the same peer looks the same everywhere.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable

from PySide6.QtCore import (
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from anydesk_invite.services.views import PeerSource, PeerView
from anydesk_invite.ui.countdown import format_when
from anydesk_invite.ui.peer_model import PeerRole
from anydesk_invite.ui.styles import muted_text, readable_fill

TILE_SIZE = QSize(236, 78)
_AVATAR = 44
_PAD = 10
ONLINE_COLOR = QColor("#2e9d44")
OFFLINE_COLOR = QColor("#9e9e9e")
WARNING_COLOR = QColor("#d9480f")


def avatar_color(device_id: str) -> QColor:
    """A stable, readable colour per ID (white initials stay legible on it)."""
    hue = int.from_bytes(hashlib.sha256(device_id.encode()).digest()[:2], "big") % 360
    return QColor.fromHsl(hue, 150, 105)


def initials(peer: PeerView) -> str:
    """Up to two letters from the display name or alias; the ID's first digit otherwise."""
    name = peer.display_name or peer.alias.removesuffix("@ad")
    words: list[str] = re.findall(r"[^\W_][\w']*", name)
    if not words:
        return peer.device_id.digits[0]
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[1][0]).upper()


def last_session_text(epoch: float, now: float) -> str:
    """ "Last session today 09:14", "… Mon 14:02" within the week, then the date: short
    enough that a tile never cuts it."""
    return QCoreApplication.translate("PeerTile", "Last session {when}").format(
        when=format_when(epoch, now)
    )


class PeerTileDelegate(QStyledItemDelegate):
    """Draws tiles for one pane; `source` decides the third line (tags, last session)."""

    def __init__(
        self,
        source: PeerSource,
        parent: QWidget | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self._source = source
        self._wall_clock = wall_clock

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(TILE_SIZE)

    def detail_text(self, peer: PeerView) -> str:
        """The third line of a tile, if any."""
        if peer.conflict:
            return QCoreApplication.translate("PeerTile", "⚠ ID conflict on the network")
        if self._source is PeerSource.RECENT and peer.last_session is not None:
            return last_session_text(peer.last_session, self._wall_clock())
        if self._source is PeerSource.ADDRESS_BOOK and peer.tags:
            return ", ".join(peer.tags)
        if self._source is PeerSource.ADDRESS_BOOK and peer.manual_address:
            return peer.manual_address
        return (
            QCoreApplication.translate("PeerTile", "online")
            if peer.online
            else QCoreApplication.translate("PeerTile", "offline")
        )

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        peer = index.data(PeerRole.PEER)
        if not isinstance(peer, PeerView):
            super().paint(painter, option, index)
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal: QPalette = option.palette
        state = option.state
        rect = QRectF(option.rect).adjusted(3, 3, -3, -3)
        selected = bool(state & QStyle.StateFlag.State_Selected)
        hovered = bool(state & QStyle.StateFlag.State_MouseOver)

        # Card
        card = QPainterPath()
        card.addRoundedRect(rect, 8, 8)
        text_color = pal.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        if selected:
            # Many themes' selection colour is too light for white text (Fusion's blue gives
            # 3.7:1): darkened just enough that even the secondary lines read.
            fill = readable_fill(pal.color(QPalette.ColorRole.Highlight), text_color)
        elif hovered:
            fill = pal.color(QPalette.ColorRole.AlternateBase)
        else:
            fill = pal.color(QPalette.ColorRole.Base)
        painter.fillPath(card, fill)
        border = pal.color(QPalette.ColorRole.Mid)
        if peer.conflict:
            border = WARNING_COLOR
        painter.setPen(QPen(border, 1.2 if peer.conflict else 0.8))
        painter.drawPath(card)
        muted = muted_text(text_color, fill)

        # Avatar with initials and online dot
        av = QRectF(rect.left() + _PAD, rect.center().y() - _AVATAR / 2, _AVATAR, _AVATAR)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(avatar_color(peer.device_id.digits))
        painter.drawEllipse(av)
        font = QFont(option.font)
        ifont = QFont(font)
        ifont.setBold(True)
        ifont.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.15)
        painter.setFont(ifont)
        painter.setPen(QColor("white"))
        painter.drawText(av, Qt.AlignmentFlag.AlignCenter, initials(peer))
        dot = QRectF(av.right() - 13, av.bottom() - 13, 14, 14)
        painter.setPen(QPen(fill, 2.5))
        painter.setBrush(ONLINE_COLOR if peer.online else OFFLINE_COLOR)
        painter.drawEllipse(dot)

        # Text lines
        left = av.right() + _PAD
        width = rect.right() - left - _PAD
        line_h = QFontMetrics(font).height()
        top = rect.center().y() - line_h * 1.5
        title_font = QFont(font)
        title_font.setBold(True)
        self._line(painter, title_font, text_color, left, top, width, peer.title)
        second = peer.device_id.grouped()
        if peer.display_name and peer.alias:
            second = f"{peer.alias} · {second}"
        self._line(painter, font, muted, left, top + line_h, width, second)
        detail = self.detail_text(peer)
        detail_color = WARNING_COLOR if peer.conflict and not selected else muted
        small = QFont(font)
        small.setPointSizeF(max(font.pointSizeF() * 0.9, 7.0))
        self._line(painter, small, detail_color, left, top + 2 * line_h, width, detail)
        painter.restore()

    @staticmethod
    def _line(
        painter: QPainter, font: QFont, color: QColor, x: float, y: float, w: float, text: str
    ) -> None:
        painter.setFont(font)
        painter.setPen(color)
        elided = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, int(w))
        painter.drawText(
            QRectF(x, y, w, QFontMetrics(font).height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            elided,
        )
