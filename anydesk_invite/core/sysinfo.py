"""System information a host may share with a guest (pure data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SystemInformation:
    os: str
    hostname: str
    cpu: str
    cpu_count: int
    memory_total: int
    """Bytes."""
    screens: tuple[str, ...]
