"""Show the main window with sample peers and, with --output, screenshot the X display.

Run under Xvfb:
  xvfb-run -a -s "-screen 0 1920x1080x24" env QT_QPA_PLATFORM=xcb \
      .venv/bin/python scripts/screenshot_main.py --output docs/screenshots/main-window.png
No network is used: the window talks to the in-memory facade stub of the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSize  # noqa: E402
from PySide6.QtWidgets import QApplication, QLabel, QToolButton  # noqa: E402
from tests.helpers.facade_stub import FacadeStub, make_peer, make_status  # noqa: E402

from anydesk_invite.services.views import PeerSource  # noqa: E402
from anydesk_invite.ui import qt_loop  # noqa: E402
from anydesk_invite.ui.icons import icon  # noqa: E402
from anydesk_invite.ui.main_window import MainWindow  # noqa: E402

FAV, RECENT, DISC, BOOK = (
    PeerSource.FAVORITES,
    PeerSource.RECENT,
    PeerSource.DISCOVERY,
    PeerSource.ADDRESS_BOOK,
)


def sample_facade(warn: bool) -> FacadeStub:
    peers = [
        make_peer("anna", FAV, RECENT, BOOK, online=True, tags=("family",), last_session=1.76e9),
        make_peer("bob", FAV, RECENT, DISC, online=True, display_name="Bob's laptop"),
        make_peer("carla", FAV, DISC, online=True, alias="carla.b@ad"),
        make_peer("dieter", FAV, BOOK, tags=("office", "printer")),
        make_peer("eve", FAV, DISC, online=True, conflict=True),
        make_peer("frank", FAV, RECENT, last_session=1.7e9),
        make_peer("gina", FAV, BOOK, online=True, display_name="Gina – Reception"),
    ]
    status = make_status(
        alias="maria@ad",
        listen_addresses=("127.0.0.1:7070",),
        key_location="file" if warn else "keyring",
        key_warning=(
            "No keyring available: the private key is stored in a file in the home folder"
            if warn
            else None
        ),
    )
    return FacadeStub(status=status, peers=peers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="write a screenshot of the display here")
    parser.add_argument("--no-warning", action="store_true", help="key kept in the keyring")
    args = parser.parse_args()
    facade = sample_facade(warn=not args.no_warning)

    async def show() -> None:
        window = MainWindow(facade)
        bell = QToolButton()
        bell.setObjectName("bellButton")
        bell.setIcon(icon("bell"))
        bell.setAutoRaise(True)
        bell.setIconSize(QSize(24, 24))
        window.set_bell_widget(bell)
        panel = QLabel("Outgoing invitations\n(none pending)")
        panel.setObjectName("outgoingPanelPlaceholder")
        panel.setMinimumWidth(200)
        window.add_side_panel(panel)
        window.move(40, 40)
        window.show()
        if args.output is None:
            return
        await asyncio.sleep(1.0)  # let the X server finish painting before the capture
        args.output.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["/usr/bin/import", "-window", "root", str(args.output)], check=True)
        app = QApplication.instance()
        if app is not None:
            app.quit()

    return qt_loop.run(show)


if __name__ == "__main__":
    sys.exit(main())
