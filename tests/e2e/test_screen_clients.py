"""End to end with two whole clients: the host is a real `anydesk-invite --headless` process on
an X server (Xvfb) showing a test pattern of gradients and text; the guest is a client that
asks to connect, is accepted through the host's command line with Screen Sharing, and then
holds the host's screen at PSNR >= 35 dB against a grab of that display."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.storage.contacts import AddressEntry
from tests.helpers.nodes import Nodes, eventually, nodes_for
from tests.helpers.processes import HeadlessClient
from tests.helpers.short_dir import short_dir
from tests.helpers.xvfb import PATTERN_WIDGET, psnr

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path("/usr/bin/import").exists(), reason="ImageMagick's import is not installed"
    ),
]

PATTERN = PATTERN_WIDGET + textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    window = Pattern(None, Qt.WindowType.FramelessWindowHint)
    window.setGeometry(QApplication.primaryScreen().geometry())
    window.show()
    QTimer.singleShot(500, lambda: print("SHOWN", flush=True))
    app.exec()
    """
)


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path, tls=True):
        yield n


@pytest.fixture
def pattern(xvfb_display: str, tmp_path: Path) -> Iterator[None]:
    script = tmp_path / "pattern.py"
    script.write_text(PATTERN)
    env = dict(os.environ, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb")
    proc = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("SHOWN")
        yield
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def grab(display: str, into: Path) -> QImage:
    subprocess.run(
        ["/usr/bin/import", "-display", display, "-window", "root", str(into)], check=True
    )
    return QImage(str(into)).convertToFormat(QImage.Format.Format_RGB32)


async def test_a_guest_client_sees_the_host_clients_xvfb_screen(
    xvfb_display: str, pattern: None, nodes: Nodes, tmp_path: Path
) -> None:
    with short_dir() as folder:
        host = HeadlessClient(folder / "host", "host", alias="host@ad", display=xvfb_display)
        host.start()
        try:
            await asyncio.to_thread(host.wait_ready)
            status = (await asyncio.to_thread(host.cli, "--get-status")).ok()
            guest = await nodes.make("guest")
            guest.client.db.address_book.add(
                AddressEntry(
                    DeviceId(host.device_id),
                    manual_address=status["listen"][0],
                    fingerprint=bytes.fromhex(host.fingerprint),
                )
            )
            asked = await guest.client.connect(host.device_id)
            accepted = await asyncio.to_thread(
                host.cli, "accept", asked.invitation_id[:8], "--profile", "Screen Sharing"
            )
            assert accepted.ok()["role"] == "host"
            await eventually(lambda: len(guest.client.sessions()) == 1, timeout=10)
            [session] = guest.client.sessions()
            assert session.permissions == frozenset()
            screen = guest.client.session_handle(session.session_id).screen
            assert screen is not None
            await eventually(lambda: screen.screens is not None, timeout=10)
            await screen.select(0)
            reference = grab(xvfb_display, tmp_path / "host.png")
            size = reference.width() * reference.height()
            assert (reference.width(), reference.height()) == (1280, 800)
            expected = bytes(reference.constBits())
            quality = 0.0
            async with asyncio.timeout(20):
                while quality < 35:
                    await eventually(lambda: screen.frames_shown > 0)
                    quality = psnr(bytes(screen.buffer), expected, size)
                    if quality < 35:
                        await asyncio.sleep(0.05)
            assert quality >= 35, f"PSNR {quality:.1f} dB"
        finally:
            host.stop()
