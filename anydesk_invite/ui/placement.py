"""Keeps every window of the app inside its screen's available geometry.

Installed once on the application (the shell does it): when a top-level window opens, it gets
a place of its own (the main window centred, the Accept Window at the bottom right as
AnyDesk's does, other windows centred on the main window's screen; dialogs stay where Qt puts
them, over their parent) instead of 0,0 on top of the main window when no window manager places
it. Whenever a window opens or grows (the Accept Window switching from the request to the
session), it is moved, and if need be shrunk, so that its frame stays inside the screen's
available geometry: the taskbar and the screen edges never hide a button.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication, QScreen, QWindow
from PySide6.QtWidgets import QApplication, QWidget

MARGIN = 16
"""Space kept between a newly placed window and the screen edge."""

TITLE_GUESS = 32
"""The height of a window manager's title bar before the window is mapped (then it is known)."""

SIDE_VARIABLE = "ADINVITE_WINDOW_SIDE"
"""Environment variable: 'left' or 'right' puts the main window in that half of the screen."""

_UNMANAGED = (
    Qt.WindowType.Popup,
    Qt.WindowType.ToolTip,
    Qt.WindowType.SplashScreen,
    Qt.WindowType.Desktop,
    Qt.WindowType.Tool,  # toasts and the bell's popup place themselves
)


def screen_of(widget: QWidget) -> QScreen | None:
    """The screen a window is on, else the one under its parent, else the primary one."""
    parent = widget.parentWidget()
    for w in (widget, parent.window() if parent is not None else None):
        if w is None:
            continue
        handle = w.windowHandle()
        screen = handle.screen() if handle is not None else None
        if screen is None:
            screen = QGuiApplication.screenAt(w.geometry().center())
        if screen is not None:
            return screen
    return QGuiApplication.primaryScreen()


def frame_margins(widget: QWidget) -> tuple[int, int, int, int]:
    """Left, top, right, bottom of the window manager's frame (a guess before it is mapped)."""
    handle = widget.windowHandle()
    if handle is not None:
        m = handle.frameMargins()
        margins = (m.left(), m.top(), m.right(), m.bottom())
        # Before the window manager's frame is known, X can report a nonsense frame (negative
        # margins as large as the window): that is no frame yet.
        if any(margins) and min(margins) >= 0:
            return margins
    if widget.isVisible() or QGuiApplication.platformName() not in ("xcb", "wayland"):
        return (0, 0, 0, 0)
    return (0, TITLE_GUESS, 0, 0)


def fitted(inner: QRect, margins: tuple[int, int, int, int], area: QRect) -> QRect:
    """``inner`` (the client area) moved, and shrunk if it must, so its frame fits ``area``."""
    left, top, right, bottom = margins
    width = min(inner.width(), max(1, area.width() - left - right))
    height = min(inner.height(), max(1, area.height() - top - bottom))
    x = min(max(inner.x(), area.left() + left), area.right() - right - width + 1)
    y = min(max(inner.y(), area.top() + top), area.bottom() - bottom - height + 1)
    return QRect(x, y, width, height)


def _widget_of(handle: QWindow) -> QWidget | None:
    for widget in QApplication.topLevelWidgets():
        if widget.windowHandle() is handle:
            return widget
    return None


def default_size(wanted: QSize, area: QRect) -> QSize:
    """A first size for a big window: what it wants, but at most 90 % of the screen."""
    return QSize(
        min(wanted.width(), int(area.width() * 0.9)), min(wanted.height(), int(area.height() * 0.9))
    )


class WindowPlacement(QObject):
    """The application-wide event filter that places and fits top-level windows."""

    def __init__(
        self, app: QApplication, main: QWidget | None = None, side: str | None = None
    ) -> None:
        super().__init__(app)
        self.setObjectName("windowPlacement")
        self._app = app
        self._main = main
        self._side = side if side is not None else os.environ.get(SIDE_VARIABLE, "")
        """'left' or 'right': the main window takes that half of the screen (the demo's two
        clients side by side); otherwise it is centred."""
        self._busy = False
        app.installEventFilter(self)

    def detach(self) -> None:
        self._app.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind is QEvent.Type.Expose and isinstance(watched, QWindow) and not self._busy:
            # A window manager frames a window before it maps it, but the move that follows
            # can reach the window before Qt has learnt of the frame (on a busy machine): the
            # exposure after mapping is the one moment the frame is surely known.
            widget = _widget_of(watched)
            if widget is None:
                return False
            watched, kind = widget, QEvent.Type.Move
        elif kind not in (QEvent.Type.Show, QEvent.Type.Resize, QEvent.Type.Move) or self._busy:
            return False
        if not isinstance(watched, QWidget) or not watched.isWindow():
            return False
        if watched.windowType() in _UNMANAGED:
            return False
        if watched.windowState() & (
            Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen
        ):
            return False
        if kind is not QEvent.Type.Show and not watched.isVisible():
            return False
        if kind is QEvent.Type.Move:
            # Moving is the user's business, except once: when the window manager has put its
            # frame around a new window, the title bar's real height is known.
            if watched.property("framed") or frame_margins(watched) == (0, 0, 0, 0):
                return False
            watched.setProperty("framed", True)
        self._busy = True
        try:
            if kind is QEvent.Type.Show and not watched.property("placed"):
                watched.setProperty("placed", True)
                self.place(watched)
            self.fit(watched)
        finally:
            self._busy = False
        return False

    def place(self, window: QWidget) -> None:
        """The first place of a window that Qt and the user have not placed."""
        if window.testAttribute(Qt.WidgetAttribute.WA_Moved):
            return  # moved before it was shown: by its own code or by -geometry
        parent = window.parentWidget()
        if parent is not None and parent.window().isVisible():
            return  # a dialog: Qt centres it over its parent
        screen = screen_of(window)
        if screen is None:
            return
        area = screen.availableGeometry()
        _left, top, right, bottom = frame_margins(window)
        size = window.size()
        if window is self._main and self._side in ("left", "right"):
            half = area.width() // 2
            width = min(size.width(), half - 2 * MARGIN)
            height = min(size.height(), area.height() - 2 * MARGIN - top)
            window.resize(width, height)
            x = area.left() + MARGIN + (half if self._side == "right" else 0)
            window.move(QPoint(x, area.top() + MARGIN))
            return
        if window.objectName() == "acceptWindow":
            # Where AnyDesk puts it: the bottom right corner, out of the way.
            x = area.right() - MARGIN - right - size.width() + 1
            y = area.bottom() - MARGIN - bottom - size.height() + 1
        else:
            main = self._main
            centre = (
                main.frameGeometry().center()
                if main is not None and main is not window and main.isVisible()
                else area.center()
            )
            x = centre.x() - size.width() // 2
            y = centre.y() - (size.height() + top) // 2 + top
        window.move(QPoint(x, y))

    def fit(self, window: QWidget) -> None:
        """Move (and shrink) the window so its frame is inside its screen's available area."""
        screen = screen_of(window)
        if screen is None:
            return
        area = screen.availableGeometry()
        inner = window.geometry()
        if not inner.isValid():
            return
        target = fitted(inner, frame_margins(window), area)
        if target.size() != inner.size():
            # The window's minimum may be larger than the screen: the screen wins.
            window.setMinimumSize(
                min(window.minimumWidth(), target.width()),
                min(window.minimumHeight(), target.height()),
            )
            window.resize(target.size())
        if target.topLeft() != inner.topLeft():
            window.move(target.topLeft() - (inner.topLeft() - window.pos()))
