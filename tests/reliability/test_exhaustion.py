"""A slow-loris dialler and a client out of file descriptors do not stop service to a good
peer: half-open connections are capped per address and closed at the handshake deadline, and
a client that hits its descriptor limit serves again once the attacker's connections expire."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anydesk_invite.net.identity import Identity
from anydesk_invite.net.limits import Limits
from tests.helpers.nodes import Nodes, eventually, nodes_for
from tests.helpers.peers import RawPeer
from tests.helpers.processes import HeadlessClient, running_clients, wait_until
from tests.helpers.short_dir import short_dir
from tests.reliability.rig import AuthenticatedRawPeer, record, scale

SHORT = Limits(handshake_timeout=1.0)


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path, tls=True):
        yield n


async def half_open_tls(address: tuple[str, int], source: str) -> RawPeer:
    """A connection that sends the first bytes of a TLS ClientHello and then nothing."""
    raw = await RawPeer.connect(address, tls=False, source=source)
    raw.send_bytes(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    return raw


async def test_a_slow_loris_dialler_does_not_stop_service_to_a_good_peer(nodes: Nodes) -> None:
    node = await nodes.make("target", limits=SHORT)
    address = ("127.0.0.1", node.port)
    attackers: list[RawPeer] = []
    served: list[float] = []
    rounds = 3 * scale()
    try:
        # The attacker keeps opening connections that never finish the handshake, as fast as
        # the listener closes them, for several handshake deadlines.
        deadline = time.monotonic() + rounds * SHORT.handshake_timeout
        while time.monotonic() < deadline:
            for i in range(20):
                maker = half_open_tls if i % 2 else _silent
                try:
                    attackers.append(await maker(address, "127.0.0.2"))
                except OSError:
                    pass
            assert node.listener.unauthenticated <= Limits().max_unauthenticated_per_address
            started = time.monotonic()
            good = await AuthenticatedRawPeer.connect(address)
            assert await good.alive()
            served.append(time.monotonic() - started)
            await good.close()
            await asyncio.sleep(0.1)  # the attack's pace; the good peer's wait is measured
    finally:
        for raw in attackers:
            await raw.close()
    await eventually(lambda: node.listener.unauthenticated == 0)
    record("slow-loris", "good peer served (worst)", max(served) * 1000, "ms")
    record("slow-loris", "half-open attempts", len(attackers), "connections")


async def _silent(address: tuple[str, int], source: str) -> RawPeer:
    return await RawPeer.connect(address, tls=False, source=source)


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.mark.e2e
def test_a_client_out_of_file_descriptors_serves_a_good_peer_again(tmp_path: Path) -> None:
    run = secrets.token_hex(2)
    with short_dir() as base:
        target = HeadlessClient(base / "t", "t", alias=f"tgt-{run}")
        good = HeadlessClient(base / "g", "g", alias=f"good-{run}")
        with running_clients([target, good]):
            good.wait_for_peer(target)
            assert target.process is not None
            pid = target.process.pid
            # Room for a few more descriptors than it uses now, then no more.
            limit = _open_fds(pid) + 12
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, limit))

            async def attack() -> list[RawPeer]:
                held: list[RawPeer] = []
                for n in range(40):
                    try:
                        held.append(
                            await RawPeer.connect(
                                ("127.0.0.1", _port(target)),
                                tls=False,
                                source=f"127.0.0.{2 + n // 8}",
                            )
                        )
                    except OSError:
                        break
                return held

            loop = asyncio.new_event_loop()
            held: list[RawPeer] = []
            try:
                held = loop.run_until_complete(attack())
                wait_until(
                    lambda: "Too many open files" in _whole_output(target),
                    timeout=30,
                    what="the target to run out of descriptors",
                )
                started = time.monotonic()
                # The attacker never lets go; the handshake deadline frees the descriptors.
                inv = wait_until(
                    lambda: _invited(good, target),
                    timeout=30,
                    what="an invitation to reach the target",
                    interval=0.2,
                )
                recovered = time.monotonic() - started
                target.wait_for_invitation(inv, ["received"])
                assert target.running(), target.output()
            finally:
                # Also when the test fails: sockets left open would be blamed on the next test.
                for raw in held:
                    loop.run_until_complete(raw.close())
                loop.close()
            record("fd-exhaustion", "recovery", recovered, "s")
            record("fd-exhaustion", "descriptor limit", limit, "fds")


def _whole_output(client: HeadlessClient) -> str:
    """All the client printed and logged (``output()`` keeps only the tails)."""
    parts = []
    for path in (client.output_path, client.home / "logs" / "anydesk-invite.log"):
        with contextlib.suppress(OSError):
            parts.append(path.read_text(errors="replace"))
    return "\n".join(parts)


def _port(client: HeadlessClient) -> int:
    return int(client.cli("--get-status").ok()["listen"][0].rsplit(":", 1)[1])


def _invited(inviter: HeadlessClient, invitee: HeadlessClient) -> str | None:
    result = inviter.cli("invite", invitee.device_id, timeout=30)
    if result.code != 0:
        return None
    inv = result.json
    seen = inviter.wait_for_invitation(inv["id"], ["pending", "failed"], timeout=10)
    if seen["state"] != "pending":
        return None
    return str(inv["id"])


@pytest.mark.e2e
def test_a_thousand_authenticated_channels_leave_the_cli_and_a_good_peer_served(
    tmp_path: Path,
) -> None:
    """Keys are free: one attacker opens authenticated channels, with no invitation, from one
    key and then from fresh keys on many addresses, against a client whose descriptor limit is
    the usual desktop 1024. The control socket and a good peer must still be served."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    attempts = min(1100, 400 * scale())
    limits = Limits()
    run = secrets.token_hex(2)
    with short_dir() as base:
        target = HeadlessClient(base / "t", "t", alias=f"tgt-{run}")
        good = HeadlessClient(base / "g", "g", alias=f"good-{run}")
        with running_clients([target, good]):
            good.wait_for_peer(target)
            assert target.process is not None
            pid = target.process.pid
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (1024, 1024))
            before = _open_fds(pid)
            address = ("127.0.0.1", _port(target))
            one_key = Identity.generate()

            async def attack() -> tuple[list[AuthenticatedRawPeer], int]:
                held: list[AuthenticatedRawPeer] = []
                most = 0
                for n in range(attempts):
                    # Half from one key on one address, half from fresh keys on 32 addresses.
                    fresh = n >= attempts // 2
                    source = f"127.0.{1 + n % 32}.{2 + n % 200}" if fresh else "127.0.0.1"
                    try:
                        held.append(
                            await AuthenticatedRawPeer.connect(
                                address, None if fresh else one_key, source=source
                            )
                        )
                    except (OSError, AssertionError, asyncio.IncompleteReadError):
                        continue
                    if n % 50 == 0:
                        most = max(most, _open_fds(pid))
                return held, most

            loop = asyncio.new_event_loop()
            try:
                held, most = loop.run_until_complete(attack())
                most = max(most, _open_fds(pid))
                started = time.monotonic()
                assert target.ask("get-id")  # the control socket, as the CLI talks to it
                answer_time = time.monotonic() - started
                answered = target.cli("--get-id", as_json=False, timeout=30)
                assert answered.code == 0, answered.stderr
                inv = wait_until(
                    lambda: _invited(good, target),
                    timeout=30,
                    what="an invitation to reach the target",
                    interval=0.2,
                )
                target.wait_for_invitation(inv, ["received"])
                assert target.running(), target.output()
                for raw in held:
                    loop.run_until_complete(raw.close())
            finally:
                loop.close()
            # What peers can hold is bounded by the caps, far below the 1024 limit.
            bound = limits.max_channels_total + limits.max_unauthenticated_total
            assert most - before <= bound, (most, before)
            record("channel-flood", "attempts", attempts, "channels")
            record("channel-flood", "descriptors taken by peers (worst)", most - before, "fds")
            record("channel-flood", "attacker connections completed", len(held), "channels")
            record(
                "channel-flood", "control socket answer after the attack", answer_time * 1000, "ms"
            )
