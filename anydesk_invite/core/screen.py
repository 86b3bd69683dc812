"""Screens and captured frames as plain data, shared by the screen adapter and the stream."""

from __future__ import annotations

from dataclasses import dataclass

BYTES_PER_PIXEL = 4
"""Frames are 32-bit BGRA in memory order (Qt's RGB32 on a little-endian machine)."""


@dataclass(frozen=True, slots=True)
class ScreenInfo:
    index: int
    name: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class RawFrame:
    """One captured screen: ``height`` rows of ``stride`` bytes, each starting with
    ``width`` BGRA pixels (a row may carry padding after them)."""

    width: int
    height: int
    stride: int
    data: bytes

    def __post_init__(self) -> None:
        if self.width < 0 or self.height < 0 or self.stride < self.width * BYTES_PER_PIXEL:
            raise ValueError(f"bad frame geometry {self.width}x{self.height} stride {self.stride}")
        if len(self.data) < self.stride * self.height:
            raise ValueError("frame data shorter than its geometry")


def frame_point(
    x: float, y: float, shown: tuple[int, int, int, int], width: int, height: int
) -> tuple[int, int] | None:
    """The frame pixel under view point (x, y), where the frame of ``width`` x ``height``
    pixels is drawn scaled into ``shown`` = (left, top, w, h); None outside it."""
    left, top, w, h = shown
    if w <= 0 or h <= 0 or width <= 0 or height <= 0:
        return None
    if not (left <= x < left + w and top <= y < top + h):
        return None
    fx = int((x - left) * width / w)
    fy = int((y - top) * height / h)
    return min(max(fx, 0), width - 1), min(max(fy, 0), height - 1)
