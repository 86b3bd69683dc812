"""One monitor's frames from a PipeWire node: a ``gst-launch-1.0 pipewiresrc`` child writes raw
BGRx to a pipe the event loop reads, the newest frame kept. The frame size (device pixels) is
read from the pipeline's verbose caps line and bounded before any frame is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil

from anydesk_invite.core.screen import RawFrame
from anydesk_invite.desktop.portal import PortalError, Stream

FIRST_FRAME_TIMEOUT = 10.0
MAX_FRAME_BYTES = 8192 * 8192 * 4

_CAPS = re.compile(
    rb"GstFdSink:\S+\.GstPad:sink: caps = video/x-raw.*?width=\(int\)(\d+), height=\(int\)(\d+)"
)


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
