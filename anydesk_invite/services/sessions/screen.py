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
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Awaitable, Callable
from typing import Any, Final

from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.screen import BYTES_PER_PIXEL, RawFrame, ScreenInfo
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.wire import (
    MAX_FRAME_PIXELS,
    FrameAck,
    FrameTiles,
    Message,
    Refused,
    ScreenEntry,
    ScreenList,
    ScreenSelect,
    Tile,
    TileEncoding,
)
from anydesk_invite.services.ports import PhotoCodec, ScreenSource
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
    old, new = previous.data, current.data
    old_stride, new_stride = previous.stride, current.stride
    row_bytes = width * BYTES_PER_PIXEL
    if old_stride == new_stride and old[: new_stride * height] == new[: new_stride * height]:
        return out
    for y in range(0, height, tile):
        h = min(tile, height - y)
        rows = [
            r
            for r in range(y, y + h)
            if old[r * old_stride : r * old_stride + row_bytes]
            != new[r * new_stride : r * new_stride + row_bytes]
        ]
        if not rows:
            continue
        for x in range(0, width, tile):
            w = min(tile, width - x)
            a, b = x * BYTES_PER_PIXEL, (x + w) * BYTES_PER_PIXEL
            for r in rows:
                if (
                    old[r * old_stride + a : r * old_stride + b]
                    != (new[r * new_stride + a : r * new_stride + b])
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


class ScreenSharing:
    """The screen of every session on this device: a HostScreen per guest, a GuestScreen per
    host. Viewing the screen needs no permission; without a screen source the host says
    sharing is unavailable.

    Signals: view_changed (Session; never emitted: the screen has signals of its own).
    """

    name = "screen"
    permission: Permission | None = None
    from_guest: tuple[type[Message], ...] = (FrameAck, ScreenSelect)
    from_host: tuple[type[Message], ...] = (ScreenList, FrameTiles, Refused)
    refusal_interval = 0.0

    def __init__(self, source: ScreenSource | None, photo: PhotoCodec | None = None) -> None:
        self._source = source
        self._photo = photo
        """JPEG for photo-like tiles, both ways (None: lossless tiles only)."""
        self._screens: dict[bytes, HostScreen | GuestScreen] = {}
        self.view_changed: Signal[Session] = Signal("screen.view_changed")

    def gated(self, msg: Message) -> bool:
        return False

    def refusal(self, session: Session, msg: Message) -> tuple[str, Message | None]:
        return "screen", None

    async def started(self, session: Session) -> None:
        if session.role is Role.HOST:
            host = HostScreen(self._source, session.send, photo=self._photo)
            self._screens[session.session_id] = host
            await host.announce()
        else:
            self._screens[session.session_id] = GuestScreen(session.send, photo=self._photo)

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

    Signals: none. Counters ``frames_sent``, ``bytes_sent`` (tile data) and ``grabs`` are
    for benchmarks and tests; ``waiting_for_ack`` is True while the window of frames in
    flight is full.
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
    ) -> None:
        self._source = source
        self._send = send
        self._photo = photo
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
        self.grabs = 0
        self.waiting_for_ack = False

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

    async def handle(self, msg: Message) -> bool:
        """Take the guest's screen messages; False for any other message."""
        if isinstance(msg, FrameAck):
            self.acked(msg.seq)
            return True
        if isinstance(msg, ScreenSelect):
            self._guest_jpeg = msg.jpeg
            await self.select(msg.index)
            return True
        return False

    async def select(self, index: int) -> None:
        """Show screen ``index`` (starting the stream); a bad index is refused."""
        if self._source is None:
            await self._send(Refused("screen", "screen sharing is unavailable on the host"))
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
            next_at = max(next_at + self._interval, loop.time())
            await self.send_frame()

    async def send_frame(self) -> int:
        """Grab once and send what changed; the bytes of tile data sent (0: nothing changed)."""
        if self._source is None or self._screen is None:
            return 0
        try:
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
        photo = self._photo.encode if self._photo is not None and self._guest_jpeg else None
        tiles: list[Tile] = await self._offload(
            encode_changes, previous, frame, self._tile, self._encoder, photo
        )
        self._previous = frame
        if not tiles:
            return 0
        self._seq += 1
        seq = self._seq
        self._in_flight.add(seq)
        groups = chunks(tiles, self._chunk_limit)
        sent = 0
        for i, group in enumerate(groups):
            await self._send(
                FrameTiles(seq, screen, frame.width, frame.height, group, i == len(groups) - 1)
            )
            sent += sum(len(t.data) for t in group)
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
    ) -> None:
        self._send = send
        self._offload = offload
        self._photo = photo
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
        self.screens_changed: Signal[None] = Signal("screen.screens_changed")
        self.updated: Signal[int] = Signal("screen.updated")

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
        await self._send(ScreenSelect(index, jpeg=self._photo is not None))

    async def handle(self, msg: Message) -> bool:
        """Take the host's screen messages; False for any other message."""
        if isinstance(msg, ScreenList):
            self.screens = [ScreenInfo(e.index, e.name, e.width, e.height) for e in msg.screens]
            self.current = msg.current
            self.screens_changed.emit(None)
            return True
        if isinstance(msg, FrameTiles):
            await self._frame(msg)
            return True
        if isinstance(msg, Refused) and msg.what == "screen":
            self.problem = msg.reason
            self.screens_changed.emit(None)
            return True
        return False

    async def _frame(self, msg: FrameTiles) -> None:
        if msg.width * msg.height > self._max_pixels:
            _log.warning("ignored a %dx%d frame: too large", msg.width, msg.height)
        elif (msg.width, msg.height, msg.screen) != (
            self.width,
            self.height,
            self.screen,
        ) and not self._size_change_allowed():
            self.size_changes_dropped += 1
            if self.size_changes_dropped in (1, 100, 10_000):
                _log.warning(
                    "the host changes its frame size too often; %d frames dropped",
                    self.size_changes_dropped,
                )
        else:
            if (msg.width, msg.height, msg.screen) != (self.width, self.height, self.screen):
                self.width, self.height, self.screen = msg.width, msg.height, msg.screen
                needed = msg.width * msg.height * BYTES_PER_PIXEL
                if needed > len(self.buffer):
                    self.buffer = bytearray(needed)
                    self.allocations += 1
            decode = self._photo.decode if self._photo is not None else None
            problems: list[str] = await self._offload(
                paste_tiles, self.buffer, self.width, msg.tiles, self.height, decode
            )
            for p in problems[:3]:
                _log.warning("bad tile from the host: %s", p)
        if msg.final:
            # Acked even when ignored, so a host that sent nonsense is not stalled by it.
            self.last_seq = msg.seq
            self.frames_shown += 1
            self.updated.emit(msg.seq)
            await self._send(FrameAck(msg.seq))
