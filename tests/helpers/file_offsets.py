"""Where this process reads an open file next, from /proc (Linux): how a test sees how far a
reader thread has read without asking the reader."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def read_offset(path: Path) -> int | None:
    """Where this process's open descriptor of ``path`` reads next (None: not open)."""
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                for line in Path(f"/proc/self/fdinfo/{fd}").read_text().splitlines():
                    if line.startswith("pos:"):
                        return int(line.split()[1])
    return None


def offset_is(path: Path, expected: int) -> bool:
    return read_offset(path) == expected
