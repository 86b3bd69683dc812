"""Starting the client: what a person sees when it cannot start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1]


def _start(home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        PYTHONPATH=str(SRC),
        QT_QPA_PLATFORM="offscreen",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    argv = [sys.executable, "-m", "anydesk_invite", "--home", str(home), "--headless"]
    argv += ["--interface", "127.0.0.1", "--discovery", "off"]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_a_key_file_open_to_others_stops_the_start_with_a_clear_reason(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    key = home / "device-key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n")
    key.chmod(0o644)
    started = _start(home)
    assert started.returncode == 1
    assert "cannot start" in started.stderr and "chmod 600" in started.stderr
    assert key.read_text().startswith("-----BEGIN")  # left as it was


def test_a_database_that_is_not_one_stops_the_start_and_is_left_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    db = home / "anydesk-invite.db"
    db.write_bytes(b"not a database, but someone's file")
    started = _start(home)
    assert started.returncode == 1
    assert "cannot start" in started.stderr and "database" in started.stderr
    assert db.read_bytes() == b"not a database, but someone's file"
