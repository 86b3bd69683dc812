"""Frame rate and CPU of the Wayland capture (portal + PipeWire + gst-launch child) on a
headless GNOME session whose pointer moves 60 times a second, and in the same run the X11
capture (desktop/x11_capture.py, MIT-SHM) of an Xvfb of the same size grabbed 60 times a
second, the host's two ways of seeing its screen side by side. Prints figures; never fails
on timing.

The CPU of "python" includes the test's own view of the screen (MutterEyes reads a second
stream to approve the dialog and move the pointer), so it is an upper bound for the client.
This measures a RemoteDesktop session (a screen-only one captures the same way).

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
from anydesk_invite.desktop.portal_devices import PortalScreens
from anydesk_invite.desktop.wayland import WaylandDesktop
from tests.helpers.gnome_wayland import HEIGHT, WIDTH, MutterEyes, gnome_wayland

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


def children(name: str) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if f"({name})" in stat and int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
                out.append(int(entry))
    return out


def measure_x11(seconds: float) -> None:
    """ShmScreen grabs of a private Xvfb of the Wayland session's size, paced at 60 a
    second like the Wayland pointer's damage, then as fast as they go."""
    from anydesk_invite.desktop.x11_capture import ShmScreen
    from tests.helpers.xvfb import xvfb

    with xvfb(WIDTH, HEIGHT) as display:
        shm = ShmScreen(display)
        xvfb_pid = (children("Xvfb") or [0])[0]
        pids = {"python (this process)": os.getpid(), "Xvfb": xvfb_pid}
        try:
            for label, interval in (("60/s", 1 / 60), ("unpaced", 0.0)):
                c0 = {k: cpu(p) for k, p in pids.items()}
                n = 0
                t1 = time.monotonic()
                while time.monotonic() - t1 < seconds:
                    t = time.monotonic()
                    shm.grab(0)
                    n += 1
                    rest = interval - (time.monotonic() - t)
                    if rest > 0:
                        time.sleep(rest)
                el = time.monotonic() - t1
                print(f"X11 capture ({label}): {n / el:.1f} fps over {el:.1f} s")
                for k, p in pids.items():
                    print(f"  CPU {k}: {100 * (cpu(p) - c0[k]) / el:.0f}% of one core")
        finally:
            shm.close()


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    print(f"{WIDTH}x{HEIGHT}, {seconds:.0f} s each")
    with gnome_wayland() as session:
        asyncio.run(measure(session, seconds))
    measure_x11(seconds)


if __name__ == "__main__":
    main()
