"""The screen in a session: the host sends changed tiles paced by the guest's acks; the guest
assembles them into its frame buffer.

The host grabs at most ``max_fps`` times a second, and only while fewer than
``max_in_flight`` frames wait for the guest's ``FrameAck``, so a stalled guest costs the host
nothing but the frames already in flight. Each frame is cut into ``tile`` x ``tile`` squares;
only squares that differ from the previous frame are sent (rows are compared first, a
memcmp per scanline, so a still desktop costs ~1 ms a grab and sends nothing). The host sends
no frame until the guest asks for a screen with ``ScreenSelect``.

Encoding, chosen by measurement (``bench/screen.py --encodings``, one 1920x1080 frame cut in
64x64 tiles, each tile encoded on its own, this 2-core machine):

====================  ===============  ===============  ===============
content               zlib-1 KiB / ms  PNG KiB / ms     JPEG-90 KiB / ms
====================  ===============  ===============  ===============
test pattern          82 / 11          91 / 103         370 / 77
photo-like (noisy)    6082 / 264       3175 / 441       876 / 88
text                  467 / 55         512 / 154        1420 / 77
====================  ===============  ===============  ===============

(raw frame: 8100 KiB.) zlib level 1 of the raw BGRA tile wins on what a
desktop mostly shows (UI, text): smallest and 3-10x faster than PNG, lossless (text stays
sharp), and it needs no Qt, so it runs here in services/ on a worker thread (zlib releases the
GIL). JPEG wins only on photo-like content, where it is 7x smaller but lossy and blurs text.
So each tile goes zlib, or raw when zlib does not shrink it; and where zlib keeps more than
PHOTO_SHARE of the raw bytes (a photo, a video, noise) and the guest said it decodes JPEG, the
tile goes JPEG if that is smaller (the codec is injected: services/ has no Qt).

A guest that decodes H.264 (``ScreenSelect.video``) gets the hybrid stream instead: moving
regions as video, refined to exact tiles once they stand still (HybridPlanner), paced to what
the guest's acks say the link delivers (LinkEstimate). ``bench/screen_video.py`` measures it
beside the tile path, host and guest in separate processes.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.screen import BYTES_PER_PIXEL, RawFrame, ScreenInfo
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.wire import (
    MAX_FRAME_PIXELS,
    MAX_VIDEO_UNIT,
    FrameAck,
    FrameTiles,
    Message,
    Refused,
    ScreenEntry,
    ScreenList,
    ScreenSelect,
    Tile,
    TileEncoding,
    VideoFrame,
)
from anydesk_invite.services.ports import (
    PhotoCodec,
    ScreenSource,
    VideoCodec,
    VideoDecoder,
    VideoEncoder,
)
from anydesk_invite.services.sessions.session import Session
from anydesk_invite.services.views import Role

_log = logging.getLogger(__name__)

TILE: Final = 64
MAX_IN_FLIGHT: Final = 2
SIZE_CHANGE_BURST: Final = 4
SIZE_CHANGE_RATE: Final = 1.0
"""Frame size changes a guest takes from its host: a burst of SIZE_CHANGE_BURST, then this
many a second. A frame with a further change is acked and dropped: a host that switches sizes
fast cannot keep the guest busy reallocating its buffer."""
MAX_FPS: Final = 30.0
CHUNK_LIMIT: Final = 512 * 1024
"""Bytes of tile data per FrameTiles message, far below the post-auth frame limit."""
_TILE_OVERHEAD: Final = 32
"""MessagePack bytes around one tile's data (array header, coordinates, encoding name)."""

PHOTO_SHARE: Final = 0.5
"""A tile whose zlib output keeps more than this share of its raw bytes is photo-like."""
PHOTO_MIN_SIDE: Final = 8
"""JPEG works in 8x8 blocks; a thinner edge tile stays lossless."""

Send = Callable[[Message], Awaitable[None]]
TileEncoder = Callable[[bytes], tuple[TileEncoding, bytes]]
PhotoEncoder = Callable[[bytes, int, int], bytes]
PhotoDecoder = Callable[[bytes, int, int], bytes | None]
Offload = Callable[..., Awaitable[Any]]


def zlib_tile(raw: bytes) -> tuple[TileEncoding, bytes]:
    """zlib level 1, or the raw bytes when zlib does not make them smaller."""
    packed = zlib.compress(raw, 1)
    if len(packed) >= len(raw):
        return "raw", raw
    return "zlib", packed


Rect = tuple[int, int, int, int]


def changed_tiles(previous: RawFrame | None, current: RawFrame, tile: int = TILE) -> list[Rect]:
    """The (x, y, w, h) tiles of ``current`` that differ from ``previous`` (all when there is
    no previous frame of the same size)."""
    width, height = current.width, current.height
    same_size = previous is not None and (previous.width, previous.height) == (width, height)
    out: list[Rect] = []
    if not same_size or previous is None:
        for y in range(0, height, tile):
            for x in range(0, width, tile):
                out.append((x, y, min(tile, width - x), min(tile, height - y)))
        return out
    # Compared in place: ``bytes.startswith`` with a view of the other frame is a memcmp, where
    # comparing two slices would first copy both (a 1080p frame whose every row changed: 4.4 ms
    # with copies, a small region changing: 5.1 ms, since every row of its band is compared).
    old, new = bytes(previous.data), bytes(current.data)
    old_view = memoryview(old)
    old_stride, new_stride = previous.stride, current.stride
    row_bytes = width * BYTES_PER_PIXEL
    if old_stride == new_stride and new.startswith(old_view[: old_stride * height]):
        return out
    for y in range(0, height, tile):
        h = min(tile, height - y)
        if old_stride == new_stride and row_bytes == new_stride:
            band = y * new_stride
            if new.startswith(old_view[band : band + h * new_stride], band):
                continue
        rows = [
            r
            for r in range(y, y + h)
            if not new.startswith(
                old_view[r * old_stride : r * old_stride + row_bytes], r * new_stride
            )
        ]
        if not rows:
            continue
        for x in range(0, width, tile):
            w = min(tile, width - x)
            a, n = x * BYTES_PER_PIXEL, w * BYTES_PER_PIXEL
            for r in rows:
                if not new.startswith(
                    old_view[r * old_stride + a : r * old_stride + a + n], r * new_stride + a
                ):
                    out.append((x, y, w, h))
                    break
    return out


def tile_pixels(frame: RawFrame, x: int, y: int, w: int, h: int) -> bytes:
    """The tile's BGRA pixels, rows packed without padding."""
    data, stride = memoryview(frame.data), frame.stride
    a, n = x * BYTES_PER_PIXEL, w * BYTES_PER_PIXEL
    return b"".join(data[r * stride + a : r * stride + a + n] for r in range(y, y + h))


def encode_changes(
    previous: RawFrame | None,
    current: RawFrame,
    tile: int,
    encoder: TileEncoder,
    photo: PhotoEncoder | None = None,
) -> list[Tile]:
    """The encoded tiles that changed; pure CPU work, run off the event loop. With ``photo``,
    photo-like tiles go JPEG when that is smaller."""
    tiles = []
    for x, y, w, h in changed_tiles(previous, current, tile):
        raw = tile_pixels(current, x, y, w, h)
        encoding, data = encoder(raw)
        if photo is not None and len(data) > PHOTO_SHARE * len(raw) and min(w, h) >= PHOTO_MIN_SIDE:
            jpeg = photo(raw, w, h)
            if len(jpeg) < len(data):
                encoding, data = "jpeg", jpeg
        tiles.append(Tile(x, y, w, h, encoding, data))
    return tiles


def chunks(tiles: list[Tile], limit: int = CHUNK_LIMIT) -> list[list[Tile]]:
    """Tiles grouped so that each group's data stays under ``limit`` bytes (a lone tile over
    the limit travels alone). Always at least one group, maybe empty."""
    groups: list[list[Tile]] = [[]]
    size = 0
    for t in tiles:
        cost = len(t.data) + _TILE_OVERHEAD
        if groups[-1] and (size + cost > limit or len(groups[-1]) >= 4096):
            groups.append([])
            size = 0
        groups[-1].append(t)
        size += cost
    return groups


# --- the hybrid stream: video where it moves, exact tiles where it stands -------------------

VIDEO_MIN_TILES: Final = 24
"""Tiles changed in one grab that count as movement (about 5 % of a 1080p screen). Movement in
two grabs within RESHAPE_AFTER starts the video; typing or a cursor changes a handful of tiles
and stays lossless, and so does a window that opens once."""
STILL_AFTER: Final = 0.25
"""Seconds without change inside the video rectangle after which the video stops."""
REFINE_AFTER: Final = 0.25
"""Seconds a tile shown from video must stand still before its exact pixels follow."""
START_WITHIN: Final = 2.0
"""Seconds within which a grab that moved, followed by another, starts the video even when
the two are further apart than RESHAPE_AFTER (each frame of tiles took long)."""
RESHAPE_AFTER: Final = 0.5
"""Seconds of movement history that shape the video rectangle (it shrinks to what moved)."""
SETTINGS_EVERY: Final = 1.0
"""Seconds at least between two encoder restarts for a lower bitrate, frame rate or scale."""
RAISE_EVERY: Final = 3.0
"""Seconds at least between two encoder restarts for a higher one: each restart starts a new
stream with a keyframe (a 1080p keyframe takes up to 0.9 s of the bitrate, 0.2 s of the
link), so the stream climbs slowly and drops at once."""
MAX_BITRATE: Final = 12_000_000
MIN_BITRATE: Final = 300_000
BITRATE_STEPS: Final = (
    300_000, 450_000, 700_000, 1_000_000, 1_500_000, 2_200_000, 3_300_000, 5_000_000, 8_000_000,
    12_000_000,
)  # fmt: skip
"""The bitrates the encoder runs at (about x1.5 apart): the link estimate moves all the time,
and a restart for every small change would send a keyframe a second."""
START_BITRATE: Final = 4_000_000
MIN_RTT_WINDOW: Final = 10.0
"""Seconds over which the shortest round trip is taken (the link's own, without queueing)."""
QUEUED_RTT: Final = (1.5, 0.030)
"""A round trip over factor x the shortest + seconds counts as queueing."""
GUEST_GAP: Final = 0.020
"""Seconds between the guest's ack of a frame and its taking up the next within which the next
frame counts as having waited for the guest."""
LINK_SHARE: Final = 0.7
"""Share of the estimated link rate the video may use; the rest carries tiles and input."""
KEYFRAME_SECONDS: Final = 0.2
"""Seconds of the estimated link a stream's keyframe may take. A 1080p screen of text is ~815
KiB as a keyframe at crf 23: a third of a second of a 20 Mbit/s link, and the frames behind it
queue. Within 0.2 s (500 KB there, 125 KB at 5 Mbit/s) it starts blurred (~23-28 dB at 12
Mbit/s) and the pictures after it sharpen it (35 dB again ~20 pictures later, scrolling text
at 15 a second); on a fast link (127.0.0.1) the bitrate, not this, bounds it."""


@dataclass(frozen=True, slots=True)
class VideoSettings:
    """What the encoder is asked for: bits a second, pictures a second, picture scale."""

    bitrate: int
    fps: float
    scale: float


def settings_for(bitrate: int) -> VideoSettings:
    """Frame rate and resolution drop with the bitrate, so each picture keeps its quality.
    The bitrate is the highest of BITRATE_STEPS not above ``bitrate``."""
    bitrate = max(s for s in BITRATE_STEPS if s <= max(MIN_BITRATE, bitrate))
    fps = 30.0 if bitrate >= 6_000_000 else 20.0 if bitrate >= 3_000_000 else 12.0
    # Scaled text blurs badly (3/4 size: ~17 dB PSNR), so the size drops last.
    scale = 1.0 if bitrate >= 2_000_000 else 0.75 if bitrate >= 1_000_000 else 0.5
    return VideoSettings(bitrate, fps, scale)


class LinkEstimate:
    """What the link delivers, from the guest's acks (delivery-rate sampling, as BBR does).

    Each frame sent remembers how many bytes had been acked by then and when the last of those
    acks came. When its own ack comes, the bytes acked since, over the time since that earlier
    ack, are one sample of the rate: it cannot exceed what the link (and the guest) deliver,
    and a frame that did not fill the link understates it. The estimate is the largest of the
    last ``window`` samples.

    A sample below the estimate counts only while frames queue on the way: while a frame's
    round trip (send to ack, less the time the guest says it spent on the frame) stays within
    QUEUED_RTT of the shortest one lately, the link carried what it was given, and a slow
    sample says the guest was busy (decoding, or its CPU shared), not that the link is slower.
    Nor does it count when the guest took the frame up at once after the one before (its
    ack, less its busy time, comes within GUEST_GAP of the previous ack): the frame waited for
    the guest, not for the link. Nor when the frame was sent with nothing else on its way: the
    link idled before it while the host was busy (encoding), and the sample counts that idle
    time (app-limited, in BBR's words). Otherwise a busy guest or host would drive the
    bitrate, and with it the picture's quality and size, down for nothing.
    """

    def __init__(self, initial: int = START_BITRATE, window: int = 16) -> None:
        self._sent: dict[int, tuple[float, int, int, float | None, bool]] = {}
        self._samples: deque[float] = deque(maxlen=window)
        self._rtts: deque[tuple[float, float]] = deque()
        self._delivered = 0
        self._delivered_at: float | None = None
        self.rate = float(initial)
        """Bits a second."""
        self.rtt = 0.0
        """The latest frame's time from send to ack, seconds."""
        self.net_rtt = 0.0
        """The same, less the time the guest said it spent on the frame."""
        self.guest_limited = False
        """The latest frame waited for the guest (taken up as soon as it was done with the
        one before), not for the link."""
        self.min_rtt = 0.0
        """The shortest round trip over the last MIN_RTT_WINDOW seconds."""

    def sent(self, seq: int, now: float, nbytes: int) -> None:
        # Sent with nothing else on its way: the link idled before it (the host was busy),
        # so its sample may say the link is slower than it is (app-limited, as BBR says).
        alone = not self._sent
        self._sent[seq] = (now, nbytes, self._delivered, self._delivered_at, alone)
        if len(self._sent) > 256:  # acks that never came; keep memory bounded
            del self._sent[min(self._sent)]

    def queueing(self) -> bool:
        """Whether the latest frame waited in a queue on the way (its round trip is well over
        the shortest one lately)."""
        return self.net_rtt > self.min_rtt * QUEUED_RTT[0] + QUEUED_RTT[1]

    def acked(self, seq: int, now: float, busy: float = 0.0) -> None:
        """The guest acked frames up to ``seq`` at ``now``, having spent ``busy`` seconds on
        frame ``seq`` (0: it did not say)."""
        done = sorted(s for s in self._sent if s <= seq)
        if not done:
            return
        sent_at, _, delivered_then, acked_then, alone = self._sent[done[-1]]
        self._delivered += sum(self._sent.pop(s)[1] for s in done)
        self.rtt = now - sent_at
        busy = min(max(0.0, busy), self.rtt)
        self.net_rtt = self.rtt - busy
        self.guest_limited = (
            busy > 0
            and self._delivered_at is not None
            and now - busy - self._delivered_at <= GUEST_GAP
        )
        while self._rtts and (self._rtts[0][0] < now - MIN_RTT_WINDOW or len(self._rtts) > 512):
            self._rtts.popleft()
        while self._rtts and self._rtts[-1][1] >= self.net_rtt:
            self._rtts.pop()  # a monotonic queue: its head is the window's minimum
        self._rtts.append((now, self.net_rtt))
        self.min_rtt = self._rtts[0][1]
        since = acked_then if acked_then is not None else sent_at
        self._delivered_at = now
        interval = now - since
        nbytes = self._delivered - delivered_then
        if nbytes >= 2048 and interval > 0.002:
            sample = nbytes * 8 / interval
            lower = self.queueing() and not self.guest_limited and not alone
            if sample >= self.rate or lower:
                self._samples.append(sample)
                self.rate = max(self._samples)

    def target(self) -> int:
        return int(max(MIN_BITRATE, min(MAX_BITRATE, self.rate * LINK_SHARE)))


def _bbox(rects: list[Rect]) -> Rect:
    x0 = min(r[0] for r in rects)
    y0 = min(r[1] for r in rects)
    x1 = max(r[0] + r[2] for r in rects)
    y1 = max(r[1] + r[3] for r in rects)
    return x0, y0, x1 - x0, y1 - y0


def _union(a: Rect, b: Rect) -> Rect:
    return _bbox([a, b])


def _inside(r: Rect, outer: Rect) -> bool:
    return (
        r[0] >= outer[0]
        and r[1] >= outer[1]
        and r[0] + r[2] <= outer[0] + outer[2]
        and r[1] + r[3] <= outer[1] + outer[3]
    )


def crop(frame: RawFrame, rect: Rect) -> bytes | memoryview:
    """The rectangle's BGRA pixels, rows packed (a view of the frame, not a copy, when it
    spans whole rows)."""
    x, y, w, h = rect
    if x == 0 and w == frame.width and frame.stride == w * BYTES_PER_PIXEL:
        return memoryview(frame.data)[y * frame.stride : (y + h) * frame.stride]
    return tile_pixels(frame, x, y, w, h)


@dataclass(frozen=True, slots=True)
class VideoPart:
    """One encoded picture of the video rectangle."""

    rect: Rect
    size: tuple[int, int]
    stream: int
    data: bytes
    keyframe: bool


class HybridPlanner:
    """Decides for each grab what travels as video and what as exact tiles, and encodes both.
    Runs on a worker thread, one grab at a time.

    Moving content (VIDEO_MIN_TILES changed in two grabs within RESHAPE_AFTER, or in a grab
    and the one before it with movement within START_WITHIN) starts a video
    stream over the bounding rectangle of what moved, snapped to the tile grid. Tiles shown
    from video are lossy on the guest; once such a tile has stood still REFINE_AFTER outside
    the video rectangle, its exact pixels follow as tiles. The video stops after STILL_AFTER
    without change inside it, so a still screen ends up bit-exact and then sends nothing.
    """

    def __init__(self, codec: VideoCodec, tile: int = TILE) -> None:
        self._codec = codec
        self._tile = tile
        self._recent: deque[tuple[float, Rect, int]] = deque()
        self._last_change: dict[tuple[int, int], float] = {}
        self._lossy: set[tuple[int, int]] = set()
        self._encoder: VideoEncoder | None = None
        self._encoder_key: tuple[Rect, VideoSettings] | None = None
        self._encoder_at = 0.0
        self._stream = 0
        self._rect_at = 0.0
        self._moved_at = 0.0
        self._size = (0, 0)
        self._keyframe_bytes = 0
        self.rect: Rect | None = None
        self.settings = settings_for(START_BITRATE)

    @property
    def codec(self) -> str:
        return self._codec.name

    @property
    def lossy(self) -> int:
        """Tiles the guest shows from video, not yet refined."""
        return len(self._lossy)

    def reset(self) -> None:
        self._recent.clear()
        self._last_change.clear()
        self._lossy.clear()
        self._stop()

    def _stop(self) -> None:
        self.rect = None
        self._encoder = None
        self._encoder_key = None

    def _snap(self, r: Rect, width: int, height: int) -> Rect:
        t = self._tile
        x0, y0 = r[0] // t * t, r[1] // t * t
        x1 = min(width, -(-(r[0] + r[2]) // t) * t)
        y1 = min(height, -(-(r[1] + r[3]) // t) * t)
        return x0, y0, x1 - x0, y1 - y0

    def _tiles_in(self, rect: Rect, width: int, height: int) -> list[Rect]:
        t = self._tile
        x, y, w, h = rect
        return [
            (tx, ty, min(t, width - tx), min(t, height - ty))
            for ty in range(y, y + h, t)
            for tx in range(x, x + w, t)
        ]

    def plan(
        self,
        previous: RawFrame | None,
        frame: RawFrame,
        now: float,
        settings: VideoSettings,
        encoder: TileEncoder = zlib_tile,
        keyframe_bytes: int = 0,
    ) -> tuple[VideoPart | None, list[Tile]]:
        """What of ``frame`` travels as video and what as tiles; a new stream's keyframe within
        ``keyframe_bytes`` (0: within what the bitrate allows)."""
        self._keyframe_bytes = keyframe_bytes
        width, height, t = frame.width, frame.height, self._tile
        if previous is None or (previous.width, previous.height) != (width, height):
            self.reset()
        rects = changed_tiles(previous, frame, t)
        for r in rects:
            self._last_change[(r[0], r[1])] = now
        earlier = next((e for e in reversed(self._recent) if e[2] >= VIDEO_MIN_TILES), None)
        if rects:
            self._recent.append((now, _bbox(rects), len(rects)))
        while self._recent and self._recent[0][0] < now - RESHAPE_AFTER:
            self._recent.popleft()
        moving = [e for e in self._recent if e[2] >= VIDEO_MIN_TILES]
        big = len(rects) >= VIDEO_MIN_TILES and previous is not None
        if self.rect is None:
            # Grabs come further apart than RESHAPE_AFTER where each frame of tiles takes long
            # (a slow link, a busy machine): movement in the grab before, within START_WITHIN,
            # counts too, or the video that would make the frames small would never start.
            if big and earlier is not None and earlier not in moving:
                if now - earlier[0] <= START_WITHIN:
                    moving.append(earlier)
            if big and len(moving) >= 2:
                self.rect = self._snap(_bbox([e[1] for e in moving]), width, height)
                self._rect_at = self._moved_at = now
        else:
            outside = [r for r in rects if not _inside(r, self.rect)]
            if len(outside) >= VIDEO_MIN_TILES:
                self.rect = self._snap(_union(self.rect, _bbox(outside)), width, height)
                self._rect_at = now
            elif moving and now - self._rect_at >= RESHAPE_AFTER:
                want = self._snap(_bbox([e[1] for e in moving]), width, height)
                if want[2] * want[3] * 2 <= self.rect[2] * self.rect[3]:
                    self.rect = want
                    self._rect_at = now
            if len(outside) < len(rects):
                self._moved_at = now
            elif now - self._moved_at >= STILL_AFTER:
                self._stop()
        video: VideoPart | None = None
        exact = rects
        rect = self.rect
        if rect is not None:
            inside = [r for r in rects if _inside(r, rect)]
            restart = self._want_encoder(rect, settings, now)
            if inside or restart:
                video = self._encode(frame, rect)
            if video is not None:
                exact = [r for r in rects if not _inside(r, rect)]
                self._lossy.update((r[0], r[1]) for r in self._tiles_in(rect, width, height))
        refine = [
            key
            for key in self._lossy
            if (rect is None or not _inside((key[0], key[1], 1, 1), rect))
            and now - self._last_change.get(key, 0.0) >= REFINE_AFTER
        ]
        wanted = {(r[0], r[1]): r for r in exact}
        for kx, ky in refine:
            wanted[(kx, ky)] = (kx, ky, min(t, width - kx), min(t, height - ky))
        self._lossy.difference_update(wanted)
        tiles = []
        for x, y, w, h in sorted(wanted.values(), key=lambda r: (r[1], r[0])):
            encoding, data = encoder(tile_pixels(frame, x, y, w, h))
            tiles.append(Tile(x, y, w, h, encoding, data))
        return video, tiles

    def _want_encoder(self, rect: Rect, settings: VideoSettings, now: float) -> bool:
        """Make the encoder match the rectangle (at once) and the settings (lower at most every
        SETTINGS_EVERY, higher at most every RAISE_EVERY); True when a new stream starts."""
        key = self._encoder_key
        if key is not None and key[0] == rect:
            every = RAISE_EVERY if settings.bitrate > key[1].bitrate else SETTINGS_EVERY
            if key[1] == settings or now - self._encoder_at < every:
                return False
        w, h = rect[2], rect[3]
        out_w = max(2, int(w * settings.scale) // 2 * 2)
        out_h = max(2, int(h * settings.scale) // 2 * 2)
        self._encoder = self._codec.encoder(
            w, h, out_w, out_h, settings.bitrate, settings.fps, self._keyframe_bytes
        )
        self._encoder_key = (rect, settings)
        self._encoder_at = now
        self._stream = (self._stream + 1) & 0xFFFF_FFFF
        self.settings = settings
        self._size = (out_w, out_h)
        return True

    def _encode(self, frame: RawFrame, rect: Rect) -> VideoPart | None:
        if self._encoder is None:
            return None
        data, keyframe = self._encoder.encode(crop(frame, rect))
        if not data or len(data) > MAX_VIDEO_UNIT:
            # Nothing out yet, or a picture too big for the wire: the tiles carry it instead
            # and the next picture starts a new stream.
            self._encoder = None
            self._encoder_key = None
            return None
        return VideoPart(rect, self._size, self._stream, data, keyframe)


class ScreenSharing:
    """The screen of every session on this device: a HostScreen per guest, a GuestScreen per
    host. Viewing the screen needs no permission; without a screen source the host says
    sharing is unavailable.

    Signals: view_changed (Session; never emitted: the screen has signals of its own).
    """

    name = "screen"
    permission: Permission | None = None
    from_guest: tuple[type[Message], ...] = (FrameAck, ScreenSelect)
    from_host: tuple[type[Message], ...] = (ScreenList, FrameTiles, VideoFrame, Refused)
    refusal_interval = 0.0

    def __init__(
        self,
        source: ScreenSource | None,
        photo: PhotoCodec | None = None,
        video: VideoCodec | None = None,
    ) -> None:
        self._source = source
        self._photo = photo
        """JPEG for photo-like tiles, both ways (None: lossless tiles only)."""
        self._video = video
        """H.264 for moving content, both ways (None: tiles only)."""
        self._screens: dict[bytes, HostScreen | GuestScreen] = {}
        self.view_changed: Signal[Session] = Signal("screen.view_changed")
        self.unavailable = ""
        """Why this device has no screen to share (a Wayland desktop without a usable portal),
        told to every guest; set by the composition root."""

    def gated(self, msg: Message) -> bool:
        return False

    def refusal(self, session: Session, msg: Message) -> tuple[str, Message | None]:
        return "screen", None

    async def started(self, session: Session) -> None:
        if session.role is Role.HOST:
            host = HostScreen(
                self._source,
                session.send,
                photo=self._photo,
                video=self._video,
                unavailable=self.unavailable,
            )
            self._screens[session.session_id] = host
            await host.announce()
        else:
            self._screens[session.session_id] = GuestScreen(
                session.send, photo=self._photo, video=self._video
            )

    def permissions_changed(self, session: Session) -> None:
        pass

    def ended(self, session: Session) -> None:
        screen = self._screens.pop(session.session_id, None)
        if isinstance(screen, HostScreen):
            screen.close()

    def stop(self) -> None:
        for screen in self._screens.values():
            if isinstance(screen, HostScreen):
                screen.close()
        self._screens.clear()

    async def handle(self, session: Session, msg: Message) -> None:
        screen = self._screens.get(session.session_id)
        if screen is not None:
            await screen.handle(msg)

    def guest(self, session_id: str) -> GuestScreen | None:
        """The host's screen as this guest receives it (session id in hex)."""
        for sid, screen in self._screens.items():
            if sid.hex() == session_id and isinstance(screen, GuestScreen):
                return screen
        return None


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
                planner.plan, previous, frame, self._now(), settings, self._encoder, key
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


class TileError(ValueError):
    """A tile that does not fit the frame or does not decode to its size."""


def decode_tile(t: Tile, width: int, height: int, photo: PhotoDecoder | None = None) -> bytes:
    if t.x + t.w > width or t.y + t.h > height:
        raise TileError(f"tile {t.w}x{t.h} at {t.x},{t.y} is outside the {width}x{height} frame")
    size = t.w * t.h * BYTES_PER_PIXEL
    if t.encoding == "raw":
        pixels = t.data
    elif t.encoding == "jpeg":
        if photo is None:
            raise TileError(f"tile at {t.x},{t.y} is JPEG, which this guest did not ask for")
        decoded = photo(t.data, t.w, t.h)
        if decoded is None:
            raise TileError(f"tile at {t.x},{t.y} is not a {t.w}x{t.h} JPEG")
        pixels = decoded
    else:
        inflater = zlib.decompressobj()
        try:
            # max_length bounds what a hostile tile can make us allocate.
            pixels = inflater.decompress(t.data, size + 1)
        except zlib.error as exc:
            raise TileError(f"tile at {t.x},{t.y} does not inflate: {exc}") from None
        if not inflater.eof:
            raise TileError(f"tile at {t.x},{t.y} is truncated or longer than its size")
    if len(pixels) != size:
        raise TileError(f"tile at {t.x},{t.y} has {len(pixels)} bytes, not {size}")
    return pixels


def paste_rect(buffer: bytearray, width: int, rect: Rect, pixels: bytes | memoryview) -> None:
    """Paste packed BGRA rows of ``rect`` into a buffer of ``width`` pixels a row."""
    x, y, w, h = rect
    stride, n, a = width * BYTES_PER_PIXEL, w * BYTES_PER_PIXEL, x * BYTES_PER_PIXEL
    view = memoryview(buffer)
    if x == 0 and w == width:
        view[y * stride : (y + h) * stride] = pixels[: h * stride]
        return
    for r in range(h):
        start = (y + r) * stride + a
        view[start : start + n] = pixels[r * n : (r + 1) * n]


def paste_tiles(
    buffer: bytearray,
    width: int,
    tiles: list[Tile],
    height: int,
    photo: PhotoDecoder | None = None,
) -> list[str]:
    """Decode and paste tiles into a BGRA buffer of ``width`` pixels a row; the problems met
    (a bad tile is skipped, the others still land)."""
    stride = width * BYTES_PER_PIXEL
    problems = []
    view = memoryview(buffer)
    for t in tiles:
        try:
            pixels = decode_tile(t, width, height, photo)
        except TileError as exc:
            problems.append(str(exc))
            continue
        n = t.w * BYTES_PER_PIXEL
        a = t.x * BYTES_PER_PIXEL
        for r in range(t.h):
            start = (t.y + r) * stride + a
            view[start : start + n] = pixels[r * n : (r + 1) * n]
    return problems


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
