"""Screen stream figures: frames per second, bytes per frame and change-to-display latency for
a 1920x1080 screen, host and guest in one process over real TLS on 127.0.0.1.

    .venv/bin/python bench/screen.py                # the scenarios
    (still desktop; small region changing; whole screen changing; a grainy photo changing,
    with lossless tiles only and with JPEG for photo-like tiles)
    .venv/bin/python bench/screen.py --encodings    # zlib vs PNG vs JPEG per 64x64 tile

The frame source is synthetic (bytes made here), so it runs without a display. Content
changes on a 60 Hz clock; each changed picture carries its version in its first pixel, so
the guest knows when the content it shows came to be: latency = shown - changed, which
includes the host's wait for its next grab.

Today's tile path, measured 2026-12-03 on the shared 2-core machine (others working on it),
``.venv/bin/python bench/screen.py --seconds 3`` (host and guest in one process):

    (a) still desktop      0.0 fps      0.0 KiB/frame    30 grabs/s, nothing sent
    (b) small region      17.0 fps      7.3 KiB/frame    latency p50  98 ms, p95  259 ms
    (c) whole screen       3.3 fps    367.6 KiB/frame    latency p50 663 ms, p95  806 ms
    (d) photo, lossless    0.7 fps   9274.1 KiB/frame    latency p50 1710 ms
    (e) photo, JPEG tiles  0.7 fps    895.1 KiB/frame    latency p50 1754 ms

and what a 1920x1080 grab costs in desktop/screen.py under Xvfb (``QScreen.grabWindow`` then
``toImage``, 20 grabs, p50): 10-37 ms depending on the load, plus ~1 ms to copy the bits out;
python-xlib's ``get_image`` (no shared memory) takes ~140 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import struct
import sys
import time
from dataclasses import dataclass, field

from anydesk_invite.core.screen import RawFrame, ScreenInfo
from anydesk_invite.desktop.photo import QtJpeg
from anydesk_invite.net.channel import Channel, PeerInfo
from anydesk_invite.net.handshake import dial
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.listener import Listener
from anydesk_invite.services.sessions.guest_screen import GuestScreen
from anydesk_invite.services.sessions.host_screen import HostScreen

W, H = 1920, 1080
STRIDE = W * 4
CHANGE_HZ = 60.0
REGION = (800, 500, 200, 100)  # x, y, w, h of the small changing region


def gradient(width: int, height: int, phase: int = 0) -> bytearray:
    """A smooth, photo-like BGRA picture (diagonal gradients)."""
    out = bytearray(width * height * 4)
    wide = bytearray()
    for x in range(width * 2):
        wide += bytes(((x * 255) // (width * 2), (x * 3) % 256, 128, 255))
    for y in range(height):
        start = ((y + phase) % width) * 4
        out[y * width * 4 : (y + 1) * width * 4] = wide[start : start + width * 4]
    return out


GRAIN_MASK = int.from_bytes(bytes((0x1F, 0x1F, 0x1F, 0x00)) * (W * H), "little")


class SyntheticDesktop:
    """A 1920x1080 source whose content version follows a 60 Hz clock."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.base = bytes(gradient(W, H))
        # Film grain for "photo": the low bits of each colour are noise, as in a photograph.
        self.grain = [
            int.from_bytes(os.urandom(W * H * 4), "little") & GRAIN_MASK for _ in range(4)
        ]
        self.t0 = time.monotonic()
        self.frames_by_phase: dict[int, bytes] = {}
        self.grabs = 0

    def version(self) -> int:
        return int((time.monotonic() - self.t0) * CHANGE_HZ) + 1

    def born(self, version: int) -> float:
        return self.t0 + (version - 1) / CHANGE_HZ

    def screens(self) -> list[ScreenInfo]:
        return [ScreenInfo(0, "synthetic", W, H)]

    def grab(self, index: int) -> RawFrame:
        self.grabs += 1
        if self.mode == "still":
            return RawFrame(W, H, STRIDE, self.base)
        v = self.version()
        if self.mode == "region":
            data = bytearray(self.base)
            x, y, w, h = REGION
            row = struct.pack("<I", v) + bytes((v * 7 % 256, v * 13 % 256, 200, 255)) * (w - 1)
            for r in range(y, y + h):
                data[r * STRIDE + x * 4 : r * STRIDE + (x + w) * 4] = row
            return RawFrame(W, H, STRIDE, bytes(data))
        data = gradient(W, H, phase=v * 7)
        if self.mode.startswith("photo"):
            grained = int.from_bytes(data, "little") ^ self.grain[v % len(self.grain)]
            data = bytearray(grained.to_bytes(len(data), "little"))
            # The first tile stays flat (a window's corner), so the version stamp in its first
            # pixel travels losslessly for the latency figure.
            flat = bytes((v * 7 % 256, 90, 60, 255)) * 64
            for r in range(64):
                data[r * STRIDE : r * STRIDE + 256] = flat
        data[0:4] = struct.pack("<I", v)
        return RawFrame(W, H, STRIDE, bytes(data))


class TrustAll:
    def check(self, peer: PeerInfo) -> None:
        pass


@dataclass
class Result:
    name: str
    seconds: float
    frames: int
    tile_bytes: int
    wire_bytes: int
    grabs: int
    latencies: list[float] = field(default_factory=list)


async def pump(channel: Channel, screen: HostScreen | GuestScreen) -> None:
    async for msg in channel:
        await screen.handle(msg)


async def run(mode: str, seconds: float) -> Result:
    host_id, guest_id = Identity.generate(), Identity.generate()
    accepted: asyncio.Queue[Channel] = asyncio.Queue()

    async def on_channel(ch: Channel) -> None:
        await accepted.put(ch)

    listener = Listener(host_id, lambda: "host@ad", TrustAll(), on_channel, Limits())
    [(addr, port)] = await listener.start(["127.0.0.1"])
    guest_ch = await dial(
        guest_id, "guest@ad", addr, port,
        expected_fingerprint=host_id.fingerprint, trust=TrustAll(), limits=Limits(),
    )  # fmt: skip
    host_ch = await accepted.get()
    source = SyntheticDesktop(mode)
    wire = {"bytes": 0}
    real_send = host_ch.send

    async def counting_send(msg):  # type: ignore[no-untyped-def]
        from anydesk_invite.net.wire import encode

        wire["bytes"] += len(encode(msg)) + 4
        await real_send(msg)

    photo = QtJpeg() if mode == "photo, JPEG" else None
    host = HostScreen(source, counting_send, photo=photo)
    guest = GuestScreen(guest_ch.send, photo=photo)
    result = Result(mode, seconds, 0, 0, 0, 0)
    measuring = {"on": False}

    def shown(seq: int) -> None:
        if not measuring["on"]:
            return
        if mode == "region":
            x, y, _, _ = REGION
            at = y * W * 4 + x * 4
        else:
            at = 0
        (v,) = struct.unpack_from("<I", guest.buffer, at)
        result.latencies.append(time.monotonic() - source.born(v))

    guest.updated.connect(shown)
    tasks = [asyncio.create_task(pump(host_ch, host)), asyncio.create_task(pump(guest_ch, guest))]
    await guest.select(0)
    while guest.frames_shown == 0:  # the first, full frame is not part of the figures
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    frames0, bytes0, wire0, grabs0 = guest.frames_shown, host.bytes_sent, wire["bytes"], host.grabs
    measuring["on"] = True
    await asyncio.sleep(seconds)
    measuring["on"] = False
    result.frames = guest.frames_shown - frames0
    result.tile_bytes = host.bytes_sent - bytes0
    result.wire_bytes = wire["bytes"] - wire0
    result.grabs = host.grabs - grabs0
    host.close()
    for t in tasks:
        t.cancel()
    await guest_ch.close("done")
    await host_ch.close("done")
    await listener.stop()
    return result


def table(results: list[Result]) -> str:
    head = (
        f"{'scenario':<22}{'fps':>7}{'KiB/frame':>11}{'KiB/s':>10}"
        f"{'lat p50 ms':>12}{'lat p95 ms':>12}{'grabs/s':>9}"
    )
    lines = [head, "-" * len(head)]
    names = {
        "still": "(a) still desktop",
        "region": "(b) small region",
        "full": "(c) whole screen",
        "photo, lossless": "(d) photo, lossless",
        "photo, JPEG": "(e) photo, JPEG tiles",
    }
    for r in results:
        fps = r.frames / r.seconds
        per_frame = r.wire_bytes / r.frames / 1024 if r.frames else 0.0
        lat = sorted(r.latencies)
        p50 = statistics.median(lat) * 1000 if lat else float("nan")
        p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))] * 1000 if lat else float("nan")
        rate = r.wire_bytes / r.seconds / 1024
        lines.append(
            f"{names[r.name]:<22}{fps:>7.1f}{per_frame:>11.1f}{rate:>10.1f}"
            f"{p50:>12.1f}{p95:>12.1f}{r.grabs / r.seconds:>9.1f}"
        )
    return "\n".join(lines)


# --- encodings -------------------------------------------------------------------------------


def encodings() -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import zlib

    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, Qt
    from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QLinearGradient, QPainter

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])

    def pattern() -> QImage:
        img = QImage(W, H, QImage.Format.Format_RGB32)
        p = QPainter(img)
        colors = ["white", "yellow", "cyan", "lime", "magenta", "red", "blue", "black"]
        for i, c in enumerate(colors):
            p.fillRect(QRect(i * W // 8, 0, W // 8, H // 2), QColor(c))
        g = QLinearGradient(0, 0, W, 0)
        g.setColorAt(0, QColor("black"))
        g.setColorAt(1, QColor("white"))
        p.fillRect(QRect(0, H // 2, W, H // 4), g)
        p.setPen(QColor("black"))
        p.fillRect(QRect(0, 3 * H // 4, W, H // 4), QColor("white"))
        p.setFont(QFont("DejaVu Sans", 28))
        p.drawText(QRect(0, 3 * H // 4, W, H // 4), Qt.AlignmentFlag.AlignCenter, "Test 0123")
        p.end()
        return img

    def photo() -> QImage:
        data = gradient(W, H)
        noise = os.urandom(len(data))
        # Sensor-like noise in the low bits: what makes photos hard to compress losslessly.
        data = bytearray((a & 0xF8) | (b & 0x07) for a, b in zip(data, noise, strict=True))
        return QImage(bytes(data), W, H, STRIDE, QImage.Format.Format_RGB32).copy()

    def text() -> QImage:
        img = QImage(W, H, QImage.Format.Format_RGB32)
        img.fill(QColor("white"))
        p = QPainter(img)
        p.setPen(QColor("black"))
        p.setFont(QFont("DejaVu Sans", 11))
        line = "The quick brown fox jumps over the lazy dog 0123456789 () {} [] ; " * 3
        for y in range(0, H, 18):
            p.drawText(4, y + 14, line)
        p.end()
        return img

    def tiles(img: QImage) -> list[QImage]:
        return [
            img.copy(x, y, min(64, W - x), min(64, H - y))
            for y in range(0, H, 64)
            for x in range(0, W, 64)
        ]

    def qt_size(ts: list[QImage], fmt: str, quality: int) -> int:
        total = 0
        for t in ts:
            ba = QByteArray()
            buf = QBuffer(ba)
            buf.open(QIODevice.OpenModeFlag.WriteOnly)
            t.save(buf, fmt, quality)
            total += ba.size()
        return total

    def raw(t: QImage) -> bytes:
        return bytes(t.constBits())[: t.width() * t.height() * 4]

    rows = [f"{'content':<22}" + "".join(f"{n:>16}" for n in ("zlib-1", "PNG", "JPEG-90"))]
    rows.append(f"{'':<22}" + "".join(f"{'KiB / ms':>16}" for _ in range(3)))
    for name, make in (("test pattern", pattern), ("photo-like gradient", photo), ("text", text)):
        ts = tiles(make())
        raws = [raw(t) for t in ts]
        cells = []
        t0 = time.perf_counter()
        z = sum(len(zlib.compress(r, 1)) for r in raws)
        cells.append((z, time.perf_counter() - t0))
        t0 = time.perf_counter()
        cells.append((qt_size(ts, "PNG", -1), time.perf_counter() - t0))
        t0 = time.perf_counter()
        cells.append((qt_size(ts, "JPEG", 90), time.perf_counter() - t0))
        rows.append(
            f"{name:<22}" + "".join(f"{f'{b / 1024:.0f} / {s * 1000:.0f}':>16}" for b, s in cells)
        )
    rows.append(f"(raw BGRA frame: {W * H * 4 / 1024:.0f} KiB)")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encodings", action="store_true", help="compare tile encodings instead")
    ap.add_argument("--seconds", type=float, default=3.0, help="per scenario")
    ap.add_argument("--json", action="store_true", help="also print fps and KiB/frame as JSON")
    ap.add_argument(
        "--qasync",
        action="store_true",
        help="run on the application's qasync loop (as the client does) instead of asyncio's",
    )
    ap.add_argument(
        "--verbose",
        action="store_true",
        help="log as the client started with --verbose does (into a temporary file)",
    )
    ap.add_argument("--modes", default="", help="comma-separated scenario names (default: all)")
    args = ap.parse_args()
    if args.encodings:
        print(encodings())
        return
    modes = ("still", "region", "full", "photo, lossless", "photo, JPEG")
    if args.modes:
        modes = tuple(m for m in modes if m.split(",")[0] in args.modes.split(","))
    if args.verbose:
        import tempfile

        from anydesk_invite.logs import setup_logging

        log_dir = tempfile.mkdtemp(prefix="adi-bench-log-")
        setup_logging(os.path.join(log_dir, "logs", "anydesk-invite.log"), True, stderr=False)
    if args.qasync:
        from anydesk_invite.ui import qt_loop
        from anydesk_invite.ui.qt_app import application

        app = application()
        results = [qt_loop.run_until_complete(app, run(m, args.seconds)) for m in modes]
    else:
        results = [asyncio.run(run(m, args.seconds)) for m in modes]
    if args.verbose:
        size = sum(
            os.path.getsize(os.path.join(root, f))
            for root, _, files in os.walk(log_dir)
            for f in files
        )
        print(f"log written with --verbose: {size / 1024:.0f} KiB")
    print(f"1920x1080, 64x64 tiles, zlib-1 (JPEG-80 for photo tiles in (e)), cap 30 fps, "
          f"2 frames in flight, TLS on 127.0.0.1, "
          f"{os.cpu_count()} cores")  # fmt: skip
    print(table(results))
    if args.json:
        figures: dict[str, float] = {}
        for r in results:
            key = r.name.replace(", ", "_").lower()
            figures[f"{key}_fps"] = r.frames / r.seconds
            figures[f"{key}_kib_per_frame"] = r.wire_bytes / r.frames / 1024 if r.frames else 0
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
