"""The guest's side of one session's screen: the host's screens, and the frame buffer
its tiles and video pictures are pasted into, each frame acked."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

from anydesk_invite.core.screen import BYTES_PER_PIXEL, ScreenInfo
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.wire import (
    MAX_FRAME_PIXELS,
    FrameAck,
    FrameTiles,
    Message,
    Refused,
    ScreenList,
    ScreenSelect,
    VideoFrame,
)
from anydesk_invite.services.ports import PhotoCodec, VideoCodec, VideoDecoder
from anydesk_invite.services.sessions.tiles import paste_rect, paste_tiles

_log = logging.getLogger(__name__)

SIZE_CHANGE_BURST: Final = 4
SIZE_CHANGE_RATE: Final = 1.0
"""Frame size changes a guest takes from its host: a burst of SIZE_CHANGE_BURST, then this
many a second. A frame with a further change is acked and dropped: a host that switches sizes
fast cannot keep the guest busy reallocating its buffer."""

Send = Callable[[Message], Awaitable[None]]
Offload = Callable[..., Awaitable[Any]]


class GuestScreen:
    """The guest's side of one session's screen: the host's screens and the frame buffer.

    Signals: screens_changed (None: ``screens``, ``current`` or ``problem`` changed),
    updated (int: the seq of a frame now complete in ``buffer``).

    ``buffer`` holds ``width`` x ``height`` BGRA pixels, rows packed, from its start; it may
    be longer. It is reused when the size changes and replaced (never resized) only when a
    larger size needs more room, so a painter that wraps it for one paint stays valid and
    what a host makes the guest allocate is bounded by the largest size, not by the number
    of changes. Size changes are rate-limited (SIZE_CHANGE_RATE).
    """

    def __init__(
        self,
        send: Send,
        offload: Offload = asyncio.to_thread,
        max_pixels: int = MAX_FRAME_PIXELS,
        photo: PhotoCodec | None = None,
        clock: Callable[[], float] = time.monotonic,
        video: VideoCodec | None = None,
    ) -> None:
        self._send = send
        self._offload = offload
        self._photo = photo
        self._video = video
        self._decoder: VideoDecoder | None = None
        self._stream: tuple[int, int, int, int, int] | None = None
        """(stream, screen, vw, vh, codec picture area) the decoder was made for."""
        self.video_shown = 0
        self.video_skipped = 0
        self._max_pixels = max_pixels
        self._clock = clock
        self._size_tokens = float(SIZE_CHANGE_BURST)
        self._size_refill = clock()
        self.size_changes_dropped = 0
        self.allocations = 0
        """How many frame buffers were allocated (for the figures of the reliability suite)."""
        self.screens: list[ScreenInfo] | None = None
        """None until the host said; empty when it shares no screen."""
        self.current = 0
        self.problem = ""
        self.width = 0
        self.height = 0
        self.screen = 0
        self.buffer = bytearray()
        self.frames_shown = 0
        self.last_seq = 0
        self._taken: tuple[int, float] = (0, 0.0)
        """The frame being shown and when its first message was taken up."""
        self.screens_changed: Signal[None] = Signal("screen.screens_changed")
        self.updated: Signal[int] = Signal("screen.updated")

    def _take_size(self, width: int, height: int, screen: int) -> bool:
        """Make the frame buffer ``width`` x ``height`` of ``screen``; False (the frame is
        dropped) when the host changes sizes faster than SIZE_CHANGE_RATE. The buffer is
        reused, and replaced only when a size needs more room than the largest so far."""
        if (width, height, screen) == (self.width, self.height, self.screen):
            return True
        if not self._size_change_allowed():
            self.size_changes_dropped += 1
            if self.size_changes_dropped in (1, 100, 10_000):
                _log.warning(
                    "the host changes its frame size too often; %d frames dropped",
                    self.size_changes_dropped,
                )
            return False
        self.width, self.height, self.screen = width, height, screen
        needed = width * height * BYTES_PER_PIXEL
        if needed > len(self.buffer):
            self.buffer = bytearray(needed)
            self.allocations += 1
        return True

    def _size_change_allowed(self) -> bool:
        now = self._clock()
        self._size_tokens = min(
            float(SIZE_CHANGE_BURST),
            self._size_tokens + (now - self._size_refill) * SIZE_CHANGE_RATE,
        )
        self._size_refill = now
        if self._size_tokens < 1:
            return False
        self._size_tokens -= 1
        return True

    async def select(self, index: int) -> None:
        """Ask the host to show screen ``index``; the host refuses an index it does not have."""
        self.problem = ""
        video = [self._video.name] if self._video is not None else []
        await self._send(ScreenSelect(index, jpeg=self._photo is not None, video=video))

    async def handle(self, msg: Message) -> bool:
        """Take the host's screen messages; False for any other message."""
        if isinstance(msg, FrameTiles | VideoFrame) and msg.seq != self._taken[0]:
            self._taken = (msg.seq, self._clock())
        if isinstance(msg, ScreenList):
            self.screens = [ScreenInfo(e.index, e.name, e.width, e.height) for e in msg.screens]
            self.current = msg.current
            self.screens_changed.emit(None)
            return True
        if isinstance(msg, FrameTiles):
            await self._frame(msg)
            return True
        if isinstance(msg, VideoFrame):
            await self._video_frame(msg)
            if msg.final:
                await self._shown(msg.seq)
            return True
        if isinstance(msg, Refused) and msg.what == "screen":
            self.problem = msg.reason
            self.screens_changed.emit(None)
            return True
        return False

    async def _frame(self, msg: FrameTiles) -> None:
        if msg.width * msg.height > self._max_pixels:
            _log.warning("ignored a %dx%d frame: too large", msg.width, msg.height)
        elif self._take_size(msg.width, msg.height, msg.screen):
            decode = self._photo.decode if self._photo is not None else None
            problems: list[str] = await self._offload(
                paste_tiles, self.buffer, self.width, msg.tiles, self.height, decode
            )
            for p in problems[:3]:
                _log.warning("bad tile from the host: %s", p)
        if msg.final:
            await self._shown(msg.seq)

    async def _shown(self, seq: int) -> None:
        # Acked even when ignored, so a host that sent nonsense is not stalled by it.
        self.last_seq = seq
        self.frames_shown += 1
        self.updated.emit(seq)
        busy = 0
        if self._taken[0] == seq:
            busy = min(60_000, max(1, round((self._clock() - self._taken[1]) * 1000)))
        await self._send(FrameAck(seq, busy))

    def _skip(self, why: str) -> None:
        self.video_skipped += 1
        if self.video_skipped <= 20 or self.video_skipped % 100 == 0:
            _log.warning(
                "skipped a video frame from the host (%d so far): %s", self.video_skipped, why
            )

    async def _video_frame(self, msg: VideoFrame) -> None:
        """Decode and paste one video picture; anything wrong with it is skipped and logged,
        and the stream waits for its next keyframe."""
        if self._video is None or msg.codec != self._video.name:
            self._skip(f"codec {msg.codec!r}, which this guest did not ask for")
            return
        if msg.width * msg.height > self._max_pixels:
            self._skip(f"a {msg.width}x{msg.height} frame is too large")
            return
        if msg.x + msg.w > msg.width or msg.y + msg.h > msg.height:
            self._skip(f"rectangle {msg.w}x{msg.h} at {msg.x},{msg.y} is outside the frame")
            return
        if msg.vw > msg.w or msg.vh > msg.h or msg.vw % 2 or msg.vh % 2:
            self._skip(f"a {msg.vw}x{msg.vh} picture does not fit {msg.w}x{msg.h} evenly")
            return
        key = (msg.stream, msg.screen, msg.vw, msg.vh, msg.width * msg.height)
        if key != self._stream:
            if not msg.keyframe:
                self._skip("a new stream must start with a keyframe")
                return
            # A decoder of a new picture size costs as much as a new frame size: the same
            # rate bounds both (a new stream of the same size is only a keyframe).
            old = self._stream
            if (old is None or old[2:4] != key[2:4]) and not self._size_change_allowed():
                self._skip("the host changes its video size too often")
                return
            self._decoder = self._video.decoder(msg.vw, msg.vh)
            self._stream = key
        if not self._take_size(msg.width, msg.height, msg.screen):
            return
        decoder = self._decoder
        assert decoder is not None
        try:
            pixels = await self._offload(decoder.decode, msg.data, msg.w, msg.h)
        except ValueError as exc:
            self._stream = None
            self._skip(str(exc))
            return
        if pixels is None or len(pixels) != msg.w * msg.h * BYTES_PER_PIXEL:
            self._skip(f"no {msg.vw}x{msg.vh} picture in the data")
            return
        await self._offload(
            paste_rect, self.buffer, self.width, (msg.x, msg.y, msg.w, msg.h), pixels
        )
        self.video_shown += 1
