"""asyncSlot for the widgets of the main window, which start-up shows before asyncio and
qasync are loaded: each slot is qasync's asyncSlot (ui/qt_loop.py), made at its first call."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Slot


def asyncSlot(*types: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Like qt_loop.asyncSlot: the slot runs the coroutine as a task on the qasync loop and
    returns that task."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        made: Callable[..., Any] | None = None

        @Slot(*types)
        @functools.wraps(fn)
        def slot(*args: Any, **kwargs: Any) -> Any:
            nonlocal made
            if made is None:
                from anydesk_invite.ui.qt_loop import asyncSlot as qasync_slot

                made = qasync_slot(*types)(fn)
            return made(*args, **kwargs)

        return slot

    return decorate
