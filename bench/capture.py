"""What a 1920x1080 grab costs: QScreen.grabWindow (today's QtScreens) beside X11 shared
memory (ShmScreen), under a private Xvfb, in one process.

    .venv/bin/python bench/capture.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child() -> dict[str, float]:
    from PySide6.QtWidgets import QApplication

    from anydesk_invite.desktop.screen import QtScreens
    from anydesk_invite.desktop.x11_capture import ShmScreen

    _app = QApplication(sys.argv[:1])
    out: dict[str, float] = {}
    qt, shm = QtScreens(), ShmScreen()
    for name, grab in (("qt", lambda: qt.grab(0)), ("shm", lambda: shm.grab(0))):
        grab()
        times = []
        for _ in range(30):
            t0 = time.perf_counter()
            grab()
            times.append(time.perf_counter() - t0)
        times.sort()
        out[f"{name}_p50_ms"] = times[15] * 1000
        out[f"{name}_p95_ms"] = times[28] * 1000
    shm.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", action="store_true")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child()))
        return
    sys.path.insert(0, str(ROOT))
    from tests.helpers.xvfb import xvfb

    with xvfb(1920, 1080) as display:
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT))
        done = subprocess.run(
            [sys.executable, __file__, "--child"], env=env, capture_output=True, text=True,
            timeout=120, check=True,
        )  # fmt: skip
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{'1920x1080 grab under Xvfb, 30 grabs':<36}{'p50 ms':>8}{'p95 ms':>8}")
    for label, key in (("QScreen.grabWindow (today)", "qt"), ("X11 MIT-SHM", "shm")):
        print(f"{label:<36}{figures[key + '_p50_ms']:8.1f}{figures[key + '_p95_ms']:8.1f}")
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
