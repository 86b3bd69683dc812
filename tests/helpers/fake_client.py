"""An honest in-memory ClientFacade for the UI, control API and CLI tests.

It holds peers, invitations and sessions as views and changes them the way a client would
(edit bumps the revision, cancel/reject/accept reach their final states, accept opens a
session), refusing what a client refuses. Every call is recorded as (name, *args), and
`refuse[name] = message` makes the next call of that method raise ActionRefused. No networking:
the widgets, the control socket and the command line are what is under test.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import Kind, State
from anydesk_invite.core.permissions import BUILTIN_PROFILES, DEFAULT, Permission, PermissionProfile
from anydesk_invite.core.policy import AcceptFrom, DiscoveryMode, Policy
from anydesk_invite.core.signal import Signal
from anydesk_invite.services.facade import ActionRefused, ProbeResult, Settings, Status
from anydesk_invite.services.views import (
    Direction,
    InvitationView,
    PeerChange,
    PeerSource,
    PeerView,
    Role,
    SessionView,
)


def fingerprint_for(seed: str) -> bytes:
    return hashlib.sha256(seed.encode()).digest()


def id_for(seed: str) -> DeviceId:
    return DeviceId.from_fingerprint(fingerprint_for(seed))


def make_peer(seed: str, *sources: PeerSource, alias: str = "", **kwargs: Any) -> PeerView:
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


ALICE = PeerView(
    device_id=DeviceId.from_fingerprint(bytes(range(32))),
    alias="alice@ad",
    fingerprint=bytes(range(32)),
    sources=frozenset({PeerSource.DISCOVERY}),
)
BOB = PeerView(
    device_id=DeviceId.from_fingerprint(bytes(range(1, 33))),
    alias="bob@ad",
    display_name="Bob's laptop",
    fingerprint=bytes(range(1, 33)),
    online=True,
    sources=frozenset({PeerSource.DISCOVERY, PeerSource.FAVORITES}),
    tags=("team",),
)
CAROL = PeerView(
    device_id=DeviceId.from_fingerprint(bytes(range(2, 34))),
    alias="carol@ad",
    fingerprint=None,
    sources=frozenset({PeerSource.ADDRESS_BOOK}),
    manual_address="127.0.0.5:7070",
)
ALICE_ID = ALICE.device_id
BOB_ID = BOB.device_id
HELPDESK = PermissionProfile("Helpdesk", frozenset({Permission.CONTROL, Permission.SYSTEM_INFO}))


def _fingerprint_of(peer: PeerView) -> bytes:
    return peer.fingerprint or fingerprint_for(peer.alias)


def invitation(
    invitation_id: str = "aa01",
    *,
    peer: PeerView = ALICE,
    peer_id: DeviceId | None = None,
    alias: str | None = None,
    direction: Direction = Direction.INCOMING,
    kind: Kind = Kind.INVITATION,
    permissions: frozenset[Permission] = frozenset({Permission.CONTROL, Permission.CLIPBOARD}),
    profile: str = "",
    revision: int = 1,
    state: State | None = None,
    seconds_left: float = 120.0,
    missed: bool = False,
    first_contact: bool = False,
) -> InvitationView:
    """An invitation from or to `peer`, received or pending unless `state` says otherwise."""
    if state is None:
        state = State.RECEIVED if direction is Direction.INCOMING else State.PENDING
    return InvitationView(
        invitation_id=invitation_id,
        kind=kind,
        direction=direction,
        peer_id=peer.device_id if peer_id is None else peer_id,
        peer_alias=peer.alias if alias is None else alias,
        peer_fingerprint=_fingerprint_of(peer),
        permissions=permissions,
        profile=profile,
        revision=revision,
        state=state,
        seconds_left=seconds_left,
        missed=missed,
        first_contact=first_contact,
    )


def session(
    session_id: str = "s1",
    permissions: frozenset[Permission] = frozenset({Permission.CONTROL}),
    locked: frozenset[Permission] = frozenset(),
    started_at: float = 1000.0,
    *,
    peer: PeerView = BOB,
    role: Role = Role.HOST,
) -> SessionView:
    """A session with `peer`, hosted here unless `role` says otherwise."""
    return SessionView(
        session_id=session_id,
        role=role,
        peer_id=peer.device_id,
        peer_alias=peer.alias,
        peer_fingerprint=_fingerprint_of(peer),
        permissions=permissions,
        locked=locked,
        started_at=started_at,
    )


class FakeClient:
    """Satisfies services.facade.ClientFacade; see the module docstring."""

    def __init__(
        self,
        status: Status | None = None,
        peers: list[PeerView] | None = None,
        policy: Policy | None = None,
        profiles: list[PermissionProfile] | None = None,
    ) -> None:
        self.status_changed: Signal[Status] = Signal("status_changed")
        self.peers_changed: Signal[PeerChange] = Signal("peers_changed")
        self.invitations_changed: Signal[InvitationView] = Signal("invitations_changed")
        self.sessions_changed: Signal[SessionView] = Signal("sessions_changed")
        self.invitation_received: Signal[InvitationView] = Signal("invitation_received")
        self.session_started: Signal[SessionView] = Signal("session_started")
        self.warning: Signal[str] = Signal("warning")
        self.current_status = status or make_status()
        self.current_settings = Settings(
            alias=self.current_status.alias,
            accept_from=self.current_status.accept_from,
            discovery=self.current_status.discovery,
            interfaces=self.current_status.interfaces,
            default_profile=DEFAULT,
        )
        self.current_policy = policy or Policy()
        self.custom_profiles: list[PermissionProfile] = list(profiles or [])
        self.peer_list: list[PeerView] = list(peers or [])
        self.views: dict[str, InvitationView] = {}
        self.session_views: dict[str, SessionView] = {}
        self.calls: list[tuple[Any, ...]] = []
        self.refuse: dict[str, str] = {}
        self.probe_results: dict[str, ProbeResult] = {}
        """Device ID (digits) -> what probe_address answers (default: reachable)."""
        """Method name -> message: the next call of that method raises ActionRefused(message)."""
        self._next = 0

    @classmethod
    def with_a_key_file(cls) -> FakeClient:
        """A client keeping its key in a file, hidden, taking invitations from its address
        book, knowing Bob and Carol and a saved Helpdesk profile: what the control API and
        the command line report on."""
        status = make_status(
            discovery=DiscoveryMode.HIDDEN,
            key_location="file",
            key_warning="no keyring: the key is a 0600 file in the home folder",
            accept_from=AcceptFrom.ADDRESS_BOOK,
        )
        return cls(status, peers=[BOB, CAROL], profiles=[HELPDESK])

    # -- playing events ---------------------------------------------------------------

    def set_status(self, status: Status) -> None:
        self.current_status = status
        self.status_changed.emit(status)

    def changed_peers(self, *device_ids: DeviceId) -> None:
        """Announce these peers as they are in ``peer_list`` now (gone when not in it), or
        every peer listed when none is named."""
        by_id = {p.device_id: p for p in self.peer_list}
        for device_id in device_ids or tuple(by_id):
            self.peers_changed.emit(PeerChange(device_id, by_id.get(device_id)))

    def put(self, view: InvitationView) -> InvitationView:
        self.views[view.invitation_id] = view
        self.invitations_changed.emit(view)
        return view

    def receive(self, view: InvitationView) -> InvitationView:
        self.views[view.invitation_id] = view
        self.invitation_received.emit(view)
        self.invitations_changed.emit(view)
        return view

    def calls_of(self, name: str) -> list[tuple[Any, ...]]:
        return [call[1:] for call in self.calls if call[0] == name]

    @property
    def default_profile(self) -> str:
        return self.current_settings.default_profile

    @default_profile.setter
    def default_profile(self, name: str) -> None:
        self.current_settings = replace(self.current_settings, default_profile=name)

    # -- bookkeeping --------------------------------------------------------------------

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, *args))
        if name in self.refuse:
            raise ActionRefused(self.refuse.pop(name))

    def _new_id(self) -> str:
        self._next += 1
        return hashlib.sha256(f"id{self._next}".encode()).hexdigest()[:32]

    def _peer(self, target: str) -> PeerView:
        for p in self.peer_list:
            if target in (p.device_id.digits, p.alias):
                return p
        raise ActionRefused(f"no peer known as {target}")

    def _invitation(self, invitation_id: str) -> InvitationView:
        if invitation_id not in self.views:
            raise ActionRefused("no such invitation")
        return self.views[invitation_id]

    def _session(self, session_id: str) -> SessionView:
        if session_id not in self.session_views:
            raise ActionRefused("no such session")
        return self.session_views[session_id]

    def _change_peer(self, device_id: DeviceId, **changes: Any) -> None:
        self.peer_list = [
            replace(p, **changes) if p.device_id == device_id else p for p in self.peer_list
        ]
        self.changed_peers(device_id)

    def _sources(self, device_id: DeviceId) -> frozenset[PeerSource]:
        for p in self.peer_list:
            if p.device_id == device_id:
                return p.sources
        raise ActionRefused("no such peer")

    # -- ClientFacade -------------------------------------------------------------------

    def status(self) -> Status:
        return self.current_status

    def settings(self) -> Settings:
        return self.current_settings

    async def update_settings(self, settings: Settings) -> None:
        self._record("update_settings", settings)
        self.current_settings = settings

    async def set_tsig_secret(self, key_name: str, secret: str) -> str:
        self._record("set_tsig_secret", (key_name, secret))
        return "keyring"

    def policy(self) -> Policy:
        return self.current_policy

    def profiles(self) -> list[PermissionProfile]:
        return [*BUILTIN_PROFILES, *self.custom_profiles]

    async def save_profile(self, name: str, permissions: frozenset[Permission]) -> None:
        self._record("save_profile", name, permissions)
        others = [p for p in self.custom_profiles if p.name != name]
        self.custom_profiles = [*others, PermissionProfile(name, permissions)]

    async def delete_profile(self, name: str) -> None:
        self._record("delete_profile", name)
        self.custom_profiles = [p for p in self.custom_profiles if p.name != name]

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
        book = {PeerSource.ADDRESS_BOOK}
        if any(p.device_id == device_id for p in self.peer_list):
            self._change_peer(device_id, sources=self._sources(device_id) | book)
            return
        added = PeerView(
            device_id,
            alias=alias,
            display_name=display_name,
            tags=tags,
            manual_address=manual_address,
            sources=frozenset(book),
        )
        self.peer_list.append(added)
        self.changed_peers(added.device_id)

    async def probe_address(self, device_id: DeviceId) -> ProbeResult:
        self._record("probe_address", device_id)
        peer = next(p for p in self.peer_list if p.device_id == device_id)
        return self.probe_results.get(
            device_id.digits, ProbeResult(True, peer.manual_address or "")
        )

    async def remove_from_address_book(self, device_id: DeviceId) -> None:
        self._record("remove_from_address_book", device_id)
        self._change_peer(device_id, sources=self._sources(device_id) - {PeerSource.ADDRESS_BOOK})

    async def set_favorite(self, device_id: DeviceId, favorite: bool) -> None:
        self._record("set_favorite", device_id, favorite)
        sources = self._sources(device_id) - {PeerSource.FAVORITES}
        self._change_peer(
            device_id, sources=sources | ({PeerSource.FAVORITES} if favorite else set())
        )

    def invitations(self) -> list[InvitationView]:
        return list(self.views.values())

    async def invite(
        self,
        target: str,
        permissions: frozenset[Permission],
        profile: str = "",
        confirm_fingerprint: str | None = None,
    ) -> InvitationView:
        self._record("invite", target, permissions, profile, confirm_fingerprint)
        peer = self._peer(target)
        for v in self.views.values():
            if v.peer_id == peer.device_id and v.state is State.PENDING:
                raise ActionRefused(f"invitation {v.invitation_id[:8]} to {peer.alias} is pending")
        return self.put(
            invitation(
                self._new_id(),
                peer=peer,
                direction=Direction.OUTGOING,
                permissions=permissions,
                profile=profile,
            )
        )

    async def edit_invitation(
        self, invitation_id: str, permissions: frozenset[Permission], profile: str = ""
    ) -> InvitationView:
        self._record("edit_invitation", invitation_id, permissions, profile)
        v = self._invitation(invitation_id)
        if v.direction is not Direction.OUTGOING or v.state is not State.PENDING:
            raise ActionRefused(f"the invitation is {v.state.value}; it can no longer be edited")
        return self.put(
            replace(v, permissions=permissions, profile=profile, revision=v.revision + 1)
        )

    async def cancel_invitation(self, invitation_id: str) -> None:
        self._record("cancel_invitation", invitation_id)
        v = self._invitation(invitation_id)
        if v.state is not State.PENDING:
            raise ActionRefused(f"the invitation is {v.state.value}; there is nothing to cancel")
        self.put(replace(v, state=State.CANCELLED, seconds_left=0.0))

    async def accept(
        self,
        invitation_id: str,
        permissions: frozenset[Permission] | None = None,
        profile: str = "",
    ) -> SessionView:
        self._record("accept", invitation_id, permissions, profile)
        v = self._invitation(invitation_id)
        if v.direction is not Direction.INCOMING or v.state is not State.RECEIVED:
            raise ActionRefused(f"the invitation is {v.state.value}; it cannot be accepted")
        if v.kind is Kind.INVITATION and permissions is not None:
            raise ActionRefused("the inviter chose the permissions")
        self.put(replace(v, state=State.CONNECTED, seconds_left=0.0))
        s = SessionView(
            session_id=self._new_id(),
            role=Role.GUEST if v.kind is Kind.INVITATION else Role.HOST,
            peer_id=v.peer_id,
            peer_alias=v.peer_alias,
            peer_fingerprint=v.peer_fingerprint,
            permissions=v.permissions if permissions is None else permissions,
            started_at=1_700_000_100.0,
        )
        self.session_views[s.session_id] = s
        self.sessions_changed.emit(s)
        return s

    async def reject(self, invitation_id: str) -> None:
        self._record("reject", invitation_id)
        v = self._invitation(invitation_id)
        if v.state is not State.RECEIVED:
            raise ActionRefused(f"the invitation is {v.state.value}; it cannot be rejected")
        self.put(replace(v, state=State.REJECTED, seconds_left=0.0))

    async def connect(self, target: str, confirm_fingerprint: str | None = None) -> InvitationView:
        self._record("connect", target, confirm_fingerprint)
        peer = self._peer(target)
        if peer.fingerprint is None and confirm_fingerprint is None:
            raise ActionRefused(f"{peer.alias} was never connected: confirm its fingerprint")
        return self.put(
            invitation(
                self._new_id(),
                peer=peer,
                direction=Direction.OUTGOING,
                kind=Kind.REQUEST,
                permissions=frozenset(),
            )
        )

    def sessions(self) -> list[SessionView]:
        return list(self.session_views.values())

    async def set_session_permissions(
        self, session_id: str, permissions: frozenset[Permission]
    ) -> SessionView:
        self._record("set_session_permissions", session_id, permissions)
        s = self._session(session_id)
        if s.role is not Role.HOST:
            raise ActionRefused("only the host changes permissions")
        if (permissions ^ s.permissions) & s.locked:
            raise ActionRefused("clipboard is locked by your administrator")
        s = self.session_views[session_id] = replace(s, permissions=permissions)
        self.sessions_changed.emit(s)
        return s

    async def set_send_clipboard(self, session_id: str, on: bool) -> None:
        self._record("set_send_clipboard", session_id, on)
        s = self._session(session_id)
        if on and Permission.CLIPBOARD not in s.permissions:
            raise ActionRefused("not permitted: clipboard")

    async def end_session(self, session_id: str) -> None:
        self._record("end_session", session_id)
        s = self._session(session_id)
        del self.session_views[session_id]
        self.sessions_changed.emit(replace(s, ended=True))
