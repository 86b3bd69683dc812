"""End to end under Xvfb: a host whose real X screen scrolls (captured through X11 shared
memory) streams it to a headless guest that decodes H.264; while it moves the guest gets video
at 35 dB PSNR or better against the host's own picture, and once it stands still the guest's
picture becomes bit-exact. Times are not asserted (bench/screen_video.py measures them)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from anydesk_invite.core.clock import ManualClock
from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import Peer
from anydesk_invite.core.policy import Policy
from anydesk_invite.desktop.video import PyAvVideo
from anydesk_invite.net.channel import Channel
from anydesk_invite.net.handshake import dial
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.wire import Message
from anydesk_invite.services.links import Address, Links
from anydesk_invite.services.sessions.feature_set import SessionFeatures
from anydesk_invite.services.sessions.service import SessionService
from tests.e2e.test_screen_psnr import NoInfo
from tests.helpers.peers import TrustEveryone
from tests.helpers.xvfb import HEIGHT, PATTERN_WIDGET, WIDTH, psnr

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
    from anydesk_invite.desktop.video import PyAvVideo
    from anydesk_invite.desktop.x11_capture import ShmScreen
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
        geometry = QApplication.primaryScreen().geometry()
        window = Pattern(None, Qt.WindowType.FramelessWindowHint)
        window.setGeometry(geometry)
        window.show()
        for _ in range(20):
            QApplication.processEvents()
            await asyncio.sleep(0.05)
        screens = ShmScreen()
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
        features = SessionFeatures.build(clock, NoInfo(), screen=screens, video=PyAvVideo())
        sessions = SessionService(links, clock, Policy, features)
        listener = Listener(identity, lambda: "host@ad", TrustAll(), links.adopt, Limits())
        [(addr, port)] = await listener.start(["127.0.0.1"])
        print("READY", port, identity.fingerprint.hex(), identity.device_id, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        # Scroll: the window slides up 6 pixels a step, 60 steps, ~30 a second.
        # (No processEvents here: the qasync loop runs Qt's events while this waits, and a
        # worker's result must not wake the stream's task inside this one.)
        for step in range(1, 61):
            window.move(geometry.x(), geometry.y() - 6 * step)
            await asyncio.sleep(1 / 30)
        await asyncio.sleep(0.2)
        with open(shot, "wb") as f:
            f.write(screens.grab(0).data)
        print("STILL", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await listener.stop()
        await links.stop()

    import logging
    logging.basicConfig(filename=sys.argv[1] + ".log", level=logging.INFO)
    app = QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    loop.set_exception_handler(
        lambda _loop, c: logging.error("loop: %s %r", c.get("message"), c.get("exception"))
    )
    asyncio.set_event_loop(loop)
    loop.run_until_complete(main(sys.argv[1]))
    """
)


async def test_moving_xvfb_screen_arrives_as_video_at_35_db_then_bit_exact(
    xvfb_display: str, tmp_path: Path, qapp: QApplication
) -> None:
    shot = tmp_path / "host.raw"
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
        assert host.stdout is not None and host.stdin is not None
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
        features = SessionFeatures.build(clock, NoInfo(), video=PyAvVideo())
        guest = SessionService(guest_links, clock, Policy, features)
        peer = Peer(bytes.fromhex(fp_hex), DeviceId(device_id), "host@ad")
        session_id = await guest.open_as_guest(
            peer, (Address("127.0.0.1", int(port)),), bytes(32), frozenset()
        )
        screen = guest.guest_screen(session_id)
        assert screen is not None
        async with asyncio.timeout(20):
            while screen.screens is None:
                await asyncio.sleep(0.01)
        await screen.select(0)
        async with asyncio.timeout(20):
            while screen.frames_shown == 0:
                await asyncio.sleep(0.01)
        last_video: dict[str, bytes] = {}
        counted = {"video": 0}

        def shown(seq: int) -> None:
            # A copy of the picture each time a frame with video in it is complete.
            if screen.video_shown != counted["video"]:
                counted["video"] = screen.video_shown
                last_video["picture"] = bytes(screen.buffer)

        screen.updated.connect(shown)
        host.stdin.write("go\n")
        host.stdin.flush()
        line = await asyncio.wait_for(asyncio.to_thread(host.stdout.readline), 30)
        assert line.startswith("STILL"), line
        expected = shot.read_bytes()[: WIDTH * HEIGHT * 4]
        for _ in range(1000):
            if bytes(screen.buffer) == expected:
                break
            await asyncio.sleep(0.02)
        else:
            differ = sum(
                1
                for i in range(0, len(expected), 4)
                if screen.buffer[i : i + 3] != expected[i : i + 3]
            )
            log = Path(str(shot) + ".log")
            host_log = log.read_text()[-3000:] if log.exists() else ""
            pytest.fail(
                f"{host_log}\nnot bit-exact after it stopped: {differ} pixels differ "
                f"({screen.video_shown} video pictures, {screen.frames_shown} frames)"
            )
        assert screen.video_shown > 0, "the moving screen did not travel as video"
        assert screen.video_skipped == 0
        # The last video picture showed the final position (the refinement came after it).
        quality = psnr(last_video["picture"], expected, WIDTH * HEIGHT)
        assert last_video["picture"] != expected  # video is lossy: refinement made it exact
        assert quality >= 35, f"PSNR {quality:.1f} dB while moving"
        print(f"video pictures {screen.video_shown}, PSNR of the last {quality:.1f} dB")
    finally:
        if guest is not None:
            await guest.stop()
        if guest_links is not None:
            await guest_links.stop()
        if host.poll() is None:
            host.communicate("", timeout=10)
