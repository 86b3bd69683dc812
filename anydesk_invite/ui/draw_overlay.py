"""The host's drawing overlay: guests' strokes painted above every window, click-through.

Without a compositor (plain X11, Xvfb) a translucent window shows black wherever it does
not paint, so the overlay's mask is exactly the pixels its strokes cover: everything else on
the screen stays as it was. Strokes are painted without antialiasing for the same reason (a
half-transparent edge pixel would be half black).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QPoint, QPointF, QRect, Qt, QTimer
from PySide6.QtGui import QBitmap, QColor, QGuiApplication, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from anydesk_invite.core.signal import Signal
from anydesk_invite.services.views import StrokeView

STROKE_WIDTH = 4
REFRESH_MS = 15
"""Points arriving within this many milliseconds are painted together."""


class StrokeSource(Protocol):
    strokes_changed: Signal[str]

    def strokes(self, session_id: str | None = None) -> list[StrokeView]: ...


def screen_point(screen: int, x: int, y: int) -> QPointF:
    """Device pixel (x, y) of screen ``screen`` (QtScreens' numbering) in global coordinates."""
    screens = QGuiApplication.screens()
    if not 0 <= screen < len(screens):
        return QPointF(x, y)
    s = screens[screen]
    ratio = s.devicePixelRatio() or 1.0
    g = s.geometry()
    return QPointF(g.x() + x / ratio, g.y() + y / ratio)


def desktop_rect() -> QRect:
    primary = QGuiApplication.primaryScreen()
    return primary.virtualGeometry() if primary is not None else QRect(0, 0, 800, 600)


def overlay_flags() -> Qt.WindowType:
    return (
        Qt.WindowType.Tool
        | Qt.WindowType.FramelessWindowHint
        | Qt.WindowType.WindowStaysOnTopHint
        | Qt.WindowType.WindowTransparentForInput
        | Qt.WindowType.WindowDoesNotAcceptFocus
        | Qt.WindowType.X11BypassWindowManagerHint
    )


class DrawOverlay(QWidget):
    """Covers the whole desktop; shows only while there are strokes; never takes input."""

    def __init__(
        self,
        source: StrokeSource,
        area: Callable[[], QRect] = desktop_rect,
        to_global: Callable[[int, int, int], QPointF] = screen_point,
    ) -> None:
        super().__init__(None, overlay_flags())
        self.setObjectName("drawOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self._source = source
        self._area = area
        self._to_global = to_global
        self._image = QImage()
        self._timer = QTimer(self)
        self._timer.setObjectName("drawOverlayRefresh")
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        source.strokes_changed.connect(self._on_changed)

    def _on_changed(self, _: str) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        """Repaint the strokes and fit the mask to them; hide when there are none."""
        strokes = self._source.strokes()
        if not strokes:
            self._image = QImage()
            self.hide()
            return
        area = self._area()
        if self.geometry() != area:
            self.setGeometry(area)
        image = QImage(area.size(), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        origin = QPointF(area.topLeft())
        for s in strokes:
            pen = QPen(QColor(f"#{s.color:06x}"), STROKE_WIDTH)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            points = [self._to_global(s.screen, x, y) - origin for x, y in s.points]
            if len(points) == 1:
                painter.drawPoint(points[0])
            else:
                painter.drawPolyline(points)
        painter.end()
        self._image = image
        mask = QBitmap.fromImage(image.createAlphaMask(Qt.ImageConversionFlag.ThresholdAlphaDither))
        self.setMask(mask)
        self.show()
        self.raise_()
        self.update()

    def covers(self, global_point: QPoint) -> bool:
        """Whether the overlay paints the pixel at this global point (tests, accessibility)."""
        if not self.isVisible() or self._image.isNull():
            return False
        local = global_point - self.geometry().topLeft()
        return self.mask().contains(local)

    def detach(self) -> None:
        self._source.strokes_changed.disconnect(self._on_changed)
        self._timer.stop()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._image.isNull():
            return
        painter = QPainter(self)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(event.rect(), self._image, event.rect())
        painter.end()
