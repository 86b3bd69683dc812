"""Opens every window of the app as a user would and reports where each one is.

Run as ``python -m tests.helpers.window_probe`` in a process of its own (so QT_SCALE_FACTOR and
the platform can differ from the test process): two real clients on 127.0.0.1, each with its
shell; anna's main window, invite dialog and settings; ben's connection request opens anna's
Accept Window, which is accepted (and grows into the session layout); ben's session window.
After each step it prints one JSON line per visible window: the step, the window's objectName,
its frame and its screen's available geometry (logical pixels). With ADINVITE_PROBE_WM=1 it
waits until the window manager has framed each window before it measures, and minimises each
dialog as its title bar's button does, then brings the app back (one "minimise" line each).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QWidget

from anydesk_invite.services.views import PeerSource
from anydesk_invite.ui.accept_window import AcceptWindow
from anydesk_invite.ui.placement import screen_of
from anydesk_invite.ui.qt_app import application
from anydesk_invite.ui.shell import Shell
from tests.helpers import netguard
from tests.helpers.fake_tray import FakeTray
from tests.helpers.nodes import Nodes

WM = os.environ.get("ADINVITE_PROBE_WM") == "1"


async def until(predicate: Callable[[], object], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the windows did not get there in time")
        await asyncio.sleep(0.02)


def windows() -> list[QWidget]:
    return [
        w
        for w in QApplication.topLevelWidgets()
        if w.isVisible() and w.isWindow() and w.objectName() not in ("", "toast")
    ]


def frame(w: QWidget) -> QRect:
    """The frame as the platform reports it (the widget's own copy can lag behind)."""
    handle = w.windowHandle()
    return handle.frameGeometry() if handle is not None else w.frameGeometry()


def framed(w: QWidget) -> bool:
    return frame(w) != w.geometry()


def inside_screen(w: QWidget) -> bool:
    screen = screen_of(w)
    return screen is not None and screen.availableGeometry().contains(frame(w))


async def settle() -> None:
    """Until the window manager has framed every window and nothing moves any more."""
    if WM:
        try:
            await until(lambda: all(framed(w) for w in windows()), 20)
        except TimeoutError:
            bare = [
                (w.objectName(), frame(w).getRect(), w.geometry().getRect())
                for w in windows()
                if not framed(w)
            ]
            raise TimeoutError(f"the window manager framed no window of {bare}") from None
    # A window manager starved of CPU can take a while to carry out a move or a resize that
    # the app asked for; the frame is judged once it has, or after ten seconds (then the
    # report shows the window outside its screen and the test fails).
    try:
        await until(lambda: all(inside_screen(w) for w in windows()), 10)
    except TimeoutError:
        pass
    last: list[tuple[int, ...]] = []
    for _ in range(200):
        now = [frame(w).getRect() for w in windows()]
        if now == last:
            return
        last = now
        await asyncio.sleep(0.05)


def allowed_actions(w: QWidget) -> list[str]:
    """What the window manager lets the user do with the window (_NET_WM_ALLOWED_ACTIONS, as
    xprop reads it: MINIMIZE, MAXIMIZE_HORZ, RESIZE, CLOSE ...); [] without a window manager."""
    if not WM or shutil.which("xprop") is None:
        return []
    out = subprocess.run(
        ["xprop", "-id", str(int(w.winId())), "_NET_WM_ALLOWED_ACTIONS"],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    return re.findall(r"_NET_WM_ACTION_(\w+)", out)


def xprop(window: int, *names: str) -> str:
    return subprocess.run(
        ["xprop", *(("-id", str(window)) if window else ("-root",)), *names],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout


def wm_state(w: QWidget) -> str:
    """Normal or Iconic, as the window manager set WM_STATE; "" before it manages the window."""
    found = re.search(r"window state: (\w+)", xprop(int(w.winId()), "WM_STATE"))
    return found.group(1) if found else ""


def named(window: int, among: list[QWidget]) -> str:
    return next((w.objectName() for w in among if int(w.winId()) == window), hex(window))


def top_and_active(among: list[QWidget]) -> tuple[str, str]:
    """The topmost managed window and the focused one, by objectName."""
    out = xprop(0, "_NET_CLIENT_LIST_STACKING", "_NET_ACTIVE_WINDOW")
    stacking = re.search(r"_NET_CLIENT_LIST_STACKING\(WINDOW\): window id # (.*)", out)
    active = re.search(r"_NET_ACTIVE_WINDOW\(WINDOW\): window id # (\w+)", out)
    top = stacking.group(1).split(", ")[-1] if stacking else "0"
    return named(int(top, 16), among), named(int(active.group(1), 16) if active else 0, among)


async def minimise_and_restore(step: str, dialog: QWidget, main: QWidget) -> None:
    """Under a window manager: minimise ``dialog`` as its title bar's Minimise button does (a
    WM_CHANGE_STATE request), then bring the app back as a task bar does (activating the main
    window), and print what became of both windows at each point."""
    pair = [main, dialog]
    subprocess.run(["xdotool", "windowminimize", str(int(dialog.winId()))], check=True, timeout=10)
    try:
        await until(lambda: all(wm_state(w) == "Iconic" for w in pair), 10)
    except TimeoutError:
        pass
    minimised = {w.objectName(): wm_state(w) for w in pair}
    subprocess.run(["xdotool", "windowactivate", str(int(main.winId()))], timeout=10)
    try:
        await until(
            lambda: (
                all(wm_state(w) == "Normal" for w in pair)
                and top_and_active(pair)[0] == dialog.objectName()
            ),
            10,
        )
    except TimeoutError:
        pass
    top, active = top_and_active(pair)
    print(
        json.dumps(
            {
                "step": step,
                "minimise": {
                    "dialog": dialog.objectName(),
                    "minimised": minimised,
                    "restored": {w.objectName(): wm_state(w) for w in pair},
                    "visible": dialog.isVisible(),
                    "top": top,
                    "active": active,
                },
            }
        ),
        flush=True,
    )


def report(step: str) -> None:
    for w in windows():
        screen = screen_of(w)
        assert screen is not None
        area = screen.availableGeometry()
        print(
            json.dumps(
                {
                    "step": step,
                    "window": w.objectName(),
                    "frame": list(frame(w).getRect()),
                    "area": list(area.getRect()),
                    "geometry": list(w.geometry().getRect()),
                    "allowed": allowed_actions(w),
                }
            ),
            flush=True,
        )


async def scenario(folder: Path) -> None:
    # Over TLS, not in memory: in memory the windows open a little sooner, and under openbox
    # they then lose a race in placement more often (openbox keeps a new window at 0,0 instead
    # of the place the app gave it; seen on main too, where it is rarer). Until that is fixed
    # the probe keeps the timing its checks were written against.
    nodes = Nodes(folder, tls=True)
    shells: list[Shell] = []
    try:
        anna, ben = await nodes.pair()
        for node in (anna, ben):
            shell = Shell(
                node.client,
                on_quit=lambda: None,
                tray=FakeTray(available=False),
                interfaces=lambda: ["127.0.0.1"],
            )
            shells.append(shell)
        host, guest = shells
        host.show()
        await settle()
        report("main")
        dialog = host.open_invite_dialog()
        await settle()
        report("invite")
        if WM:
            await minimise_and_restore("invite", dialog, host.window)
        dialog.close()
        entry = host.window.panes[PeerSource.ADDRESS_BOOK].open_address_book_dialog()
        await settle()
        report("address-book-entry")
        if WM:
            await minimise_and_restore("address-book-entry", entry, host.window)
        entry.close()
        settings = host.open_settings()
        await settle()
        report("settings")
        if WM:
            await minimise_and_restore("settings", settings, host.window)
        settings.close()
        await ben.client.connect(anna.device_id)
        await until(lambda: len(host.accept_windows) == 1)
        [accept] = host.accept_windows.values()
        assert isinstance(accept, AcceptWindow)
        await until(accept.isVisible)
        await settle()
        report("accept-request")
        accept.accept_button.click()
        await until(lambda: accept.session() is not None and bool(guest.session_windows))
        await settle()
        report("accept-session")
    finally:
        for shell in shells:
            shell.close()
        await nodes.close()


def main() -> int:
    netguard.install()
    app = application(sys.argv[:1])
    import qasync  # after PySide6

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="adprobe") as tmp, loop:
        loop.run_until_complete(scenario(Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
