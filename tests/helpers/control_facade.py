"""A small honest ClientFacade for the control API and CLI tests.

It keeps peers, invitations and sessions as views and changes them the way a client would
(revision + 1 on edit, final states on cancel/reject/accept), refusing what a client refuses.
No networking: the control socket and the command line are what is under test.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import Kind, State
from anydesk_invite.core.permissions import BUILTIN_PROFILES, Permission, PermissionProfile
from anydesk_invite.core.policy import AcceptFrom, DiscoveryMode, Policy
from anydesk_invite.core.signal import Signal
from anydesk_invite.services.facade import Refused, Settings, Status
from anydesk_invite.services.views import (
    Direction,
    InvitationView,
    PeerSource,
    PeerView,
    Role,
    SessionView,
)


def fingerprint_for(seed: str) -> bytes:
    return hashlib.sha256(seed.encode()).digest()


def id_for(seed: str) -> DeviceId:
    return DeviceId.from_fingerprint(fingerprint_for(seed))


ME_FP = fingerprint_for("me")
BOB = PeerView(
    device_id=id_for("bob"),
    alias="bob@ad",
    display_name="Bob's laptop",
    fingerprint=fingerprint_for("bob"),
    online=True,
    sources=frozenset({PeerSource.DISCOVERY, PeerSource.FAVORITES}),
    tags=("team",),
)
CAROL = PeerView(
    device_id=id_for("carol"),
    alias="carol@ad",
    fingerprint=None,
    sources=frozenset({PeerSource.ADDRESS_BOOK}),
    manual_address="127.0.0.5:7070",
)


def incoming(
    invitation_id: str, peer: PeerView = CAROL, kind: Kind = Kind.INVITATION, **kw: Any
) -> InvitationView:
    values: dict[str, Any] = {
        "invitation_id": invitation_id,
        "kind": kind,
        "direction": Direction.INCOMING,
        "peer_id": peer.device_id,
        "peer_alias": peer.alias,
        "peer_fingerprint": peer.fingerprint or fingerprint_for(peer.alias),
        "permissions": frozenset({Permission.CONTROL}),
        "profile": "",
        "revision": 1,
        "state": State.RECEIVED,
        "seconds_left": 87.25,
    }
    values.update(kw)
    return InvitationView(**values)


def session(session_id: str, peer: PeerView = BOB, **kw: Any) -> SessionView:
    values: dict[str, Any] = {
        "session_id": session_id,
        "role": Role.HOST,
        "peer_id": peer.device_id,
        "peer_alias": peer.alias,
        "peer_fingerprint": peer.fingerprint or fingerprint_for(peer.alias),
        "permissions": frozenset({Permission.CONTROL, Permission.CLIPBOARD}),
        "locked": frozenset({Permission.CLIPBOARD}),
        "started_at": 1_700_000_000.0,
    }
    values.update(kw)
    return SessionView(**values)


class ControlFacade:
    """Satisfies services.facade.ClientFacade; see the module docstring."""

    def __init__(self) -> None:
        self.status_changed: Signal[Status] = Signal("status_changed")
        self.peers_changed: Signal[None] = Signal("peers_changed")
        self.invitations_changed: Signal[None] = Signal("invitations_changed")
        self.sessions_changed: Signal[None] = Signal("sessions_changed")
        self.invitation_received: Signal[InvitationView] = Signal("invitation_received")
        self.session_started: Signal[SessionView] = Signal("session_started")
        self.warning: Signal[str] = Signal("warning")
        self.current_status = Status(
            device_id=DeviceId.from_fingerprint(ME_FP),
            alias="me@ad",
            fingerprint=ME_FP,
            online=True,
            listen_addresses=("127.0.0.1:7070",),
            discovery=DiscoveryMode.HIDDEN,
            interfaces=("127.0.0.1",),
            key_location="file",
            key_warning="no keyring: the key is a 0600 file in the home folder",
            policy_broken=None,
            accept_from=AcceptFrom.ADDRESS_BOOK,
            home="/tmp/home",
        )
        self.default_profile = "Default"
        self.custom_profiles: list[PermissionProfile] = [
            PermissionProfile("Helpdesk", frozenset({Permission.CONTROL, Permission.SYSTEM_INFO}))
        ]
        self.peer_list = [BOB, CAROL]
        self.invitation_list: list[InvitationView] = []
        self.session_list: list[SessionView] = []
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._next = 0

    def calls_of(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.calls if n == name]

    def _new_id(self) -> str:
        self._next += 1
        return hashlib.sha256(f"id{self._next}".encode()).hexdigest()[:32]

    def _peer(self, target: str) -> PeerView:
        for p in self.peer_list:
            if target in (p.device_id.digits, p.alias):
                return p
        raise Refused(f"no peer known as {target}")

    def _find(self, invitation_id: str) -> InvitationView:
        for v in self.invitation_list:
            if v.invitation_id == invitation_id:
                return v
        raise Refused("no such invitation")

    def _store(self, view: InvitationView) -> InvitationView:
        self.invitation_list = [
            view if v.invitation_id == view.invitation_id else v for v in self.invitation_list
        ]
        return view

    def status(self) -> Status:
        return self.current_status

    def settings(self) -> Settings:
        return Settings(
            alias="me@ad",
            accept_from=AcceptFrom.ADDRESS_BOOK,
            discovery=DiscoveryMode.HIDDEN,
            interfaces=("127.0.0.1",),
            default_profile=self.default_profile,
        )

    async def update_settings(self, settings: Settings) -> None:
        raise Refused("not used here")

    def policy(self) -> Policy:
        return Policy()

    def profiles(self) -> list[PermissionProfile]:
        return [*BUILTIN_PROFILES, *self.custom_profiles]

    async def save_profile(self, name: str, permissions: frozenset[Permission]) -> None:
        raise Refused("not used here")

    async def delete_profile(self, name: str) -> None:
        raise Refused("not used here")

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
        raise Refused("not used here")

    async def remove_from_address_book(self, device_id: DeviceId) -> None:
        raise Refused("not used here")

    async def set_favorite(self, device_id: DeviceId, favorite: bool) -> None:
        raise Refused("not used here")

    def invitations(self) -> list[InvitationView]:
        return list(self.invitation_list)

    async def invite(
        self,
        target: str,
        permissions: frozenset[Permission],
        profile: str = "",
        confirm_fingerprint: str | None = None,
    ) -> InvitationView:
        self.calls.append(("invite", (target, permissions, profile, confirm_fingerprint)))
        peer = self._peer(target)
        for v in self.invitation_list:
            if v.peer_id == peer.device_id and v.state is State.PENDING:
                raise Refused(f"invitation {v.invitation_id[:8]} to {peer.alias} is pending")
        view = InvitationView(
            invitation_id=self._new_id(),
            kind=Kind.INVITATION,
            direction=Direction.OUTGOING,
            peer_id=peer.device_id,
            peer_alias=peer.alias,
            peer_fingerprint=peer.fingerprint or fingerprint_for(peer.alias),
            permissions=permissions,
            profile=profile,
            revision=1,
            state=State.PENDING,
            seconds_left=120.0,
        )
        self.invitation_list.append(view)
        return view

    async def edit_invitation(
        self, invitation_id: str, permissions: frozenset[Permission], profile: str = ""
    ) -> InvitationView:
        self.calls.append(("edit_invitation", (invitation_id, permissions, profile)))
        v = self._find(invitation_id)
        if v.direction is not Direction.OUTGOING or v.state is not State.PENDING:
            raise Refused(f"the invitation is {v.state.value}; it can no longer be edited")
        return self._store(
            replace(v, permissions=permissions, profile=profile, revision=v.revision + 1)
        )

    async def cancel_invitation(self, invitation_id: str) -> None:
        self.calls.append(("cancel_invitation", (invitation_id,)))
        v = self._find(invitation_id)
        if v.state is not State.PENDING:
            raise Refused(f"the invitation is {v.state.value}; there is nothing to cancel")
        self._store(replace(v, state=State.CANCELLED, seconds_left=0.0))

    async def accept(
        self,
        invitation_id: str,
        permissions: frozenset[Permission] | None = None,
        profile: str = "",
    ) -> SessionView:
        self.calls.append(("accept", (invitation_id, permissions, profile)))
        v = self._find(invitation_id)
        if v.direction is not Direction.INCOMING or v.state is not State.RECEIVED:
            raise Refused(f"the invitation is {v.state.value}; it cannot be accepted")
        if v.kind is Kind.INVITATION and permissions is not None:
            raise Refused("the inviter chose the permissions")
        self._store(replace(v, state=State.CONNECTED))
        s = SessionView(
            session_id=self._new_id(),
            role=Role.GUEST if v.kind is Kind.INVITATION else Role.HOST,
            peer_id=v.peer_id,
            peer_alias=v.peer_alias,
            peer_fingerprint=v.peer_fingerprint,
            permissions=v.permissions if permissions is None else permissions,
            started_at=1_700_000_100.0,
        )
        self.session_list.append(s)
        return s

    async def reject(self, invitation_id: str) -> None:
        self.calls.append(("reject", (invitation_id,)))
        v = self._find(invitation_id)
        if v.state is not State.RECEIVED:
            raise Refused(f"the invitation is {v.state.value}; it cannot be rejected")
        self._store(replace(v, state=State.REJECTED, seconds_left=0.0))

    async def connect(self, target: str, confirm_fingerprint: str | None = None) -> InvitationView:
        self.calls.append(("connect", (target, confirm_fingerprint)))
        peer = self._peer(target)
        if peer.fingerprint is None and confirm_fingerprint is None:
            raise Refused(f"{peer.alias} was never connected: confirm its fingerprint")
        view = InvitationView(
            invitation_id=self._new_id(),
            kind=Kind.REQUEST,
            direction=Direction.OUTGOING,
            peer_id=peer.device_id,
            peer_alias=peer.alias,
            peer_fingerprint=peer.fingerprint or fingerprint_for(peer.alias),
            permissions=frozenset(),
            profile="",
            revision=1,
            state=State.PENDING,
            seconds_left=120.0,
        )
        self.invitation_list.append(view)
        return view

    def sessions(self) -> list[SessionView]:
        return list(self.session_list)

    async def set_session_permissions(
        self, session_id: str, permissions: frozenset[Permission]
    ) -> SessionView:
        self.calls.append(("set_session_permissions", (session_id, permissions)))
        for i, s in enumerate(self.session_list):
            if s.session_id == session_id:
                if s.role is not Role.HOST:
                    raise Refused("only the host changes permissions")
                changed = (permissions ^ s.permissions) & s.locked
                if changed:
                    raise Refused("clipboard is locked by your administrator")
                self.session_list[i] = replace(s, permissions=permissions)
                return self.session_list[i]
        raise Refused("no such session")

    async def end_session(self, session_id: str) -> None:
        self.calls.append(("end_session", (session_id,)))
        self.session_list = [s for s in self.session_list if s.session_id != session_id]
