"""The runtime directory of a client started as a user starts it: made private, removed on exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.processes import HeadlessClient
from tests.helpers.short_dir import short_dir

pytestmark = pytest.mark.e2e


def test_a_clean_exit_removes_the_clients_runtime_directory() -> None:
    """Without XDG_RUNTIME_DIR the control socket lives in a random private folder under /tmp
    recorded in the home; a client that stops cleanly leaves neither behind."""
    with short_dir() as base:
        client = HeadlessClient(base / "h", "h")
        client.start()
        try:
            client.wait_ready()
            record = client.home / "runtime-dir"
            runtime = Path(record.read_text().strip())
            assert (runtime / "control").exists()
            assert runtime.name != "anydesk-invite-0"
        finally:
            code = client.stop()
        assert code == 0, client.output()
        assert not runtime.exists()
        assert not record.exists()
        asked = client.cli("--get-id", as_json=False)
        assert asked.code == 2 and "no anydesk-invite is running" in asked.stderr
        assert not record.exists()
