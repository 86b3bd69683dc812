"""The host's side of one session's screen: changed tiles, or the hybrid stream, paced by the
guest's acks.

The host grabs at most ``max_fps`` times a second, and only while fewer than
``max_in_flight`` frames wait for the guest's ``FrameAck``, so a stalled guest costs the host
nothing but the frames already in flight. Only the tiles that differ from the previous frame
are sent (tiles.py); a guest that decodes H.264 gets the hybrid stream (hybrid.py), paced by
what its acks say the link delivers (pacing.py). The host sends no frame until the guest asks
for a screen with ``ScreenSelect``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from anydesk_invite.core.screen import RawFrame, ScreenInfo
from anydesk_invite.net.wire import (
    FrameAck,
    FrameTiles,
    Message,
    Refused,
    ScreenEntry,
    ScreenList,
    ScreenSelect,
    VideoFrame,
)
from anydesk_invite.services.ports import PhotoCodec, ScreenSource, VideoCodec
from anydesk_invite.services.sessions.hybrid import HybridPlanner, VideoPart
from anydesk_invite.services.sessions.pacing import KEYFRAME_SECONDS, LinkEstimate, settings_for
from anydesk_invite.services.sessions.tiles import (
    CHUNK_LIMIT,
    TILE,
    TileEncoder,
    chunks,
    encode_changes,
    zlib_tile,
)

_log = logging.getLogger(__name__)

MAX_IN_FLIGHT: Final = 2
MAX_FPS: Final = 30.0

Send = Callable[[Message], Awaitable[None]]
Offload = Callable[..., Awaitable[Any]]


class HostScreen:
    """The host's side of one session's screen.

    Signals: none. Counters ``frames_sent``, ``bytes_sent`` (tile and video data),
    ``video_frames`` and ``grabs`` are for benchmarks and tests; ``waiting_for_ack`` is True
    while the window of frames in flight is full.

    With a video codec the guest also decodes, moving content goes as video (HybridPlanner),
    paced by ``link``: bitrate, frame rate and scale follow what the acks say the link
    delivers.
    """

    def __init__(
        self,
        source: ScreenSource | None,
        send: Send,
        *,
        tile: int = TILE,
        max_in_flight: int = MAX_IN_FLIGHT,
        max_fps: float = MAX_FPS,
        chunk_limit: int = CHUNK_LIMIT,
        encoder: TileEncoder = zlib_tile,
        offload: Offload = asyncio.to_thread,
        photo: PhotoCodec | None = None,
        video: VideoCodec | None = None,
        clock: Callable[[], float] | None = None,
        unavailable: str = "",
    ) -> None:
        self._source = source
        self._unavailable = unavailable
        """Why there is nothing to share, when ``source`` is None (said to the guest as soon
        as the session starts)."""
        self._send = send
        self._photo = photo
        self._video = video
        self._planner: HybridPlanner | None = None
        """Set while the guest decodes our video codec (ScreenSelect.video)."""
        self._clock = clock
        self.link = LinkEstimate()
        self._guest_jpeg = False
        """The guest said it decodes JPEG tiles (ScreenSelect.jpeg)."""
        self._tile = tile
        self._max_in_flight = max_in_flight
        self._interval = 1.0 / max_fps
        self._chunk_limit = chunk_limit
        self._encoder = encoder
        self._offload = offload
        self._screen: int | None = None
        self._previous: RawFrame | None = None
        self._seq = 0
        self._in_flight: set[int] = set()
        self._room = asyncio.Event()
        self._room.set()
        self._task: asyncio.Task[None] | None = None
        self.frames_sent = 0
        self.bytes_sent = 0
        self.video_frames = 0
        self.grabs = 0
        self.waiting_for_ack = False

    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    @property
    def planner(self) -> HybridPlanner | None:
        return self._planner

    def screens(self) -> list[ScreenInfo]:
        return self._source.screens()[:16] if self._source is not None else []

    async def announce(self) -> None:
        """Tell the guest which screens there are (none: sharing is unavailable)."""
        entries = [
            ScreenEntry(
                s.index, s.name[:255], max(1, min(s.width, 8192)), max(1, min(s.height, 8192))
            )
            for s in self.screens()
        ]
        await self._send(ScreenList(entries, self._screen or 0))
        if self._source is None and self._unavailable:
            await self._send(Refused("screen", self._unavailable[:200]))

    async def handle(self, msg: Message) -> bool:
        """Take the guest's screen messages; False for any other message."""
        if isinstance(msg, FrameAck):
            self.link.acked(msg.seq, self._now(), msg.busy / 1000)
            self.acked(msg.seq)
            return True
        if isinstance(msg, ScreenSelect):
            self._guest_jpeg = msg.jpeg
            video = (
                self._video if self._video is not None and self._video.name in msg.video else None
            )
            if video is None:
                self._planner = None
            elif self._planner is None:
                self._planner = HybridPlanner(video, self._tile)
            await self.select(msg.index)
            return True
        return False

    async def select(self, index: int) -> None:
        """Show screen ``index`` (starting the stream); a bad index is refused."""
        if self._source is None:
            why = self._unavailable or "screen sharing is unavailable on the host"
            await self._send(Refused("screen", why[:200]))
            return
        if index not in {s.index for s in self.screens()}:
            _log.warning("refused screen %d: the host has no such screen", index)
            await self._send(Refused("screen", f"no screen {index}"))
            return
        if index != self._screen:
            self._screen = index
            self._previous = None
            await self.announce()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="screen-host")

    def acked(self, seq: int) -> None:
        self._in_flight = {s for s in self._in_flight if s > seq}
        if len(self._in_flight) < self._max_in_flight:
            self._room.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            if len(self._in_flight) >= self._max_in_flight:
                self._room.clear()
                self.waiting_for_ack = True
                await self._room.wait()
                self.waiting_for_ack = False
            wait = next_at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            interval = self._interval
            planner = self._planner
            if planner is not None and planner.rect is not None:
                interval = max(interval, 1.0 / planner.settings.fps)
            next_at = max(next_at + interval, loop.time())
            await self.send_frame()

    async def send_frame(self) -> int:
        """Grab once and send what changed; the bytes of tile data sent (0: nothing changed)."""
        if self._source is None or self._screen is None:
            return 0
        try:
            if getattr(self._source, "grab_off_loop", False):
                frame = await self._offload(self._source.grab, self._screen)
            else:
                frame = self._source.grab(self._screen)
        except Exception as exc:
            # A screen unplugged under us: fall back to the first one that is left.
            _log.warning("grabbing screen %d failed: %s", self._screen, exc)
            left = self.screens()
            self._screen = left[0].index if left else None
            self._previous = None
            await self.announce()
            return 0
        self.grabs += 1
        previous, screen = self._previous, self._screen
        video: VideoPart | None = None
        planner = self._planner
        if planner is not None:
            settings = settings_for(self.link.target())
            key = int(self.link.rate * KEYFRAME_SECONDS / 8)
            video, tiles = await self._offload(
                planner.plan,
                previous,
                frame,
                self._now(),
                settings,
                self._encoder,
                key,
                self.link.measured,
            )
        else:
            photo = self._photo.encode if self._photo is not None and self._guest_jpeg else None
            tiles = await self._offload(
                encode_changes, previous, frame, self._tile, self._encoder, photo
            )
        self._previous = frame
        if not tiles and video is None:
            return 0
        self._seq += 1
        seq = self._seq
        self._in_flight.add(seq)
        sent = 0
        started = self._now()
        if video is not None and planner is not None:
            x, y, w, h = video.rect
            await self._send(
                VideoFrame(
                    seq, screen, frame.width, frame.height, video.stream, x, y, w, h,
                    video.size[0], video.size[1], planner.codec, video.keyframe, video.data,
                    not tiles,
                )
            )  # fmt: skip
            sent += len(video.data)
            self.video_frames += 1
        if tiles:
            groups = chunks(tiles, self._chunk_limit)
            for i, group in enumerate(groups):
                await self._send(
                    FrameTiles(seq, screen, frame.width, frame.height, group, i == len(groups) - 1)
                )
                sent += sum(len(t.data) for t in group)
        self.link.sent(seq, started, sent)
        self.frames_sent += 1
        self.bytes_sent += sent
        return sent

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
