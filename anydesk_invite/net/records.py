"""What a device announces about itself and what is found of others, on the LAN (discovery.py)
and in the organisation's DNS (wide_area.py) alike: the record, the peer found, and the checks
every TXT record passes (a record is only a hint; identity is proven on connect)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from anydesk_invite.core.alias import (
    ALIAS_NAME_MAX,
    ALIAS_SUFFIX,
    AliasError,
    parse_received_alias,
)
from anydesk_invite.core.ids import FINGERPRINT_LENGTH, DeviceId, IdError

_ALIAS_MAX = ALIAS_NAME_MAX + len(ALIAS_SUFFIX)
_VERSION_RE = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}")
MAX_TXT_BYTES = 400
"""A TXT record's keys and values together; ours is about 130. Larger ones are ignored."""
MAX_TXT_KEYS = 16


@dataclass(frozen=True, slots=True)
class OwnRecord:
    """What this client announces about itself."""

    device_id: DeviceId
    alias: str
    fingerprint: bytes
    port: int
    version: str = "1.0"


@dataclass(frozen=True, slots=True)
class DiscoveredPeer:
    """A peer seen on the LAN. A hint only: connect to prove who it is."""

    device_id: DeviceId
    alias: str
    fingerprint: bytes
    addresses: tuple[str, ...]
    port: int
    version: str
    instance: str


class TxtError(ValueError):
    """A discovery record whose TXT is not valid; the message says why."""


def _text(props: Mapping[str, bytes | None], key: str) -> str:
    raw = props.get(key)
    if raw is None:
        raise TxtError(f"no {key!r} in TXT")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TxtError(f"{key!r} is not UTF-8") from None


def parse_txt(properties: Mapping[bytes, bytes | None]) -> tuple[str, DeviceId, str, bytes]:
    """Check a TXT record: (version, device ID, display alias, fingerprint), or TxtError."""
    if len(properties) > MAX_TXT_KEYS:
        raise TxtError(f"TXT has {len(properties)} keys, at most {MAX_TXT_KEYS}")
    size = sum(len(k) + len(v or b"") for k, v in properties.items())
    if size > MAX_TXT_BYTES:
        raise TxtError(f"TXT is {size} bytes, at most {MAX_TXT_BYTES}")
    props = {k.decode("ascii", "replace").lower(): v for k, v in properties.items()}
    version = _text(props, "v")
    if not _VERSION_RE.fullmatch(version):
        raise TxtError(f"bad protocol version {version[:20]!r}")
    fp_hex = _text(props, "fp")
    if len(fp_hex) != 2 * FINGERPRINT_LENGTH:
        raise TxtError(f"fingerprint is {2 * FINGERPRINT_LENGTH} hex digits, not {len(fp_hex)}")
    try:
        fingerprint = bytes.fromhex(fp_hex)
    except ValueError:
        raise TxtError("fingerprint is not hex") from None
    id_text = _text(props, "id")
    try:
        device_id = DeviceId(id_text)
    except IdError as e:
        raise TxtError(f"bad ID {id_text[:20]!r}: {e}") from None
    if DeviceId.from_fingerprint(fingerprint) != device_id:
        raise TxtError(f"ID {device_id} does not derive from fingerprint {fp_hex[:12]}…")
    alias_raw = _text(props, "alias")
    if len(alias_raw) > _ALIAS_MAX:
        raise TxtError(f"alias is {len(alias_raw)} characters, at most {_ALIAS_MAX}")
    try:
        alias = str(parse_received_alias(alias_raw))
    except AliasError as exc:
        raise TxtError(str(exc)) from None
    return version, device_id, alias, fingerprint


def instance_label(record: OwnRecord, instance_tag: str = "") -> str:
    """The DNS-SD instance name (without the service type) for our record."""
    return f"{record.alias}-{record.fingerprint.hex()[:12]}{instance_tag}"
