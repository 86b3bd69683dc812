"""End to end: a host on a real X server (Xvfb) shows a test pattern; a headless guest on
127.0.0.1 receives its screen, and what the guest holds matches the host's own grab
(PSNR >= 35 dB), not merely "a frame arrived"."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from anydesk_invite.core.clock import ManualClock
from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import Peer
from anydesk_invite.core.policy import Policy
from anydesk_invite.core.sysinfo import SystemInformation
from anydesk_invite.net.channel import Channel
from anydesk_invite.net.handshake import dial
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.wire import Message
from anydesk_invite.services.links import Address, Links
from anydesk_invite.services.sessions.feature_set import SessionFeatures
from anydesk_invite.services.sessions.service import SessionService
from tests.helpers.peers import TrustEveryone
from tests.helpers.xvfb import PATTERN_WIDGET, psnr

pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]

HOST_SCRIPT = PATTERN_WIDGET + textwrap.dedent(
    """
    import asyncio, sys
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication
    import qasync

    from anydesk_invite.core.clock import SystemClock
    from anydesk_invite.core.invitation import Peer
    from anydesk_invite.core.policy import Policy
    from anydesk_invite.core.sysinfo import SystemInformation
    from anydesk_invite.desktop.screen import QtScreens
    from anydesk_invite.net.listener import Listener
    from anydesk_invite.net.identity import Identity
    from anydesk_invite.net.limits import Limits
    from anydesk_invite.net.wire import SessionOpen
    from anydesk_invite.services.links import Links
    from anydesk_invite.services.sessions.feature_set import SessionFeatures
    from anydesk_invite.services.sessions.service import SessionService

    class TrustAll:
        def check(self, peer):
            pass

    class NoInfo:
        def system_information(self):
            return SystemInformation("x", "x", "x", 1, 0, ())

    async def main(shot):
        window = Pattern(None, Qt.WindowType.FramelessWindowHint)
        window.setGeometry(QApplication.primaryScreen().geometry())
        window.show()
        for _ in range(20):
            QApplication.processEvents()
            await asyncio.sleep(0.05)
        screens = QtScreens()
        screens.grab_image(0).save(shot)
        identity = Identity.generate()
        sessions = None

        async def router(channel, msg):
            if isinstance(msg, SessionOpen):
                peer = Peer(channel.peer.fingerprint, channel.peer.device_id, channel.peer.alias)
                await sessions.start_host(channel, peer, frozenset(), "e2e")

        async def never(*args):
            raise RuntimeError("the host never dials")

        links = Links(never, router)
        clock = SystemClock()
        sessions = SessionService(
            links, clock, Policy, SessionFeatures.build(clock, NoInfo(), screen=screens)
        )
        listener = Listener(identity, lambda: "host@ad", TrustAll(), links.adopt, Limits())
        [(addr, port)] = await listener.start(["127.0.0.1"])
        print("READY", port, identity.fingerprint.hex(), identity.device_id, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await listener.stop()
        await links.stop()

    app = QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    loop.run_until_complete(main(sys.argv[1]))
    """
)


class NoInfo:
    def system_information(self) -> SystemInformation:
        return SystemInformation("x", "x", "x", 1, 0, ())


async def test_the_guest_sees_the_xvfb_host_screen_at_35_db_or_better(
    xvfb_display: str, tmp_path: Path, qapp: QApplication
) -> None:
    shot = tmp_path / "host.png"
    script = tmp_path / "host.py"
    script.write_text(HOST_SCRIPT)
    env = dict(os.environ, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb", QT_API="pyside6")
    env["PYTHONPATH"] = str(ROOT)
    host = subprocess.Popen(
        [sys.executable, str(script), str(shot)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    guest_links: Links | None = None
    guest: SessionService | None = None
    try:
        assert host.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(host.stdout.readline), 30)
        if not line.startswith("READY"):
            host.kill()
            pytest.fail(f"the host did not start: {line}\n{host.communicate()[1]}")
        _, port, fp_hex, device_id = line.split()
        identity = Identity.generate()

        async def dial_host(h: str, p: int, expected: bytes | None) -> Channel:
            return await dial(
                identity, "guest@ad", h, p,
                expected_fingerprint=expected, trust=TrustEveryone(), limits=Limits(),
            )  # fmt: skip

        async def no_route(channel: Channel, msg: Message) -> None:
            pass

        guest_links = Links(dial_host, no_route)
        clock = ManualClock()
        guest = SessionService(guest_links, clock, Policy, SessionFeatures.build(clock, NoInfo()))
        peer = Peer(bytes.fromhex(fp_hex), DeviceId(device_id), "host@ad")
        session_id = await guest.open_as_guest(
            peer, (Address("127.0.0.1", int(port)),), bytes(32), frozenset()
        )
        screen = guest.guest_screen(session_id)
        assert screen is not None
        async with asyncio.timeout(20):
            while screen.screens is None:
                await asyncio.sleep(0.01)
        assert [(s.width, s.height) for s in screen.screens] == [(1280, 800)]
        await screen.select(0)
        reference = QImage(str(shot)).convertToFormat(QImage.Format.Format_RGB32)
        assert (reference.width(), reference.height()) == (1280, 800)
        expected = bytes(reference.constBits())
        quality = 0.0
        async with asyncio.timeout(20):
            while quality < 35:
                while screen.frames_shown == 0:
                    await asyncio.sleep(0.01)
                quality = psnr(bytes(screen.buffer), expected, 1280 * 800)
                if quality < 35:
                    await asyncio.sleep(0.05)
        assert quality >= 35, f"PSNR {quality:.1f} dB"
        # The picture is the pattern, not a blank screen: the top-left is dark, the text
        # area white.
        assert screen.buffer[0:3] != b"\xff\xff\xff"
        at = (700 * 1280 + 1200) * 4
        assert screen.buffer[at : at + 3] == b"\xff\xff\xff"
    finally:
        if guest is not None:
            await guest.stop()
        if guest_links is not None:
            await guest_links.stop()
        if host.poll() is None:
            host.communicate("", timeout=10)
