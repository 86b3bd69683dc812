"""One Xvfb for tests, benches and scripts, and PSNR to compare what two sides show.

`xvfb()` starts a private X server on a free display number (Xvfb picks it and writes it to a
pipe once it accepts clients) with ``-noreset``, so the server does not reset when its last
client leaves and refuse the next one ("could not connect to display"). The fixtures skip a
test where Xvfb is missing or does not start, except in CI (``CI=true``), where that is a
failure: CI installs Xvfb (scripts/bootstrap.sh), so a display that does not come up there is
a broken set-up, not a reason to pass.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

WIDTH, HEIGHT = 1280, 800


class XvfbUnavailable(RuntimeError):
    """Xvfb is not installed or did not start."""


@contextmanager
def xvfb(width: int = WIDTH, height: int = HEIGHT) -> Iterator[str]:
    """A private Xvfb of ``width`` x ``height`` pixels; yields its display name (":N")."""
    if shutil.which("Xvfb") is None:
        raise XvfbUnavailable("Xvfb is not installed (scripts/bootstrap.sh --test installs it)")
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24",
         "-nolisten", "tcp", "-noreset"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write)
    try:
        with os.fdopen(read) as f:
            number = f.readline().strip()
        if not number:
            raise XvfbUnavailable(f"Xvfb did not start (exit code {proc.poll()})")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


@contextmanager
def display_for_tests(width: int = WIDTH, height: int = HEIGHT) -> Iterator[str]:
    """`xvfb()` for a test: skipped where Xvfb cannot run, a failure in CI."""
    try:
        server = xvfb(width, height)
        name = server.__enter__()
    except XvfbUnavailable as exc:
        if in_ci():
            pytest.fail(f"{exc} (in CI a display is required)")
        pytest.skip(str(exc))
    try:
        yield name
    finally:
        server.__exit__(None, None, None)


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    """An X display of 1280x800 for one test."""
    with display_for_tests() as name:
        yield name


@pytest.fixture(scope="module")
def xvfb_module_display() -> Iterator[str]:
    """An X display of 1280x800 shared by a test module's tests."""
    with display_for_tests() as name:
        yield name


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
