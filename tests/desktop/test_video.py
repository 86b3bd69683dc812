"""The H.264 adapter over PyAV: a picture survives the round trip, and what a hostile host
could send (garbage, a stream of another size) gives an error or nothing, never a picture
bigger than the decoder was told."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from anydesk_invite.desktop import video as video_module
from anydesk_invite.desktop.video import (
    CABAC_BELOW,
    FAST_MIN_SIDE,
    H264Decoder,
    H264Encoder,
    PyAvVideo,
)

W, H = 320, 192


def picture(phase: int = 0) -> bytes:
    """A smooth BGRA picture that moves with ``phase``."""
    return b"".join(row_bytes(y, phase) for y in range(H))


def row_bytes(y: int, phase: int) -> bytes:
    return b"".join(bytes(((x + phase) % 256, (y * 2) % 256, 128, 255)) for x in range(W))


def psnr(a: bytes, b: bytes) -> float:
    import math

    assert len(a) == len(b)
    mse = sum((p - q) ** 2 for p, q in zip(a, b, strict=True)) / len(a)
    return 99.0 if mse == 0 else 10 * math.log10(255**2 / mse)


def test_a_picture_comes_back_close_to_the_original() -> None:
    video = PyAvVideo()
    enc = video.encoder(W, H, W, H, 2_000_000, 30)
    dec = video.decoder(W, H)
    shown = None
    pic = picture()
    for _ in range(3):
        data, _key = enc.encode(pic)
        shown = dec.decode(data, W, H)
    assert shown is not None and len(shown) == W * H * 4
    assert psnr(pic, shown) >= 30


def test_the_first_unit_is_a_keyframe() -> None:
    enc = PyAvVideo().encoder(W, H, W, H, 2_000_000, 30)
    assert enc.encode(picture())[1] is True
    assert enc.encode(picture(5))[1] is False


def test_a_scaled_stream_is_shown_at_the_size_asked() -> None:
    video = PyAvVideo()
    enc = video.encoder(W, H, W // 2, H // 2, 1_000_000, 30)
    dec = video.decoder(W // 2, H // 2)
    shown = dec.decode(enc.encode(picture())[0], W, H)
    assert shown is not None and len(shown) == W * H * 4


def test_garbage_is_an_error_not_a_picture() -> None:
    dec = PyAvVideo().decoder(W, H)
    with pytest.raises(ValueError, match=r"H\.264"):
        for _ in range(5):
            dec.decode(os.urandom(2000), W, H)


def test_a_stream_bigger_than_announced_gives_no_picture() -> None:
    video = PyAvVideo()
    big = video.encoder(640, 384, 640, 384, 2_000_000, 30).encode(b"\x80" * (640 * 384 * 4))[0]
    dec = video.decoder(W, H)
    try:
        shown = dec.decode(big, W, H)
    except ValueError:
        shown = None
    assert shown is None


def test_odd_picture_sides_are_refused() -> None:
    with pytest.raises(ValueError, match="even"):
        PyAvVideo().encoder(W, H, W - 1, H, 1_000_000, 30)


def nal_types(unit: bytes) -> list[int]:
    """The NAL unit types of an Annex B access unit."""
    return [unit[i + 3] & 0x1F for i in range(len(unit) - 3) if unit[i : i + 3] == b"\0\0\1"]


def test_only_the_first_picture_of_a_stream_is_a_keyframe_the_refresh_comes_in_slices() -> None:
    enc = H264Encoder(W, H, W, H, 2_000_000, 30, refresh=8)
    dec = H264Decoder(W, H)
    units = [enc.encode(picture(i * 3)) for i in range(20)]
    assert [key for _data, key in units] == [True] + [False] * 19
    # IDR (type 5) only in the first unit: past the refresh period no picture is a keyframe.
    assert [5 in nal_types(data) for data, _key in units] == [True] + [False] * 19
    shown = None
    for data, _key in units:
        shown = dec.decode(data, W, H)
    assert shown is not None and psnr(picture(19 * 3), shown) >= 30


def test_the_keyframe_takes_no_more_than_the_bytes_it_is_given() -> None:
    noise = os.urandom(W * H * 4)  # nothing to predict: the keyframe takes what it may
    bitrate = 4_000_000
    given = 40_000
    data, key = H264Encoder(W, H, W, H, bitrate, 30, keyframe_bytes=given).encode(noise)
    assert key
    assert len(data) <= given * 1.2
    # Without a limit the bitrate's VBV bounds it (0.9 s of 4 Mbit/s): well over those bytes.
    assert len(H264Encoder(W, H, W, H, bitrate, 30).encode(noise)[0]) > given * 2


def cabac(unit: bytes) -> bool:
    """The entropy_coding_mode_flag of the unit's picture parameter set (ids 0 and 0: two
    one-bit Exp-Golomb codes, then the flag)."""
    at = next(
        i for i in range(len(unit) - 4) if unit[i : i + 3] == b"\0\0\1" and unit[i + 3] & 0x1F == 8
    )
    bits = unit[at + 4]
    assert bits & 0xC0 == 0xC0, "a parameter set other than 0 over 0"
    return bool(bits & 0x20)


def test_a_stream_the_link_limits_codes_with_cabac_a_fast_one_with_cavlc() -> None:
    slow = H264Encoder(W, H, W, H, CABAC_BELOW - 1, 30).encode(picture())[0]
    fast = H264Encoder(W, H, W, H, CABAC_BELOW, 30).encode(picture())[0]
    assert cabac(slow)
    assert not cabac(fast)


def test_the_fast_conversion_differs_from_the_stable_one_by_rounding_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert min(W, H) >= FAST_MIN_SIDE
    pictures = [picture(i * 7) for i in range(3)]

    def encoded() -> list[bytes]:
        enc = H264Encoder(W, H, W, H, 4_000_000, 30)
        return [enc.encode(pic)[0] for pic in pictures]

    def shown(units: list[bytes]) -> bytes:
        dec = H264Decoder(W, H)
        out = [dec.decode(unit, W, H) for unit in units]
        assert out[-1] is not None
        return bytes(out[-1])

    units = encoded()
    fast = shown(units)
    monkeypatch.setattr(video_module, "_fast", lambda width, height: False)
    stable = shown(units)
    assert max(abs(a - b) for a, b in zip(fast, stable, strict=True)) <= 4
    # Either way round, the picture is as close to the original.
    assert psnr(pictures[-1], fast) >= 30
    assert abs(psnr(pictures[-1], shown(encoded())) - psnr(pictures[-1], stable)) < 1


def test_small_pictures_take_the_stable_conversion() -> None:
    """swscale's experimental conversion crashes on some small pictures (12 pixels wide, to
    BGRA), so below FAST_MIN_SIDE a side the stable one runs. In a child process: the
    failure is a crash."""
    code = (
        "from anydesk_invite.desktop.video import H264Decoder, H264Encoder\n"
        "for w, h in ((12, 64), (18, 2), (2, 2)):\n"
        "    data, key = H264Encoder(w, h, w, h, 1_000_000, 30).encode(b'@' * (w * h * 4))\n"
        "    shown = H264Decoder(w, h).decode(data, w, h)\n"
        "    print(key and shown is not None and len(shown) == w * h * 4)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True"] * 3
