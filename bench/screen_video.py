"""The hybrid screen stream (H.264 where it moves, exact tiles where it stands) beside today's
tile path, in the same run, host and guest in separate processes over real TLS.

    .venv/bin/python bench/screen_video.py                   # 127.0.0.1, every scenario
    .venv/bin/python bench/screen_video.py --shaped          # also through shaped links (root)
    .venv/bin/python bench/screen_video.py --quick --json    # short, for bench/run_all.py

Scenarios at 1920x1080: (1) scrolling text and (2) a panning photo-like picture, moving for
``--seconds`` and then still; (3) a small region of text changing (typing). For each, the
tile path (a guest without video) and the hybrid (a guest that decodes H.264) run one after
the other. Figures: frames shown a second, payload KiB a frame (tile + video data), PSNR of
the guest's picture against the exact content while moving (8 to 16 frames spread over the
run, every 7th pixel, compared after the run), change-to-display latency p50/p95/p99 (a
keyframe's queue shows in the p99), and the time from the content's last change to the
guest's picture being bit-exact. Each picture carries its version (a 24-bit bar of black and
white 16x16 blocks at the top left, which survives lossy coding), so the guest knows what it
shows and when that came to be (the clock is CLOCK_MONOTONIC, shared by the processes).

``--shaped`` (root, iproute2): host and guest in two network namespaces joined by a veth; the
host's side is limited with ``tc tbf`` (20 Mbit/s, then 5 Mbit/s), and a small proxy in the
guest's namespace holds every chunk for half the round trip in each direction (netem is
missing in these kernels). There the guest also sends an input-like message every 20 ms and
the host reports its one-way latency (input p99), and the latency's p95 in each third of the
run shows whether frames queue up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
W, H = 1920, 1080
STRIDE = W * 4
HZ = 60.0
BAR_BITS = 24
BLOCK = 16
REGION = (640, 448, 384, 128)


# --- content (the same in both processes) ---------------------------------------------------


def _pages() -> dict[str, bytes]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import (
        QColor,
        QFont,
        QGuiApplication,
        QImage,
        QLinearGradient,
        QPainter,
        QRadialGradient,
    )

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    text = QImage(W, H * 3, QImage.Format.Format_RGB32)
    text.fill(QColor("white"))
    p = QPainter(text)
    p.setFont(QFont("DejaVu Sans", 11))
    words = "The quick brown fox jumps over the lazy dog 0123456789 () {} [] ; def main(): "
    for i, y in enumerate(range(0, H * 3, 18)):
        p.setPen(QColor(("black", "#202060", "#604020", "#206020")[i % 4]))
        p.drawText(8 + (i * 37) % 200, y + 14, (words * 3)[(i * 7) % 40 :])
    p.end()
    photo = QImage(W * 2, H, QImage.Format.Format_RGB32)
    p = QPainter(photo)
    g = QLinearGradient(0, 0, W * 2, H)
    for stop, colour in ((0, "#203050"), (0.3, "#c08040"), (0.6, "#40a070"), (1, "#8030a0")):
        g.setColorAt(stop, QColor(colour))
    p.fillRect(0, 0, W * 2, H, g)
    for i in range(40):
        cx, cy, r = (i * 397) % (W * 2), (i * 211) % H, 60 + (i * 53) % 200
        rg = QRadialGradient(QPointF(cx, cy), r)
        rg.setColorAt(0, QColor.fromHsv((i * 37) % 360, 200, 240))
        rg.setColorAt(1, QColor(0, 0, 0, 0))
        p.setBrush(rg)
        p.setPen(QColor(0, 0, 0, 0))
        p.drawEllipse(QPointF(cx, cy), r, r)
    p.end()
    return {
        "text": bytes(text.constBits())[: W * 4 * H * 3],
        "photo": bytes(photo.constBits())[: W * 8 * H],
    }


class Content:
    def __init__(self) -> None:
        self.pages = _pages()

    def picture(self, kind: str, v: int, still: bool) -> bytearray:
        if kind == "text":
            off = (v * 4) % (H * 2)
            data = bytearray(self.pages["text"][off * STRIDE : (off + H) * STRIDE])
        elif kind == "photo":
            xo = (v * 8) % W
            page, row = self.pages["photo"], W * 8
            data = bytearray(
                b"".join(page[y * row + xo * 4 : y * row + (xo + W) * 4] for y in range(H))
            )
        else:  # region: a still page with a small area of text that changes
            data = bytearray(self.pages["text"][: STRIDE * H])
            x, y, w, h = REGION
            off = (v * 3) % (H * 2)
            src = self.pages["text"]
            for r in range(h):
                s = (off + r) * STRIDE + 100 * 4
                data[(y + r) * STRIDE + x * 4 : (y + r) * STRIDE + (x + w) * 4] = src[s : s + w * 4]
        stamp(data, v | (1 << (BAR_BITS - 1) if still else 0))
        return data

    def frame(self, kind: str, v: int, still: bool) -> bytes:
        """The same pixels as ``picture``, built with one copy of the frame, as a screen grab
        makes one (X11 shared memory: the copy out of the segment); so the host's CPU a frame
        counts what the stream costs, not three copies of the bench's content."""
        if kind == "region":
            return bytes(self.picture(kind, v, still))
        bar = bar_row(v | (1 << (BAR_BITS - 1) if still else 0))
        page = memoryview(self.pages[kind])
        if kind == "text":
            base = (v * 4) % (H * 2) * STRIDE
            rows = [page[base + y * STRIDE : base + (y + 1) * STRIDE] for y in range(BLOCK)]
            rest = [page[base + BLOCK * STRIDE : base + H * STRIDE]]
        else:
            xo, row = (v * 8) % W, W * 8
            rows = [page[y * row + xo * 4 : y * row + (xo + W) * 4] for y in range(H)]
            rows, rest = rows[:BLOCK], rows[BLOCK:]
        parts: list[bytes | memoryview] = []
        for r in rows:
            parts += [bar, r[len(bar) :]]
        return b"".join(parts + rest)


def bar_row(value: int) -> bytes:
    """One row of the version bar (see ``stamp``)."""
    on, off = b"\xff\xff\xff\xff" * BLOCK, b"\x00\x00\x00\xff" * BLOCK
    return b"".join(on if (value >> bit) & 1 else off for bit in range(BAR_BITS))


def stamp(data: bytearray, value: int) -> None:
    for bit in range(BAR_BITS):
        on = (value >> bit) & 1
        px = b"\xff\xff\xff\xff" if on else b"\x00\x00\x00\xff"
        row = px * BLOCK
        for r in range(BLOCK):
            at = r * STRIDE + bit * BLOCK * 4
            data[at : at + BLOCK * 4] = row


def read_stamp(buf: bytes | bytearray) -> int:
    value = 0
    for bit in range(BAR_BITS):
        at = (BLOCK // 2) * STRIDE + (bit * BLOCK + BLOCK // 2) * 4
        if buf[at + 1] > 127:
            value |= 1 << bit
    return value


def psnr(a: bytes | bytearray, b: bytes | bytearray, step: int = 7) -> float:
    total, count = 0, 0
    for i in range(BLOCK * STRIDE, len(a), 4 * step):  # below the bar
        for c in (0, 1, 2):
            d = a[i + c] - b[i + c]
            total += d * d
        count += 3
    mse = total / count
    return math.inf if mse == 0 else 10 * math.log10(255 * 255 / mse)


def version_now() -> int:
    return int(time.monotonic() * HZ) & ((1 << (BAR_BITS - 1)) - 1)


def born(v: int) -> float:
    now = time.monotonic()
    full = int(now * HZ)
    mask = (1 << (BAR_BITS - 1)) - 1
    base = full - ((full - v) & mask)
    return base / HZ


# --- host process -----------------------------------------------------------------------------


class Desktop:
    """1920x1080 content that moves for ``moving`` seconds from the first grab, then stands."""

    def __init__(self, content: Content, kind: str, moving: float) -> None:
        self.content, self.kind, self.moving = content, kind, moving
        self.start: float | None = None
        self.stopped_v: int | None = None
        self.cache: tuple[int, bool, bytes] | None = None
        self.cpu_moving = [0.0, 0.0]
        """Process CPU time when the content started moving and when it stopped."""

    def screens(self) -> list[Any]:
        from anydesk_invite.core.screen import ScreenInfo

        return [ScreenInfo(0, "bench", W, H)]

    def grab(self, index: int) -> Any:
        from anydesk_invite.core.screen import RawFrame

        now = time.monotonic()
        if self.start is None:
            self.start = now
            self.cpu_moving = [time.process_time(), 0.0]
        still = now - self.start > self.moving
        if still:
            if self.stopped_v is None:
                self.stopped_v = version_now()
                self.cpu_moving[1] = time.process_time()
            v = self.stopped_v
        else:
            v = version_now()
        if self.cache is None or self.cache[:2] != (v, still):
            self.cache = (v, still, self.content.frame(self.kind, v, still))
        return RawFrame(W, H, STRIDE, self.cache[2])


class Stages:
    """Where a process's time goes: wall time, the calling thread's CPU time and the process's
    CPU time in each named stage, per call. The process's figure counts the threads a codec
    runs of its own (x264's second slice thread) and whatever else ran meanwhile (the event
    loop, mostly idle then)."""

    def __init__(self) -> None:
        self.t: dict[str, list[float]] = {}

    def timed(self, name: str, fn: Any) -> Any:
        def run(*a: Any, **k: Any) -> Any:
            wall, cpu, proc = time.perf_counter(), time.thread_time(), time.process_time()
            try:
                return fn(*a, **k)
            finally:
                rec = self.t.setdefault(name, [0, 0.0, 0.0, 0.0])
                rec[0] += 1
                rec[1] += time.perf_counter() - wall
                rec[2] += time.thread_time() - cpu
                rec[3] += time.process_time() - proc

        return run

    def offload(self) -> Any:
        async def run(fn: Any, *args: Any) -> Any:
            name = getattr(fn, "__name__", "work")
            return await asyncio.to_thread(self.timed(name, fn), *args)

        return run

    def video(self) -> Any:
        from anydesk_invite.desktop.video import PyAvVideo

        stages, real = self, PyAvVideo()

        class Timed:
            name = real.name

            def encoder(self, *a: Any) -> Any:
                enc = real.encoder(*a)
                enc.encode = stages.timed("encode", enc.encode)  # type: ignore[method-assign]
                return enc

            def decoder(self, *a: Any) -> Any:
                dec = real.decoder(*a)
                dec.decode = stages.timed("decode", dec.decode)  # type: ignore[method-assign]
                return dec

        return Timed()

    def report(self) -> dict[str, list[float]]:
        """Stage: [calls, wall ms a call, thread CPU ms a call, process CPU ms a call]."""
        return {
            k: [n, w * 1000 / n, c * 1000 / n, p * 1000 / n]
            for k, (n, w, c, p) in self.t.items()
            if n
        }


class TrustAll:
    def check(self, peer: Any) -> None:
        pass


async def host_main(args: argparse.Namespace) -> dict[str, Any]:
    from anydesk_invite.net.identity import Identity
    from anydesk_invite.net.limits import Limits
    from anydesk_invite.net.listener import Listener
    from anydesk_invite.net.wire import Chat
    from anydesk_invite.services.sessions.host_screen import HostScreen

    content = Content()
    desktop = Desktop(content, args.kind, args.moving)
    accepted: asyncio.Queue[Any] = asyncio.Queue()

    async def on_channel(ch: Any) -> None:
        await accepted.put(ch)

    identity = Identity.generate()
    Path(args.fingerprint_file).write_bytes(identity.fingerprint)
    listener = Listener(
        identity,
        lambda: "host@ad",
        TrustAll(),
        on_channel,
        Limits(idle_timeout=60, heartbeat_interval=5),
    )
    [(_addr, port)] = await listener.start([args.address], port=args.port)
    print(json.dumps({"listening": port}), flush=True)
    ch = await accepted.get()
    stages = Stages()
    desktop.grab = stages.timed("grab (bench content)", desktop.grab)  # type: ignore[method-assign]

    async def send(msg: Any) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        await ch.send(msg)
        rec = stages.t.setdefault("send", [0, 0.0, 0.0, 0.0])
        rec[0] += 1
        rec[1] += time.perf_counter() - wall
        rec[2] += time.thread_time() - cpu
        rec[3] += time.thread_time() - cpu

    host = HostScreen(desktop, send, video=stages.video(), offload=stages.offload())
    inputs: list[float] = []
    rates: list[float] = []

    async def pump() -> None:
        async for msg in ch:
            if isinstance(msg, Chat):
                inputs.append(time.monotonic() - float(msg.text))
                rates.append(host.link.target())
            else:
                await host.handle(msg)

    task = asyncio.create_task(pump())
    with contextlib.suppress(Exception):
        await task
    host.close()
    await listener.stop()
    ins = sorted(inputs)
    return {
        "host_frames": host.frames_sent,
        "host_video_frames": host.video_frames,
        "input_p50_ms": ins[len(ins) // 2] * 1000 if ins else None,
        "input_p99_ms": ins[min(len(ins) - 1, int(len(ins) * 0.99))] * 1000 if ins else None,
        "video_bitrate_last_mbit": rates[-1] / 1e6 if rates else None,
        "host_stages": stages.report(),
        "host_cpu_s": desktop.cpu_moving[1] - desktop.cpu_moving[0],
        "video_streams": host.planner._stream if host.planner is not None else 0,
        "video_settings": repr(host.planner.settings) if host.planner is not None else None,
        "link_rate_mbit": host.link.rate / 1e6,
    }


# --- guest process -----------------------------------------------------------------------------


class DelayProxy:
    """Forwards TCP from a local port to ``target``, holding every chunk ``delay`` seconds
    in each direction (in order), so the round trip grows by twice the delay."""

    def __init__(self, target: tuple[str, int], delay: float) -> None:
        self.target, self.delay = target, delay

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _client(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        ur, uw = await asyncio.open_connection(*self.target)
        await asyncio.gather(self._pipe(r, uw), self._pipe(ur, w), return_exceptions=True)

    async def _pipe(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def out() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    w.close()
                    return
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                w.write(data)
                await w.drain()

        task = asyncio.create_task(out())
        while True:
            data = await r.read(65536)
            queue.put_nowait((time.monotonic() + self.delay, data))
            if not data:
                break
        await task


async def guest_main(args: argparse.Namespace) -> dict[str, Any]:
    from anydesk_invite.net.handshake import dial
    from anydesk_invite.net.identity import Identity
    from anydesk_invite.net.limits import Limits
    from anydesk_invite.net.wire import Chat, FrameTiles, VideoFrame
    from anydesk_invite.services.sessions.guest_screen import GuestScreen

    content = Content()
    addr, port = args.address, args.port
    if args.delay > 0:
        proxy = DelayProxy((addr, port), args.delay / 2)
        addr, port = "127.0.0.1", await proxy.start()
    ch = await dial(
        Identity.generate(), "guest@ad", addr, port,
        expected_fingerprint=Path(args.fingerprint_file).read_bytes(), trust=TrustAll(),
        limits=Limits(idle_timeout=60, heartbeat_interval=5),
    )  # fmt: skip
    stages = Stages()
    guest = GuestScreen(
        ch.send, video=stages.video() if args.path == "video" else None, offload=stages.offload()
    )
    payload = {"bytes": 0}
    lat: list[tuple[float, float]] = []
    psnrs: list[float] = []
    snapshots: list[tuple[int, bytes]] = []
    every = {"n": 10}
    first_frame = {"bytes": 0}
    shown = {"moving": 0, "first": 0.0, "last": 0.0, "n": 0, "cpu0": 0.0, "cpu1": 0.0}
    still: dict[str, float | None] = {"exact_after": None, "seen": None}
    done = asyncio.Event()

    def on_update(seq: int) -> None:
        now = time.monotonic()
        value = read_stamp(guest.buffer)
        is_still = bool(value >> (BAR_BITS - 1))
        v = value & ((1 << (BAR_BITS - 1)) - 1)
        if not is_still:
            shown["n"] += 1
            if not shown["first"]:
                shown["first"] = now
                shown["cpu0"] = time.process_time()
            shown["cpu1"] = time.process_time()
            shown["last"] = now
            lat.append((now, now - born(v)))
            if shown["n"] % every["n"] == 0:
                snapshots.append((v, bytes(guest.buffer)))  # compared after the run
                if len(snapshots) >= 16:  # spread over the whole run: keep every other
                    del snapshots[::2]
                    every["n"] *= 2
        elif still["exact_after"] is None:
            if bytes(guest.buffer) == bytes(content.picture(args.kind, v, True)):
                still["exact_after"] = now - (born(v) + 1 / HZ)
                done.set()

    guest.updated.connect(on_update)

    async def pump() -> None:
        async for msg in ch:
            if isinstance(msg, FrameTiles):
                payload["bytes"] += sum(len(t.data) for t in msg.tiles)
            elif isinstance(msg, VideoFrame):
                payload["bytes"] += len(msg.data)
            await guest.handle(msg)
            if guest.frames_shown == 1 and not first_frame["bytes"]:
                first_frame["bytes"] = payload["bytes"]  # the full first frame is not counted

    async def inputs() -> None:
        while True:
            await ch.send(Chat(repr(time.monotonic())))
            await asyncio.sleep(0.02)

    tasks = [asyncio.create_task(pump())]
    if args.inputs:
        tasks.append(asyncio.create_task(inputs()))
    await guest.select(0)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), args.moving + args.still_wait)
    bytes_moving = payload["bytes"] - first_frame["bytes"]
    for t in tasks:
        t.cancel()
    await ch.close("done")
    psnrs = [psnr(buf, content.picture(args.kind, v, False)) for v, buf in snapshots]
    span = shown["last"] - shown["first"]
    lats = sorted(x for _, x in lat)

    def pct(xs: list[float], q: float) -> float | None:
        return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000 if xs else None

    thirds = []
    if lat:
        t0, t1 = lat[0][0], lat[-1][0]
        for i in range(3):
            part = sorted(
                x for t, x in lat if t0 + i * (t1 - t0) / 3 <= t <= t0 + (i + 1) * (t1 - t0) / 3
            )
            thirds.append(pct(part, 0.95))
    return {
        "fps": (shown["n"] - 1) / span if span > 0 else 0.0,
        "kib_per_frame": bytes_moving / 1024 / max(1, guest.frames_shown - 1),
        "psnr_db": statistics.median(psnrs) if psnrs else None,
        "psnr_min_db": min(psnrs) if psnrs else None,
        "lat_p50_ms": pct(lats, 0.5),
        "lat_p95_ms": pct(lats, 0.95),
        "lat_p99_ms": pct(lats, 0.99),
        "lat_p95_thirds_ms": thirds,
        "exact_after_s": still["exact_after"],
        "video_shown": guest.video_shown,
        "video_skipped": guest.video_skipped,
        "frames": guest.frames_shown,
        "moving_frames": shown["n"],
        "guest_stages": stages.report(),
        "guest_cpu_s": shown["cpu1"] - shown["cpu0"] if shown["first"] else 0.0,
    }


# --- the parent --------------------------------------------------------------------------------


PROFILE: dict[str, Path] = {}
"""With --profile DIR: each process runs under py-spy, its samples in DIR (see profile())."""


def _spawn(role: str, ns: str | None, extra: list[str]) -> subprocess.Popen[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_API="pyside6", PYTHONPATH=str(ROOT))
    argv = [sys.executable, str(Path(__file__).resolve()), "--role", role, *extra]
    if "dir" in PROFILE:
        tags = [extra[extra.index(k) + 1] for k in ("--kind", "--path") if k in extra]
        name = "-".join([role, *tags])
        out = PROFILE["dir"] / f"{name}.txt"
        spy = Path(sys.executable).with_name("py-spy")
        argv = [str(spy), "record", "--native", "--threads", "--format", "raw", "--rate", "200",
                "--output", str(out), "--", *argv]  # fmt: skip
    if ns:
        argv = ["ip", "netns", "exec", ns, *argv]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT)


def _last_json(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any] | None:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    lines = [line for line in (out or "").splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def scenario(
    kind: str,
    path: str,
    moving: float,
    *,
    ns: tuple[str, str] | None = None,
    address: str = "127.0.0.1",
    delay: float = 0.0,
    inputs: bool = False,
) -> dict[str, Any]:
    fp = Path(f"/tmp/adi-bench-fp-{os.getpid()}")
    fp.unlink(missing_ok=True)
    common = ["--kind", kind, "--moving", str(moving), "--fingerprint-file", str(fp)]
    host_args = [*common, "--address", address, "--port", "0", "--path", path]
    host = _spawn("host", ns[0] if ns else None, host_args)
    assert host.stdout is not None
    line = host.stdout.readline()
    while line and not line.startswith("{"):  # py-spy's own lines first, with --profile
        line = host.stdout.readline()
    port = json.loads(line)["listening"]
    guest_args = [*common, "--address", address, "--port", str(port), "--path", path,
                  "--delay", str(delay)] + (["--inputs"] if inputs else [])  # fmt: skip
    guest = _spawn("guest", ns[1] if ns else None, guest_args)
    g = _last_json(guest, moving + 60)
    h = _last_json(host, 30)
    fp.unlink(missing_ok=True)
    return {**(g or {"failed": True}), **(h or {})}


STAGES = [
    # (stage, substrings of a sampled stack's frames, checked innermost first)
    ("H.264 encode (x264)", ("x264",)),
    ("H.264 decode", ("h264", "ff_h2", "decode_slice")),
    ("pixel conversion (swscale)", ("swscale", "sws_", "reformat")),
    ("TLS", ("libssl", "libcrypto", "ssl.py")),
    ("zlib tiles", ("libz", "zlib")),
    ("diff (changed_tiles)", ("changed_tiles",)),
    ("copies (crop, paste, bytes)", ("crop", "paste", "tile_pixels", "_packed", "update")),
    ("message coding", ("msgspec", "wire.py", "channel.py")),
    ("bench content and checks", ("screen_video.py",)),
    ("waiting (poll, locks)", ("epoll", "futex", "sem_", "sleep", "acquire", "wait")),
]


def profile_summary(path: Path) -> str:
    """Where the samples of one process went, by stage (the innermost frame that names one)."""
    counts: dict[str, int] = {}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        frames = stack.split(";")[::-1]
        stage = "other"
        for frame in frames:
            hit = next((s for s, keys in STAGES if any(k in frame for k in keys)), None)
            if hit is not None:
                stage = hit
                break
        counts[stage] = counts.get(stage, 0) + int(n)
        total += int(n)
    parts = sorted(counts.items(), key=lambda kv: -kv[1])
    return f"{path.stem} ({total} samples): " + ", ".join(
        f"{s} {100 * c / max(1, total):.0f}%" for s, c in parts
    )


def codec_table(seconds: float) -> None:
    """The encoder alone on the scrolling text at 30 pictures a second (8 pixels each), in
    this process: keyframe size, KiB and PSNR a picture after it, CPU ms a picture (process
    time, x264's threads included) to encode and to decode, for the settings chosen and the
    ones around them."""
    from anydesk_invite.desktop import video

    content = Content()
    n = max(12, int(seconds * 30))
    pictures = [bytes(content.picture("text", 2 * i, False)) for i in range(n)]
    configs = [  # (label, pixels, crf, Mbit/s, VBV seconds)
        (f"chosen: {video.PIXELS} crf {video.CRF}, 12 Mbit/s, {video.VBV_SECONDS:g} s",
         video.PIXELS, video.CRF, 12, video.VBV_SECONDS),
        ("before: yuv444p crf 20, 8 Mbit/s, 0.5 s", "yuv444p", 20, 8, 0.5),
        ("yuv444p crf 20, 8 Mbit/s, 1 s", "yuv444p", 20, 8, 1.0),
        ("yuv444p crf 20, 12 Mbit/s, 1 s", "yuv444p", 20, 12, 1.0),
        ("yuv444p crf 26, 12 Mbit/s, 1 s", "yuv444p", 26, 12, 1.0),
        ("yuv420p crf 20, 12 Mbit/s, 1 s", "yuv420p", 20, 12, 1.0),
    ]  # fmt: skip
    saved = (video.PIXELS, video.CRF, video.VBV_SECONDS)
    print(f"encoder alone, scrolling text 1920x1080, {n} pictures at 30 a second")
    print(f"{'settings':<44}{'key KiB':>8}{'KiB/pic':>8}{'PSNR':>7}{'min':>6}"
          f"{'enc ms':>8}{'dec ms':>8}")  # fmt: skip
    for label, pixels, crf, mbit, vbv in configs:
        video.PIXELS, video.CRF, video.VBV_SECONDS = pixels, crf, vbv
        clock = [0.0]
        enc = video.H264Encoder(
            W, H, W, H, mbit * 1_000_000, 30, clock=lambda clock=clock: clock[0]
        )
        dec = video.H264Decoder(W, H)
        sizes, psnrs, t_enc, t_dec = [], [], 0.0, 0.0
        key = 0
        for i, pic in enumerate(pictures):
            t0 = time.process_time()
            data, _ = enc.encode(pic)
            t1 = time.process_time()
            shown = dec.decode(data, W, H)
            t2 = time.process_time()
            clock[0] += 1 / 30
            if i == 0:
                key = len(data)
                continue
            sizes.append(len(data))
            t_enc += t1 - t0
            t_dec += t2 - t1
            if shown is not None and i % 5 == 0:
                psnrs.append(psnr(shown, pic, 13))
        m = len(sizes)
        print(f"{label:<44}{key / 1024:>8.0f}{sum(sizes) / m / 1024:>8.1f}"
              f"{statistics.median(psnrs):>7.1f}{min(psnrs):>6.1f}"
              f"{t_enc / m * 1000:>8.1f}{t_dec / m * 1000:>8.1f}")  # fmt: skip
    video.PIXELS, video.CRF, video.VBV_SECONDS = saved
    print("goal: PSNR >= 35 dB at <= 40 KiB a picture")


def convert_table() -> None:
    """The pixel conversions around the codec at 1920x1080, CPU ms each (this process), with
    swscale's older code and with the newer one the adapter uses for same-size conversions
    (desktop/video.py SAME_SIZE_FAST), and how far their outputs are apart."""
    import av
    from av.video.reformatter import VideoReformatter

    from anydesk_invite.desktop.video import SAME_SIZE_FAST

    bgra = av.VideoFrame(W, H, "bgra")
    bgra.planes[0].update(bytes(Content().picture("photo", 0, False)))
    yuv = VideoReformatter().reformat(bgra, format="yuv444p")

    def older_to_bgra(r: list[Any], f: Any) -> Any:
        rgb = r[0].reformat(f, format="gbrp", interpolation="POINT", threads=1)
        return r[1].reformat(rgb, format="bgra", threads=1)

    rows = [
        ("BGRA -> yuv444p (host)", bgra,
         lambda r, f: r[0].reformat(f, format="yuv444p", threads=1),
         lambda r, f: r[0].reformat(f, format="yuv444p", interpolation=SAME_SIZE_FAST, threads=1)),
        ("yuv444p -> BGRA (guest)", yuv, older_to_bgra,
         lambda r, f: r[0].reformat(f, format="bgra", interpolation=SAME_SIZE_FAST, threads=1)),
    ]  # fmt: skip
    print(f"{'1920x1080 conversion':<26}{'older ms':>9}{'newer ms':>9}{'max diff':>9}")
    for label, frame, older, newer in rows:
        outs, times = [], []
        for fn in (older, newer):
            r = [VideoReformatter(), VideoReformatter()]
            out = fn(r, frame)
            t0 = time.process_time()
            for _ in range(20):
                fn(r, frame)
            times.append((time.process_time() - t0) / 20 * 1000)
            outs.append(b"".join(bytes(p) for p in out.planes))
        diff = max(abs(a - b) for a, b in zip(outs[0][::97], outs[1][::97], strict=True))
        print(f"{label:<26}{times[0]:>9.1f}{times[1]:>9.1f}{diff:>9}")


def fmt(v: Any, spec: str = ".1f") -> str:
    return "-" if v is None else format(v, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--role", choices=("host", "guest"))
    ap.add_argument("--kind", default="text")
    ap.add_argument("--moving", type=float, default=8.0)
    ap.add_argument("--still-wait", type=float, default=5.0)
    ap.add_argument("--address", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--path", default="video")
    ap.add_argument("--delay", type=float, default=0.0, help="round trip added, seconds")
    ap.add_argument("--inputs", action="store_true")
    ap.add_argument("--fingerprint-file", default="")
    ap.add_argument("--seconds", type=float, default=8.0, help="moving time per scenario")
    ap.add_argument("--shaped", action="store_true", help="also through shaped links (root)")
    ap.add_argument("--shaped-seconds", type=float, default=60.0)
    ap.add_argument("--only-shaped", action="store_true", help="skip the 127.0.0.1 scenarios")
    ap.add_argument("--quick", action="store_true", help="4 s scenarios, no shaped links")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--codec", action="store_true", help="the encoder alone, its settings")
    ap.add_argument("--convert", action="store_true", help="the pixel conversions alone")
    ap.add_argument("--profile", metavar="DIR", help="sample each process with py-spy into DIR")
    ap.add_argument(
        "--kinds", default="text,photo,region", help="127.0.0.1 scenarios to run, comma-separated"
    )
    ap.add_argument("--paths", default="tiles,video", help="paths to run, comma-separated")
    ap.add_argument("--rates", default="20mbit,5mbit", help="shaped links to run, comma-separated")
    args = ap.parse_args()
    if args.role == "host":
        print(json.dumps(asyncio.run(host_main(args))), flush=True)
        return
    if args.role == "guest":
        print(json.dumps(asyncio.run(guest_main(args))), flush=True)
        return
    if args.codec:
        codec_table(args.seconds)
        return
    if args.convert:
        convert_table()
        return
    if args.profile:
        PROFILE["dir"] = Path(args.profile).resolve()
        PROFILE["dir"].mkdir(parents=True, exist_ok=True)
    seconds = 4.0 if args.quick else args.seconds
    rows: list[tuple[str, str, dict[str, Any]]] = []
    kinds = [("text", "scrolling text"), ("photo", "panning picture"), ("region", "small region")]
    kinds = [k for k in kinds if k[0] in args.kinds.split(",")]
    paths = [p for p in ("tiles", "video") if p in args.paths.split(",")]
    for kind, label in [] if args.only_shaped else kinds:
        for path in paths:
            print(f"running {label}, {path} ...", file=sys.stderr, flush=True)
            rows.append((label, path, scenario(kind, path, seconds)))
    if args.shaped and not args.quick:
        sys.path.insert(0, str(ROOT))
        from tests.helpers.processes import NamespacePair

        pair = NamespacePair()
        pair.create()
        try:
            links = (("20mbit", 0.020), ("5mbit", 0.040))
            for rate, rtt in [link for link in links if link[0] in args.rates.split(",")]:
                for dev, ns in (("adiva", pair.names[0]), ("adivb", pair.names[1])):
                    tbf = ["tbf", "rate", rate, "burst", "16kb", "latency", "400ms"]
                    subprocess.run(
                        ["tc", "-n", ns, "qdisc", "replace", "dev", dev, "root", *tbf], check=True
                    )
                for path in paths:
                    label = f"shaped {rate} {int(rtt * 1000)} ms"
                    print(f"running {label}, {path} ...", file=sys.stderr, flush=True)
                    rows.append((label, path, scenario(
                        "text", path, args.shaped_seconds, ns=pair.names,
                        address=pair.ADDRESSES[0], delay=rtt, inputs=True)))  # fmt: skip
        finally:
            pair.close()
    head = (f"{'scenario':<24}{'path':<7}{'fps':>6}{'KiB/fr':>8}{'PSNR':>7}{'lat p50':>9}"
            f"{'lat p95':>9}{'p99':>6}{'exact s':>9}{'in p99':>8}  p95 by thirds")  # fmt: skip
    print(
        f"1920x1080, host and guest in separate processes, TLS, {os.cpu_count()} cores; "
        f"raw frame {W * H * 4 / 1024:.0f} KiB"
    )
    print(head)
    print("-" * len(head))
    figures: dict[str, Any] = {}
    for label, path, r in rows:
        thirds = "/".join(fmt(x, ".0f") for x in r.get("lat_p95_thirds_ms", []))
        print(f"{label:<24}{path:<7}{fmt(r.get('fps')):>6}{fmt(r.get('kib_per_frame')):>8}"
              f"{fmt(r.get('psnr_db')):>7}{fmt(r.get('lat_p50_ms'), '.0f'):>9}"
              f"{fmt(r.get('lat_p95_ms'), '.0f'):>9}{fmt(r.get('lat_p99_ms'), '.0f'):>6}"
              f"{fmt(r.get('exact_after_s'), '.2f'):>9}"
              f"{fmt(r.get('input_p99_ms'), '.0f'):>8}  {thirds}")  # fmt: skip
        key = f"{label}_{path}".replace(" ", "_")
        for f in ("fps", "kib_per_frame", "psnr_db", "lat_p95_ms", "lat_p99_ms", "exact_after_s",
                  "input_p99_ms"):  # fmt: skip
            figures[f"{key}_{f}"] = r.get(f)
    print(
        "goals: whole screen >= 30 fps, <= 40 KiB/frame, PSNR >= 35 dB; bit-exact <= 1 s after "
        "stopping; small region 30 fps bit-exact; 20 Mbit/20 ms p95 <= 150 ms, no growth; "
        "5 Mbit/40 ms p95 <= 300 ms, input p99 <= 50 ms"
    )
    print("where the time goes (stage: wall ms / CPU ms of its thread / of the process, a call):")
    for label, path, r in rows:
        for side in ("host", "guest"):
            st = r.get(f"{side}_stages") or {}
            parts = [f"{k} {w:.1f}/{c:.1f}/{p:.1f}" for k, (_n, w, c, p) in st.items()]
            print(f"  {label}, {path}, {side}: " + ", ".join(parts))
        frames = max(1, int(r.get("moving_frames") or 1))
        host_cpu, guest_cpu = r.get("host_cpu_s") or 0.0, r.get("guest_cpu_s") or 0.0
        cores = os.cpu_count() or 1
        print(
            f"  {label}, {path}: CPU a frame while moving (all threads) host "
            f"{host_cpu * 1000 / frames:.0f} ms, guest {guest_cpu * 1000 / frames:.0f} ms, "
            f"together {(host_cpu + guest_cpu) * 1000 / frames:.0f} ms "
            f"(30 fps on {cores} cores needs <= {cores * 1000 / 30:.0f} ms)"
        )
        if r.get("video_streams"):
            print(
                f"  {label}, {path}: {r['video_streams']} video streams (a keyframe each), "
                f"last {r['video_settings']}, link estimate {r['link_rate_mbit']:.1f} Mbit/s, "
                f"PSNR min {fmt(r.get('psnr_min_db'))} dB"
            )
    if "dir" in PROFILE:
        for path in sorted(PROFILE["dir"].glob("*.txt")):
            print(profile_summary(path))
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
