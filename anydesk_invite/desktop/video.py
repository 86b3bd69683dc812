"""H.264 for the moving parts of the shared screen, through PyAV (FFmpeg's libx264 encoder and
h264 decoder, both in PyAV's wheels). libx264 is GPL, as this project is.

The encoder runs ``preset=ultrafast tune=zerolatency`` (no B-frames, no look-ahead: a frame
goes out as soon as it is encoded), ~11-30 ms a 1920x1080 frame on a shared 2-core machine,
High 4:4:4 Predictive profile (YUV 4:4:4), constant quality capped by the paced bitrate, one
keyframe a stream (within the bytes it is given) and a periodic intra refresh after it.
``bench/screen_video.py --codec`` prints the figures behind the settings below. Both sides
are plain objects without Qt, safe to call from a worker thread (one thread at a time each).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Final

import av
from av.codec import CodecContext
from av.video.reformatter import Interpolation, VideoReformatter

_log = logging.getLogger(__name__)

CODEC = "h264"
PIXELS = "yuv444p"
PRESET = "ultrafast"
VBV_SECONDS = 1.0
"""How many seconds of the bitrate one picture may take at most. Half a second starves the
stream after its keyframe (a 1080p screen of text wants ~1 MiB as a keyframe): the pictures
that follow stay about as blurred as it was, since a scroll moves them without new detail.
Scrolling text at 30 pictures a second, crf 20 (``bench/screen_video.py --codec``): 8 Mbit/s
over 0.5 s 34.8 dB PSNR (26 dB after the keyframe), over 1 s 37.1 dB; 12 Mbit/s over 1 s
41.8 dB at 30 KiB a picture."""
CRF = 23
"""x264's constant quality: scrolling 1080p text at 30 pictures a second, 12 Mbit/s over 1 s:
39 dB PSNR at 23 KiB a picture (crf 20: 41.8 dB at 30 KiB; crf 26: 36.4 dB at 18 KiB).
yuv420p would lose ~5 dB on coloured text whatever the crf (its chroma is shared by 2x2
pixels: 34.8 dB by the conversion alone)."""
VBV_INIT = 0.9
"""How full the VBV starts (x264's default): a stream's first picture, its keyframe, may take
this share of VBV_SECONDS of the bitrate, unless the encoder is given fewer bytes for it."""
CABAC_BELOW = 8_000_000
"""Bitrates below which the encoder codes with CABAC, not ultrafast's CAVLC. Below it the
link, not the CPU, limits the stream, and CABAC is ~15 % smaller at the same quality: scrolling
1080p text at 3.3 Mbit/s, 20 pictures a second, 32.2 dB instead of 29.6 at the same bytes, for
~2.5 ms more to encode and ~3 ms more to decode a picture. Above it a picture's size follows
the crf, not the bitrate, and the CPU is better spent on pictures."""
REFRESH_PICTURES = 300
"""Pictures over which a column of intra blocks sweeps the picture (x264's periodic intra
refresh), instead of a keyframe every so many pictures: each picture carries a slice of
the refresh, none a whole keyframe's worth of bytes (a 1080p text keyframe is ~815 KiB, ~30
pictures' worth). Over TCP nothing is lost, so the refresh only bounds the drift."""


SAME_SIZE_FAST: Final = Interpolation.POINT | Interpolation(1 << 20)
"""Flags for a conversion between BGRA and planar YUV 4:4:4 of the same size: swscale's
SWS_UNSTABLE (1 << 20), its newer conversion code with SIMD kernels for these formats, where
the older one has none (``bench/screen_video.py --convert``: 1920x1080 BGRA to yuv444p 4.7 ->
1.9 ms, yuv444p to BGRA 7.9 -> 2.3 ms). Its output differs from the older code's by rounding
only (at most 4 levels, 49-52 dB between them, either side with either). FFmpeg marks that
code experimental, and in the build PyAV 18 ships it crashes on some pictures under 64
pixels a side (2 rows of BGRA; 12 pixels wide to BGRA), so it is used only from
FAST_MIN_SIDE up, and never to scale."""
FAST_MIN_SIDE: Final = 64


def _fast(width: int, height: int) -> bool:
    return width >= FAST_MIN_SIDE and height >= FAST_MIN_SIDE


def _packed(frame: av.VideoFrame, width: int, height: int) -> bytes | memoryview:
    """The frame's first plane as ``height`` rows of ``width`` BGRA pixels, no padding (a view
    of the plane when its rows have none)."""
    plane = frame.planes[0]
    row = width * 4
    if plane.line_size == row:
        return memoryview(plane)[: row * height]
    data = bytes(plane)
    stride = plane.line_size
    return b"".join(data[r * stride : r * stride + row] for r in range(height))


class H264Encoder:
    """One stream: BGRA pictures of ``width`` x ``height`` in, H.264 access units of
    ``out_width`` x ``out_height`` (even sides; scaled when smaller) out.

    The BGRA picture and the converter to YUV are made once per stream, not per picture."""

    def __init__(
        self,
        width: int,
        height: int,
        out_width: int,
        out_height: int,
        bitrate: int,
        fps: float,
        refresh: int = REFRESH_PICTURES,
        keyframe_bytes: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if out_width % 2 or out_height % 2 or out_width < 2 or out_height < 2:
            raise ValueError(f"H.264 needs even picture sides, not {out_width}x{out_height}")
        self.width, self.height = width, height
        self.out_width, self.out_height = out_width, out_height
        kbit = max(1, bitrate // 1000)
        vbv_kbit = max(1, round(kbit * VBV_SECONDS))
        # The keyframe fits in the VBV's initial fill: sized to ``keyframe_bytes`` this way.
        init = VBV_INIT
        if keyframe_bytes > 0:
            init = min(VBV_INIT, max(0.05, keyframe_bytes * 8 / 1000 / vbv_kbit))
        ctx = CodecContext.create("libx264", "w")
        ctx.width, ctx.height = out_width, out_height
        # 4:4:4: coloured text keeps its colour (4:2:0 smears it over 2x2 pixels).
        ctx.pix_fmt = PIXELS
        ctx.bit_rate = bitrate
        ctx.time_base = Fraction(1, 1000)
        ctx.framerate = Fraction(max(1, round(fps)), 1)
        ctx.gop_size = refresh
        ctx.thread_count = 2
        ctx.options = {
            "preset": PRESET,
            "tune": "zerolatency",
            # Quality first (crf), capped at the bitrate over VBV_SECONDS, so a frame never
            # bursts far over what the link was said to carry, the keyframe at the stream's
            # start within its bytes; no keyframe after it (intra refresh).
            "x264-params": (
                f"crf={CRF}:vbv-maxrate={kbit}:vbv-bufsize={vbv_kbit}:vbv-init={init:.3f}"
                f":intra-refresh=1:keyint={refresh}:cabac={int(bitrate < CABAC_BELOW)}"
            ),
        }
        self._ctx = ctx
        self._pts = -1
        self._clock = clock
        self._t0 = clock()
        self._force_key = True
        self._bgra = av.VideoFrame(width, height, "bgra")
        self._to_yuv = VideoReformatter()

    def encode(self, bgra: bytes | memoryview) -> tuple[bytes, bool]:
        """One picture (packed BGRA rows) in; its access unit and whether it is a keyframe."""
        frame = self._bgra
        plane = frame.planes[0]
        row = self.width * 4
        if plane.line_size == row:
            plane.update(bgra)
        else:
            pad = b"\0" * (plane.line_size - row)
            plane.update(b"".join(bgra[r * row : (r + 1) * row] + pad for r in range(self.height)))
        same = (self.out_width, self.out_height) == (self.width, self.height)
        yuv = self._to_yuv.reformat(
            frame,
            width=self.out_width,
            height=self.out_height,
            format=PIXELS,
            interpolation=SAME_SIZE_FAST if same and _fast(self.width, self.height) else None,
            threads=1,
        )
        # Time stamps in real milliseconds, so the rate control spends its bitrate over the
        # pictures actually sent (fewer when the stream slows), not over an assumed 30 a second.
        now = round((self._clock() - self._t0) * 1000)
        self._pts = max(self._pts + 1, now)
        yuv.pts = self._pts
        key = self._force_key
        if key:
            yuv.pict_type = av.video.frame.PictureType.I
            self._force_key = False
        packets = self._ctx.encode(yuv)
        data = b"".join(bytes(p) for p in packets)
        # x264 flags the start of each intra refresh as a key picture too, but only the first
        # decodes on its own (an IDR).
        return data, key and any(p.is_keyframe for p in packets)

    def close(self) -> None:
        self._ctx = None  # type: ignore[assignment]


class H264Decoder:
    """One stream from its keyframe on. Refuses pictures other than ``width`` x ``height``:
    FFmpeg's ``max_pixels`` is set to that area (padded), so a hostile stream cannot make the
    decoder allocate more, and a picture of another size is dropped."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        ctx = CodecContext.create(CODEC, "r")
        # FFmpeg checks its padded picture (rows aligned to 64 pixels here), not the visible one.
        padded = -(-width // 64) * 64 * (-(-height // 32) * 32)
        ctx.options = {"max_pixels": str(padded)}
        ctx.thread_count = 1
        self._ctx = ctx
        self._to_rgb = VideoReformatter()
        self._to_bgra = VideoReformatter()

    def decode(self, data: bytes, out_width: int, out_height: int) -> bytes | memoryview | None:
        """The picture of this access unit as packed BGRA rows of ``out_width`` x
        ``out_height`` (scaled); None when it does not decode to a picture of the stream's
        size. Raises ValueError for data that is not H.264."""
        try:
            frames = self._ctx.decode(av.Packet(data))
        except (av.error.FFmpegError, ValueError) as exc:
            raise ValueError(f"not an H.264 access unit: {exc}") from None
        if not frames:
            return None
        picture = frames[-1]
        if (picture.width, picture.height) != (self.width, self.height):
            return None
        same = (out_width, out_height) == (self.width, self.height)
        if same and picture.format.name == PIXELS and _fast(self.width, self.height):
            out = self._to_bgra.reformat(
                picture, format="bgra", interpolation=SAME_SIZE_FAST, threads=1
            )
            return _packed(out, out_width, out_height)
        if same and picture.format.name == PIXELS:
            # swscale's older code has no fast path from planar 4:4:4 YUV to packed BGRA;
            # through planar RGB (a plain conversion, then a byte shuffle) costs a fifth less.
            picture = self._to_rgb.reformat(
                picture, format="gbrp", interpolation="POINT", threads=1
            )
        out = self._to_bgra.reformat(
            picture, width=out_width, height=out_height, format="bgra", threads=1
        )
        return _packed(out, out_width, out_height)


class PyAvVideo:
    """services.ports.VideoCodec over PyAV's libx264 and h264."""

    name = CODEC

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
        return H264Encoder(
            width, height, out_width, out_height, bitrate, fps, keyframe_bytes=keyframe_bytes
        )

    def decoder(self, width: int, height: int) -> H264Decoder:
        return H264Decoder(width, height)

    @staticmethod
    def available() -> bool:
        """Whether this FFmpeg has both libx264 and the h264 decoder."""
        try:
            av.codec.Codec("libx264", "w")
            av.codec.Codec(CODEC, "r")
        except Exception as exc:  # an FFmpeg built without them
            _log.info("H.264 is not available: %s", exc)
            return False
        return True
