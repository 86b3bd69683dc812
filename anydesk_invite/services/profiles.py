"""The permission profiles a user keeps (Full access, View only, their own ones)."""

from __future__ import annotations

from anydesk_invite.core.permissions import (
    Permission,
    PermissionError_,
    PermissionProfile,
    ProfileBook,
)
from anydesk_invite.services.refusals import RefusalKind, RefusedWithKind
from anydesk_invite.storage.db import Database
from anydesk_invite.storage.settings import StoredSettings


class Profiles:
    """The profiles kept in the database, checked by core.permissions.ProfileBook."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def book(self) -> ProfileBook:
        return ProfileBook(self._db.profiles.list())

    def all(self) -> list[PermissionProfile]:
        return self.book().all()

    def default_name(self) -> str:
        """The profile a connection request is accepted with when none is chosen."""
        return self._db.settings.get(StoredSettings.DEFAULT_PROFILE)

    def get(self, name: str) -> PermissionProfile:
        """The profile of that name; refused (INVALID) when there is none."""
        try:
            return self.book().get(name)
        except PermissionError_ as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None

    async def save(self, name: str, permissions: frozenset[Permission]) -> None:
        """Create the profile, or change the permissions of the one of that name."""
        book = self.book()
        try:
            try:
                book.get(name)
                prof = book.update(name, permissions)
            except PermissionError_:
                prof = book.create(name, permissions)
        except PermissionError_ as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        self._db.profiles.save(prof)

    async def delete(self, name: str) -> None:
        try:
            self.book().delete(name)
        except PermissionError_ as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        self._db.profiles.delete(name)
