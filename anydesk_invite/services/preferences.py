"""The user's settings: read, checked and kept, and put in force where they act (the alias and
discovery through Presence, received files through the file transfers)."""

from __future__ import annotations

import logging
from pathlib import Path

from anydesk_invite.core.alias import AliasError, parse_alias
from anydesk_invite.core.wide_area import WideAreaError, WideAreaSettings
from anydesk_invite.services.facade import Settings
from anydesk_invite.services.presence import Presence
from anydesk_invite.services.profiles import Profiles
from anydesk_invite.services.refusals import RefusalKind, RefusedWithKind
from anydesk_invite.services.sessions.files import FileTransfers
from anydesk_invite.storage.db import Database
from anydesk_invite.storage.errors import SettingError, StorageValueError
from anydesk_invite.storage.settings import StoredSettings

_log = logging.getLogger(__name__)


class Preferences:
    """Settings as the settings dialog and the control API change them.

    Puts the stored folder for received files and size limit in force when built; what the
    transfers were built with holds while no setting is stored.
    """

    def __init__(
        self,
        db: Database,
        presence: Presence,
        profiles: Profiles,
        transfers: FileTransfers,
    ) -> None:
        self._db = db
        self._presence = presence
        self._profiles = profiles
        self._transfers = transfers
        self._transfer_defaults = (transfers.incoming_folder, transfers.size_limit)
        self._apply_transfer_settings()

    def settings(self) -> Settings:
        s = self._db.settings
        return Settings(
            alias=self._presence.alias,
            accept_from=s.get(StoredSettings.ACCEPT_FROM),
            discovery=self._presence.discovery_mode,
            # The stored choice, not the running one: an --interface given for this run must
            # not become permanent when the user saves another setting.
            interfaces=s.get(StoredSettings.INTERFACES),
            default_profile=s.get(StoredSettings.DEFAULT_PROFILE),
            keep_running_in_background=s.get(StoredSettings.KEEP_RUNNING_IN_BACKGROUND),
            incoming_folder=self._stored_folder(),
            wide_area=self._stored_wide_area(),
        )

    def _stored_wide_area(self) -> WideAreaSettings:
        try:
            return self._db.settings.get(StoredSettings.WIDE_AREA)
        except SettingError:
            return WideAreaSettings()

    def _stored_folder(self) -> str:
        try:
            return self._db.settings.get(StoredSettings.INCOMING_FOLDER) or ""
        except SettingError:
            return ""

    async def update_settings(self, settings: Settings) -> None:
        """Check every setting, keep them all, and put them in force; a refused change keeps
        none of them."""
        try:
            alias = parse_alias(settings.alias)
        except AliasError as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        # Checked before anything is written, so a refused change leaves no half.
        default_profile = self._profiles.get(settings.default_profile).name
        try:
            wide_area = settings.wide_area.checked()
        except WideAreaError as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        folder = settings.incoming_folder.strip()
        if folder and not Path(folder).expanduser().is_absolute():
            raise RefusedWithKind(
                RefusalKind.INVALID, f"the folder for received files must be absolute: {folder}"
            )
        s = self._db.settings
        s.set(StoredSettings.ALIAS, alias)
        s.set(StoredSettings.ACCEPT_FROM, settings.accept_from)
        s.set(StoredSettings.DISCOVERY, settings.discovery)
        s.set(StoredSettings.INTERFACES, settings.interfaces)
        s.set(StoredSettings.DEFAULT_PROFILE, default_profile)
        s.set(StoredSettings.KEEP_RUNNING_IN_BACKGROUND, settings.keep_running_in_background)
        s.set(StoredSettings.WIDE_AREA, wide_area)
        if folder != self._stored_folder():
            self.set_incoming_folder(folder or None)
        await self._presence.change(str(alias), settings.discovery)
        self._presence.announce()

    def set_incoming_folder(self, folder: str | None) -> None:
        """Save received files in this absolute folder from now on (kept); None: Downloads."""
        s = self._db.settings
        try:
            if folder is None:
                s.reset(StoredSettings.INCOMING_FOLDER)
            else:
                s.set(StoredSettings.INCOMING_FOLDER, str(Path(folder).expanduser()))
        except StorageValueError as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        self._apply_transfer_settings()

    def set_transfer_size_limit(self, limit: int | None) -> None:
        """Refuse incoming files over ``limit`` bytes from now on (kept); None: the default."""
        s = self._db.settings
        try:
            if limit is None:
                s.reset(StoredSettings.TRANSFER_SIZE_LIMIT)
            else:
                s.set(StoredSettings.TRANSFER_SIZE_LIMIT, limit)
        except StorageValueError as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        self._apply_transfer_settings()

    def _apply_transfer_settings(self) -> None:
        s = self._db.settings
        try:
            folder = s.get(StoredSettings.INCOMING_FOLDER)
        except SettingError as exc:
            # A damaged setting must not stop the client: say so and use the default.
            _log.warning("%s; received files go to the default folder", exc)
            folder = None
        try:
            limit = s.get(StoredSettings.TRANSFER_SIZE_LIMIT)
        except SettingError as exc:
            _log.warning("%s; the default size limit holds", exc)
            limit = None
        default_folder, default_limit = self._transfer_defaults
        self._transfers.incoming_folder = Path(folder) if folder else default_folder
        self._transfers.size_limit = limit if limit is not None else default_limit
