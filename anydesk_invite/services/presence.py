"""How this device shows itself: its alias, the addresses it listens on, LAN discovery and
the organisation's DNS discovery, and the Status the front ends show of all that."""

from __future__ import annotations

import logging
from collections.abc import Callable

from anydesk_invite.core.policy import DiscoveryMode, Policy
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.discovery import Discovery
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.records import OwnRecord
from anydesk_invite.net.wide_area import WideAreaDiscovery
from anydesk_invite.services.directory import PeerDirectory
from anydesk_invite.services.facade import Status
from anydesk_invite.services.invitations import Target
from anydesk_invite.services.refusals import RefusalKind, RefusedWithKind
from anydesk_invite.services.wide_area import WideAreaChoice, wide_area_choice
from anydesk_invite.storage.db import Database
from anydesk_invite.storage.errors import SettingError
from anydesk_invite.storage.settings import StoredSettings
from anydesk_invite.storage.tsig_secret import TsigSecretError, TsigSecretStore

_log = logging.getLogger(__name__)


class Presence:
    """The alias and discovery in force, and the listen addresses.

    Signals: status_changed (Status: the new status, after any change of these).
    """

    def __init__(
        self,
        *,
        identity: Identity,
        db: Database,
        policy: Callable[[], Policy],
        directory: PeerDirectory,
        interfaces: tuple[str, ...],
        discovery: Discovery | None,
        discovery_mode: DiscoveryMode,
        wide_area: WideAreaDiscovery | None,
        tsig_store: TsigSecretStore,
        key_location: str,
        key_warning: str | None,
        home: str,
        default_alias: str,
    ) -> None:
        self._identity = identity
        self._db = db
        self._policy = policy
        self._directory = directory
        self._interfaces = interfaces
        self._discovery = discovery
        self._discovery_mode = discovery_mode
        self._wide_area = wide_area
        self._tsig_store = tsig_store
        self._key_location = key_location
        self._key_warning = key_warning
        self._home = home
        stored_alias = db.settings.get(StoredSettings.ALIAS)
        self._alias = str(stored_alias) if stored_alias else f"{default_alias}@ad"
        self._listening: tuple[tuple[str, int], ...] = ()
        self.status_changed: Signal[Status] = Signal("presence.status_changed")
        if wide_area is not None:
            wide_area.status_changed.connect(lambda _: self.announce())

    @property
    def alias(self) -> str:
        return self._alias

    @property
    def discovery_mode(self) -> DiscoveryMode:
        """The discovery mode chosen (the policy may narrow what runs)."""
        return self._discovery_mode

    def policy(self) -> Policy:
        """The administrator's policy in force."""
        return self._policy()

    def set_listening(self, addresses: list[tuple[str, int]]) -> None:
        self._listening = tuple(addresses)

    def announce(self) -> None:
        self.status_changed.emit(self.status())

    async def start(self) -> None:
        if self._discovery is not None and self._listening:
            mode = self._policy().effective_discovery(self._discovery_mode)
            await self._discovery.start(mode, self._own_record())
        if self._wide_area is not None and self._listening:
            await self._apply_wide_area()

    async def stop(self) -> None:
        if self._discovery is not None:
            await self._discovery.stop()
        if self._wide_area is not None:
            await self._wide_area.stop()

    async def policy_changed(self, policy: Policy) -> None:
        if self._discovery is not None and self._listening:
            await self._discovery.set_mode(policy.effective_discovery(self._discovery_mode))
        if self._wide_area is not None and self._listening:
            await self._apply_wide_area()

    async def change(self, alias: str, discovery_mode: DiscoveryMode) -> None:
        """Show this alias, discover in this mode, and run DNS discovery as now stored."""
        changed_alias = alias != self._alias
        self._alias = alias
        self._discovery_mode = discovery_mode
        if self._discovery is not None and self._listening:
            if changed_alias:
                await self._discovery.update_record(self._own_record())
            await self._discovery.set_mode(self._policy().effective_discovery(discovery_mode))
        if self._wide_area is not None and self._listening:
            await self._apply_wide_area()

    def _own_record(self) -> OwnRecord:
        port = self._listening[0][1] if self._listening else 0
        return OwnRecord(self._identity.device_id, self._alias, self._identity.fingerprint, port)

    def _wide_area_choice(self) -> WideAreaChoice:
        try:
            chosen = self._db.settings.get(StoredSettings.WIDE_AREA)
        except SettingError as exc:
            _log.warning("wide-area discovery: %s", exc)
            chosen = self._db.settings.WIDE_AREA.default
        return wide_area_choice(self._policy(), chosen, self._tsig_store)

    async def _apply_wide_area(self) -> None:
        """Run DNS discovery with the settings in force now, in the LAN discovery's mode."""
        assert self._wide_area is not None
        choice = self._wide_area_choice()
        await self._wide_area.reconfigure(choice.settings, choice.secret, choice.problem)
        mode = self._policy().effective_discovery(self._discovery_mode)
        if self._wide_area.mode_wanted is DiscoveryMode.OFF and mode is not DiscoveryMode.OFF:
            await self._wide_area.start(mode, self._own_record())
        else:
            await self._wide_area.update_record(self._own_record())
            await self._wide_area.set_mode(mode)

    async def set_tsig_secret(self, key_name: str, secret: str) -> str:
        """Keep the secret of a TSIG key (keyring, else the home's 0600 file); where it went."""
        try:
            where = self._tsig_store.set(key_name, secret)
        except (TsigSecretError, OSError) as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        if self._wide_area is not None and self._listening:
            await self._apply_wide_area()
        return where

    async def resolve(self, target: str, confirm: str | None) -> Target:
        """Resolve what was typed; a peer not known yet may be in the DNS: ask it once now."""
        try:
            return self._directory.resolve(target, confirm)
        except RefusedWithKind as exc:
            if self._wide_area is None or exc.kind not in (
                RefusalKind.UNKNOWN,
                RefusalKind.OFFLINE,
            ):
                raise
        await self._wide_area.browse_now()
        return self._directory.resolve(target, confirm)

    def status(self) -> Status:
        policy = self._policy()
        mode = policy.effective_discovery(self._discovery_mode)
        if self._discovery is None:
            mode = DiscoveryMode.OFF
        return Status(
            device_id=self._identity.device_id,
            alias=self._alias,
            fingerprint=self._identity.fingerprint,
            online=bool(self._listening),
            listen_addresses=tuple(f"{h}:{p}" for h, p in self._listening),
            discovery=mode,
            interfaces=self._interfaces,
            key_location=self._key_location,
            key_warning=self._key_warning,
            policy_broken=policy.broken,
            accept_from=policy.effective_accept_from(
                self._db.settings.get(StoredSettings.ACCEPT_FROM)
            ),
            home=self._home,
            wide_area=self._wide_area.status if self._wide_area is not None else "off",
        )
