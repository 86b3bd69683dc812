"""The host's screen in the guest's session window: the frame buffer scaled to fit, a
switcher when the host has several screens, and the remote control and draw tool on it."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QEvent, QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from anydesk_invite.core.screen import frame_point
from anydesk_invite.services.facade import Pen, PointerButtonName, RemoteControl, RemoteScreen
from anydesk_invite.ui.remote_keys import key_pair, modifiers

_BUTTONS: dict[Qt.MouseButton, PointerButtonName] = {
    Qt.MouseButton.LeftButton: "left",
    Qt.MouseButton.MiddleButton: "middle",
    Qt.MouseButton.RightButton: "right",
    Qt.MouseButton.BackButton: "back",
    Qt.MouseButton.ForwardButton: "forward",
}
BACKGROUND = QColor("#202124")
TEXT = QColor("#e8eaed")
ENDED_SHADE = QColor(0, 0, 0, 160)
"""Laid over the last frame once the session ended: it is no longer live."""


def fit(image: QSize, area: QRect) -> QRect:
    """The largest rectangle of the image's aspect ratio centred in ``area``."""
    if image.isEmpty() or area.isEmpty():
        return QRect()
    size = image.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
    x = area.x() + (area.width() - size.width()) // 2
    y = area.y() + (area.height() - size.height()) // 2
    return QRect(x, y, size.width(), size.height())


class ScreenView(QWidget):
    """Paints a RemoteScreen's frame buffer, smooth-scaled with its aspect ratio kept.

    Asks the host for its first screen once the host said which it has; the combo
    (screenCombo) shows only when there are several.

    Signals: close_requested() when Close on the ended state (closeEndedButton) is clicked.
    """

    close_requested = Signal()

    def __init__(self, screen: RemoteScreen | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screenView")
        self.setAccessibleName(self.tr("Host screen"))
        self.setMinimumSize(480, 300)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._screen = screen
        self._asked = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._control: RemoteControl | None = None
        self._pen: Pen | None = None
        self.draw_mode = False
        """Drags draw strokes instead of controlling the host (the session window's tool)."""
        self._held_keys: dict[str, str] = {}
        self._held_buttons: set[PointerButtonName] = set()
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.combo = QComboBox(self)
        self.combo.setObjectName("screenCombo")
        self.combo.setAccessibleName(self.tr("Host screen to show"))
        self.combo.hide()
        self.combo.activated.connect(self._chosen)
        self.ended = False
        self.ended_panel = QFrame(self)
        self.ended_panel.setObjectName("sessionEndedPanel")
        self.ended_panel.setFrameShape(QFrame.Shape.StyledPanel)
        self.ended_panel.setStyleSheet(
            "#sessionEndedPanel { background: #303134; border-radius: 6px; }"
            "#sessionEndedLabel { color: #e8eaed; font-weight: bold; }"
        )
        self.ended_label = QLabel(self.ended_panel)
        self.ended_label.setObjectName("sessionEndedLabel")
        self.ended_label.setWordWrap(True)
        self.ended_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.close_button = QPushButton(self.tr("&Close"), self.ended_panel)
        self.close_button.setObjectName("closeEndedButton")
        self.close_button.setAccessibleName(self.tr("Close"))
        self.close_button.clicked.connect(self.close_requested)
        panel = QVBoxLayout(self.ended_panel)
        panel.addWidget(self.ended_label)
        panel.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignHCenter)
        self.ended_panel.setMaximumWidth(420)
        self.ended_panel.hide()
        top = QHBoxLayout()
        top.addWidget(self.combo)
        top.addStretch(1)
        middle = QHBoxLayout()
        middle.addStretch(1)
        middle.addWidget(self.ended_panel, 2)
        middle.addStretch(1)
        box = QVBoxLayout(self)
        box.addLayout(top)
        box.addStretch(1)
        box.addLayout(middle)
        box.addStretch(1)
        if screen is not None:
            screen.screens_changed.connect(self._on_screens)
            screen.updated.connect(self._on_frame)
            self._on_screens(None)

    def message(self) -> str:
        """What the view says instead of (or before) a picture; empty once frames show."""
        s = self._screen
        if self.ended:
            return ""  # the ended state says it
        if s is None:
            return self.tr("Screen sharing is not available in this session.")
        if s.problem:
            return self.tr("The host's screen: {problem}").format(problem=s.problem)
        if s.screens == []:
            return self.tr("The host does not share its screen.")
        if s.frames_shown == 0:
            return self.tr("Waiting for the host's screen…")
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

    # --- remote control and drawing ------------------------------------------------------

    def set_remote(self, control: RemoteControl | None, pen: Pen | None) -> None:
        """Send this view's pointer and keys to the host through ``control``, strokes through
        ``pen``; each only while the host grants it."""
        self._control = control
        self._pen = pen

    def frame_pos(self, pos: QPointF) -> tuple[int, int, int] | None:
        """(screen, x, y) in the host's frame pixels under a view position; None off it."""
        s = self._screen
        if s is None or s.frames_shown == 0:
            return None
        r = self.frame_rect()
        at = frame_point(pos.x(), pos.y(), (r.x(), r.y(), r.width(), r.height()), s.width, s.height)
        if at is None:
            return None
        return s.current or 0, at[0], at[1]

    def _drawing(self) -> bool:
        return self.draw_mode and self._pen is not None and self._pen.usable()

    def _controlling(self) -> bool:
        return self._control is not None and self._control.usable()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        at = self.frame_pos(event.position())
        if self._drawing() and self._pen is not None:
            if at is not None and event.buttons() & Qt.MouseButton.LeftButton:
                self._pen.extend(at[1], at[2])
            return
        if self._control is None:
            return
        if at is None:
            self._control.leave()
        else:
            self._control.move(*at)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        at = self.frame_pos(event.position())
        if at is None:
            return
        if self._drawing() and self._pen is not None:
            if event.button() == Qt.MouseButton.LeftButton:
                self._pen.begin(*at)
            return
        button = _BUTTONS.get(event.button())
        if button is not None and self._control is not None:
            if self._control.button(at[0], at[1], at[2], button, True):
                self._held_buttons.add(button)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pen is not None and event.button() == Qt.MouseButton.LeftButton:
            self._pen.end()
        button = _BUTTONS.get(event.button())
        if button is None or button not in self._held_buttons or self._control is None:
            return
        self._held_buttons.discard(button)
        at = self.frame_pos(event.position())
        s = self._screen
        screen = (s.current or 0) if s is not None else 0
        x, y = (at[1], at[2]) if at is not None else (0, 0)
        if at is None:
            # Released off the picture: still release it, where the pointer last was.
            self._control.button(screen, x, y, button, False)
        else:
            self._control.button(*at, button, False)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self._controlling() and self._control is not None:
            delta = event.angleDelta()
            self._control.wheel(delta.x(), delta.y())
            event.accept()
        else:
            super().wheelEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        if self._control is not None:
            self._control.leave()
        super().leaveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._controlling() or self._control is None:
            super().keyPressEvent(event)
            return
        code, key = key_pair(event)
        if self._control.key(code, key, True, modifiers(event.modifiers())):
            self._held_keys[code] = key
        event.accept()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.isAutoRepeat() or self._control is None:
            return
        code, key = key_pair(event)
        if code in self._held_keys:
            self._held_keys.pop(code)
            self._control.key(code, key, False, modifiers(event.modifiers()))
        event.accept()

    def focusNextPrevChild(self, next: bool) -> bool:
        # Tab belongs to the host while this view controls it.
        if self._controlling():
            return False
        return super().focusNextPrevChild(next)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.release_held()
        super().focusOutEvent(event)

    def release_held(self) -> None:
        """Release on the host what this view pressed (focus left, the window closes)."""
        control = self._control
        keys, buttons = dict(self._held_keys), set(self._held_buttons)
        self._held_keys.clear()
        self._held_buttons.clear()
        if control is None:
            return
        for code, key in keys.items():
            control.key(code, key, False, frozenset())
        for b in buttons:
            control.button(0, 0, 0, b, False)

    def detach(self) -> None:
        """Stop listening to the stream and cancel pending requests (the window closes)."""
        self.release_held()
        self._control = None
        self._pen = None
        if self._screen is not None:
            self._screen.screens_changed.disconnect(self._on_screens)
            self._screen.updated.disconnect(self._on_frame)
            self._screen = None
        for t in list(self._tasks):
            t.cancel()

    def show_ended(self, text: str) -> None:
        """The session is over: the last frame dims under the ended state and Close; the view
        takes no more input (what it held is released first)."""
        self.release_held()
        self._control = None
        self._pen = None
        self.draw_mode = False
        self.ended = True
        self.combo.setEnabled(False)
        self.ended_label.setText(text)
        self.ended_panel.show()
        self.close_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self.update()

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
        if self.ended:
            painter.fillRect(self.rect(), ENDED_SHADE)
        painter.end()
