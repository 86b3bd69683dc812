"""The screen's tiles, both sides: the host cuts a frame into tiles, finds those that changed
and encodes them; the guest decodes them and pastes them into its frame buffer.

Each frame is cut into ``tile`` x ``tile`` squares; only squares that differ from the previous
frame are sent (rows are compared first, a memcmp per scanline, so a still desktop costs ~1 ms
a grab and sends nothing).

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

import zlib
from collections.abc import Callable
from typing import Final

from anydesk_invite.core.screen import BYTES_PER_PIXEL, RawFrame
from anydesk_invite.net.wire import Tile, TileEncoding

TILE: Final = 64
CHUNK_LIMIT: Final = 512 * 1024
"""Bytes of tile data per FrameTiles message, far below the post-auth frame limit."""
_TILE_OVERHEAD: Final = 32
"""MessagePack bytes around one tile's data (array header, coordinates, encoding name)."""

PHOTO_SHARE: Final = 0.5
"""A tile whose zlib output keeps more than this share of its raw bytes is photo-like."""
PHOTO_MIN_SIDE: Final = 8
"""JPEG works in 8x8 blocks; a thinner edge tile stays lossless."""

TileEncoder = Callable[[bytes], tuple[TileEncoding, bytes]]
PhotoEncoder = Callable[[bytes, int, int], bytes]
PhotoDecoder = Callable[[bytes, int, int], bytes | None]


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
