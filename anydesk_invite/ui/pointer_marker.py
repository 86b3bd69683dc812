"""Where a guest without control points on the host's screen: a small coloured marker.

The marker is a top-level click-through window that follows the guest's pointer. Its mask is
the dot itself, so without a compositor nothing but the dot paints.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QRegion
from PySide6.QtWidgets import QWidget

from anydesk_invite.core.signal import Signal
from anydesk_invite.services.views import PointerSeen
from anydesk_invite.ui.draw_overlay import overlay_flags, screen_point

SIZE = 18


class PointerMarker(QWidget):
    """One guest's marker: a filled ring in the guest's colour, centred on its pointer."""

    def __init__(self, color: QColor) -> None:
        super().__init__(None, overlay_flags())
        self.setObjectName("pointerMarker")
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.color = color
        self.setFixedSize(SIZE, SIZE)
        self.setMask(QRegion(QRect(0, 0, SIZE, SIZE), QRegion.RegionType.Ellipse))

    def point_at(self, where: QPointF) -> None:
        self.move(round(where.x()) - SIZE // 2, round(where.y()) - SIZE // 2)
        if not self.isVisible():
            self.show()
        self.raise_()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(QPen(QColor("white"), 2))
        painter.setBrush(self.color)
        painter.drawEllipse(1, 1, SIZE - 2, SIZE - 2)
        painter.end()


class PointerMarkers:
    """A marker per guest session, moved and hidden as the host hears of the guest's pointer."""

    def __init__(
        self,
        seen: Signal[PointerSeen],
        color_of: Callable[[str], int],
        to_global: Callable[[int, int, int], QPointF] = screen_point,
    ) -> None:
        self._seen = seen
        self._color_of = color_of
        self._to_global = to_global
        self.markers: dict[str, PointerMarker] = {}
        seen.connect(self._on_seen)

    def _on_seen(self, p: PointerSeen) -> None:
        marker = self.markers.get(p.session_id)
        if not p.inside:
            if marker is not None:
                marker.hide()
            return
        if marker is None:
            marker = PointerMarker(QColor(f"#{self._color_of(p.session_id):06x}"))
            self.markers[p.session_id] = marker
        marker.point_at(self._to_global(p.screen, p.x, p.y))

    def close(self) -> None:
        self._seen.disconnect(self._on_seen)
        for m in self.markers.values():
            m.close()
            m.deleteLater()
        self.markers.clear()
