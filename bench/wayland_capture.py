"""Frame rate and CPU of the Wayland capture (portal + PipeWire + gst-launch child) on a
headless GNOME session with a terminal printing continuously, beside the X11 figures of
``bench/screen.py``. Prints figures; never fails on timing.

The CPU of "python" includes the test's own view of the screen (MutterEyes reads a second
stream to approve the dialog and move the pointer), so it is an upper bound for the client.
Screen-only sessions (no control) show another GNOME dialog (pick a monitor first) that the
helper does not click yet, so this measures a RemoteDesktop session.

Usage: .venv/bin/python bench/wayland_capture.py [seconds]   (root; scripts/bootstrap.sh --test)
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anydesk_invite.desktop.portal import PortalBus
from anydesk_invite.desktop.wayland import PortalScreens, WaylandDesktop
from tests.helpers.gnome_wayland import MutterEyes, gnome_wayland

HZ = os.sysconf("SC_CLK_TCK")


def cpu(pid: int) -> float:
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])) / HZ


async def measure(session, seconds: float) -> None:  # type: ignore[no-untyped-def]
    eyes = MutterEyes(session)
    bus = PortalBus(session.bus_address)
    desktop = WaylandDesktop(bus)
    approver = threading.Thread(target=eyes.approve_dialog, args=(True,))
    approver.start()
    t0 = time.monotonic()
    problem = await desktop.open(True)
    approver.join()
    print(f"portal session (dialog approved) in {time.monotonic() - t0:.2f} s: {problem or 'ok'}")
    screens = PortalScreens(desktop)
    print("screens:", screens.screens())
    reader = desktop.readers[0]
    gst_pid = reader._proc.pid if reader._proc else 0
    mutter = next(p for p in session.pids if p.args[0] == "mutter").pid
    pids = {"python (this process)": os.getpid(), "gst-launch": gst_pid, "mutter": mutter}
    c0 = {k: cpu(p) for k, p in pids.items()}
    f0 = reader.frames
    t1 = time.monotonic()
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        eyes.click(100 + (time.monotonic() * 200) % 800, 400)  # the pointer moves: damage
        await asyncio.sleep(1 / 60)
    el = time.monotonic() - t1
    print(f"Wayland capture: {(reader.frames - f0) / el:.1f} fps over {el:.1f} s")
    for k, p in pids.items():
        print(f"  CPU {k}: {100 * (cpu(p) - c0[k]) / el:.0f}% of one core")
    await desktop.release()
    bus.close()
    eyes.close()


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    with gnome_wayland() as session:
        asyncio.run(measure(session, seconds))


if __name__ == "__main__":
    main()
