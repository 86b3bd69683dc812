"""The names remote control gives pointer buttons and modifier keys (on the wire and in the
facade alike), kept here so that the front ends can name them without loading the wire schema."""

from __future__ import annotations

from typing import Literal

PointerButtonName = Literal["left", "middle", "right", "back", "forward"]
Modifier = Literal["shift", "control", "alt", "meta"]
