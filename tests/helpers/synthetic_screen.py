"""A screen source made of bytes the test controls, for hosts that run without a display."""

from __future__ import annotations

import math
import os
import random

from anydesk_invite.core.screen import BYTES_PER_PIXEL, RawFrame, ScreenInfo


class SyntheticScreen:
    """One or more screens whose pixels a test paints; ``random_every_grab`` makes every
    grab a new, incompressible picture (the worst case for the stream)."""

    def __init__(self, sizes: list[tuple[int, int]], *, random_every_grab: bool = False) -> None:
        self.sizes = list(sizes)
        self.pixels = [bytearray(w * h * BYTES_PER_PIXEL) for w, h in sizes]
        self.random_every_grab = random_every_grab
        self.grabs = 0

    def screens(self) -> list[ScreenInfo]:
        return [ScreenInfo(i, f"screen{i}", w, h) for i, (w, h) in enumerate(self.sizes)]

    def grab(self, index: int) -> RawFrame:
        self.grabs += 1
        w, h = self.sizes[index]
        if self.random_every_grab:
            self.pixels[index][:] = os.urandom(w * h * BYTES_PER_PIXEL)
        return RawFrame(w, h, w * BYTES_PER_PIXEL, bytes(self.pixels[index]))

    def fill(self, index: int, x: int, y: int, w: int, h: int, bgra: bytes) -> None:
        """Paint a rectangle in one colour."""
        width = self.sizes[index][0]
        row = bgra * w
        for r in range(y, y + h):
            start = (r * width + x) * BYTES_PER_PIXEL
            self.pixels[index][start : start + len(row)] = row

    def noise(self, index: int) -> None:
        self.pixels[index][:] = os.urandom(len(self.pixels[index]))


def photo_pixels(width: int, height: int, seed: int = 7) -> bytes:
    """Smooth light and colour with grain, as a photograph has: what zlib does badly."""
    rng = random.Random(seed)
    out = bytearray()
    for y in range(height):
        for x in range(width):
            v = 128 + 60 * math.sin(x / 9) + 50 * math.cos(y / 7)
            b, g, r = (max(0, min(255, int(v + k * 20 + rng.randint(-12, 12)))) for k in (0, 1, 2))
            out += bytes((b, g, r, 255))
    return bytes(out)
