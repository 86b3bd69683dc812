"""The few colours the windows share, so an error looks the same everywhere."""

from __future__ import annotations

ERROR_COLOR = "#b00020"
ERROR_STYLE = f"color: {ERROR_COLOR};"
"""Every error text: one colour in every window."""

NOTE_STYLE = "color: #555555;"
"""Secondary text (notes, progress) that is not an error."""
