"""Resident memory of a running client: idle, and with 1,000 discovered peers listed in its
main window; beside a bare QApplication with one empty window, measured in the same run.

    .venv/bin/python bench/memory.py [--peers 1000] [--json]

Each figure is taken in a fresh child process (Qt offscreen) from /proc/self/status VmRSS.
The client is built as tests/helpers/nodes.py builds one (listening on 127.0.0.1, discovery
off); the 1,000 peers go through PeerDirectory.discovered as Discovery would hand them on.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def child_bare() -> dict[str, int]:
    from PySide6.QtWidgets import QApplication, QWidget

    app = QApplication([])
    w = QWidget()
    w.show()
    app.processEvents()
    return {"rss_kib": rss_kib()}


def child_client(peers: int) -> dict[str, int]:
    import asyncio
    import tempfile

    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    import qasync

    from anydesk_invite.core.ids import DeviceId
    from anydesk_invite.net.records import DiscoveredPeer
    from anydesk_invite.ui.shell import Shell
    from tests.helpers.nodes import Nodes

    async def run() -> dict[str, int]:
        with tempfile.TemporaryDirectory(prefix="adi-mem-") as tmp:
            nodes = Nodes(Path(tmp), tls=True)
            node = await nodes.make("bench")
            shell = Shell(node.client, on_quit=lambda: None)
            shell.show()
            await asyncio.sleep(0.3)
            idle = rss_kib()
            for i in range(peers):
                fp = os.urandom(32)
                node.client.directory.discovered(
                    DiscoveredPeer(
                        DeviceId.from_fingerprint(fp), f"peer{i}@ad", fp,
                        ("127.0.0.1",), 40000 + i % 1000, "1.0", f"peer{i}",
                    )
                )  # fmt: skip
            await asyncio.sleep(0.5)
            listed = len(node.client.peers())
            loaded = rss_kib()
            shell.close()
            await nodes.close()
            return {"idle_kib": idle, "peers_kib": loaded, "listed": listed}

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    return loop.run_until_complete(run())


def _in_child(kind: str, peers: int) -> dict[str, int]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_API="pyside6")
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--peers", str(peers)],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    parser.add_argument("--child", choices=["bare", "client"], help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.child == "bare":
        print(json.dumps(child_bare()))
        return 0
    if ns.child == "client":
        print(json.dumps(child_client(ns.peers)))
        return 0
    bare = _in_child("bare", ns.peers)["rss_kib"]
    client = _in_child("client", ns.peers)
    figures = {
        "bare_qapplication_rss_mib": bare / 1024,
        "idle_rss_mib": client["idle_kib"] / 1024,
        "peers_rss_mib": client["peers_kib"] / 1024,
        "peers_listed": client["listed"],
        "kib_per_peer": (client["peers_kib"] - client["idle_kib"]) / max(1, ns.peers),
    }
    print(f"bare QApplication with one window   {figures['bare_qapplication_rss_mib']:8.1f} MiB")
    print(f"client idle, main window shown      {figures['idle_rss_mib']:8.1f} MiB")
    print(
        f"client with {client['listed']} discovered peers  {figures['peers_rss_mib']:8.1f} MiB"
        f"  ({figures['kib_per_peer']:.1f} KiB per peer)"
    )
    if ns.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
