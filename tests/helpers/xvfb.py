"""An Xvfb display for end-to-end tests, and PSNR to compare what two sides show."""

from __future__ import annotations

import math
import os
import subprocess
from collections.abc import Iterator

import pytest


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as f:
            number = f.readline().strip()
        if not number:
            pytest.skip("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(10)


def psnr(a: bytes, b: bytes, pixels: int, step: int = 5) -> float:
    """PSNR over the B, G, R bytes of every ``step``-th pixel (pure Python)."""
    total = 0
    count = 0
    for i in range(0, pixels * 4, 4 * step):
        for c in range(3):
            d = a[i + c] - b[i + c]
            total += d * d
        count += 3
    mse = total / count
    return math.inf if mse == 0 else 10 * math.log10(255 * 255 / mse)


PATTERN_WIDGET = """
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QFont, QLinearGradient, QPainter, QRadialGradient
from PySide6.QtWidgets import QWidget


class Pattern(QWidget):
    \"\"\"A test pattern of gradients and text, for a host screen to share.\"\"\"

    def paintEvent(self, event):
        p = QPainter(self)
        w, h = self.width(), self.height()
        g = QLinearGradient(0, 0, w, 0)
        for at, c in ((0, "#000000"), (0.3, "#ff0000"), (0.6, "#00ff80"), (1, "#ffffff")):
            g.setColorAt(at, QColor(c))
        p.fillRect(QRect(0, 0, w, h // 3), g)
        r = QRadialGradient(w / 2, h / 2, w / 3)
        r.setColorAt(0, QColor("#ffee00"))
        r.setColorAt(1, QColor("#0020a0"))
        p.fillRect(QRect(0, h // 3, w, h // 3), r)
        p.fillRect(QRect(0, 2 * h // 3, w, h - 2 * h // 3), QColor("white"))
        p.setPen(QColor("black"))
        p.setFont(QFont("DejaVu Sans", 14))
        for i in range(8):
            y = 2 * h // 3 + 30 + i * 28
            p.drawText(20, y, f"Line {i}: The quick brown fox 0123456789")
"""
"""Python source of a full-window test pattern, to start in a subprocess on an X display."""
