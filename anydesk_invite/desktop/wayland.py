"""A Wayland host: the screen and input through xdg-desktop-portal, frames from PipeWire.

``WaylandDesktop`` is the services' DesktopAccess: when a session starts it opens one portal
session for the whole device (the desktop asks its user; the answer is the user's consent),
and releases it when the last session ends. Without CONTROL granted it opens a ScreenCast
session, which requests no input device at all; granting CONTROL later opens a RemoteDesktop
session (the desktop asks again) and drops the screen-only one once the new one runs.

Frames come from a ``gst-launch-1.0 pipewiresrc fd=N path=NODE`` child per monitor (PyGObject
has no wheel; the GStreamer tools are Debian packages), raw BGRx on a pipe read by the event
loop. Its negotiated size (device pixels, so a HiDPI monitor is sharp) is read from the
pipeline's verbose caps line. ``PortalScreens`` and ``PortalInput`` are the ScreenSource and
InputSink over it; input maps device pixels of a frame to the stream's logical coordinates.

The ScreenCast ``restore_token`` (screen-only sessions, portal ScreenCast v4+, and RemoteDesktop
v2+) lets the next session start without the dialog: it grants access to the screen, so it is
kept as a private file (0600) in the home, not in the database that backups and exports see.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from anydesk_invite.core.screen import RawFrame, ScreenInfo
from anydesk_invite.core.signal import Signal
from anydesk_invite.desktop.input import is_text, keysyms_for_text
from anydesk_invite.desktop.portal import (
    CONSENT_TIMEOUT,
    CURSOR_EMBEDDED,
    KEYBOARD,
    MONITOR,
    PERSIST_UNTIL_REVOKED,
    POINTER,
    REMOTE_DESKTOP,
    SCREENCAST,
    Capabilities,
    PortalBus,
    PortalError,
    PortalRefused,
    Stream,
    parse_streams,
)

_log = logging.getLogger(__name__)

FIRST_FRAME_TIMEOUT = 10.0
MAX_FRAME_BYTES = 8192 * 8192 * 4

EVDEV: Mapping[str, int] = {
    "Escape": 1,
    **{f"Digit{d}": 2 + (d - 1) % 10 for d in range(10)},
    "Minus": 12,
    "Equal": 13,
    "Backspace": 14,
    "Tab": 15,
    **dict(zip([f"Key{c}" for c in "QWERTYUIOP"], range(16, 26), strict=True)),
    "BracketLeft": 26,
    "BracketRight": 27,
    "Enter": 28,
    "ControlLeft": 29,
    **dict(zip([f"Key{c}" for c in "ASDFGHJKL"], range(30, 39), strict=True)),
    "Semicolon": 39,
    "Quote": 40,
    "Backquote": 41,
    "ShiftLeft": 42,
    "Backslash": 43,
    **dict(zip([f"Key{c}" for c in "ZXCVBNM"], range(44, 51), strict=True)),
    "Comma": 51,
    "Period": 52,
    "Slash": 53,
    "ShiftRight": 54,
    "NumpadMultiply": 55,
    "AltLeft": 56,
    "Space": 57,
    "CapsLock": 58,
    **{f"F{n}": 58 + n for n in range(1, 11)},
    "NumLock": 69,
    "ScrollLock": 70,
    "Numpad7": 71,
    "Numpad8": 72,
    "Numpad9": 73,
    "NumpadSubtract": 74,
    "Numpad4": 75,
    "Numpad5": 76,
    "Numpad6": 77,
    "NumpadAdd": 78,
    "Numpad1": 79,
    "Numpad2": 80,
    "Numpad3": 81,
    "Numpad0": 82,
    "NumpadDecimal": 83,
    "IntlBackslash": 86,
    "F11": 87,
    "F12": 88,
    "NumpadEnter": 96,
    "ControlRight": 97,
    "NumpadDivide": 98,
    "PrintScreen": 99,
    "AltRight": 100,
    "Home": 102,
    "ArrowUp": 103,
    "PageUp": 104,
    "ArrowLeft": 105,
    "ArrowRight": 106,
    "End": 107,
    "ArrowDown": 108,
    "PageDown": 109,
    "Insert": 110,
    "Delete": 111,
    "Pause": 119,
    "MetaLeft": 125,
    "MetaRight": 126,
    "ContextMenu": 127,
}
"""W3C code (a place on the keyboard) → Linux evdev keycode: the compositor turns it into a
character with the layout the host's user chose, as for a physical key."""

BUTTONS: Mapping[str, int] = {
    "left": 0x110,
    "right": 0x111,
    "middle": 0x112,
    "back": 0x113,
    "forward": 0x114,
}
"""Pointer button → evdev BTN_* code."""
SHIFT = EVDEV["ShiftLeft"]

_CAPS = re.compile(
    rb"GstFdSink:\S+\.GstPad:sink: caps = video/x-raw.*?width=\(int\)(\d+), height=\(int\)(\d+)"
)


def wayland_session(environ: Mapping[str, str]) -> bool:
    """Whether this process runs in a Wayland session (XWayland or not)."""
    return bool(environ.get("WAYLAND_DISPLAY")) or environ.get("XDG_SESSION_TYPE") == "wayland"


class FrameReader:
    """One monitor's frames: a gst-launch child reading the PipeWire node, newest kept."""

    def __init__(self, fd: int, stream: Stream) -> None:
        self._fd = fd
        self.stream = stream
        self.frame: RawFrame | None = None
        self.frames = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._transport: asyncio.BaseTransport | None = None
        self._first = asyncio.Event()
        self.problem = ""

    async def start(self) -> None:
        gst = shutil.which("gst-launch-1.0")
        if gst is None:
            raise PortalError("gst-launch-1.0 is not installed (Debian: gstreamer1.0-tools)")
        read_end, write_end = os.pipe()
        try:
            self._proc = await asyncio.create_subprocess_exec(
                gst,
                "-v",
                "pipewiresrc",
                f"fd={self._fd}",
                f"path={self.stream.node}",
                "!",
                "videoconvert",
                "!",
                "video/x-raw,format=BGRx",
                "!",
                "fdsink",
                f"fd={write_end}",
                "sync=false",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
                pass_fds=(self._fd, write_end),
            )
        finally:
            os.close(write_end)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 20)
        self._transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_end, "rb", 0)
        )
        self._task = loop.create_task(self._run(reader), name="pipewire-frames")
        try:
            await asyncio.wait_for(self._first.wait(), FIRST_FRAME_TIMEOUT)
        except TimeoutError:
            raise PortalError(self.problem or "the desktop sent no frame") from None

    async def _run(self, frames: asyncio.StreamReader) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        out = self._proc.stdout
        size: tuple[int, int] | None = None
        try:
            while size is None:
                line = await out.readline()
                if not line:
                    self.problem = "the PipeWire stream ended before its first frame"
                    return
                m = _CAPS.search(line)
                if m:
                    size = int(m.group(1)), int(m.group(2))
            width, height = size
            if not 0 < width * height * 4 <= MAX_FRAME_BYTES:
                self.problem = f"a {width}x{height} frame is too large"
                return
            while True:
                data = await frames.readexactly(width * height * 4)
                self.frame = RawFrame(width, height, width * 4, data)
                self.frames += 1
                self._first.set()
        except asyncio.IncompleteReadError:
            self.problem = self.problem or "the PipeWire stream ended"

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()  # first: no data may arrive for a reader that stopped
            self._transport = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        proc = self._proc
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 3)
            except TimeoutError:
                proc.kill()
                await proc.wait()


class WaylandDesktop:
    """The portal session this device shares its screen and input through (DesktopAccess).

    Signals: asking (bool: the desktop is asking its user now, or stopped asking).
    """

    def __init__(self, bus: PortalBus, token_path: Path | None = None) -> None:
        self._bus = bus
        self._token_path = token_path
        self._caps: Capabilities | None = None
        self._problem: str | None = None
        self._session: str | None = None
        self._fds: list[int] = []
        self.control = False
        """The running portal session has a keyboard and a pointer."""
        self.readers: list[FrameReader] = []
        self._lock = asyncio.Lock()
        self.asking: Signal[bool] = Signal("wayland.asking")

    async def probe(self) -> str | None:
        """Why this desktop cannot share its screen through the portal, or None."""
        try:
            self._caps = await self._bus.capabilities()
        except PortalError as exc:
            self._problem = str(exc)
            return self._problem
        if not self._caps.source_types & MONITOR:
            self._problem = "the desktop portal cannot share a monitor"
        return self._problem

    def control_problem(self) -> str | None:
        """Why input cannot be injected through this desktop, or None."""
        if self._problem is not None:
            return self._problem
        caps = self._caps
        if caps is None:
            return None
        if caps.remote_desktop_version == 0:
            return "the desktop portal has no RemoteDesktop interface (screen only)"
        if caps.device_types & (KEYBOARD | POINTER) != KEYBOARD | POINTER:
            return "the desktop portal offers no keyboard and pointer"
        return None

    def asks(self, control: bool) -> bool:
        """Whether opening for ``control`` needs a new portal session (the user is asked,
        unless a restore token answers)."""
        if self._problem is not None:
            return False
        return self._session is None or (control and not self.control)

    async def open(self, control: bool) -> str | None:
        """Make sure a portal session runs (with input devices if ``control``); None once it
        does, else why not (the user refused, the portal failed)."""
        async with self._lock:
            if self._problem is not None:
                return self._problem
            if control and self.control_problem() is not None:
                control = False
            if not self.asks(control):
                return None
            self.asking.emit(True)
            try:
                return await self._start(control)
            finally:
                self.asking.emit(False)

    def _load_token(self) -> str:
        if self._token_path is None:
            return ""
        try:
            token = self._token_path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return ""
        return token if re.fullmatch(r"[A-Za-z0-9_.:-]{1,200}", token) else ""

    def _save_token(self, token: object) -> None:
        if self._token_path is None or not isinstance(token, str):
            return
        if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,200}", token):
            return
        try:
            fd = os.open(self._token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(token)
        except OSError as exc:
            _log.warning("cannot keep the screen-sharing restore token: %s", exc)

    async def _start(self, control: bool) -> str | None:
        caps = self._caps
        if caps is None:
            problem = await self.probe()
            if problem is not None:
                return problem
            caps = self._caps
            assert caps is not None
        bus = self._bus
        iface = REMOTE_DESKTOP if control else SCREENCAST
        persist = caps.screencast_version >= 4 and (not control or caps.remote_desktop_version >= 2)
        token = self._load_token() if persist else ""
        session = ""
        try:
            created = await bus.request(
                iface,
                "CreateSession",
                "",
                options={"session_handle_token": ("s", bus.token())},
            )
            session = str(created["session_handle"][1])
            persist_opts: dict[str, tuple[str, Any]] = {}
            if persist:
                persist_opts["persist_mode"] = ("u", PERSIST_UNTIL_REVOKED)
                if token:
                    persist_opts["restore_token"] = ("s", token)
            if control:
                opts: dict[str, tuple[str, Any]] = {"types": ("u", KEYBOARD | POINTER)}
                if caps.remote_desktop_version >= 2:
                    opts.update(persist_opts)
                await bus.request(REMOTE_DESKTOP, "SelectDevices", "o", session, options=opts)
            sources: dict[str, tuple[str, Any]] = {
                "types": ("u", MONITOR),
                "multiple": ("b", True),
            }
            if caps.cursor_modes & CURSOR_EMBEDDED:
                sources["cursor_mode"] = ("u", CURSOR_EMBEDDED)
            if not control:
                sources.update(persist_opts)
            await bus.request(SCREENCAST, "SelectSources", "o", session, options=sources)
            started = await bus.request(iface, "Start", "os", session, "", timeout=CONSENT_TIMEOUT)
            streams = parse_streams(started.get("streams", ("a(ua{sv})", []))[1])
            if not streams:
                raise PortalError("the desktop shared no monitor")
            streams.sort(key=lambda s: (s.x, s.y))  # "Monitor 1" is the leftmost
            devices = int(started.get("devices", ("u", 0))[1]) if control else 0
            if "restore_token" in started:
                self._save_token(started["restore_token"][1])
            # One PipeWire connection per reader: two processes cannot share one socket.
            fds: list[int] = []
            readers = []
            try:
                for s in streams:
                    fds.append(await bus.pipewire_fd(session))
                    readers.append(FrameReader(fds[-1], s))
                for r in readers:
                    await r.start()
            except BaseException:
                for r in readers:
                    await r.stop()
                for fd in fds:
                    os.close(fd)
                raise
        except PortalRefused as exc:
            if session:
                await bus.close_session(session)
            _log.info("the desktop refused sharing: %s", exc)
            return "the host's user declined sharing the desktop"
        except PortalError as exc:
            if session:
                await bus.close_session(session)
            _log.warning("the desktop portal failed: %s", exc)
            return f"the desktop portal failed: {exc}"
        await self._close_current()
        self._session, self._fds, self.readers = session, fds, readers
        self.control = control and devices & (KEYBOARD | POINTER) == KEYBOARD | POINTER
        if control and not self.control:
            _log.warning("the desktop granted devices %d, not a keyboard and a pointer", devices)
        if self.control:
            # A fresh virtual keyboard loses the keys that reach it before the focused window
            # took its keymap (measured: several, within the first few milliseconds); a lone
            # Shift tap as soon as it exists leaves that time before the guest's first key.
            self.notify("NotifyKeyboardKeycode", "iu", SHIFT, 1)
            self.notify("NotifyKeyboardKeycode", "iu", SHIFT, 0)
        _log.info(
            "sharing %d monitor(s) through the portal%s",
            len(streams),
            " with keyboard and pointer" if self.control else "",
        )
        return None

    async def _close_current(self) -> None:
        for r in self.readers:
            await r.stop()
        self.readers = []
        for fd in self._fds:
            os.close(fd)
        self._fds = []
        if self._session is not None:
            await self._bus.close_session(self._session)
            self._session = None
        self.control = False

    async def release(self) -> None:
        """No session needs the desktop any more: stop sharing it."""
        async with self._lock:
            await self._close_current()

    @property
    def session_handle(self) -> str | None:
        return self._session

    def notify(self, method: str, sig: str, *args: Any) -> bool:
        if self._session is None or not self.control:
            return False
        self._bus.notify(method, sig, self._session, *args)
        return True


class PortalScreens:
    """ScreenSource over the portal's streams: one screen per shared monitor, in device
    pixels; a grab is the newest frame PipeWire delivered (Mutter sends frames on change)."""

    def __init__(self, desktop: WaylandDesktop) -> None:
        self._desktop = desktop

    def screens(self) -> list[ScreenInfo]:
        out = []
        for i, r in enumerate(self._desktop.readers):
            f = r.frame
            w, h = (f.width, f.height) if f is not None else (r.stream.width, r.stream.height)
            out.append(ScreenInfo(i, f"Monitor {i + 1}", w, h))
        return out

    def grab(self, index: int) -> RawFrame:
        readers = self._desktop.readers
        if not 0 <= index < len(readers):
            raise IndexError(f"no screen {index}")
        frame = readers[index].frame
        if frame is None:
            raise IndexError(f"screen {index} has no frame yet")
        return frame


def to_stream(reader: FrameReader, x: int, y: int) -> tuple[float, float]:
    """Device pixels of a reader's frames → the stream's logical coordinates (a HiDPI monitor
    at scale 2 sends frames twice its logical size)."""
    s = reader.stream
    f = reader.frame
    fw, fh = (f.width, f.height) if f is not None else (s.width, s.height)
    lx = min(max(x, 0), fw - 1) * s.width / fw
    ly = min(max(y, 0), fh - 1) * s.height / fh
    return lx, ly


class PortalInput:
    """InputSink over the portal's RemoteDesktop session. Nothing waits: notifications leave
    in order from a worker thread."""

    def __init__(self, desktop: WaylandDesktop) -> None:
        self._desktop = desktop

    def problem(self) -> str | None:
        return self._desktop.control_problem()

    def move(self, screen: int, x: int, y: int) -> None:
        readers = self._desktop.readers
        if not 0 <= screen < len(readers):
            return
        lx, ly = to_stream(readers[screen], x, y)
        self._desktop.notify(
            "NotifyPointerMotionAbsolute", "udd", readers[screen].stream.node, lx, ly
        )

    def button(self, button: str, pressed: bool) -> None:
        code = BUTTONS.get(button)
        if code is not None:
            self._desktop.notify("NotifyPointerButton", "iu", code, 1 if pressed else 0)

    def scroll(self, notches_x: int, notches_y: int) -> None:
        if notches_y:
            self._desktop.notify("NotifyPointerAxisDiscrete", "ui", 0, notches_y)
        if notches_x:
            self._desktop.notify("NotifyPointerAxisDiscrete", "ui", 1, notches_x)

    def key(self, code: str, key: str, pressed: bool) -> bool:
        evdev = EVDEV.get(code)
        if evdev is not None:
            return self._desktop.notify("NotifyKeyboardKeycode", "iu", evdev, 1 if pressed else 0)
        if not is_text(key):
            return False
        if pressed:
            for sym in keysyms_for_text(key):
                self._desktop.notify("NotifyKeyboardKeysym", "iu", sym, 1)
                self._desktop.notify("NotifyKeyboardKeysym", "iu", sym, 0)
        return True
