"""The conformance runner, as another implementation would use it, against this client.

One headless client process on 127.0.0.1, started with --test-auto-accept (it accepts every
invitation and request as its user clicking Accept would), and the runner as a process of its
own: every rule of PROTOCOL.md's conformance table must PASS.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from anydesk_invite import conformance
from tests.helpers.processes import HeadlessClient, running_clients
from tests.helpers.short_dir import short_dir

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def peer() -> Iterator[HeadlessClient]:
    with short_dir() as base:
        client = HeadlessClient(base / "p", "p", auto_accept=True)
        with running_clients([client]):
            yield client


def _runner(peer: HeadlessClient, *args: str) -> subprocess.CompletedProcess[str]:
    [listen] = peer.cli("--get-status").ok()["listen"]
    return subprocess.run(
        [sys.executable, "-m", "anydesk_invite.conformance", listen, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_this_client_passes_every_rule_of_the_conformance_runner(peer: HeadlessClient) -> None:
    done = _runner(peer, "--fingerprint", peer.fingerprint)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    passed = {line.split()[1] for line in done.stdout.splitlines() if line.startswith("PASS ")}
    assert passed == set(conformance.RULES), report
    assert peer.running(), peer.output()


def test_the_runner_fails_and_exits_1_for_a_peer_with_another_key(peer: HeadlessClient) -> None:
    done = _runner(peer, "--fingerprint", "00" * 32, "--rule", "handshake/heartbeat")
    assert done.returncode == 1
    assert done.stdout.startswith("FAIL handshake/heartbeat"), done.stdout
