"""A ClientFacade for UI tests: it holds plain lists and records every call made to it.

It does no networking and decides nothing; a test sets `refuse` to make the next calls raise
`Refused`, and changes `peer_list` then calls `changed_peers()` to play a peers_changed event.
"""

from __future__ import annotations

import hashlib
from typing import Any

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.permissions import BUILTIN_PROFILES, Permission, PermissionProfile
from anydesk_invite.core.policy import AcceptFrom, DiscoveryMode, Policy
from anydesk_invite.core.signal import Signal
from anydesk_invite.services.facade import Refused, Settings, Status
from anydesk_invite.services.views import (
    InvitationView,
    PeerSource,
    PeerView,
    SessionView,
)


def fingerprint_for(seed: str) -> bytes:
    return hashlib.sha256(seed.encode()).digest()


def id_for(seed: str) -> DeviceId:
    return DeviceId.from_fingerprint(fingerprint_for(seed))


def make_peer(
    seed: str,
    *sources: PeerSource,
    alias: str = "",
    **kwargs: Any,
) -> PeerView:
    """A peer whose ID and fingerprint derive from `seed`, in the given panes."""
    return PeerView(
        device_id=id_for(seed),
        alias=alias or f"{seed}@ad",
        fingerprint=fingerprint_for(seed),
        sources=frozenset(sources),
        **kwargs,
    )


def make_status(**changes: Any) -> Status:
    fp = fingerprint_for("this device")
    base: dict[str, Any] = {
        "device_id": DeviceId.from_fingerprint(fp),
        "alias": "me@ad",
        "fingerprint": fp,
        "online": True,
        "listen_addresses": ("127.0.0.1:7070",),
        "discovery": DiscoveryMode.ON,
        "interfaces": ("127.0.0.1",),
        "key_location": "keyring",
        "key_warning": None,
        "policy_broken": None,
        "accept_from": AcceptFrom.EVERYONE,
        "home": "/tmp/home",
    }
    base.update(changes)
    return Status(**base)


class FacadeStub:
    """Satisfies services.facade.ClientFacade; see the module docstring."""

    def __init__(self, status: Status | None = None, peers: list[PeerView] | None = None) -> None:
        self.status_changed: Signal[Status] = Signal("status_changed")
        self.peers_changed: Signal[None] = Signal("peers_changed")
        self.invitations_changed: Signal[None] = Signal("invitations_changed")
        self.sessions_changed: Signal[None] = Signal("sessions_changed")
        self.invitation_received: Signal[InvitationView] = Signal("invitation_received")
        self.session_started: Signal[SessionView] = Signal("session_started")
        self.warning: Signal[str] = Signal("warning")
        self.current_status = status or make_status()
        self.peer_list: list[PeerView] = list(peers or [])
        self.invitation_list: list[InvitationView] = []
        self.session_list: list[SessionView] = []
        self.profile_list: list[PermissionProfile] = list(BUILTIN_PROFILES)
        self.current_policy = Policy()
        self.current_settings = Settings(
            alias=self.current_status.alias,
            accept_from=AcceptFrom.EVERYONE,
            discovery=DiscoveryMode.ON,
            interfaces=("127.0.0.1",),
            default_profile="Default",
        )
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.refuse: str | None = None
        """When set, every async call raises Refused with this message."""

    # -- playing events ---------------------------------------------------------------
    def set_status(self, status: Status) -> None:
        self.current_status = status
        self.status_changed.emit(status)

    def changed_peers(self) -> None:
        self.peers_changed.emit(None)

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if self.refuse is not None:
            raise Refused(self.refuse)

    def calls_named(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.calls if n == name]

    # -- ClientFacade ---------------------------------------------------------------------
    def status(self) -> Status:
        return self.current_status

    def settings(self) -> Settings:
        return self.current_settings

    async def update_settings(self, settings: Settings) -> None:
        self._record("update_settings", settings)
        self.current_settings = settings

    def policy(self) -> Policy:
        return self.current_policy

    def profiles(self) -> list[PermissionProfile]:
        return list(self.profile_list)

    async def save_profile(self, name: str, permissions: frozenset[Permission]) -> None:
        self._record("save_profile", name, permissions)

    async def delete_profile(self, name: str) -> None:
        self._record("delete_profile", name)

    def peers(self) -> list[PeerView]:
        return list(self.peer_list)

    async def add_to_address_book(
        self,
        device_id: DeviceId,
        alias: str = "",
        display_name: str = "",
        tags: tuple[str, ...] = (),
        manual_address: str | None = None,
    ) -> None:
        self._record("add_to_address_book", device_id, alias, display_name, tags, manual_address)

    async def remove_from_address_book(self, device_id: DeviceId) -> None:
        self._record("remove_from_address_book", device_id)

    async def set_favorite(self, device_id: DeviceId, favorite: bool) -> None:
        self._record("set_favorite", device_id, favorite)

    def invitations(self) -> list[InvitationView]:
        return list(self.invitation_list)

    async def invite(
        self,
        target: str,
        permissions: frozenset[Permission],
        profile: str = "",
        confirm_fingerprint: str | None = None,
    ) -> InvitationView:
        self._record("invite", target, permissions, profile, confirm_fingerprint)
        raise Refused("the stub sends no invitations")

    async def edit_invitation(
        self, invitation_id: str, permissions: frozenset[Permission], profile: str = ""
    ) -> InvitationView:
        self._record("edit_invitation", invitation_id, permissions, profile)
        raise Refused("the stub holds no invitations")

    async def cancel_invitation(self, invitation_id: str) -> None:
        self._record("cancel_invitation", invitation_id)

    async def accept(
        self,
        invitation_id: str,
        permissions: frozenset[Permission] | None = None,
        profile: str = "",
    ) -> SessionView:
        self._record("accept", invitation_id, permissions, profile)
        raise Refused("the stub opens no sessions")

    async def reject(self, invitation_id: str) -> None:
        self._record("reject", invitation_id)

    async def connect(self, target: str, confirm_fingerprint: str | None = None) -> InvitationView:
        self._record("connect", target, confirm_fingerprint)
        raise Refused("the stub sends no requests")

    def sessions(self) -> list[SessionView]:
        return list(self.session_list)

    async def set_session_permissions(
        self, session_id: str, permissions: frozenset[Permission]
    ) -> SessionView:
        self._record("set_session_permissions", session_id, permissions)
        raise Refused("the stub holds no sessions")

    async def end_session(self, session_id: str) -> None:
        self._record("end_session", session_id)
