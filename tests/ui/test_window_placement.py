"""Every window opens, and stays when it grows, inside its screen's available geometry: on
offscreen at 1x and QT_SCALE_FACTOR=2, on Xvfb without a window manager and under openbox at
1x and 2x. New windows get a place of their own, not 0,0 on top of the main window.

The in-process test drives the real widgets on the 800x800 offscreen screen; the others run
tests/helpers/window_probe.py (two real clients on 127.0.0.1, every window opened as a user
would) in a process of their own, since the platform and the scale are fixed at start.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from anydesk_invite.ui.accept_window import AcceptWindow
from anydesk_invite.ui.placement import WindowPlacement, fitted
from anydesk_invite.ui.shell import Shell
from tests.helpers.fake_tray import FakeTray
from tests.helpers.nodes import Nodes
from tests.helpers.qt_async import finish
from tests.helpers.xvfb import display_for_tests, in_ci

ROOT = Path(__file__).resolve().parents[2]
SCREEN_1080 = (
    '{"screens":[{"name":"main","x":0,"y":0,"width":1920,"height":1080,'
    '"logicalDpi":96,"dpr":1}],"windowFrameMargins":false}'
)


def inside(frame: QRect, area: QRect) -> bool:
    return area.contains(frame)


# -- the arithmetic -----------------------------------------------------------------------


def test_a_window_below_the_screen_moves_up_keeping_its_size() -> None:
    area = QRect(0, 0, 800, 600)
    out = fitted(QRect(100, 400, 300, 400), (0, 0, 0, 0), area)
    assert out == QRect(100, 200, 300, 400)


def test_a_window_taller_than_the_screen_shrinks_to_fit_with_its_title_bar() -> None:
    area = QRect(0, 0, 800, 600)
    out = fitted(QRect(-50, -10, 900, 700), (2, 30, 2, 2), area)
    assert out == QRect(2, 30, 796, 568)


# -- in process, driving the widgets --------------------------------------------------------


@pytest.fixture
def host_and_guest(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> Iterator[tuple[Shell, Shell, Nodes]]:
    nodes = Nodes(tmp_path)
    shells: list[Shell] = []
    try:
        anna, ben = finish(qtbot, nodes.pair())
        for node in (anna, ben):
            shells.append(
                Shell(
                    node.client,
                    on_quit=lambda: None,
                    tray=FakeTray(available=False),
                    interfaces=lambda: ["127.0.0.1"],
                )
            )
        yield shells[0], shells[1], nodes
    finally:
        for shell in shells:
            shell.close()
        finish(qtbot, nodes.close())


def test_the_accept_window_stays_on_the_screen_when_accept_grows_it_into_the_session(
    qtbot: QtBot, host_and_guest: tuple[Shell, Shell, Nodes]
) -> None:
    host, _guest, nodes = host_and_guest
    anna, ben = nodes.all
    screen = QGuiApplication.primaryScreen()
    area = screen.availableGeometry()
    host.show()
    window = host.window
    qtbot.waitUntil(window.isVisible)
    assert inside(window.frameGeometry(), area)
    assert window.frameGeometry().topLeft() != area.topLeft(), "placed, not left at 0,0"

    finish(qtbot, ben.client.connect(anna.device_id))
    qtbot.waitUntil(lambda: len(host.accept_windows) == 1, timeout=5000)
    [accept] = host.accept_windows.values()
    assert isinstance(accept, AcceptWindow)
    qtbot.waitUntil(accept.isVisible)
    before = accept.frameGeometry()
    assert inside(before, area)
    assert before.topLeft() != window.frameGeometry().topLeft()
    qtbot.mouseClick(accept.accept_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: accept.session() is not None, timeout=5000)
    qtbot.waitUntil(lambda: accept.height() > before.height())
    assert inside(accept.frameGeometry(), area), (accept.frameGeometry(), area)
    assert accept.end_button.isVisible()
    end = accept.end_button
    bottom = end.mapToGlobal(end.rect().bottomRight())
    assert area.contains(bottom)


def test_a_window_the_program_grows_past_the_screen_is_shrunk_into_it(
    qtbot: QtBot, host_and_guest: tuple[Shell, Shell, Nodes]
) -> None:
    host, _guest, _nodes = host_and_guest
    host.show()
    area = QGuiApplication.primaryScreen().availableGeometry()
    big = QWidget()
    big.setObjectName("bigWindow")
    qtbot.addWidget(big)
    big.resize(300, 200)
    big.show()
    qtbot.waitUntil(big.isVisible)
    big.resize(area.width() + 400, area.height() + 300)
    assert inside(big.frameGeometry(), area), big.frameGeometry()


# -- in a process of its own ------------------------------------------------------------------


def probe(env: dict[str, str]) -> list[dict[str, object]]:
    full = {**os.environ, **env}
    done = subprocess.run(
        [sys.executable, "-m", "tests.helpers.window_probe"],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert {r["step"] for r in rows} >= {"main", "invite", "settings", "accept-session"}
    return rows


def placed(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """The rows that say where a window is (not what minimising did)."""
    return [r for r in rows if "frame" in r]


def assert_all_inside(rows: list[dict[str, object]]) -> None:
    rows = placed(rows)
    for r in rows:
        frame = QRect(*r["frame"])  # type: ignore[misc]
        area = QRect(*r["area"])  # type: ignore[misc]
        assert area.contains(frame), json.dumps(r)
    by_step: dict[str, dict[str, QRect]] = {}
    for r in rows:
        by_step.setdefault(str(r["step"]), {})[str(r["window"])] = QRect(*r["frame"])  # type: ignore[misc]
    session = by_step["accept-session"]
    assert {"mainWindow", "acceptWindow", "sessionWindow"} <= set(session)
    for name in ("acceptWindow", "sessionWindow"):
        assert session[name].topLeft() != session["mainWindow"].topLeft(), name


def test_every_window_is_inside_the_screen_at_twice_the_scale(tmp_path: Path) -> None:
    config = tmp_path / "screens.json"
    config.write_text(SCREEN_1080)
    rows = probe({"QT_QPA_PLATFORM": f"offscreen:configfile={config}", "QT_SCALE_FACTOR": "2"})
    assert_all_inside(rows)
    [main] = [r for r in rows if r["step"] == "main" and r["window"] == "mainWindow"]
    assert main["area"] == [0, 0, 960, 540]


@pytest.fixture(scope="module")
def x_display() -> Iterator[str]:
    """One Xvfb at 1920x1080 for this module (tests/helpers/xvfb.py: -noreset, so it outlives
    each probe's client; a failure in CI, a skip elsewhere)."""
    with display_for_tests(1920, 1080) as name:
        yield name


def test_every_window_is_inside_the_screen_on_x_without_a_window_manager(x_display: str) -> None:
    rows = probe({"QT_QPA_PLATFORM": "xcb", "DISPLAY": x_display})
    assert_all_inside(rows)


@pytest.fixture(scope="module")
def openbox(x_display: str) -> Iterator[str]:
    if shutil.which("openbox") is None:
        missing = "openbox is not installed (scripts/bootstrap.sh --test installs it)"
        if in_ci():
            pytest.fail(missing)
        pytest.skip(missing)
    proc = subprocess.Popen(
        ["openbox", "--sm-disable"],
        env={**os.environ, "DISPLAY": x_display},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield x_display
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("scale", ["1", "2"])
def test_every_window_is_inside_the_screen_under_openbox(openbox: str, scale: str) -> None:
    rows = probe(
        {
            "QT_QPA_PLATFORM": "xcb",
            "DISPLAY": openbox,
            "QT_SCALE_FACTOR": scale,
            "ADINVITE_PROBE_WM": "1",
        }
    )
    assert_all_inside(rows)
    if scale == "1":
        assert_dialogs_cannot_be_maximised(rows)
        assert_minimising_a_dialog_takes_the_app_with_it(rows)


def assert_dialogs_cannot_be_maximised(rows: list[dict[str, object]]) -> None:
    """Openbox offers Maximise exactly when a window's size can change: the small dialogs
    have none (their size is their contents'), the main window keeps it."""
    allowed = {str(r["window"]): set(r["allowed"]) for r in placed(rows)}  # type: ignore[call-overload]
    assert {"MAXIMIZE_HORZ", "MAXIMIZE_VERT", "RESIZE"} <= allowed["mainWindow"]
    for dialog in ("inviteDialog", "addressBookDialog"):
        assert "CLOSE" in allowed[dialog], dialog
        assert not allowed[dialog] & {"MAXIMIZE_HORZ", "MAXIMIZE_VERT", "RESIZE"}, dialog


def assert_minimising_a_dialog_takes_the_app_with_it(rows: list[dict[str, object]]) -> None:
    """Openbox draws Minimise on every dialog, whatever the program asks (its client.c keeps
    iconify for dialogs and ignores the Motif hints that would remove it). Each dialog is the
    main window's transient, so the button minimises the app as a whole, never the dialog alone
    behind a main window it blocks; bringing the app back shows the dialog again, on top and
    focused."""
    done = {
        str(r["step"]): r["minimise"]  # type: ignore[index]
        for r in rows
        if "minimise" in r
    }
    assert set(done) == {"invite", "address-book-entry", "settings"}, done
    for step, m in done.items():
        dialog = m["dialog"]
        assert m["minimised"] == {"mainWindow": "Iconic", dialog: "Iconic"}, (step, m)
        assert m["restored"] == {"mainWindow": "Normal", dialog: "Normal"}, (step, m)
        assert m["visible"] and m["top"] == dialog and m["active"] == dialog, (step, m)


def test_the_demo_puts_two_main_windows_side_by_side_without_overlap(qtbot: QtBot) -> None:
    area = QGuiApplication.primaryScreen().availableGeometry()
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    frames: dict[str, QRect] = {}
    for side in ("left", "right"):
        window = QWidget()
        window.setObjectName(f"{side}Main")
        qtbot.addWidget(window)
        window.resize(1000, 680)
        placement = WindowPlacement(app, window, side=side)
        try:
            window.show()
            qtbot.waitUntil(window.isVisible)
        finally:
            placement.detach()
        frames[side] = window.frameGeometry()
        assert inside(frames[side], area)
    assert not frames["left"].intersects(frames["right"])
    assert frames["left"].right() < area.center().x() < frames["right"].left()
