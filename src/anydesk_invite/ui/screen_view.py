"""The host's screen in the guest's session window: the frame buffer scaled to fit, and a
switcher when the host has several screens."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QVBoxLayout, QWidget

from anydesk_invite.services.screen_stream import GuestScreen

BACKGROUND = QColor("#202124")
TEXT = QColor("#e8eaed")


def fit(image: QSize, area: QRect) -> QRect:
    """The largest rectangle of the image's aspect ratio centred in ``area``."""
    if image.isEmpty() or area.isEmpty():
        return QRect()
    size = image.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
    x = area.x() + (area.width() - size.width()) // 2
    y = area.y() + (area.height() - size.height()) // 2
    return QRect(x, y, size.width(), size.height())


class ScreenView(QWidget):
    """Paints a GuestScreen's frame buffer, smooth-scaled with its aspect ratio kept.

    Asks the host for its first screen once the host said which it has; the combo
    (screenCombo) shows only when there are several.
    """

    def __init__(self, screen: GuestScreen | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screenView")
        self.setAccessibleName("Host screen")
        self.setMinimumSize(480, 300)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._screen = screen
        self._asked = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.combo = QComboBox(self)
        self.combo.setObjectName("screenCombo")
        self.combo.setAccessibleName("Host screen to show")
        self.combo.hide()
        self.combo.activated.connect(self._chosen)
        top = QHBoxLayout()
        top.addWidget(self.combo)
        top.addStretch(1)
        box = QVBoxLayout(self)
        box.addLayout(top)
        box.addStretch(1)
        if screen is not None:
            screen.screens_changed.connect(self._on_screens)
            screen.updated.connect(self._on_frame)
            self._on_screens(None)

    def message(self) -> str:
        """What the view says instead of (or before) a picture; empty once frames show."""
        s = self._screen
        if s is None:
            return "Screen sharing is not available in this session."
        if s.problem:
            return f"The host's screen: {s.problem}"
        if s.screens == []:
            return "The host does not share its screen."
        if s.frames_shown == 0:
            return "Waiting for the host's screen…"
        return ""

    def image(self) -> QImage | None:
        """The current frame, wrapping the buffer without a copy (valid until it changes)."""
        s = self._screen
        if s is None or s.frames_shown == 0 or not s.buffer:
            return None
        return QImage(s.buffer, s.width, s.height, s.width * 4, QImage.Format.Format_RGB32)

    def frame_rect(self) -> QRect:
        s = self._screen
        if s is None or s.frames_shown == 0:
            return QRect()
        return fit(QSize(s.width, s.height), self.rect())

    def _on_screens(self, _: None) -> None:
        s = self._screen
        if s is None:
            return
        screens = s.screens or []
        self.combo.clear()
        for info in screens:
            self.combo.addItem(f"{info.name} ({info.width}×{info.height})", info.index)
        at = self.combo.findData(s.current)
        if at >= 0:
            self.combo.setCurrentIndex(at)
        self.combo.setVisible(len(screens) > 1)
        if screens and not self._asked:
            self._asked = True
            self._ask(s.current if at >= 0 else screens[0].index)
        self.update()

    def _on_frame(self, _: int) -> None:
        self.update()

    def _chosen(self, row: int) -> None:
        index = self.combo.itemData(row)
        if isinstance(index, int):
            self._ask(index)

    def _ask(self, index: int) -> None:
        if self._screen is None:
            return
        task = asyncio.get_event_loop().create_task(self._screen.select(index))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def detach(self) -> None:
        """Stop listening to the stream and cancel pending requests (the window closes)."""
        if self._screen is not None:
            self._screen.screens_changed.disconnect(self._on_screens)
            self._screen.updated.disconnect(self._on_frame)
            self._screen = None
        for t in list(self._tasks):
            t.cancel()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        image = self.image()
        if image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(self.frame_rect(), image)
        else:
            painter.setPen(TEXT)
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message()
            )
        painter.end()
