"""QtJpeg, the JPEG codec for photo-like screen tiles: round trip, size, hostile input, threads."""

from __future__ import annotations

import threading

import pytest

from anydesk_invite.desktop.photo import QtJpeg, jpeg_size
from tests.helpers.synthetic_screen import photo_pixels
from tests.helpers.xvfb import psnr


def test_a_photo_tile_comes_back_close_and_far_smaller() -> None:
    codec = QtJpeg()
    assert codec.available()
    pixels = photo_pixels(64, 64)
    data = codec.encode(pixels, 64, 64)
    assert data[:2] == b"\xff\xd8"  # a JPEG
    assert len(data) < len(pixels) // 4
    back = codec.decode(data, 64, 64)
    assert back is not None and len(back) == len(pixels)
    assert psnr(pixels, back, 64 * 64, step=1) >= 30


def test_only_a_jpeg_of_exactly_the_announced_size_decodes() -> None:
    codec = QtJpeg()
    data = codec.encode(photo_pixels(64, 48), 64, 48)
    assert jpeg_size(data) == (64, 48)
    assert codec.decode(data, 64, 48) is not None
    assert codec.decode(data, 48, 64) is None
    assert codec.decode(data, 64, 64) is None
    assert codec.decode(b"\xff\xd8 not really a jpeg", 64, 48) is None
    assert codec.decode(b"", 64, 48) is None
    assert codec.decode(b"\x89PNG\r\n", 64, 48) is None


def test_a_tile_claiming_a_huge_picture_is_refused_before_any_decoder_sees_it() -> None:
    codec = QtJpeg()
    data = bytearray(codec.encode(photo_pixels(64, 64), 64, 64))
    i = data.index(b"\xff\xc0")  # the frame header: height, then width, at +5 and +7
    data[i + 5 : i + 9] = (65000).to_bytes(2, "big") + (65000).to_bytes(2, "big")
    assert jpeg_size(bytes(data)) == (65000, 65000)
    assert codec.decode(bytes(data), 64, 64) is None


@pytest.mark.qt_log_ignore("Corrupt JPEG data", "Premature end of JPEG")
def test_a_truncated_jpeg_gives_no_pixels_or_only_its_own_size() -> None:
    codec = QtJpeg()
    data = codec.encode(photo_pixels(64, 64), 64, 64)
    back = codec.decode(data[: len(data) // 2], 64, 64)
    assert back is None or len(back) == 64 * 64 * 4


def test_the_codec_works_on_worker_threads_at_once() -> None:
    codec = QtJpeg()
    pixels = photo_pixels(64, 64)
    results: list[bytes | None] = []

    def work() -> None:
        for _ in range(20):
            results.append(codec.decode(codec.encode(pixels, 64, 64), 64, 64))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 80 and all(r is not None and len(r) == len(pixels) for r in results)
