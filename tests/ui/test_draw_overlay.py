"""The host's drawing overlay and pointer markers: click-through, on top, covering only what
they paint, following the guest's strokes and pointer."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from anydesk_invite.core.signal import Signal
from anydesk_invite.services.views import PointerSeen, StrokeView
from anydesk_invite.ui.draw_overlay import DrawOverlay
from anydesk_invite.ui.pointer_marker import SIZE, PointerMarkers


class Strokes:
    """A stroke source the test fills."""

    def __init__(self) -> None:
        self.items: list[StrokeView] = []
        self.strokes_changed: Signal[str] = Signal("strokes.changed")

    def strokes(self, session_id: str | None = None) -> list[StrokeView]:
        return list(self.items)

    def set(self, *points: tuple[int, int]) -> None:
        self.items = [StrokeView("ab", 1, 0, 0xFF0000, tuple(points))] if points else []
        self.strokes_changed.emit("ab")


def test_the_overlay_is_frameless_on_top_and_never_takes_input(qtbot: QtBot) -> None:
    overlay = DrawOverlay(Strokes())
    qtbot.addWidget(overlay)
    flags = overlay.windowFlags()
    for flag in (
        Qt.WindowType.FramelessWindowHint,
        Qt.WindowType.WindowStaysOnTopHint,
        Qt.WindowType.WindowTransparentForInput,
    ):
        assert flags & flag
    assert overlay.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)


def test_the_overlay_shows_with_strokes_covering_only_them_and_hides_when_cleared(
    qtbot: QtBot,
) -> None:
    source = Strokes()
    overlay = DrawOverlay(source)
    qtbot.addWidget(overlay)
    assert not overlay.isVisible()
    source.set((100, 100), (300, 100), (300, 300))
    qtbot.waitUntil(overlay.isVisible)
    assert overlay.covers(QPoint(200, 100))  # on the first segment
    assert overlay.covers(QPoint(300, 200))  # on the second
    assert not overlay.covers(QPoint(200, 200))  # inside the corner, off the strokes
    assert not overlay.covers(QPoint(10, 10))
    image = overlay.grab().toImage()
    assert QColor(image.pixel(200, 100)) == QColor("#ff0000")
    source.set()
    qtbot.waitUntil(lambda: not overlay.isVisible())
    assert not overlay.covers(QPoint(200, 100))


def test_a_single_point_stroke_is_a_dot(qtbot: QtBot) -> None:
    source = Strokes()
    overlay = DrawOverlay(source)
    qtbot.addWidget(overlay)
    source.set((50, 60))
    qtbot.waitUntil(overlay.isVisible)
    assert overlay.covers(QPoint(50, 60))
    assert not overlay.covers(QPoint(60, 60))


def test_a_marker_follows_the_guest_pointer_and_hides_when_told(qtbot: QtBot) -> None:
    seen: Signal[PointerSeen] = Signal("seen")
    markers = PointerMarkers(seen, lambda _: 0x0A84FF, to_global=lambda s, x, y: QPointF(x, y))
    seen.emit(PointerSeen("ab", 0, 120, 80, True))
    marker = markers.markers["ab"]
    qtbot.addWidget(marker)
    assert marker.isVisible()
    assert marker.pos() == QPoint(120 - SIZE // 2, 80 - SIZE // 2)
    assert marker.color == QColor("#0a84ff")
    assert marker.windowFlags() & Qt.WindowType.WindowTransparentForInput
    assert marker.mask().contains(QPoint(SIZE // 2, SIZE // 2))
    assert not marker.mask().contains(QPoint(0, 0))  # a dot, not a square
    seen.emit(PointerSeen("ab", 0, 0, 0, False))
    assert not marker.isVisible()
    markers.close()
    assert markers.markers == {}
