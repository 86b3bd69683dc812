"""The qasync bootstrap: coroutines and Qt events share one loop until the app quits."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from anydesk_invite.ui import qt_loop


def test_run_drives_main_and_qt_timers_until_quit(qapp: QApplication) -> None:
    seen: list[str] = []

    async def main() -> None:
        fired = asyncio.Event()
        QTimer.singleShot(0, fired.set)
        await asyncio.wait_for(fired.wait(), 5)
        seen.append("timer")
        QTimer.singleShot(0, qapp.quit)
        await asyncio.sleep(3600)  # cancelled by the quit
        seen.append("not reached")

    assert qt_loop.run(main) == 0
    assert seen == ["timer"]


def test_a_failing_main_ends_the_run_with_exit_code_1(qapp: QApplication) -> None:
    async def main() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("broken start")

    assert qt_loop.run(main) == 1


def test_run_until_complete_returns_the_result(qapp: QApplication) -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert qt_loop.run_until_complete(qapp, answer()) == 42


def test_attached_loop_runs_tasks_while_qtbot_waits(qapp: QApplication, qtbot: QtBot) -> None:
    done: list[int] = []

    async def work() -> None:
        await asyncio.sleep(0)
        done.append(1)

    with qt_loop.attached_loop(qapp) as loop:
        loop.create_task(work())
        qtbot.waitUntil(lambda: done == [1], timeout=5000)
    # Later Qt waits still wait: no quit flag left behind.
    flag: list[int] = []
    QTimer.singleShot(50, lambda: flag.append(1))
    qtbot.waitUntil(lambda: flag == [1], timeout=5000)
