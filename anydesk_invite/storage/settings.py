"""The settings registry: each typed setting (its key, default and JSON form) and
StoredSettings, which reads and writes them in the database's settings table."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from anydesk_invite.core.alias import Alias, parse_alias
from anydesk_invite.core.permissions import (
    DEFAULT,
    validate_profile_name,
)
from anydesk_invite.core.policy import (
    AcceptFrom,
    DiscoveryMode,
    parse_accept_from,
    parse_discovery_mode,
)
from anydesk_invite.core.wide_area import WideAreaSettings
from anydesk_invite.storage.errors import SettingError, StorageValueError
from anydesk_invite.storage.migrations import transaction

T = TypeVar("T")


def _alias_text(alias: Alias | None) -> str | None:
    return None if alias is None else str(alias)


@dataclass(frozen=True, slots=True)
class Setting(Generic[T]):
    """A typed settings key: its name, default, and how its value becomes JSON and back.

    ``decode`` raises ValueError on a value it cannot read; it also checks values to set.
    """

    key: str
    default: T
    encode: Callable[[T], object] = field(repr=False)
    decode: Callable[[object], T] = field(repr=False)


def _str_value(v: object) -> str:
    if not isinstance(v, str):
        raise ValueError("expected text")
    return v


def _bool_value(v: object) -> bool:
    if not isinstance(v, bool):
        raise ValueError("expected true or false")
    return v


def _tri_state(v: object) -> bool | None:
    return None if v is None else _bool_value(v)


def _alias_value(v: object) -> Alias | None:
    return None if v is None else parse_alias(_str_value(v))


def _interfaces_value(v: object) -> tuple[str, ...]:
    if not isinstance(v, list | tuple):
        raise ValueError("expected a list of interfaces")
    out: list[str] = []
    for item in v:
        name = _str_value(item).strip()
        if not name or len(name) > 64 or any(ch.isspace() or ord(ch) < 32 for ch in name):
            raise ValueError(f"{item!r} is not an interface name or address")
        out.append(name)
    return tuple(out)


def _lifetime_value(v: object) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= 3600:
        raise ValueError("expected seconds between 0 and 3600")
    return float(v)


def _folder_value(v: object) -> str | None:
    if v is None:
        return None
    text = _str_value(v)
    if not text.startswith("/") and not (len(text) > 2 and text[1] == ":"):
        raise ValueError(f"{text!r} is not an absolute folder path")
    if "\x00" in text or len(text) > 4096:
        raise ValueError("not a usable folder path")
    return text


def _byte_count_value(v: object) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not 0 < v < 2**63:
        raise ValueError("expected a positive number of bytes")
    return v


def _profile_name_value(v: object) -> str:
    return validate_profile_name(_str_value(v))


class StoredSettings:
    """Typed settings stored as JSON text. Unknown keys in the table are left alone."""

    ALIAS: Setting[Alias | None] = Setting("alias", None, _alias_text, _alias_value)
    """None until the user picks one; services then make one from user and host names."""
    ACCEPT_FROM: Setting[AcceptFrom] = Setting(
        "accept_from",
        AcceptFrom.EVERYONE,
        lambda v: v.key,
        lambda v: parse_accept_from(_str_value(v)),
    )
    DISCOVERY: Setting[DiscoveryMode] = Setting(
        "discovery",
        DiscoveryMode.ON,
        lambda v: v.key,
        lambda v: parse_discovery_mode(_str_value(v)),
    )
    INTERFACES: Setting[tuple[str, ...]] = Setting("interfaces", (), list, _interfaces_value)
    """Interfaces (names or addresses) to listen and announce on; empty means automatic."""
    DEFAULT_PROFILE: Setting[str] = Setting(
        "default_profile", DEFAULT, lambda v: v, _profile_name_value
    )
    SEND_CLIPBOARD_DEFAULT: Setting[bool] = Setting(
        "send_clipboard_default", False, lambda v: v, _bool_value
    )
    KEEP_RUNNING_IN_BACKGROUND: Setting[bool | None] = Setting(
        "keep_running_in_background", None, lambda v: v, _tri_state
    )
    """None: the user has not been asked yet."""
    INVITATION_LIFETIME_FOR_TESTS: Setting[float | None] = Setting(
        "invitation_lifetime_for_tests", None, lambda v: v, _lifetime_value
    )
    """Tests only: a shorter invitation lifetime in seconds; None is the real 120 s."""
    INCOMING_FOLDER: Setting[str | None] = Setting(
        "incoming_folder", None, lambda v: v, _folder_value
    )
    """Absolute folder where received files are saved; None is the platform's Downloads."""
    TRANSFER_SIZE_LIMIT: Setting[int | None] = Setting(
        "transfer_size_limit", None, lambda v: v, _byte_count_value
    )
    """The largest file this device receives, in bytes; None is the services' default."""
    WIDE_AREA: Setting[WideAreaSettings] = Setting(
        "wide_area", WideAreaSettings(), lambda v: v.to_json(), WideAreaSettings.from_json
    )
    """Discovery through the organisation's DNS; the TSIG secret is never here."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, setting: Setting[T]) -> T:
        row = self._conn.execute(
            "SELECT value FROM settings WHERE key = ?", (setting.key,)
        ).fetchone()
        if row is None:
            return setting.default
        try:
            return setting.decode(json.loads(row[0]))
        except ValueError as exc:
            raise SettingError(
                f"the setting {setting.key!r} holds {row[0]!r}, which is not valid ({exc}); "
                "set it again to repair it"
            ) from None

    def set(self, setting: Setting[T], value: T) -> None:
        """Store a value; a value its decoder refuses raises StorageValueError."""
        text = json.dumps(setting.encode(value))
        try:
            setting.decode(json.loads(text))
        except ValueError as exc:
            raise StorageValueError(f"{setting.key}: {exc}") from None
        with transaction(self._conn):
            self._conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (setting.key, text),
            )

    def reset(self, setting: Setting[T]) -> None:
        """Go back to the default."""
        with transaction(self._conn):
            self._conn.execute("DELETE FROM settings WHERE key = ?", (setting.key,))
