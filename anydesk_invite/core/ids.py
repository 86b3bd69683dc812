"""Device IDs: a ten-digit locator derived from a key fingerprint, ending in a Damm check digit.

The ID is derived, not chosen: nine payload digits come from the first eight bytes of the
SHA-256 fingerprint of the device's public key, and a Damm check digit follows. Damm catches
every single mistyped digit and every swap of two neighbouring digits. An ID proves nothing
on its own (nine digits can be searched for); peers are identified by fingerprint.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

ID_LENGTH = 10
_PAYLOAD_DIGITS = ID_LENGTH - 1
_PAYLOAD_MIN = 10 ** (_PAYLOAD_DIGITS - 1)
_PAYLOAD_SPAN = 9 * _PAYLOAD_MIN
FINGERPRINT_LENGTH = 32

# The quasigroup of H. Michael Damm's 2004 thesis (weakly totally anti-symmetric, zero diagonal).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


class IdError(ValueError):
    """A text that is not a valid device ID; the message says what is wrong."""


def damm_check_digit(digits: str) -> int:
    """The Damm check digit for a string of decimal digits."""
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][ord(ch) - 48]
    return interim


def damm_valid(digits: str) -> bool:
    """True when the last digit is the Damm check digit of the others."""
    return damm_check_digit(digits) == 0


@dataclass(frozen=True, slots=True, order=True)
class DeviceId:
    """A device ID: ten digits, the last one a check digit."""

    digits: str

    def __post_init__(self) -> None:
        if len(self.digits) != ID_LENGTH or not self.digits.isascii() or not self.digits.isdigit():
            raise IdError(f"an ID has {ID_LENGTH} digits")
        if not damm_valid(self.digits):
            raise IdError("the check digit does not match (typo?)")

    def grouped(self) -> str:
        """The ID grouped for reading: ``1 234 567 890``."""
        d = self.digits
        return f"{d[0]} {d[1:4]} {d[4:7]} {d[7:10]}"

    def __str__(self) -> str:
        return self.digits

    @classmethod
    def from_fingerprint(cls, fingerprint: bytes) -> DeviceId:
        """Derive the ID of the key with this SHA-256 fingerprint (see docs/PROTOCOL.md)."""
        if len(fingerprint) != FINGERPRINT_LENGTH:
            raise IdError("a fingerprint is 32 bytes")
        payload = _PAYLOAD_MIN + int.from_bytes(fingerprint[:8], "big") % _PAYLOAD_SPAN
        text = str(payload)
        return cls(text + str(damm_check_digit(text)))


_SEPARATORS = re.compile(r"[\s\-_.]+")


def parse_id(text: str) -> DeviceId:
    """Parse an ID typed by a person: grouped or plain, spaces and dashes allowed.

    Raises IdError with a message a person can act on.
    """
    compact = _SEPARATORS.sub("", text.strip())
    if not compact:
        raise IdError("enter an ID")
    if not compact.isascii() or not compact.isdigit():
        raise IdError("an ID has only digits")
    if len(compact) < ID_LENGTH:
        raise IdError(f"an ID has {ID_LENGTH} digits; this has {len(compact)}")
    if len(compact) > ID_LENGTH:
        raise IdError(f"an ID has {ID_LENGTH} digits; this has {len(compact)}")
    return DeviceId(compact)


def looks_like_id(text: str) -> bool:
    """True when the text is digits and separators only (so it is meant as an ID)."""
    compact = _SEPARATORS.sub("", text.strip())
    return bool(compact) and compact.isascii() and compact.isdigit()


def fingerprint_of(public_key_der: bytes) -> bytes:
    """SHA-256 over a DER SubjectPublicKeyInfo: the identity of a peer."""
    return hashlib.sha256(public_key_der).digest()


def short_fingerprint(fingerprint: bytes) -> str:
    """The first 8 bytes of a fingerprint as four groups of hex, for people to compare."""
    h = fingerprint[:8].hex().upper()
    return " ".join(h[i : i + 4] for i in range(0, 16, 4))


def fingerprint_confirmed(fingerprint: bytes, confirm: str | None) -> bool:
    """True when ``confirm`` (hex, spaces allowed, at least 16 digits) starts the fingerprint."""
    if not confirm:
        return False
    text = "".join(confirm.split()).lower()
    if len(text) < 16 or any(c not in "0123456789abcdef" for c in text):
        return False
    return fingerprint.hex().startswith(text)


def verification_code(fp_a: bytes, fp_b: bytes) -> str:
    """A six-digit code both sides of a first contact can compare (order-independent)."""
    lo, hi = sorted((fp_a, fp_b))
    value = int.from_bytes(hashlib.sha256(b"adinvite-verify\x00" + lo + hi).digest()[:8], "big")
    text = f"{value % 1_000_000:06d}"
    return f"{text[:3]} {text[3:]}"
