"""Run a coroutine to its end on the qasync loop of a UI test while Qt keeps processing events."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from pytestqt.qtbot import QtBot

T = TypeVar("T")


def finish(qtbot: QtBot, coro: Coroutine[Any, Any, T], timeout_ms: int = 10_000) -> T:
    """The coroutine's result; it runs as a task on the loop of the ``qasync_loop`` fixture."""
    task = asyncio.get_event_loop().create_task(coro)
    qtbot.waitUntil(task.done, timeout=timeout_ms)
    return task.result()
