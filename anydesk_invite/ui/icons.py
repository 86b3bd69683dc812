"""Icons from the SVG files in resources/icons (anydesk_invite.resources), crisp at any scale."""

from __future__ import annotations

from importlib import resources

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QIcon, QIconEngine, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

APP_ICON = "anydesk-invite"
NAMES = ("invite", "bell", "lock", "connect", "email", "settings", APP_ICON)


def svg_bytes(name: str) -> bytes:
    """The SVG source of an icon; FileNotFoundError names an unknown icon."""
    ref = resources.files("anydesk_invite.resources") / "icons" / f"{name}.svg"
    return ref.read_bytes()


class _SvgEngine(QIconEngine):
    """Renders the SVG at the exact requested size, so high-DPI screens get sharp pixels."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = data
        self._renderer = QSvgRenderer(QByteArray(data))

    def paint(self, painter: QPainter, rect: object, mode: QIcon.Mode, state: QIcon.State) -> None:
        if mode == QIcon.Mode.Disabled:
            painter.setOpacity(0.4)
        self._renderer.render(painter, rect)  # type: ignore[call-overload]

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        pix = QPixmap(size)
        pix.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pix)
        self.paint(painter, pix.rect(), mode, state)
        painter.end()
        return pix

    def clone(self) -> QIconEngine:
        return _SvgEngine(self._data)


def icon(name: str) -> QIcon:
    """A QIcon for one of NAMES."""
    return QIcon(_SvgEngine(svg_bytes(name)))
