"""Values the repositories share: fingerprints, aliases as stored, manual addresses, tags."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import TypeVar

from anydesk_invite.core.alias import Alias, AliasError, parse_received_alias
from anydesk_invite.core.ids import FINGERPRINT_LENGTH
from anydesk_invite.storage.errors import (
    StorageValueError,
)

T = TypeVar("T")


def check_fingerprint(fingerprint: bytes | None) -> None:
    if fingerprint is not None and len(fingerprint) != FINGERPRINT_LENGTH:
        raise StorageValueError(f"a fingerprint is {FINGERPRINT_LENGTH} bytes")


def alias_text(alias: Alias | None) -> str | None:
    return None if alias is None else str(alias)


def alias_from(text: str | None) -> Alias | None:
    if not text:
        return None
    try:
        return parse_received_alias(text)
    except AliasError:
        # A stored alias that no longer parses is only a display hint; drop it, keep the row.
        return None


_HOSTNAME_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def parse_manual_address(text: str) -> str:
    """Check a ``host:port`` address and return it in normal form.

    The host is an IPv4 address, a bracketed IPv6 address (``[fe80::1]:7000``) or a
    host name; the port is 1..65535.
    """
    t = text.strip()
    if t.startswith("["):
        host, sep, rest = t[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise StorageValueError(f"{text!r}: write an IPv6 address as [address]:port")
        port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host.split("%")[0])
        except ValueError:
            raise StorageValueError(f"{text!r}: {host!r} is not an IPv6 address") from None
        shown = f"[{host}]"
    else:
        host, sep, port_text = t.rpartition(":")
        if not sep or not host:
            raise StorageValueError(f"{text!r}: an address is host:port")
        if ":" in host:
            raise StorageValueError(f"{text!r}: write an IPv6 address as [address]:port")
        if not _valid_host(host):
            raise StorageValueError(f"{text!r}: {host!r} is not a host name or IPv4 address")
        shown = host.lower()
    if not port_text.isascii() or not port_text.isdigit():
        raise StorageValueError(f"{text!r}: the port is a number from 1 to 65535")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise StorageValueError(f"{text!r}: the port is a number from 1 to 65535")
    return f"{shown}:{port}"


def _valid_host(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
        return True
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253:
        return False
    labels = name.split(".")
    # An all-numeric dotted name that failed as IPv4 (e.g. 300.1.1.1) is a typo, not a host.
    if all(label.isdigit() for label in labels):
        return False
    return all(_HOSTNAME_LABEL.fullmatch(label) for label in labels)


TAG_MAX = 40
NOTE_MAX = 2000
DISPLAY_NAME_MAX = 64


def clean_tags(tags: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for tag in tags:
        t = tag.strip()
        if not t:
            raise StorageValueError("a tag may not be empty")
        if len(t) > TAG_MAX:
            raise StorageValueError(f"a tag has at most {TAG_MAX} characters")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in t):
            raise StorageValueError("a tag may not hold control characters")
        if t.casefold() not in (o.casefold() for o in out):
            out.append(t)
    return tuple(out)
