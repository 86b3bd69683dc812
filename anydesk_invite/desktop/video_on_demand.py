"""H.264 that loads PyAV (and FFmpeg with it) on first use, not when the client starts.

A services.ports.VideoCodec like desktop.video.PyAvVideo, which it hands each call to: the
main window appears without PyAV's ~0.1-0.2 s of loading (bench/startup.py), and a session's
first video stream pays it instead. ``check()`` says whether this FFmpeg can do H.264; the
composition root calls it once the main window is up and logs a missing codec, and from then
on encoders and decoders are refused with that reason (ValueError). The name on the wire stays
"h264" whatever the check finds: PyAV's wheels carry both, and the peers learn it before the
check could run.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anydesk_invite.desktop.video import H264Decoder, H264Encoder, PyAvVideo

CODEC = "h264"
"""desktop.video.CODEC, without loading that module."""


class VideoOnDemand:
    """services.ports.VideoCodec over desktop.video.PyAvVideo, imported on the first call."""

    name = CODEC

    def __init__(self) -> None:
        self._lock = threading.Lock()  # encoders and decoders are made on worker threads
        self._codec: PyAvVideo | None = None
        self._missing = False
        """check() found no H.264 in this FFmpeg: encoders and decoders are refused."""

    def _loaded(self) -> PyAvVideo:
        with self._lock:
            if self._codec is None:
                from anydesk_invite.desktop.video import PyAvVideo

                self._codec = PyAvVideo()
            return self._codec

    def loaded(self) -> bool:
        """Whether PyAV has been loaded (by a call, or by check())."""
        return self._codec is not None

    def check(self) -> bool:
        """Load PyAV now; whether this FFmpeg has both libx264 and the h264 decoder."""
        usable = self._loaded().available()
        self._missing = not usable
        return usable

    def _usable(self) -> PyAvVideo:
        codec = self._loaded()
        if self._missing:
            raise ValueError("H.264 is not available in this FFmpeg")
        return codec

    def encoder(
        self,
        width: int,
        height: int,
        out_width: int,
        out_height: int,
        bitrate: int,
        fps: float,
        keyframe_bytes: int = 0,
    ) -> H264Encoder:
        return self._usable().encoder(
            width, height, out_width, out_height, bitrate, fps, keyframe_bytes
        )

    def decoder(self, width: int, height: int) -> H264Decoder:
        return self._usable().decoder(width, height)
