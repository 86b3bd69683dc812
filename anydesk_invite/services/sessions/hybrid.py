"""The hybrid stream: video where it moves, exact tiles where it stands.

For a guest that decodes H.264 (``ScreenSelect.video``), HybridPlanner sends moving
regions as video and refines them to exact tiles once they stand still.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

from anydesk_invite.core.screen import BYTES_PER_PIXEL, RawFrame
from anydesk_invite.net.wire import MAX_VIDEO_UNIT, Tile
from anydesk_invite.services.ports import VideoCodec, VideoEncoder
from anydesk_invite.services.sessions.pacing import START_BITRATE, VideoSettings, settings_for
from anydesk_invite.services.sessions.tiles import (
    TILE,
    Rect,
    TileEncoder,
    changed_tiles,
    tile_pixels,
    zlib_tile,
)

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
link), so the stream climbs slowly and drops at once. Except after a stream started on a
guess: see ``plan``'s ``measured``."""


def _bbox(rects: list[Rect]) -> Rect:
    x0 = min(r[0] for r in rects)
    y0 = min(r[1] for r in rects)
    x1 = max(r[0] + r[2] for r in rects)
    y1 = max(r[1] + r[3] for r in rects)
    return x0, y0, x1 - x0, y1 - y0


def _union(a: Rect, b: Rect) -> Rect:
    return _bbox([a, b])


def _outside(rects: list[Rect], outer: Rect) -> list[Rect]:
    """The rectangles not wholly inside ``outer``."""
    x0, y0, x1, y1 = outer[0], outer[1], outer[0] + outer[2], outer[1] + outer[3]
    return [
        r
        for r in rects
        if not (r[0] >= x0 and r[1] >= y0 and r[0] + r[2] <= x1 and r[1] + r[3] <= y1)
    ]


def _outside_keys(keys: set[tuple[int, int]], outer: Rect) -> list[tuple[int, int]]:
    """The tile origins (as 1x1 rectangles) not inside ``outer``."""
    x0, y0, x1, y1 = outer[0], outer[1], outer[0] + outer[2], outer[1] + outer[3]
    return [k for k in keys if not (x0 <= k[0] < x1 and y0 <= k[1] < y1)]


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
        self._keys_of: tuple[tuple[Rect, int, int], frozenset[tuple[int, int]]] | None = None
        self._guessed = False
        """The stream's settings came from the initial guess, before any ack measured the
        link."""
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

    def _keys(self, rect: Rect, width: int, height: int) -> frozenset[tuple[int, int]]:
        """The origins of the tiles in ``rect`` (kept for the latest rectangle)."""
        cached = self._keys_of
        if cached is None or cached[0] != (rect, width, height):
            keys = frozenset((r[0], r[1]) for r in self._tiles_in(rect, width, height))
            cached = self._keys_of = ((rect, width, height), keys)
        return cached[1]

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
        measured: bool = True,
    ) -> tuple[VideoPart | None, list[Tile]]:
        """What of ``frame`` travels as video and what as tiles; a new stream's keyframe within
        ``keyframe_bytes`` (0: within what the bitrate allows).

        ``measured`` says whether ``settings`` rest on a measured link or on the initial guess.
        Video often starts at a session's second grab, before the first frame's ack: a stream
        started on the guess (2.2 Mbit/s, 12 pictures a second) moves to the measured settings
        at once, not after RAISE_EVERY, and from then on restarts as usual."""
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
            outside = _outside(rects, self.rect)
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
            outside = _outside(rects, rect)
            restart = self._want_encoder(rect, settings, now, measured)
            if len(outside) < len(rects) or restart:
                video = self._encode(frame, rect)
            if video is not None:
                exact = outside
                self._lossy.update(self._keys(rect, width, height))
        last_change = self._last_change
        refine = [
            key
            for key in (self._lossy if rect is None else _outside_keys(self._lossy, rect))
            if now - last_change.get(key, 0.0) >= REFINE_AFTER
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

    def _want_encoder(
        self, rect: Rect, settings: VideoSettings, now: float, measured: bool
    ) -> bool:
        """Make the encoder match the rectangle (at once) and the settings (lower at most every
        SETTINGS_EVERY, higher at most every RAISE_EVERY); True when a new stream starts."""
        key = self._encoder_key
        if key is not None and key[0] == rect:
            if self._guessed and measured:
                self._guessed = False
                if key[1] == settings:
                    return False
            else:
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
        self._guessed = not measured
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
