"""The long fuzz run: at least 100,000 random frames into a live client over real TLS on
127.0.0.1, within a time bound. Prints counts: inputs, connections closed by the client,
handler failures, bystander checks.

    .venv/bin/python scripts/fuzz.py [--inputs 100000] [--seconds 600] [--seed N]

Each input is one frame on an authenticated connection (tests/reliability/frames.py draws
them like the CI tests do); a connection the client closes is replaced. Every 500 inputs a
bystander peer must still answer and a fresh peer must still get through the handshake.
Exits 1 on a handler failure, a hang or a broken bystander.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.helpers.nodes import Nodes  # noqa: E402
from tests.reliability.frames import random_frame  # noqa: E402
from tests.reliability.rig import AuthenticatedRawPeer, HandlerFailures  # noqa: E402

BATCH = 8
# The client logs a warning per refused input; nobody reads them in this run.
logging.getLogger().addHandler(logging.NullHandler())
CHECK_EVERY = 500


async def run(inputs: int, seconds: float, seed: int) -> int:
    rnd = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="adi-fuzz-") as tmp, HandlerFailures() as failures:
        nodes = Nodes(Path(tmp), tls=True)
        try:
            node = await nodes.make("target")
            address = ("127.0.0.1", node.port)
            bystander = await AuthenticatedRawPeer.connect(address)
            fuzzer: AuthenticatedRawPeer | None = None
            sent = closed = checks = 0
            started = time.monotonic()
            while sent < inputs and time.monotonic() - started < seconds:
                if fuzzer is None:
                    fuzzer = await AuthenticatedRawPeer.connect(address)
                for _ in range(BATCH):
                    fuzzer.send_bytes(random_frame(rnd))
                sent += BATCH
                if not await fuzzer.alive(timeout=10):
                    closed += 1
                    await fuzzer.close()
                    fuzzer = None
                if sent % CHECK_EVERY < BATCH:
                    checks += 1
                    if not await bystander.alive(timeout=10):
                        print("FAIL: the bystander's connection was closed", file=sys.stderr)
                        return 1
                    fresh = await AuthenticatedRawPeer.connect(address)
                    await fresh.close()
                if sent % 20000 < BATCH:
                    print(f"  {sent} inputs, {closed} connections closed", flush=True)
            took = time.monotonic() - started
            if fuzzer is not None:
                await fuzzer.close()
            await bystander.close()
        finally:
            await nodes.close()
        print(f"inputs:                 {sent}")
        print(f"connections closed:     {closed} (each by a bad input, only its own)")
        print(f"bystander checks:       {checks}, all answered")
        print(f"handler failures:       {len(failures.records)}")
        print(f"toasts shown:           {len(node.received.items)}")
        print(f"seconds:                {took:.1f} ({sent / took:.0f} inputs/s)")
        for text in failures.texts()[:5]:
            print(text, file=sys.stderr)
        if sent < inputs:
            print(f"stopped at the time bound of {seconds:g} s before {inputs} inputs")
        return 1 if failures.records else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=int.from_bytes(os.urandom(4), "big"))
    ns = parser.parse_args()
    print(f"fuzzing a live client on 127.0.0.1 (seed {ns.seed})")
    try:
        return asyncio.run(asyncio.wait_for(run(ns.inputs, ns.seconds, ns.seed), ns.seconds + 60))
    except TimeoutError:
        print("FAIL: the run hung past its bound", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
