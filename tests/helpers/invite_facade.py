"""A ClientFacade for the invitation widgets' tests that plays the invitation states.

Unlike tests/helpers/facade_stub.py it moves invitations and sessions to the state a real
client would (accept connects, cancel cancels, edit bumps the revision), records every call
and can be told to refuse the next call of a method with a message.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import Kind, State
from anydesk_invite.core.permissions import BUILTIN_PROFILES, DEFAULT, Permission, PermissionProfile
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

ALICE_ID = DeviceId.from_fingerprint(bytes(range(32)))
BOB_ID = DeviceId.from_fingerprint(bytes(range(1, 33)))
CAROL_ID = DeviceId.from_fingerprint(bytes(range(2, 34)))


def invitation(
    invitation_id: str = "aa01",
    *,
    direction: Direction = Direction.INCOMING,
    kind: Kind = Kind.INVITATION,
    peer_id: DeviceId = ALICE_ID,
    alias: str = "alice@ad",
    permissions: frozenset[Permission] = frozenset({Permission.CONTROL, Permission.CLIPBOARD}),
    profile: str = "",
    revision: int = 1,
    state: State | None = None,
    seconds_left: float = 120.0,
    missed: bool = False,
    first_contact: bool = False,
) -> InvitationView:
    if state is None:
        state = State.RECEIVED if direction is Direction.INCOMING else State.PENDING
    return InvitationView(
        invitation_id=invitation_id,
        kind=kind,
        direction=direction,
        peer_id=peer_id,
        peer_alias=alias,
        peer_fingerprint=bytes(range(32)),
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
) -> SessionView:
    return SessionView(
        session_id=session_id,
        role=Role.HOST,
        peer_id=BOB_ID,
        peer_alias="bob@ad",
        peer_fingerprint=bytes(range(1, 33)),
        permissions=permissions,
        locked=locked,
        started_at=started_at,
    )


class InviteFacade:
    """Just enough of a running client for the invitation widgets."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.status_changed: Signal[Status] = Signal("status_changed")
        self.peers_changed: Signal[None] = Signal("peers_changed")
        self.invitations_changed: Signal[None] = Signal("invitations_changed")
        self.sessions_changed: Signal[None] = Signal("sessions_changed")
        self.invitation_received: Signal[InvitationView] = Signal("invitation_received")
        self.session_started: Signal[SessionView] = Signal("session_started")
        self.warning: Signal[str] = Signal("warning")
        self._policy = policy or Policy()
        self.custom_profiles: list[PermissionProfile] = []
        self.default_profile = DEFAULT
        self.peer_list: list[PeerView] = [
            PeerView(ALICE_ID, alias="alice@ad", sources=frozenset({PeerSource.DISCOVERY})),
            PeerView(BOB_ID, alias="bob@ad", sources=frozenset({PeerSource.ADDRESS_BOOK})),
        ]
        self.views: dict[str, InvitationView] = {}
        self.session_views: dict[str, SessionView] = {}
        self.calls: list[tuple[Any, ...]] = []
        self.refuse: dict[str, str] = {}
        self._next = 0

    # -- plumbing for tests ----------------------------------------------------------

    def put(self, view: InvitationView) -> InvitationView:
        self.views[view.invitation_id] = view
        self.invitations_changed.emit(None)
        return view

    def receive(self, view: InvitationView) -> InvitationView:
        self.views[view.invitation_id] = view
        self.invitation_received.emit(view)
        self.invitations_changed.emit(None)
        return view

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, *args))
        if name in self.refuse:
            raise Refused(self.refuse.pop(name))

    # -- ClientFacade -----------------------------------------------------------------

    def status(self) -> Status:
        return Status(
            device_id=CAROL_ID,
            alias="carol@ad",
            fingerprint=bytes(range(2, 34)),
            online=True,
            listen_addresses=("127.0.0.1:0",),
            discovery=DiscoveryMode.ON,
            interfaces=("127.0.0.1",),
            key_location="keyring",
            key_warning=None,
            policy_broken=None,
            accept_from=AcceptFrom.EVERYONE,
            home="/nonexistent",
        )

    def settings(self) -> Settings:
        return Settings(
            alias="carol@ad",
            accept_from=AcceptFrom.EVERYONE,
            discovery=DiscoveryMode.ON,
            interfaces=("127.0.0.1",),
            default_profile=self.default_profile,
        )

    def policy(self) -> Policy:
        return self._policy

    def profiles(self) -> list[PermissionProfile]:
        return [*BUILTIN_PROFILES, *self.custom_profiles]

    def peers(self) -> list[PeerView]:
        return list(self.peer_list)

    def invitations(self) -> list[InvitationView]:
        return list(self.views.values())

    async def invite(
        self,
        target: str,
        permissions: frozenset[Permission],
        profile: str = "",
        confirm_fingerprint: str | None = None,
    ) -> InvitationView:
        self._record("invite", target, permissions, profile)
        self._next += 1
        return self.put(
            invitation(
                f"out{self._next}",
                direction=Direction.OUTGOING,
                alias=target,
                permissions=permissions,
                profile=profile,
            )
        )

    async def edit_invitation(
        self, invitation_id: str, permissions: frozenset[Permission], profile: str = ""
    ) -> InvitationView:
        self._record("edit_invitation", invitation_id, permissions, profile)
        old = self.views[invitation_id]
        return self.put(
            replace(old, permissions=permissions, profile=profile, revision=old.revision + 1)
        )

    async def cancel_invitation(self, invitation_id: str) -> None:
        self._record("cancel_invitation", invitation_id)
        self.put(replace(self.views[invitation_id], state=State.CANCELLED, seconds_left=0.0))

    async def accept(
        self,
        invitation_id: str,
        permissions: frozenset[Permission] | None = None,
        profile: str = "",
    ) -> SessionView:
        self._record("accept", invitation_id, permissions, profile)
        view = self.views[invitation_id]
        self.put(replace(view, state=State.CONNECTED, seconds_left=0.0))
        s = session(
            "s-" + invitation_id,
            permissions=view.permissions if permissions is None else permissions,
        )
        self.session_views[s.session_id] = s
        return s

    async def reject(self, invitation_id: str) -> None:
        self._record("reject", invitation_id)
        self.put(replace(self.views[invitation_id], state=State.REJECTED, seconds_left=0.0))

    def sessions(self) -> list[SessionView]:
        return list(self.session_views.values())

    async def set_session_permissions(
        self, session_id: str, permissions: frozenset[Permission]
    ) -> SessionView:
        self._record("set_session_permissions", session_id, permissions)
        s = replace(self.session_views[session_id], permissions=permissions)
        self.session_views[session_id] = s
        self.sessions_changed.emit(None)
        return s

    async def end_session(self, session_id: str) -> None:
        self._record("end_session", session_id)
        del self.session_views[session_id]
        self.sessions_changed.emit(None)
