"""The main window comes first: what loads before it, and what comes up behind it.

bench/startup.py measures how soon the window shows; these tests pin why, so that a new
module-level import cannot quietly undo it. Each runs in a fresh interpreter, where
``sys.modules`` tells exactly what was loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HEAVY = (
    "av",  # PyAV and FFmpeg: the first video stream loads them
    "numpy",
    "zeroconf",  # LAN discovery: loads when discovery starts, behind the window
    "dns",  # dnspython: DNS discovery, off by default
    "jeepney",  # D-Bus for the Wayland portal
    "Xlib",  # XTEST input: the first injected event loads it
    "cryptography.x509",  # certificates: TLS builds one when it first needs it
    "anydesk_invite.desktop.video",
    "anydesk_invite.desktop.wayland",
    "anydesk_invite.ui.accept_window",
    "anydesk_invite.ui.session_window",
    "anydesk_invite.ui.settings_dialog",
    "anydesk_invite.ui.transfer_panel",
    "anydesk_invite.ui.screen_view",
)

AT_SHOW = tuple(m for m in HEAVY if m != "anydesk_invite.desktop.wayland")
"""Before the window the client asks desktop.wayland whether this is a Wayland session: that
module is light (its D-Bus and GStreamer parts load when a portal is used), so it may load."""

_LOADED = "import json, sys; print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))"

_AT_SHOW = """
import json, os, sys
import anydesk_invite.ui.shell as shell_module
from anydesk_invite import cli
from anydesk_invite.net.listener import Listener

shown = shell_module.Shell.show
listen = Listener.start
listening = []

async def start(self, *args, **kwargs):
    listening.append(True)
    return await listen(self, *args, **kwargs)

def show(self):
    shown(self)
    loaded = sorted(m for m in {heavy!r} if m in sys.modules)
    print(json.dumps({{"loaded": loaded, "listening": bool(listening)}}), flush=True)
    os._exit(0)

Listener.start = start
shell_module.Shell.show = show
sys.exit(cli.main(["--home", sys.argv[1], "--interface", "127.0.0.1", "--discovery", "on"]))
"""


BEHIND = (
    "anydesk_invite.app",  # the composition root: every service below loads with it
    "anydesk_invite.services.client",
    "anydesk_invite.storage.db",
    "sqlite3",
    "anydesk_invite.storage.keystore",
    "keyring",  # the device key: opened behind the window
    "anydesk_invite.net.identity",
    "cryptography",
    "anydesk_invite.net.wire",  # the wire schema: msgspec
    "msgspec",
    "anydesk_invite.ui.shell",
    "anydesk_invite.ui.bell",
    "asyncio",  # and qasync: the event loop starts behind the window
    "qasync",
    "anydesk_invite.ui.peer_pane",  # the peer panes: built with the client
    "anydesk_invite.ui.tile_delegate",
)
"""What the first main window shows without: the client behind it is built after it shows."""

_FIRST = """
import json, os, pathlib, sys
import anydesk_invite.ui.main_window as main_window
from anydesk_invite import cli

shown = main_window.MainWindow.show
first = []

def show(self):
    shown(self)
    if first:
        return
    first.append(self)
    loaded = sorted(m for m in {behind!r} if m in sys.modules)
    import anydesk_invite.ui.shell as shell_module

    shell_show = shell_module.Shell.show

    def ready(shell):
        shell_show(shell)
        window = shell.window
        print(json.dumps({{
            "same_window": window is first[0],
            "id": window.id_label.text(),
            "status": window.status_label.text(),
            "enabled": window.centralWidget().isEnabled(),
            "loaded": sorted(m for m in {behind!r} if m in sys.modules),
            "wire_decoders": sys.modules["anydesk_invite.net.wire"]._codec.cache_info().currsize,
            "bell_list": [w.objectName() for w in shell.bell.children() if w.isWidgetType()],
            "files": sorted(p.name for p in home.iterdir() if p.suffix in (".pem", ".db")),
        }}), flush=True)
        os._exit(0)

    shell_module.Shell.show = ready
    print(json.dumps({{
        "loaded": loaded,
        "files": sorted(p.name for p in home.iterdir() if p.suffix in (".pem", ".db")),
        "status": self.status_label.text(),
        "enabled": self.centralWidget().isEnabled(),
    }}), flush=True)

main_window.MainWindow.show = show
home = pathlib.Path(sys.argv[1])
sys.exit(cli.main(["--home", sys.argv[1], "--interface", "127.0.0.1"]))
"""


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        QT_QPA_PLATFORM="offscreen",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _json_line(done: subprocess.CompletedProcess[str]) -> object:
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith(("[", "{"))]
    assert lines, f"no result printed:\n{done.stdout}\n{done.stderr[-3000:]}"
    return json.loads(lines[-1])


def test_importing_the_main_window_and_the_composition_root_loads_none_of_the_heavy_modules() -> (
    None
):
    code = "import anydesk_invite.app, anydesk_invite.ui.shell\n" + _LOADED.format(heavy=HEAVY)
    assert _json_line(_python(code)) == []


def test_the_main_window_shows_before_listening_and_before_any_heavy_module_loads(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    result = _json_line(_python(_AT_SHOW.format(heavy=AT_SHOW), str(home)))
    assert result == {"loaded": [], "listening": False}


def test_the_heavy_modules_load_when_first_needed() -> None:
    """The lazy paths still lead to the real modules (a typo there would only show in use)."""
    code = (
        "from anydesk_invite.desktop.video_on_demand import VideoOnDemand\n"
        "from anydesk_invite.desktop.input import keysym_for_code\n"
        "from anydesk_invite.net.identity import Identity\n"
        "import anydesk_invite.net.dns_sd as dns_sd\n"
        "from anydesk_invite.net import wire\n"
        "from anydesk_invite.net.discovery import _QUESTION_TYPE\n"
        "from zeroconf import DNSQuestionType\n"
        "video = VideoOnDemand()\n"
        "assert not video.loaded() and video.check() and video.loaded()\n"
        "assert keysym_for_code('KeyA') == 0x61\n"
        "assert Identity.generate().certificate_pem().startswith(b'-----BEGIN CERTIFICATE')\n"
        "assert str(dns_sd.service_name(dns_sd.dns.name.from_text('example.org'))) == "
        "'_adinvite._tcp.example.org.'\n"
        "assert DNSQuestionType[_QUESTION_TYPE] is DNSQuestionType.QM\n"
        "assert wire._codec.cache_info().currsize == 0\n"
        "hello = wire.Hello((1, 2), b'k' * 44, '0123456789', 'a@ad', b'n' * 32)\n"
        "assert wire.Decoder().decode(wire.encode(hello)) == hello\n"
        "assert wire._codec.cache_info().currsize == 1\n"
        + _LOADED.format(heavy=("av", "Xlib", "cryptography.x509", "dns"))
    )
    assert _json_line(_python(code)) == ["Xlib", "av", "cryptography.x509", "dns"]


def test_the_main_window_shows_before_the_client_behind_it_is_built(tmp_path: Path) -> None:
    """Keyring, database, identity, wire schema and the shell load after the window shows."""
    done = _python(_FIRST.format(behind=BEHIND), str(tmp_path / "home"))
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(ln) for ln in done.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 2, f"{done.stdout}\n{done.stderr[-3000:]}"
    at_show, ready = lines
    # Not opened yet either: neither the device key (a file with the test's keyring) nor the
    # database exists in the fresh home when the window shows.
    assert at_show == {"loaded": [], "files": [], "status": "Starting…", "enabled": False}
    # The deferred path reaches the real thing: the same window, filled in by the client.
    assert ready["same_window"] and ready["enabled"]
    assert len(ready["id"].replace(" ", "")) == 10 and ready["status"] != "Starting…"
    assert ready["loaded"] == sorted(BEHIND)
    assert ready["files"] == ["anydesk-invite.db", "device-key.pem"]
    assert ready["wire_decoders"] == 0, "the wire's decoders are built for the first channel"
    assert ready["bell_list"] == [], "the bell's list is built when first opened"
