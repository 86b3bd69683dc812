"""How fast discovery lists a started peer and drops a quitting one, on 127.0.0.1 only.

Run: .venv/bin/python bench/discovery.py [--rounds 10] [--probe-rounds 3] [--kill-rounds 1]

Prints median and max per figure, with the goal beside it:
  found     start() of a new peer → listed by a running observer       goal ≤ 2 s
  late      start() of a new observer → lists an already running peer   goal ≤ 2 s
            (rounds 1.1 s apart; back to back, RFC 6762 rate limiting makes it ≈ 1.1 s)
  goodbye   stop() of a peer → peer_gone at the observer                goal ≤ 1 s
  probed    as "found", with name probing on (what skipping it saves)   for comparison
  killed    SIGKILL of a peer process → peer_gone (shipping 15 s)       goal ≤ 15 s
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.policy import DiscoveryMode
from anydesk_invite.net.discovery import Discovery
from anydesk_invite.net.records import OwnRecord

LOOPBACK = ["127.0.0.1"]


def _tag() -> str:
    return f"-b{uuid.uuid4().hex[:8]}"


def _record(fp: bytes) -> OwnRecord:
    return OwnRecord(DeviceId.from_fingerprint(fp), "bench@ad", fp, 40000)


class Observer:
    """A running Discovery whose peer_seen/peer_gone can be awaited by fingerprint."""

    def __init__(self, offline_after: float = 15.0) -> None:
        self.fp = os.urandom(32)
        self.discovery = Discovery(
            LOOPBACK, self.fp, instance_tag=_tag(), offline_after=offline_after
        )
        self._changed = asyncio.Event()
        self.discovery.peer_seen.connect(lambda _p: self._changed.set())
        self.discovery.peer_gone.connect(lambda _fp: self._changed.set())

    def lists(self, fp: bytes) -> bool:
        return any(p.fingerprint == fp for p in self.discovery.peers())

    async def until(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        async def wait() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)


async def _found_and_goodbye(observer: Observer, probe: bool) -> tuple[float, float]:
    loop = asyncio.get_running_loop()
    fp = os.urandom(32)
    peer = Discovery(LOOPBACK, fp, instance_tag=_tag(), probe=probe)
    t0 = loop.time()
    await peer.start(DiscoveryMode.ON, _record(fp))
    await observer.until(lambda: observer.lists(fp))
    found = loop.time() - t0
    t1 = loop.time()
    stopping = asyncio.create_task(peer.stop())
    await observer.until(lambda: not observer.lists(fp))
    gone = loop.time() - t1
    await stopping
    return found, gone


async def _late(peer_fp: bytes) -> float:
    loop = asyncio.get_running_loop()
    observer = Observer()
    t0 = loop.time()
    await observer.discovery.start(DiscoveryMode.HIDDEN, _record(observer.fp))
    await observer.until(lambda: observer.lists(peer_fp))
    elapsed = loop.time() - t0
    await observer.discovery.stop()
    return elapsed


_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, sys.argv[3])
    from anydesk_invite.core.ids import DeviceId
    from anydesk_invite.core.policy import DiscoveryMode
    from anydesk_invite.net.discovery import Discovery
    from anydesk_invite.net.records import OwnRecord

    async def main() -> None:
        fp = bytes.fromhex(sys.argv[1])
        d = Discovery(["127.0.0.1"], fp, instance_tag=sys.argv[2])
        await d.start(DiscoveryMode.ON, OwnRecord(DeviceId.from_fingerprint(fp), "k@ad", fp, 1))
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


async def _killed(observer: Observer) -> float:
    loop = asyncio.get_running_loop()
    fp = os.urandom(32)
    src = str(Path(__file__).resolve().parents[1])
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CHILD, fp.hex(), _tag(), src
    )
    try:
        await observer.until(lambda: observer.lists(fp))
        child.send_signal(signal.SIGKILL)
        await child.wait()
        t0 = loop.time()
        await observer.until(lambda: not observer.lists(fp))
        return loop.time() - t0
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()


def _line(name: str, samples: list[float], goal: float | None) -> str:
    if not samples:
        return f"{name:8s} (not run)"
    med, top = statistics.median(samples), max(samples)
    verdict = ""
    if goal is not None:
        verdict = f"goal ≤ {goal:.1f} s  {'ok' if top <= goal else 'MISSED'}"
    return (
        f"{name:8s} median {med * 1000:7.1f} ms   max {top * 1000:7.1f} ms   "
        f"n={len(samples):<3d} {verdict}"
    )


async def main(rounds: int, probe_rounds: int, kill_rounds: int, as_json: bool = False) -> None:
    observer = Observer()
    await observer.discovery.start(DiscoveryMode.ON, _record(observer.fp))
    found: list[float] = []
    goodbye: list[float] = []
    probed: list[float] = []
    late: list[float] = []
    killed: list[float] = []
    try:
        for _ in range(rounds):
            f, g = await _found_and_goodbye(observer, probe=False)
            found.append(f)
            goodbye.append(g)
        for _ in range(probe_rounds):
            f, g = await _found_and_goodbye(observer, probe=True)
            probed.append(f)
            goodbye.append(g)
        for _ in range(rounds):
            # A responder multicasts a record at most once a second (RFC 6762 §14), so a
            # newcomer arriving within a second of the previous one waits up to a second
            # for its answer. Space the rounds to measure a newcomer on its own.
            await asyncio.sleep(1.1)
            late.append(await _late(observer.fp))
        for _ in range(kill_rounds):
            killed.append(await _killed(observer))
    finally:
        await observer.discovery.stop()
    print("discovery on 127.0.0.1 (shipping defaults: offline_after 15 s, no probing)")
    print(_line("found", found, 2.0))
    print(_line("late", late, 2.0))
    print(_line("goodbye", goodbye, 1.0))
    print(_line("probed", probed, None))
    print(_line("killed", killed, 15.0))
    if as_json:
        medians = {
            f"{name}_s": statistics.median(samples) if samples else None
            for name, samples in (
                ("found", found), ("late", late), ("goodbye", goodbye),
                ("probed", probed), ("killed", killed),
            )
        }  # fmt: skip
        print(json.dumps(medians))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--probe-rounds", type=int, default=3)
    parser.add_argument("--kill-rounds", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="also print the medians as JSON")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.probe_rounds, args.kill_rounds, args.json))
