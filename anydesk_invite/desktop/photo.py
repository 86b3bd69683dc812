"""JPEG for photo-like screen tiles, through QImage (QtGui only; safe on worker threads).

The screen stream sends a tile as JPEG only where zlib does not pay (photos, video, noisy
gradients) and the guest said it decodes JPEG; see services/sessions/tiles.py.
"""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage

QUALITY = 80
"""JPEG quality: photos look right; text is never sent this way (zlib wins there)."""

_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01, *range(0xD0, 0xD9)}


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header, read before any decoder sees the data; None
    when there is none before the scan. A tile must not make the decoder build a huge image."""
    if not data.startswith(b"\xff\xd8"):
        return None
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _STANDALONE:
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if marker in _SOF:
            if i + 9 > n or length < 7:
                return None
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            return width, height
        if marker == 0xDA or length < 2:  # the scan starts: no frame header came
            return None
        i += 2 + length
    return None


class QtJpeg:
    """services.ports.PhotoCodec over Qt's JPEG plugin. Pixels are BGRA rows (RGB32)."""

    def __init__(self, quality: int = QUALITY) -> None:
        self.quality = quality

    def encode(self, bgra: bytes, width: int, height: int) -> bytes:
        image = QImage(bgra, width, height, width * 4, QImage.Format.Format_RGB32)
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if not image.save(buffer, "JPG", self.quality):
            raise ValueError("Qt cannot write JPEG here")
        buffer.close()
        return bytes(data.data())

    def decode(self, data: bytes, width: int, height: int) -> bytes | None:
        """The BGRA pixels, rows packed; None unless ``data`` is a JPEG of exactly that size."""
        if jpeg_size(data) != (width, height):
            return None
        image = QImage.fromData(data, "JPG")
        if image.isNull() or image.width() != width or image.height() != height:
            return None
        if image.format() != QImage.Format.Format_RGB32:
            image = image.convertToFormat(QImage.Format.Format_RGB32)
        row = width * 4
        bits = bytes(image.constBits())
        stride = image.bytesPerLine()
        if stride == row:
            return bits[: row * height]
        return b"".join(bits[r * stride : r * stride + row] for r in range(height))

    def available(self) -> bool:
        """Whether this Qt has a JPEG plugin (it is part of Qt's standard image formats)."""
        from PySide6.QtGui import QImageWriter

        return b"jpg" in [bytes(f.data()) for f in QImageWriter.supportedImageFormats()]
