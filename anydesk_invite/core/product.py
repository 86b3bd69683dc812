"""The name people see for this program: in window titles, prompts, the tray, email text, the
.desktop file and the AppStream metainfo. Neutral on purpose: it implies no affiliation with any
vendor, and it is not the Python package's name."""

from __future__ import annotations

DISPLAY_NAME = "LAN Invite"


def window_title(subject: str) -> str:
    """A top-level window's title: what it shows first, then the program's name."""
    return f"{subject} — {DISPLAY_NAME}" if subject else DISPLAY_NAME
