"""Permissions a host grants a guest, and the profiles that bundle them.

Viewing the screen is implicit in every session and not a permission of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Permission(StrEnum):
    """One thing a guest may do in a session. The value is the wire and policy key."""

    CONTROL = "control"
    CLIPBOARD = "clipboard"
    FILE_TRANSFER = "file_transfer"
    SYSTEM_INFO = "system_info"
    DRAW = "draw"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Permission.CONTROL: "Control keyboard and mouse",
    Permission.CLIPBOARD: "Clipboard",
    Permission.FILE_TRANSFER: "File transfer",
    Permission.SYSTEM_INFO: "System information",
    Permission.DRAW: "Draw on screen",
}

ALL_PERMISSIONS: frozenset[Permission] = frozenset(Permission)


class PermissionError_(ValueError):
    """An unknown permission or profile name, or a forbidden profile change."""


def parse_permission(text: str) -> Permission:
    key = text.strip().lower().replace("-", "_")
    try:
        return Permission(key)
    except ValueError:
        known = ", ".join(p.value for p in Permission)
        raise PermissionError_(f"unknown permission {text!r} (known: {known})") from None


def permissions_from_keys(keys: Iterable[str]) -> frozenset[Permission]:
    return frozenset(parse_permission(k) for k in keys)


def permission_keys(perms: Iterable[Permission]) -> list[str]:
    """Sorted keys, the canonical order on the wire and in output."""
    return sorted(p.value for p in perms)


FULL_ACCESS = "Full Access"
DEFAULT = "Default"
SCREEN_SHARING = "Screen Sharing"
PROFILE_NAME_MAX = 40
_PROFILE_NAME_RE = re.compile(r"[^\x00-\x1f\x7f]+")


@dataclass(frozen=True, slots=True)
class PermissionProfile:
    """A named set of permissions. Built-in profiles cannot be renamed or deleted."""

    name: str
    permissions: frozenset[Permission] = field(default_factory=frozenset)
    builtin: bool = False


BUILTIN_PROFILES: tuple[PermissionProfile, ...] = (
    PermissionProfile(FULL_ACCESS, ALL_PERMISSIONS, builtin=True),
    PermissionProfile(DEFAULT, ALL_PERMISSIONS - {Permission.FILE_TRANSFER}, builtin=True),
    PermissionProfile(SCREEN_SHARING, frozenset(), builtin=True),
)


def validate_profile_name(name: str) -> str:
    n = name.strip()
    if not n:
        raise PermissionError_("a profile needs a name")
    if len(n) > PROFILE_NAME_MAX:
        raise PermissionError_(f"a profile name has at most {PROFILE_NAME_MAX} characters")
    if not _PROFILE_NAME_RE.fullmatch(n):
        raise PermissionError_("a profile name may not hold control characters")
    return n


class ProfileBook:
    """Built-in and custom profiles, with the rules for changing them (pure, no storage)."""

    def __init__(self, custom: Iterable[PermissionProfile] = ()) -> None:
        self._custom: dict[str, PermissionProfile] = {}
        for p in custom:
            if self._is_builtin(p.name):
                # A stored custom profile may never shadow a built-in one.
                raise PermissionError_(f"a custom profile may not be named {p.name!r}")
            self._custom[p.name.casefold()] = PermissionProfile(p.name, p.permissions)

    def all(self) -> list[PermissionProfile]:
        return [*BUILTIN_PROFILES, *sorted(self._custom.values(), key=lambda p: p.name.casefold())]

    def custom(self) -> list[PermissionProfile]:
        return sorted(self._custom.values(), key=lambda p: p.name.casefold())

    def get(self, name: str) -> PermissionProfile:
        key = name.strip().casefold()
        for p in BUILTIN_PROFILES:
            if p.name.casefold() == key:
                return p
        try:
            return self._custom[key]
        except KeyError:
            known = ", ".join(p.name for p in self.all())
            raise PermissionError_(f"unknown profile {name!r} (known: {known})") from None

    def _is_builtin(self, name: str) -> bool:
        # Strip as get() does, or " Default " would slip past the guard and shadow a built-in.
        key = name.strip().casefold()
        return any(p.name.casefold() == key for p in BUILTIN_PROFILES)

    def create(self, name: str, permissions: Iterable[Permission]) -> PermissionProfile:
        n = validate_profile_name(name)
        if self._is_builtin(n) or n.casefold() in self._custom:
            raise PermissionError_(f"a profile named {n!r} exists already")
        prof = PermissionProfile(n, frozenset(permissions))
        self._custom[n.casefold()] = prof
        return prof

    def update(self, name: str, permissions: Iterable[Permission]) -> PermissionProfile:
        if self._is_builtin(name):
            raise PermissionError_(f"the built-in profile {name!r} cannot be changed")
        old = self.get(name)
        prof = PermissionProfile(old.name, frozenset(permissions))
        self._custom[old.name.casefold()] = prof
        return prof

    def rename(self, old: str, new: str) -> PermissionProfile:
        if self._is_builtin(old):
            raise PermissionError_(f"the built-in profile {old!r} cannot be renamed")
        prof = self.get(old)
        n = validate_profile_name(new)
        if n.casefold() != prof.name.casefold() and (
            self._is_builtin(n) or n.casefold() in self._custom
        ):
            raise PermissionError_(f"a profile named {n!r} exists already")
        del self._custom[prof.name.casefold()]
        renamed = PermissionProfile(n, prof.permissions)
        self._custom[n.casefold()] = renamed
        return renamed

    def delete(self, name: str) -> None:
        if self._is_builtin(name):
            raise PermissionError_(f"the built-in profile {name!r} cannot be deleted")
        prof = self.get(name)
        del self._custom[prof.name.casefold()]


def profile_matching(book: ProfileBook, perms: frozenset[Permission]) -> str | None:
    """The name of the first profile granting exactly these permissions, if any."""
    for p in book.all():
        if p.permissions == perms:
            return p.name
    return None
