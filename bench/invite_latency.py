"""Invitation latency between two whole clients in one process, over real TLS on 127.0.0.1.

Builds one invitee and a pool of inviters as app.py builds clients (tests/helpers/nodes.py:
database, identity, pinned trust, listener, session service; discovery off, each knows the
other's manual address as discovery would tell it). The inviters take turns because the
invitee looks at no more than RATE_MAX invitations per peer in RATE_WINDOW seconds.
Measures, over ``--rounds`` rounds each (after 3 untimed ones):

  (a) invite sent -> received by the invitee, on a fresh connection (dial + TLS + handshake);
  (b) the same on an already open connection;
  (c) accept -> session established on both sides;

and, in the same run, the floor they stand on: a raw asyncio TLS 1.3 connect plus one
200-byte round trip, and a 200-byte round trip on an open TLS connection, made with the same
``net.identity`` contexts. Prints p50/p99 and the ratios; the goal is (a) <= 3x raw.

    .venv/bin/python bench/invite_latency.py [--rounds 50]

Traffic stays on 127.0.0.1; every loop is bounded and the run stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from anydesk_invite.net.channel import Channel
from anydesk_invite.net.identity import Identity
from anydesk_invite.services.invitation_book import RATE_MAX
from anydesk_invite.services.views import SessionView
from tests.helpers.nodes import Node, Nodes

LOOPBACK = "127.0.0.1"
PAYLOAD = 200
STEP_TIMEOUT = 10.0
"""Seconds any single step may take before the run gives up."""


async def until(predicate: Callable[[], bool], what: str) -> None:
    """Wait for a condition with a tight poll; the bound is STEP_TIMEOUT."""
    deadline = time.perf_counter() + STEP_TIMEOUT
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        await asyncio.sleep(0)


class Stamp:
    """perf_counter() of the first emission of a signal matching a key, set by a callback."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}

    def mark(self, key: str) -> None:
        self.at.setdefault(key, time.perf_counter())


async def close_links(a: Node, b: Node) -> None:
    """Close every channel between the two so the next invitation has to dial afresh."""

    def between() -> list[Channel]:
        return [
            ch
            for me, other in ((a, b), (b, a))
            for ch in me.client.links.channels()
            if ch.peer.fingerprint == other.identity.fingerprint
        ]

    for ch in between():
        await ch.close("bench: next round dials afresh")
    await until(lambda: not between(), "channels to close")


async def invite_round(a: Node, b: Node, received: Stamp, *, fresh: bool) -> float:
    """Seconds from sending an invitation to the invitee having it; cancels it afterwards."""
    if fresh:
        await close_links(a, b)
    else:
        # Untimed: an open channel, as a probe of the address book leaves one.
        await a.client.probe_address(b.identity.device_id)
        if a.client.links.channel_for(b.identity.fingerprint) is None:
            raise RuntimeError("expected an open channel for the open-connection round")
    t0 = time.perf_counter()
    sent = await a.client.invite(b.identity.device_id.digits, frozenset(), "")
    await until(lambda: sent.invitation_id in received.at, "the invitee to receive")
    elapsed = received.at[sent.invitation_id] - t0
    await a.client.cancel_invitation(sent.invitation_id)
    await until(
        lambda: _state(b, sent.invitation_id) == "cancelled", "the invitee to see the cancel"
    )
    return elapsed


def _sees_someone(p: Node) -> bool:
    return any(v.online for v in p.client.peers())


def _state(p: Node, invitation_id: str) -> str:
    for v in p.client.invitations():
        if v.invitation_id == invitation_id:
            return v.state.value
    return ""


async def accept_round(a: Node, b: Node, received: Stamp, started: dict[str, Stamp]) -> float:
    """Seconds from the invitee's accept to the session being up on both sides."""
    sent = await a.client.invite(b.identity.device_id.digits, frozenset(), "")
    await until(lambda: sent.invitation_id in received.at, "the invitee to receive")
    t0 = time.perf_counter()
    session = await b.client.accept(sent.invitation_id)
    sid = session.session_id
    await until(
        lambda: sid in started["a"].at and sid in started["b"].at, "the session on both sides"
    )
    elapsed = max(started["a"].at[sid], started["b"].at[sid]) - t0
    await b.client.end_session(sid)
    await until(lambda: not a.client.sessions() and not b.client.sessions(), "the session end")
    return elapsed


async def raw_tls(rounds: int) -> tuple[list[float], list[float]]:
    """(connect + TLS 1.3 handshake + one 200-byte round trip, one 200-byte round trip on an
    open connection) in seconds, with the identity module's TLS contexts."""
    server_id, client_id = Identity.generate(), Identity.generate()

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.readexactly(PAYLOAD)
                writer.write(data)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(echo, LOOPBACK, 0, ssl=server_id.server_context())
    port = server.sockets[0].getsockname()[1]
    payload = b"x" * PAYLOAD
    connect: list[float] = []
    open_rt: list[float] = []
    try:
        for _ in range(rounds):
            t0 = time.perf_counter()
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(LOOPBACK, port, ssl=client_id.client_context()),
                STEP_TIMEOUT,
            )
            writer.write(payload)
            await writer.drain()
            await asyncio.wait_for(reader.readexactly(PAYLOAD), STEP_TIMEOUT)
            connect.append(time.perf_counter() - t0)
            t1 = time.perf_counter()
            writer.write(payload)
            await writer.drain()
            await asyncio.wait_for(reader.readexactly(PAYLOAD), STEP_TIMEOUT)
            open_rt.append(time.perf_counter() - t1)
            writer.close()
            await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
    return connect, open_rt


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class Inviters:
    """Inviters taken in turn: the invitee looks at no more than RATE_MAX invitations per
    peer per RATE_WINDOW seconds (flood protection), so each inviter sends at most that many."""

    def __init__(self, peers: list[Node]) -> None:
        self.peers = peers
        self._next = 0

    def take(self) -> Node:
        peer = self.peers[self._next % len(self.peers)]
        self._next += 1
        return peer


WARMUP = 3


async def measure(rounds: int) -> dict[str, list[float]]:
    per_measure = rounds + WARMUP
    count = math.ceil(3 * per_measure / RATE_MAX)
    with tempfile.TemporaryDirectory(prefix="adi-bench-") as tmp:
        nodes = Nodes(Path(tmp), tls=True)
        try:
            b = await nodes.make("ben")
            inviters = Inviters([await nodes.make(f"anna{i}", start=False) for i in range(count)])
            everyone = [b, *inviters.peers]
            for a in inviters.peers:
                a.knows(b)
                # The invitee knows the inviter's listen address (as discovery would tell
                # it), so an accept dials the inviter afresh, as in the running client.
                b.knows(a)
                await a.client.start()
                # Each client probes its address book at start (then every 10 s). One at a
                # time, so the invitee's cap on unauthenticated connections per address is
                # not hit, and before any timing starts.
                await until(partial(_sees_someone, a), "the first probe")
                # The invitee takes at most 16 channels from one address (all of these are on
                # 127.0.0.1), so an inviter holds none while it is not the one measured.
                await close_links(a, b)
            received = Stamp()
            b.client.invitation_received.connect(
                lambda v: received.mark(v.invitation_id) if v.revision == 1 else None
            )
            started = {"a": Stamp(), "b": Stamp()}
            for p in everyone:
                stamp = started["b" if p is b else "a"]

                def on_started(v: SessionView, stamp: Stamp = stamp) -> None:
                    stamp.mark(v.session_id)

                p.client.session_started.connect(on_started)

            async def run(step: Callable[[Node], Awaitable[float]]) -> list[float]:
                times = []
                for _ in range(per_measure):
                    a = inviters.take()
                    times.append(await step(a))
                    await close_links(a, b)  # untimed, as above
                return times[WARMUP:]

            results = {
                "(a) invite -> received, fresh connection": await run(
                    lambda a: invite_round(a, b, received, fresh=True)
                ),
                "(b) invite -> received, open connection": await run(
                    lambda a: invite_round(a, b, received, fresh=False)
                ),
                "(c) accept -> session on both sides": await run(
                    lambda a: accept_round(a, b, received, started)
                ),
            }
            connect, open_rt = await raw_tls(per_measure)
            results["raw TLS 1.3 connect + 200 B round trip"] = connect[WARMUP:]
            results["raw 200 B round trip, open TLS connection"] = open_rt[WARMUP:]
            return results
        finally:
            await nodes.close()


def report(results: dict[str, list[float]], rounds: int) -> str:
    lines = [f"Invitation latency over {rounds} rounds each, 127.0.0.1 (milliseconds)", ""]
    width = max(len(k) for k in results)
    lines.append(f"{'measure'.ljust(width)}  {'p50':>7}  {'p99':>7}  {'mean':>7}")
    for name, values in results.items():
        ms = [v * 1000 for v in values]
        lines.append(
            f"{name.ljust(width)}  {percentile(ms, 50):7.2f}  {percentile(ms, 99):7.2f}"
            f"  {statistics.fmean(ms):7.2f}"
        )
    raw = percentile(results["raw TLS 1.3 connect + 200 B round trip"], 50)
    raw_open = percentile(results["raw 200 B round trip, open TLS connection"], 50)
    a = percentile(results["(a) invite -> received, fresh connection"], 50)
    b = percentile(results["(b) invite -> received, open connection"], 50)
    verdict = "meets" if a <= 3 * raw else "misses"
    lines += [
        "",
        f"(a) / raw connect, p50: {a / raw:.2f}x  (goal <= 3x: {verdict})",
        f"(b) / raw open round trip, p50: {b / raw_open:.2f}x",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=50, help="rounds per measure (>= 50)")
    parser.add_argument("--json", action="store_true", help="also print the p50s (s) as JSON")
    ns = parser.parse_args(argv)
    if not 50 <= ns.rounds <= 10_000:
        parser.error("--rounds is 50 to 10000")
    results = asyncio.run(measure(ns.rounds))
    print(report(results, ns.rounds))
    if ns.json:
        print(json.dumps({name: percentile(values, 50) for name, values in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
