"""Windows that grow instead of squeezing what they show.

A window's minimum height does not count wrapped lines, so when a label's text gets longer
(a refusal, a permission notice) the layout squeezes it and the rows below. Qt grows a window
to its new minimum size by itself, so rows without wrapping are fine; wrapped text is not.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget


def lacking(widget: QWidget) -> int:
    """How many pixels of height a widget without a layout of its own is short of."""
    if widget.layout() is not None:
        return 0
    if widget.hasHeightForWidth():
        need = widget.heightForWidth(widget.width())
    else:
        need = widget.minimumSizeHint().height()
    return max(0, need - widget.height())


def schedule_grow(window: QWidget) -> None:
    """Look, once the layout has caught up, whether ``window`` must grow. Not from an event()
    override: that runs while the window is destroyed."""
    QTimer.singleShot(0, window, lambda: grow_to_contents(window))


def grow_to_contents(window: QWidget) -> None:
    """Taller by what the most squeezed widget of ``window`` lacks, as far as the screen has
    room below the window; again until none lacks."""
    short = max((lacking(w) for w in window.findChildren(QWidget) if w.isVisible()), default=0)
    if short <= 0:
        return
    screen = window.screen()
    room = window.height() + short
    if screen is not None:
        area = screen.availableGeometry()
        room = min(room, window.height() + area.bottom() - window.frameGeometry().bottom())
    if room > window.height() and window.isVisible():
        window.resize(window.width(), room)
        # The layout shares the new room out once the resize is seen: look again then (it
        # ends at the screen's bottom edge or when nothing lacks any more).
        schedule_grow(window)
