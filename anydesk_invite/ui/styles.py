"""The few colours the windows share, so an error looks the same everywhere."""

from __future__ import annotations

from PySide6.QtGui import QColor

ERROR_COLOR = "#b00020"
ERROR_STYLE = f"color: {ERROR_COLOR};"
"""Every error text: one colour in every window."""

NOTE_STYLE = "color: #555555;"
"""Secondary text (notes, progress) that is not an error."""

MIN_CONTRAST = 4.5
"""WCAG AA for normal text: every text at least this far from its background."""


def luminance(color: QColor) -> float:
    """Relative luminance (WCAG 2) of an opaque colour."""

    def channel(v: int) -> float:
        x = v / 255
        return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(color.red())
        + 0.7152 * channel(color.green())
        + 0.0722 * channel(color.blue())
    )


def contrast(a: QColor, b: QColor) -> float:
    """The WCAG contrast ratio of two opaque colours, 1 to 21."""
    lighter, darker = sorted((luminance(a), luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def mixed(top: QColor, bottom: QColor, amount: float) -> QColor:
    """``top`` at ``amount`` (0..1) opacity over ``bottom``, as one opaque colour."""
    return QColor.fromRgbF(
        top.redF() * amount + bottom.redF() * (1 - amount),
        top.greenF() * amount + bottom.greenF() * (1 - amount),
        top.blueF() * amount + bottom.blueF() * (1 - amount),
    )


def readable_fill(fill: QColor, text: QColor, ratio: float = MIN_CONTRAST) -> QColor:
    """``fill``, darkened (under light text) or lightened (under dark text) just enough that
    ``text`` on it reaches ``ratio``: a theme's selection colour stays recognisable."""
    toward = QColor("black") if luminance(text) > 0.18 else QColor("white")
    amount = 0.0
    out = QColor(fill)
    while contrast(out, text) < ratio and amount < 1.0:
        amount = min(1.0, amount + 0.05)
        out = mixed(toward, fill, amount)
    return out


def muted_text(text: QColor, background: QColor, ratio: float = MIN_CONTRAST) -> QColor:
    """Secondary text: ``text`` faded toward ``background``, but never below ``ratio``."""
    for amount in (0.68, 0.76, 0.84, 0.92):
        out = mixed(text, background, amount)
        if contrast(out, background) >= ratio:
            return out
    return QColor(text)
