"""Custom permission profiles."""

from __future__ import annotations

import json
import sqlite3
from typing import TypeVar

from anydesk_invite.core.permissions import (
    BUILTIN_PROFILES,
    Permission,
    PermissionProfile,
    permission_keys,
    permissions_from_keys,
    validate_profile_name,
)
from anydesk_invite.storage.errors import (
    StorageValueError,
)
from anydesk_invite.storage.migrations import transaction

T = TypeVar("T")

# --- custom profiles -----------------------------------------------------------------------


class CustomProfiles:
    """The user's own permission profiles. Built-in names are refused."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def save(self, profile: PermissionProfile) -> PermissionProfile:
        """Create the profile, or replace the permissions of the one with this name."""
        name = self._valid_name(profile.name)
        with transaction(self._conn):
            self._conn.execute(
                "INSERT INTO profiles (name, permissions) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET permissions = excluded.permissions",
                (name, json.dumps(permission_keys(profile.permissions))),
            )
        return PermissionProfile(name, frozenset(profile.permissions))

    def rename(self, old: str, new: str) -> PermissionProfile:
        name = self._valid_name(new)
        with transaction(self._conn):
            row = self._conn.execute(
                "SELECT name, permissions FROM profiles WHERE name = ?", (old.strip(),)
            ).fetchone()
            if row is None:
                raise StorageValueError(f"there is no custom profile {old!r}")
            clash = self._conn.execute(
                "SELECT 1 FROM profiles WHERE name = ? AND name != ?", (name, row[0])
            ).fetchone()
            if clash is not None:
                raise StorageValueError(f"a profile named {name!r} exists already")
            self._conn.execute("UPDATE profiles SET name = ? WHERE name = ?", (name, row[0]))
        return PermissionProfile(name, stored_permissions(row[1]))

    def delete(self, name: str) -> bool:
        with transaction(self._conn):
            cur = self._conn.execute("DELETE FROM profiles WHERE name = ?", (name.strip(),))
        return cur.rowcount > 0

    def list(self) -> list[PermissionProfile]:
        rows = self._conn.execute(
            "SELECT name, permissions FROM profiles ORDER BY name COLLATE NOCASE"
        ).fetchall()
        return [PermissionProfile(n, stored_permissions(p)) for n, p in rows]

    @staticmethod
    def _valid_name(name: str) -> str:
        try:
            n = validate_profile_name(name)
        except ValueError as exc:
            raise StorageValueError(str(exc)) from None
        if any(b.name.casefold() == n.casefold() for b in BUILTIN_PROFILES):
            raise StorageValueError(f"{n!r} is a built-in profile")
        return n


def stored_permissions(text: str) -> frozenset[Permission]:
    return permissions_from_keys(json.loads(text))
