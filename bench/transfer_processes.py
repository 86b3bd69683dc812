"""File transfer between two client *processes*, beside raw TLS between two processes.

    .venv/bin/python bench/transfer_processes.py [--size-mb 200] [--rounds 5] [--json]

bench/transfer.py runs both ends in one process, on one event loop: every byte's TLS work,
framing and bookkeeping of both sides share one thread. Real peers are two processes (two
machines). Here the host and the guest are two headless `anydesk-invite` processes on
127.0.0.1: the guest runs `send-file` through the command line, which returns once the host
has saved the file and checked its SHA-256; the time is that command's, less the time of an
empty command (process start-up). Both sides hash the file while it moves. The
baseline is raw asyncio TLS 1.3 between two processes in the same run: 256 KiB writes, the
receiver answering one byte when it has everything; the two alternate round by round, and the
disk is synced before each round (not timed). Goal: ≥ 70 % of raw. Loopback only; temporary
homes and files are removed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anydesk_invite.net.identity import Identity  # noqa: E402
from anydesk_invite.storage.db import Database  # noqa: E402
from anydesk_invite.storage.home import Home  # noqa: E402
from anydesk_invite.storage.settings import StoredSettings  # noqa: E402
from tests.helpers.processes import HeadlessClient  # noqa: E402

BLOCK = 256 * 1024

RECEIVER = textwrap.dedent(
    """
    import asyncio, sys
    from anydesk_invite.net.identity import Identity

    async def main(size):
        done = asyncio.Event()

        async def serve(reader, writer):
            left = size
            while left:
                data = await reader.read(1024 * 1024)
                if not data:
                    break
                left -= len(data)
            writer.write(b"k")
            await writer.drain()
            writer.close()
            done.set()

        ctx = Identity.generate().server_context()
        server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=ctx, limit=1 << 20)
        print(server.sockets[0].getsockname()[1], flush=True)
        await done.wait()
        server.close()

    asyncio.run(main(int(sys.argv[1])))
    """
)


def cpu_ticks() -> tuple[int, int]:
    """(busy, all) clock ticks of every CPU so far, from /proc/stat; (0, 0) elsewhere."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


class BusyCores:
    """How many of the machine's cores were busy, on average, between start() and stop()."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._at = (0, 0)

    def start(self) -> None:
        self._at = cpu_ticks()

    def stop(self) -> None:
        busy, total = cpu_ticks()
        if total > self._at[1]:
            share = (busy - self._at[0]) / (total - self._at[1])
            self.samples.append(share * (os.cpu_count() or 1))


RAW_CORES = BusyCores()
TRANSFER_CORES = BusyCores()


def raw_tls(size: int) -> float:
    """MB/s of raw TLS from this process to a receiver process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", RECEIVER, str(size)], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())

    async def send() -> float:
        ctx = Identity.generate().client_context()
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=ctx, server_hostname=""
        )
        block = os.urandom(BLOCK)
        RAW_CORES.start()
        start = time.perf_counter()
        sent = 0
        while sent < size:
            writer.write(block[: min(BLOCK, size - sent)])
            sent += min(BLOCK, size - sent)
            await writer.drain()
        await reader.readexactly(1)
        elapsed = time.perf_counter() - start
        RAW_CORES.stop()
        writer.close()
        return elapsed

    try:
        elapsed = asyncio.run(send())
    finally:
        proc.wait(30)
    return size / elapsed / 1e6


def transfer(size: int, folder: Path, rounds: int) -> tuple[list[float], list[float]]:
    """MB/s of raw TLS and of `send-file` between two client processes, alternating, per round."""
    incoming = folder / "incoming"
    incoming.mkdir()
    host = HeadlessClient(folder / "host", "bh", alias="bench-host@ad")
    guest = HeadlessClient(folder / "guest", "bg", alias="bench-guest@ad")
    host.home.mkdir(mode=0o700)
    db = Database.open(Home.resolve(str(host.home)).db_path)
    db.settings.set(StoredSettings.INCOMING_FOLDER, str(incoming))
    db.close()
    source = folder / "payload.bin"
    with open(source, "wb") as f:
        for _ in range(size // BLOCK):
            f.write(os.urandom(BLOCK))
    raw: list[float] = []
    results: list[float] = []
    try:
        for c in (host, guest):
            c.start()
        for c in (host, guest):
            c.wait_ready()
        host.wait_for_peer(guest)
        invitation = host.cli("invite", guest.device_id, "--profile", "Full Access").ok()["id"]
        guest.wait_for_invitation(invitation, ["received"])
        session = guest.cli("accept", invitation[:8]).ok()["id"][:8]
        for _ in range(rounds):
            # Not timed: the previous round's file goes to disk first, so a round does not
            # pay for its predecessor's writeback.
            os.sync()
            raw.append(raw_tls(size))
            start = time.perf_counter()
            guest.cli("sessions").ok()
            overhead = time.perf_counter() - start
            TRANSFER_CORES.start()
            start = time.perf_counter()
            sent = guest.cli("send-file", session, str(source), timeout=600)
            elapsed = time.perf_counter() - start - overhead
            TRANSFER_CORES.stop()
            sent.ok()
            results.append(size / elapsed / 1e6)
            for saved in incoming.iterdir():
                saved.unlink()
    finally:
        for c in (host, guest):
            c.stop()
    return raw, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    ns = parser.parse_args()
    size = ns.size_mb * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="adi-bench-", dir="/tmp") as tmp:
        raw, moved = transfer(size, Path(tmp), ns.rounds)
    raw_mb, moved_mb = statistics.median(raw), statistics.median(moved)
    figures = {
        "raw_mb_s": raw_mb,
        "transfer_mb_s": moved_mb,
        "ratio": moved_mb / raw_mb,
        "raw_runs": raw,
        "transfer_runs": moved,
    }
    print(f"{ns.size_mb} MiB, two processes on 127.0.0.1, {ns.rounds} rounds (median)")
    print(f"raw TLS 1.3            {raw_mb:8.1f} MB/s   runs {', '.join(f'{r:.0f}' for r in raw)}")
    print(
        f"file transfer          {moved_mb:8.1f} MB/s   runs {', '.join(f'{r:.0f}' for r in moved)}"
    )
    print(f"ratio                  {moved_mb / raw_mb:8.2f}      goal >= 0.70")
    if RAW_CORES.samples and TRANSFER_CORES.samples:
        raw_busy = statistics.median(RAW_CORES.samples)
        moved_busy = statistics.median(TRANSFER_CORES.samples)
        figures["raw_busy_cores"] = raw_busy
        figures["transfer_busy_cores"] = moved_busy
        print(
            f"busy cores (of {os.cpu_count()})   raw TLS {raw_busy:.2f}, "
            f"file transfer {moved_busy:.2f}"
        )
    if ns.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
