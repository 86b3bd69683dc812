"""Aliases (``name@ad``) and sanitising of names that come from other people.

One grammar holds wherever an alias is typed or received (Hello, discovery TXT, address
book): a name of ASCII letters, digits, ``-``, ``_`` and ``.``, 1-25 characters, not all
digits (so it cannot pass for an ID), then ``@ad``; names compare case-insensitively. A
received alias outside it is refused, never cleaned up: cleaning could make two different
aliases equal (a stripped zero-width character) or keep a look-alike.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ALIAS_SUFFIX = "@ad"
ALIAS_NAME_MAX = 25
_NAME_RE = re.compile(r"[0-9A-Za-z._-]+", re.ASCII)
_RECEIVED_RE = re.compile(rf"([0-9A-Za-z._-]{{1,{ALIAS_NAME_MAX}}})@ad", re.ASCII)


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
        if self.name.isdigit():
            raise AliasError("an alias name cannot be all digits (it would look like an ID)")

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


def parse_received_alias(text: str) -> Alias:
    """An alias from another device (Hello, discovery, stored entries), exactly ``name@ad``.

    No trimming, no case folding of the suffix, nothing removed: anything that is not the
    grammar word for word raises AliasError.
    """
    m = _RECEIVED_RE.fullmatch(text)
    if m is None:
        shown = text[:40].encode("unicode_escape").decode("ascii")
        raise AliasError(f"'{shown}' is not an alias (name@ad, ASCII letters, digits, -_.)")
    return Alias(m.group(1))


def default_alias_name(hostname: str, user: str) -> str:
    """A valid alias name made from the user and host names."""
    raw = f"{user}-{hostname}" if user else hostname
    cleaned = "".join(ch if _NAME_RE.fullmatch(ch) else "-" for ch in raw).strip("-.")
    name = (cleaned or "device")[:ALIAS_NAME_MAX]
    return f"pc-{name}"[:ALIAS_NAME_MAX] if name.isdigit() else name


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


def escape_invisible(text: str) -> str:
    """Text with every control, format (bidi, zero-width, BOM) and line/paragraph separator
    character shown as its escape (``\\u202e``), so nothing hidden changes what a reader sees."""
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
