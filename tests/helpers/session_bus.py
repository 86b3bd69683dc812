"""A private D-Bus session bus (a real ``dbus-daemon``) for tests of the client's D-Bus
adapters; stopped by its PID at the end."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

START_TIMEOUT = 10.0


def have_dbus_daemon() -> bool:
    return shutil.which("dbus-daemon") is not None


@contextlib.contextmanager
def session_bus() -> Iterator[str]:
    """The address of a fresh, empty session bus."""
    root = Path(tempfile.mkdtemp(prefix="bus", dir="/tmp"))
    address = f"unix:path={root}/bus"
    proc = subprocess.Popen(
        ["dbus-daemon", "--session", f"--address={address}", "--nofork", "--nopidfile"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        end = time.monotonic() + START_TIMEOUT
        while not (root / "bus").exists():
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError("dbus-daemon did not start")
            time.sleep(0.02)
        yield address
    finally:
        proc.terminate()
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)
