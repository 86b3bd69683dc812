"""A headless GNOME Wayland session for tests: a private session bus, PipeWire, WirePlumber,
``mutter --headless --wayland --no-x11 --virtual-monitor``, xdg-desktop-portal and its GNOME
backend, and a native Wayland terminal (foot) with a red background that turns green when
``g`` + Enter is typed into it. Every process is stopped by its PID at the end (children the
bus activated included).

``MutterEyes`` is the test acting as the person at the host: it sees the screen and moves the
pointer through Mutter's own D-Bus API (org.gnome.Mutter.RemoteDesktop/ScreenCast, which needs
no dialog), independently of the portal the project uses, so it can approve the portal's
consent dialog by clicking it and serve as the reference picture for PSNR.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 1280, 800
START_TIMEOUT = 30.0
XDP = "/usr/libexec/xdg-desktop-portal"
ROW = 55
"""Height of a monitor's row in the screen share dialog."""
BLUE = (53, 132, 228)
"""GNOME's accent blue: the dialog's Share button and a switch that is on."""
PROGRAMS = (
    "dbus-daemon",
    "pipewire",
    "wireplumber",
    "mutter",
    "foot",
    "gst-launch-1.0",
    "/usr/libexec/xdg-desktop-portal",
    "/usr/libexec/xdg-desktop-portal-gnome",
)

FOOT_INI = """[main]
font=monospace:size=14
[colors]
background=ff0000
foreground=ffffff
"""
FOOT_RC = """PS1='$ '
g() { printf '\\033]11;#00ff00\\007'; }
r() { printf '\\033]111\\007'; }
"""


def missing_programs() -> list[str]:
    return [p for p in PROGRAMS if shutil.which(p) is None and not os.access(p, os.X_OK)]


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError(f"{what} did not happen in {timeout:.0f} s")
        time.sleep(0.1)


@dataclass
class GnomeWayland:
    root: Path
    env: dict[str, str]
    pids: list[subprocess.Popen[bytes]] = field(default_factory=list)
    bus_pid: int = 0

    @property
    def bus_address(self) -> str:
        return self.env["DBUS_SESSION_BUS_ADDRESS"]

    def start(self, argv: list[str], log: str) -> subprocess.Popen[bytes]:
        out = open(self.root / "logs" / log, "wb")
        p = subprocess.Popen(argv, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        self.pids.append(p)
        return p

    def has_name(self, name: str) -> bool:
        r = subprocess.run(
            ["gdbus", "call", "--session", "-d", "org.freedesktop.DBus",
             "-o", "/org/freedesktop/DBus", "-m", "org.freedesktop.DBus.NameHasOwner", name],
            env=self.env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        return "true" in r.stdout

    def restart_portal(self, without: tuple[str, ...] = ()) -> None:
        """Start xdg-desktop-portal again, its GNOME backend offering every interface but
        ``without`` (a desktop with fewer portals); () restores the stock one."""
        for p in self.pids:
            if p.args[0] == XDP and p.poll() is None:
                p.terminate()
                p.wait(5)
        wait_until(lambda: not self.has_name("org.freedesktop.portal.Desktop"), 10, "portal gone")
        env = dict(self.env)
        if without:
            folder = self.root / "portals"
            folder.mkdir(exist_ok=True)
            stock = Path("/usr/share/xdg-desktop-portal/portals/gnome.portal").read_text()
            for name in without:
                stock = stock.replace(f"{name};", "")
            (folder / "gnome.portal").write_text(stock)
            env["XDG_DESKTOP_PORTAL_DIR"] = str(folder)
        out = open(self.root / "logs" / "xdp.log", "ab")
        self.pids.append(subprocess.Popen([XDP], env=env, stdout=out, stderr=subprocess.STDOUT))
        out.close()
        wait_until(
            lambda: self.has_name("org.freedesktop.portal.Desktop"), START_TIMEOUT, "the portal"
        )

    def stop(self) -> None:
        kids = _children(self.bus_pid) if self.bus_pid else []
        for pid in kids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for p in reversed(self.pids):
            if p.poll() is None:
                p.terminate()
        for p in reversed(self.pids):
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for pid in kids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        subprocess.run(
            ["fusermount3", "-uz", str(self.root / "run" / "doc")],
            capture_output=True,
            check=False,
        )


def _children(parent: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == parent:
            out.append(int(entry))
    return out


@contextlib.contextmanager
def gnome_wayland(
    width: int = WIDTH,
    height: int = HEIGHT,
    more: tuple[tuple[int, int], ...] = (),
    scales: dict[str, float] | None = None,
) -> Iterator[GnomeWayland]:
    """``more``: further virtual monitors (width, height), laid out right of the first (the
    primary one, "Meta-0"), with ``scales`` by connector ("Meta-1": 2.0 for HiDPI)."""
    root = Path(tempfile.mkdtemp(prefix="gw", dir="/tmp"))
    for d in ("run", "logs", "home", "foot"):
        (root / d).mkdir()
    (root / "run").chmod(0o700)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root / "home"),
        "XDG_CONFIG_HOME": str(root / "home" / ".config"),
        "XDG_DATA_HOME": str(root / "home" / ".local" / "share"),
        "XDG_RUNTIME_DIR": str(root / "run"),
        "DBUS_SESSION_BUS_ADDRESS": f"unix:path={root}/run/bus",
        "XDG_CURRENT_DESKTOP": "GNOME",
        "XDG_SESSION_TYPE": "wayland",
        "WAYLAND_DISPLAY": "wayland-0",
        "NO_AT_BRIDGE": "1",
        "GTK_A11Y": "none",
        "LANG": "C.UTF-8",
    }
    session = GnomeWayland(root, env)
    try:
        bus = session.start(
            ["dbus-daemon", "--session", f"--address={env['DBUS_SESSION_BUS_ADDRESS']}", "--nofork",
             "--nopidfile"],
            "dbus.log",
        )  # fmt: skip
        session.bus_pid = bus.pid
        wait_until(lambda: (root / "run" / "bus").exists(), START_TIMEOUT, "the session bus")
        session.start(["pipewire"], "pipewire.log")
        wait_until(lambda: (root / "run" / "pipewire-0").exists(), START_TIMEOUT, "PipeWire")
        session.start(["wireplumber"], "wireplumber.log")
        sizes = ((width, height), *more)
        monitors = [a for w, h in sizes for a in ("--virtual-monitor", f"{w}x{h}")]
        session.start(["mutter", "--headless", "--wayland", "--no-x11", *monitors], "mutter.log")
        wait_until(
            lambda: session.has_name("org.gnome.Mutter.RemoteDesktop"), START_TIMEOUT, "mutter"
        )
        if more or scales:
            arrange_monitors(session, scales or {})
        session.start(["/usr/libexec/xdg-desktop-portal-gnome"], "xdpg.log")
        wait_until(
            lambda: session.has_name("org.freedesktop.impl.portal.desktop.gnome"),
            START_TIMEOUT,
            "xdg-desktop-portal-gnome",
        )
        session.start([XDP], "xdp.log")
        wait_until(
            lambda: session.has_name("org.freedesktop.portal.Desktop"),
            START_TIMEOUT,
            "xdg-desktop-portal",
        )
        (root / "foot" / "foot.ini").write_text(FOOT_INI)
        (root / "foot" / "rc").write_text(FOOT_RC)
        session.start(
            ["foot", "-c", str(root / "foot" / "foot.ini"), "--maximized", "bash", "--rcfile",
             str(root / "foot" / "rc")],
            "foot.log",
        )  # fmt: skip
        yield session
    finally:
        session.stop()
        shutil.rmtree(root, ignore_errors=True)


class MutterEyes:
    """The person at the host: sees the screen and clicks, through Mutter's private API."""

    def __init__(self, session: GnomeWayland, width: int = WIDTH, height: int = HEIGHT) -> None:
        from jeepney import DBusAddress, MatchRule, message_bus, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        self.width, self.height = width, height
        self._conn = open_dbus_connection(bus=session.bus_address)
        conn = self._conn
        rd = DBusAddress(
            "/org/gnome/Mutter/RemoteDesktop",
            bus_name="org.gnome.Mutter.RemoteDesktop",
            interface="org.gnome.Mutter.RemoteDesktop",
        )
        rd_path = conn.send_and_get_reply(new_method_call(rd, "CreateSession")).body[0]
        self._rds = DBusAddress(
            rd_path,
            bus_name="org.gnome.Mutter.RemoteDesktop",
            interface="org.gnome.Mutter.RemoteDesktop.Session",
        )
        from jeepney import Properties

        session_id = conn.send_and_get_reply(Properties(self._rds).get("SessionId")).body[0][1]
        sc = DBusAddress(
            "/org/gnome/Mutter/ScreenCast",
            bus_name="org.gnome.Mutter.ScreenCast",
            interface="org.gnome.Mutter.ScreenCast",
        )
        sc_path = conn.send_and_get_reply(
            new_method_call(
                sc, "CreateSession", "a{sv}", ({"remote-desktop-session-id": ("s", session_id)},)
            )
        ).body[0]
        scs = sc.with_interface("org.gnome.Mutter.ScreenCast.Session")
        scs = DBusAddress(sc_path, bus_name="org.gnome.Mutter.ScreenCast", interface=scs.interface)
        self.stream = conn.send_and_get_reply(
            new_method_call(scs, "RecordMonitor", "sa{sv}", ("Meta-0", {"cursor-mode": ("u", 0)}))
        ).body[0]
        rule = MatchRule(
            type="signal",
            interface="org.gnome.Mutter.ScreenCast.Stream",
            member="PipeWireStreamAdded",
            path=self.stream,
        )
        conn.send_and_get_reply(message_bus.AddMatch(rule))
        with conn.filter(rule) as q:
            conn.send_and_get_reply(new_method_call(self._rds, "Start"))
            node = conn.recv_until_filtered(q, timeout=10).body[0]
        self._gst = subprocess.Popen(
            ["gst-launch-1.0", "-q", "pipewiresrc", f"path={node}", "!", "videoconvert", "!",
             f"video/x-raw,format=BGRx,width={width},height={height}", "!", "fdsink", "fd=1",
             "sync=false"],
            env=session.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.frame: bytes | None = None
        self.frames = 0
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        wait_until(lambda: self.frame is not None, 10, "a frame from Mutter")

    def _read(self) -> None:
        size = self.width * self.height * 4
        out = self._gst.stdout
        assert out is not None
        while True:
            data = out.read(size)
            if data is None or len(data) < size:
                return
            with self._lock:
                self.frame = data
                self.frames += 1

    def latest(self) -> bytes:
        with self._lock:
            assert self.frame is not None
            return self.frame

    def pixel(self, x: int, y: int, frame: bytes | None = None) -> tuple[int, int, int]:
        f = frame or self.latest()
        o = (y * self.width + x) * 4
        return f[o + 2], f[o + 1], f[o]

    def _call(self, method: str, sig: str, *args: Any) -> None:
        from jeepney import new_method_call

        self._conn.send_and_get_reply(new_method_call(self._rds, method, sig, args))

    def click(self, x: float, y: float) -> None:
        # Two motions: the first may only bring the pointer into the window.
        self._call("NotifyPointerMotionAbsolute", "sdd", self.stream, float(x) - 1, float(y))
        self._call("NotifyPointerMotionAbsolute", "sdd", self.stream, float(x), float(y))
        self._call("NotifyPointerButton", "ib", 0x110, True)
        self._call("NotifyPointerButton", "ib", 0x110, False)

    def save_png(self, path: Path) -> None:
        """The screen as a PNG, to see what a failed wait saw."""
        import struct
        import zlib

        f, w, h = self.latest(), self.width, self.height
        raw = bytearray()
        for y in range(h):
            row = f[y * w * 4 : (y + 1) * w * 4]
            rgb = bytearray(w * 3)
            rgb[0::3], rgb[1::3], rgb[2::3] = row[2::4], row[1::4], row[0::4]
            raw += b"\0" + rgb

        def chunk(kind: bytes, body: bytes) -> bytes:
            crc = zlib.crc32(kind + body) & 0xFFFFFFFF
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

        head = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
        path.write_bytes(
            b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head)
            + chunk(b"IDAT", zlib.compress(bytes(raw), 1)) + chunk(b"IEND", b"")
        )  # fmt: skip

    def find(self, rgb: tuple[int, int, int], tol: int = 10) -> tuple[int, int, int, int] | None:
        """The bounding box of pixels of this colour (every second pixel)."""
        f = self.latest()
        xs, ys = [], []
        for y in range(0, self.height, 2):
            row = y * self.width * 4
            for x in range(0, self.width, 2):
                o = row + x * 4
                if (
                    abs(f[o + 2] - rgb[0]) <= tol
                    and abs(f[o + 1] - rgb[1]) <= tol
                    and abs(f[o] - rgb[2]) <= tol
                ):
                    xs.append(x)
                    ys.append(y)
        return (min(xs), min(ys), max(xs), max(ys)) if xs else None

    def _dialog(self, timeout: float) -> tuple[int, int, int, int]:
        """The Share button of the portal's dialog, once it stopped moving (it animates in)."""
        boxes: list[tuple[int, int, int, int] | None] = [None]

        def settled() -> bool:
            box = self.find(BLUE)
            ok = box is not None and box[2] - box[0] > 40 and box == boxes[-1]
            boxes.append(box)
            return ok

        try:
            wait_until(settled, timeout, "the consent dialog")
        except TimeoutError as exc:
            shot = Path(tempfile.gettempdir()) / f"consent-dialog-{os.getpid()}.png"
            self.save_png(shot)
            raise TimeoutError(f"{exc}; the screen then: {shot}, boxes {boxes[-3:]}") from None
        box = boxes[-1]
        assert box is not None
        return box

    def approve_dialog(self, allow_control: bool, timeout: float = 60, monitors: int = 1) -> None:
        """Wait for the portal's 'Remote desktop' dialog, select every monitor's row (the
        first is selected already), switch 'Allow remote interaction' on when asked to, and
        click Share (GNOME's accent blue), as a person would."""
        box = self._dialog(timeout)
        cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
        for i in range(1, monitors):
            row_y = cy + 114 + ROW * i
            clicked = [0.0]

            def selected(row_y: int = row_y, clicked: list[float] = clicked) -> bool:
                # A selected row turns light grey; a click lost to a busy machine is retried.
                if self.pixel(cx - 140, row_y) != (255, 255, 255):
                    return True
                if time.monotonic() - clicked[0] > 1.5:
                    clicked[0] = time.monotonic()
                    self.click(cx - 212, row_y)
                return False

            wait_until(selected, 15, f"monitor row {i + 1} being selected")
        if allow_control:
            sx, sy = cx - 22, cy + 199 + ROW * (monitors - 1)  # 'Allow remote interaction'
            clicked = [0.0]

            def switched_on() -> bool:
                # A switch that is on is accent blue; a click that only focused is retried.
                r, g, b = self.pixel(sx - 10, sy)
                if abs(r - BLUE[0]) + abs(g - BLUE[1]) + abs(b - BLUE[2]) < 40:
                    return True
                if time.monotonic() - clicked[0] > 1.5:  # the switch animates for ~0.3 s
                    clicked[0] = time.monotonic()
                    self.click(sx, sy)
                return False

            wait_until(switched_on, 15, "the remote interaction switch turning on")
        self.click(cx, cy)

    def approve_screen_dialog(self, monitors: int = 1, timeout: float = 60) -> None:
        """Wait for the portal's 'Screen Share' dialog (a screen-only session), select the
        monitor rows, leave 'Remember this selection' ticked and click Share."""
        boxes: list[tuple[int, int, int, int] | None] = [None]

        def settled() -> bool:
            # The ticked checkbox is the only accent-blue thing until a monitor is selected.
            box = self.find(BLUE)
            ok = box is not None and 12 <= box[2] - box[0] <= 26 and box == boxes[-1]
            boxes.append(box)
            return ok

        wait_until(settled, timeout, "the screen share dialog")
        box = boxes[-1]
        assert box is not None
        cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
        for i in range(monitors):
            self.click(cx + 95, cy + 53 + ROW * i)
        share: list[tuple[int, int, int, int] | None] = [None]

        def share_enabled() -> bool:
            found = self.find(BLUE)
            share[0] = found
            return found is not None and found[2] - found[0] > 40

        wait_until(share_enabled, 15, "the Share button turning blue")
        found = share[0]
        assert found is not None
        self.click(cx + 308, cy - 100)

    def dialog_shown(self) -> bool:
        return self.find(BLUE) is not None

    def cancel_dialog(self, timeout: float = 60) -> None:
        """Wait for the dialog and click Cancel (the header's left end, Share's row)."""
        box = self._dialog(timeout)
        self.click(box[0] - 382, (box[1] + box[3]) // 2)

    def close(self) -> None:
        from jeepney import new_method_call

        self._gst.terminate()
        try:
            self._gst.wait(3)
        except subprocess.TimeoutExpired:
            self._gst.kill()
            self._gst.wait()
        self._reader.join(5)
        if self._gst.stdout is not None:
            self._gst.stdout.close()
        with contextlib.suppress(Exception):
            self._conn.send_and_get_reply(new_method_call(self._rds, "Stop"))
        self._conn.close()


def arrange_monitors(session: GnomeWayland, scales: dict[str, float]) -> list[tuple[str, float]]:
    """Lay the monitors out left to right with these scales (HiDPI: 2.0) through Mutter's
    DisplayConfig, as GNOME Settings does; the (connector, scale) pairs applied."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    conn = open_dbus_connection(bus=session.bus_address)
    try:
        dc = DBusAddress(
            "/org/gnome/Mutter/DisplayConfig",
            bus_name="org.gnome.Mutter.DisplayConfig",
            interface="org.gnome.Mutter.DisplayConfig",
        )
        serial, monitors, _logical, _props = conn.send_and_get_reply(
            new_method_call(dc, "GetCurrentState")
        ).body
        layout = []
        applied = []
        x = 0
        for i, (spec, modes, _mprops) in enumerate(sorted(monitors, key=lambda m: m[0][0])):
            connector = spec[0]
            mode = next((m for m in modes if m[6].get("is-current", ("b", False))[1]), modes[0])
            mode_id, w, _h = mode[0], mode[1], mode[2]
            scale = scales.get(connector, 1.0)
            if scale not in mode[5]:
                raise ValueError(f"{connector} does not support scale {scale}: {mode[5]}")
            layout.append((x, 0, scale, 0, i == 0, [(connector, mode_id, {})]))
            applied.append((connector, scale))
            x += int(w / scale)
        reply = conn.send_and_get_reply(
            new_method_call(
                dc, "ApplyMonitorsConfig", "uua(iiduba(ssa{sv}))a{sv}", (serial, 1, layout, {})
            )
        )
        if reply.header.message_type.name == "error":
            raise RuntimeError(f"ApplyMonitorsConfig: {reply.body}")
        return applied
    finally:
        conn.close()
