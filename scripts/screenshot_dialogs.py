"""Show the invite dialog, toasts and the Accept Window on a real X display and screenshot them.

Run under Xvfb from the repository root:

    xvfb-run -a -s "-screen 0 1920x1080x24" env QT_QPA_PLATFORM=xcb \\
        .venv/bin/python scripts/screenshot_dialogs.py

Pictures go to docs/screenshots/. The client is the test stand-in, so nothing is sent.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402
from tests.helpers.invite_facade import (  # noqa: E402
    BOB_ID,
    CAROL_ID,
    InviteFacade,
    invitation,
    session,
)

from anydesk_invite.core.clock import ManualClock  # noqa: E402
from anydesk_invite.core.invitation import Kind  # noqa: E402
from anydesk_invite.core.permissions import Permission  # noqa: E402
from anydesk_invite.core.policy import Override, Policy  # noqa: E402
from anydesk_invite.ui.accept_window import AcceptWindow  # noqa: E402
from anydesk_invite.ui.invite_dialog import InviteDialog  # noqa: E402
from anydesk_invite.ui.toast import ToastStack  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def shoot(name: str) -> None:
    QApplication.processEvents()
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(["/usr/bin/import", "-window", "root", str(OUT / f"{name}.png")], check=True)
    print(f"wrote {OUT / name}.png")


def main() -> int:
    app = QApplication(sys.argv)
    clock = ManualClock()
    facade = InviteFacade(Policy({Permission.FILE_TRANSFER: Override.FORCE_OFF}))
    shown: list[QWidget] = []
    stacks: list[ToastStack] = []

    def scene_dialog() -> None:
        dialog = InviteDialog(facade, "alice@ad")
        dialog.move(80, 80)
        dialog.show()
        shown.append(dialog)
        bad = InviteDialog(facade, "123 456 78")
        bad.move(620, 80)
        bad.show()
        shown.append(bad)

    def scene_toasts() -> None:
        for w in shown:
            w.close()
        shown.clear()
        stacks.append(ToastStack(facade, clock.now))
        facade.receive(invitation("t1", seconds_left=118))
        facade.receive(
            invitation(
                "t2",
                peer_id=BOB_ID,
                alias="bob-laptop@ad",
                permissions=frozenset(Permission),
                seconds_left=75,
            )
        )
        facade.receive(
            invitation("t3", peer_id=CAROL_ID, alias="", permissions=frozenset(), seconds_left=9)
        )

    def scene_request() -> None:
        for stack in stacks:
            stack.detach()
        view = facade.receive(invitation("rq", kind=Kind.REQUEST, first_contact=True))
        window = AcceptWindow(facade, request=view, wall_clock=clock.now)
        window.move(80, 80)
        window.show()
        shown.append(window)

    def scene_session() -> None:
        s = session(
            permissions=frozenset({Permission.CONTROL, Permission.CLIPBOARD}),
            started_at=clock.now() - 754,
        )
        facade.session_views[s.session_id] = s
        window = AcceptWindow(facade, session=s, wall_clock=clock.now)
        window.move(640, 80)
        window.show()
        shown.append(window)

    steps: list[Callable[[], None]] = [
        scene_dialog,
        lambda: shoot("invite_dialog"),
        scene_toasts,
        lambda: shoot("toasts"),
        scene_request,
        scene_session,
        lambda: shoot("accept_window"),
        app.quit,
    ]

    def run(i: int = 0) -> None:
        steps[i]()
        if i + 1 < len(steps):
            QTimer.singleShot(400, lambda: run(i + 1))

    QTimer.singleShot(200, run)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
