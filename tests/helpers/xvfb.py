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
