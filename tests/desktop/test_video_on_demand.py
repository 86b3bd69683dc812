"""H.264 loaded on first use: the same pictures as PyAV directly, and a clear refusal where
this FFmpeg has no H.264."""

from __future__ import annotations

import pytest

from anydesk_invite.desktop.video import PyAvVideo
from anydesk_invite.desktop.video_on_demand import VideoOnDemand
from tests.desktop.test_video import H, W, picture, psnr


def test_a_picture_comes_back_through_the_codec_loaded_on_first_use() -> None:
    video = VideoOnDemand()
    assert video.name == PyAvVideo.name
    assert not video.loaded()
    enc = video.encoder(W, H, W, H, 2_000_000, 30)
    assert video.loaded()
    dec = video.decoder(W, H)
    shown = None
    for _ in range(3):
        data, _key = enc.encode(picture())
        shown = dec.decode(data, W, H) or shown
    assert shown is not None and psnr(shown, picture()) > 30


def test_without_h264_in_ffmpeg_encoders_and_decoders_are_refused_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An FFmpeg built without libx264 cannot be had here: its availability check says so.
    monkeypatch.setattr(PyAvVideo, "available", staticmethod(lambda: False))
    video = VideoOnDemand()
    assert video.check() is False
    with pytest.raises(ValueError, match=r"H\.264 is not available"):
        video.encoder(W, H, W, H, 2_000_000, 30)
    with pytest.raises(ValueError, match=r"H\.264 is not available"):
        video.decoder(W, H)
