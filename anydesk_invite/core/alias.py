"""Aliases (``name@ad``) and sanitising of names that come from other people."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ALIAS_SUFFIX = "@ad"
ALIAS_NAME_MAX = 25
_NAME_RE = re.compile(r"[0-9A-Za-z._-]+")


class AliasError(ValueError):
    """A text that is not a valid alias; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Alias:
    """An alias ``name@ad``: display and look-up only, it proves nothing."""

    name: str

    def __post_init__(self) -> None:
        if not self.name:
            raise AliasError("an alias needs a name before @ad")
        if len(self.name) > ALIAS_NAME_MAX:
            raise AliasError(f"an alias name has at most {ALIAS_NAME_MAX} characters")
        if not _NAME_RE.fullmatch(self.name):
            bad = next(ch for ch in self.name if not _NAME_RE.fullmatch(ch))
            raise AliasError(
                f"an alias name may hold only letters, digits, '-', '.' and '_' (not {bad!r})"
            )

    def __str__(self) -> str:
        return self.name + ALIAS_SUFFIX

    def key(self) -> str:
        """The form used for look-ups: case-insensitive."""
        return self.name.lower()


def parse_alias(text: str) -> Alias:
    """Parse ``name@ad`` (the suffix may be left off when typing)."""
    t = text.strip()
    if t.lower().endswith(ALIAS_SUFFIX):
        t = t[: -len(ALIAS_SUFFIX)]
    elif "@" in t:
        raise AliasError("an alias ends in @ad")
    return Alias(t)


def default_alias_name(hostname: str, user: str) -> str:
    """A valid alias name made from the user and host names."""
    raw = f"{user}-{hostname}" if user else hostname
    cleaned = "".join(ch if _NAME_RE.fullmatch(ch) else "-" for ch in raw).strip("-.")
    return (cleaned or "device")[:ALIAS_NAME_MAX]


_DISPLAY_MAX = 64


def sanitize_display(text: str, limit: int = _DISPLAY_MAX) -> str:
    """Make a name from a peer safe to show: no control, format (bidi) or unassigned chars."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        cat = unicodedata.category(ch)
        if cat[0] == "C" or cat in ("Zl", "Zp"):
            continue
        out.append(ch)
    return "".join(out).strip()[:limit]
