"""Start-up time: from launching the client's GUI until its main window is mapped on an X
display (Xvfb), beside `python -c "import PySide6.QtWidgets"` and a bare QApplication showing
an empty window, measured the same way in the same run (the two take turns, round by round).

    .venv/bin/python bench/startup.py [--rounds 3] [--json]

The client runs with a fresh home (the first round creates its key and database; the figure
is the median of the later, warm rounds), listening on 127.0.0.1 only. A window counts as
shown when the X server maps a window whose _NET_WM_PID is the process's (a MapNotify on the
root, seen as it happens: no polling delay counts). The window comes first and the client
behind it: how soon the client is online (its port accepts a connection) is printed as
well, so that a faster window cannot hide a slower start behind it. The CPU seconds each
process used until its window showed are printed too: steadier than the wall clock on a
shared, loaded machine. Every process is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.xvfb import XvfbUnavailable, xvfb  # noqa: E402

BARE = (
    "from PySide6.QtWidgets import QApplication, QWidget\n"
    "app = QApplication([]); w = QWidget(); w.setWindowTitle('bare'); w.show(); app.exec()\n"
)
TIMEOUT = 60.0


def _env(display: str) -> dict[str, str]:
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", QT_API="pyside6")
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["PYTHONPATH"] = str(ROOT)
    env.pop("WAYLAND_DISPLAY", None)
    # Warm rounds are warm as an installed client is: the first round leaves the bytecode
    # behind (a shell with PYTHONDONTWRITEBYTECODE would make every round compile the sources).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _until_online(port: int, started: float) -> float:
    """Seconds from ``started`` until 127.0.0.1:port accepts a connection."""
    while time.monotonic() - started < TIMEOUT:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return time.monotonic() - started
        time.sleep(0.005)
    raise RuntimeError(f"not listening on port {port} within {TIMEOUT:g} s")


def _until_window(
    argv: list[str], display: str, port: int | None = None
) -> tuple[float, float, float]:
    """Seconds from exec until a window of the process is mapped, and the CPU seconds it used
    until then (steadier than the wall clock on a loaded machine); with ``port``, also the
    seconds until the client listens there (else 0); stops it after.

    The X server tells us of every mapped top-level window (SubstructureNotify on the root) as
    it happens; a window is the process's when its _NET_WM_PID says so, as Qt sets it.
    """
    from Xlib import X
    from Xlib import display as xdisplay

    x = xdisplay.Display(display)
    root = x.screen().root
    root.change_attributes(event_mask=X.SubstructureNotifyMask)
    pid_atom = x.intern_atom("_NET_WM_PID")
    x.sync()
    log = tempfile.TemporaryFile()
    started = time.monotonic()
    proc = subprocess.Popen(
        argv, env=_env(display), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log
    )  # the cwd: `python -m` imports from it first
    try:
        while time.monotonic() - started < TIMEOUT:
            while x.pending_events():
                event = x.next_event()
                if event.type != X.MapNotify:
                    continue
                owner = event.window.get_full_property(pid_atom, X.AnyPropertyType)
                if owner is not None and list(owner.value)[:1] == [proc.pid]:
                    shown, cpu = time.monotonic() - started, _cpu_seconds(proc.pid)
                    online = _until_online(port, started) if port is not None else 0.0
                    return shown, cpu, online
            if proc.poll() is not None:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"{argv[1:3]} exited with {proc.returncode}:\n{tail}")
            select.select([x.fileno()], [], [], 0.05)
        raise RuntimeError(f"no window within {TIMEOUT:g} s")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()
        x.close()


def _import_time() -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import PySide6.QtWidgets"], check=True)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    ns = parser.parse_args()
    rounds = max(2, ns.rounds)
    try:
        figures = _measure(rounds)
    except XvfbUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"python -c 'import PySide6.QtWidgets'   {figures['import_qtwidgets_s'] * 1000:7.0f} ms")
    print(f"bare QApplication window shown        {figures['bare_window_s'] * 1000:7.0f} ms")
    print(f"client main window shown (first run)  {figures['client_first_s'] * 1000:7.0f} ms")
    print(f"client main window shown (warm)       {figures['client_window_s'] * 1000:7.0f} ms")
    ratio = figures["client_window_s"] / figures["bare_window_s"]
    print(f"client / bare window                  {ratio:7.1f} x   (goal <= 2 x)")
    print(f"CPU until shown: bare                 {figures['bare_cpu_s'] * 1000:7.0f} ms")
    print(f"CPU until shown: client (warm)        {figures['client_cpu_s'] * 1000:7.0f} ms")
    cpu_ratio = figures["client_cpu_s"] / figures["bare_cpu_s"]
    print(f"client / bare CPU until shown         {cpu_ratio:7.1f} x")
    print(f"client online (listening, warm)       {figures['client_online_s'] * 1000:7.0f} ms")
    if ns.json:
        print(json.dumps(figures))
    return 0


def _measure(rounds: int) -> dict[str, float]:
    with xvfb() as display:
        imports = [_import_time() for _ in range(rounds)]
        bare: list[tuple[float, float, float]] = []
        client: list[tuple[float, float, float]] = []
        with tempfile.TemporaryDirectory(prefix="adi-start-", dir="/tmp") as home:
            argv = [sys.executable, "-m", "anydesk_invite", "--home", home,
                    "--interface", "127.0.0.1"]  # fmt: skip
            # Bare and client take turns, so that a load that comes and goes on a shared
            # machine weighs on both alike.
            for _ in range(rounds):
                bare.append(_until_window([sys.executable, "-c", BARE], display))
                port = _free_port()
                client.append(_until_window([*argv, "--port", str(port)], display, port))
    return {
        "import_qtwidgets_s": statistics.median(imports),
        "bare_window_s": statistics.median(wall for wall, _, _ in bare[1:]),
        "client_first_s": client[0][0],
        "client_window_s": statistics.median(wall for wall, _, _ in client[1:]),
        "bare_cpu_s": statistics.median(cpu for _, cpu, _ in bare[1:]),
        "client_cpu_s": statistics.median(cpu for _, cpu, _ in client[1:]),
        "client_online_s": statistics.median(online for _, _, online in client[1:]),
    }  # the ratio client / bare is printed beside them


if __name__ == "__main__":
    sys.exit(main())
