"""`make demo` (scripts/demo.sh): it reports a client that does not start and exits non-zero,
and starts two real clients that answer on their control sockets (offscreen here)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scripts" / "demo.sh"
CLI = (sys.executable, "-m", "anydesk_invite")


def test_demo_exits_non_zero_with_the_reason_when_a_client_does_not_start(tmp_path: Path) -> None:
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'cannot open the display: it went away' >&2\nexit 3\n")
    broken.chmod(0o755)
    env = {**os.environ, "PY": str(broken), "QT_QPA_PLATFORM": "offscreen", "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        ["bash", str(DEMO)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert "anna@ad did not start (exit 3)" in done.stderr
    assert "cannot open the display: it went away" in done.stderr
    assert "are running" not in done.stdout


def test_demo_starts_two_clients_that_answer_and_ctrl_c_stops_both(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PY": sys.executable,
        "QT_QPA_PLATFORM": "offscreen",
        "TMPDIR": str(tmp_path),
        "DEMO_START_TIMEOUT": "120",
    }
    proc = subprocess.Popen(
        ["bash", str(DEMO)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "anna@ad (left) and ben@ad (right) are running" in line
        homes = [p for p in tmp_path.iterdir() if p.name.startswith("adinvite-demo.")]
        assert len(homes) == 1
        for name in ("anna", "ben"):
            got = subprocess.run(
                [*CLI, "--home", str(homes[0] / name), "--get-alias"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert got.stdout.strip() == f"{name}@ad", got.stderr
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.communicate(timeout=60)
    deadline = time.monotonic() + 30
    while any(tmp_path.glob("adinvite-demo.*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(tmp_path.glob("adinvite-demo.*")), "the temporary homes are removed"
