"""The one place that wraps qasync: a QApplication driving an asyncio event loop.

PySide6 is imported before qasync so qasync binds to it and not to another Qt binding it
happens to find.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

import qasync  # isort: skip  (must come after PySide6)

from anydesk_invite.ui.qt_app import application

T = TypeVar("T")

asyncSlot = qasync.asyncSlot
"""Re-exported so widgets never import qasync themselves."""


def run(main: Callable[[], Coroutine[Any, Any, object]], argv: Sequence[str] = ()) -> int:
    """Run `main()` on a qasync loop until the application quits; returns the exit code.

    `main` builds the windows and may return at once; the loop runs until the last window
    closes or something calls `QApplication.quit()`. A still running `main` is cancelled
    then; a `main` that fails ends the application with exit code 1.
    """
    app = application(argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    task = loop.create_task(main())

    def on_main_done(t: asyncio.Task[object]) -> None:
        if t.cancelled():
            return
        exc = t.exception()
        if exc is not None:
            # Never fail silently: the reason goes to the log and to stderr.
            logging.getLogger(__name__).error("the application failed", exc_info=exc)
            traceback.print_exception(exc, file=sys.stderr)
            app.exit(1)

    task.add_done_callback(on_main_done)
    try:
        code = int(loop.run_forever() or 0)
        # Quitting stops the Qt loop at once; run it once more to let `main` unwind.
        if not task.done():
            task.cancel()
            loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
        if not task.cancelled() and task.exception() is not None:
            return 1
        result = task.result() if not task.cancelled() else None
        return result if isinstance(result, int) and result else code
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def run_until_complete(app: QApplication, coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine on a fresh qasync loop while Qt events keep flowing (for tests)."""
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        result: T = loop.run_until_complete(coro)
        return result
    finally:
        loop.close()
        asyncio.set_event_loop(None)


@contextmanager
def attached_loop(app: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop attached to an application whose Qt loop something else runs (tests
    that wait with qtbot). Cleans up so that later Qt waits still work.
    """
    loop = qasync.QEventLoop(app, already_running=True)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        loop.stop()
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
        # qasync's aboutToQuit hook leaves a quit request behind; drain it here, or every
        # later qtbot wait returns at once.
        QTimer.singleShot(0, app.quit)
        app.exec()
        loop.close()


def quit_application() -> None:
    """Ask the running application to quit (the loop in `run` then returns)."""
    app = QApplication.instance()
    if app is not None:
        QTimer.singleShot(0, app.quit)
