"""What the front ends (UI, local control API) can ask of a running client.

`services.client.Client` implements this; the UI, the control API and their tests depend on
this Protocol only. Every method that can be refused raises `Refused` with a message a person
can read; a front end shows it (the dialog, stderr with exit code 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import Kind
from anydesk_invite.core.permissions import Permission, PermissionProfile
from anydesk_invite.core.policy import AcceptFrom, DiscoveryMode, Policy
from anydesk_invite.core.signal import Signal
from anydesk_invite.services.views import InvitationView, PeerView, SessionView

if TYPE_CHECKING:
    # Only for annotations: file_transfer itself raises the refusals defined here.
    from anydesk_invite.net.wire import SysInfo
    from anydesk_invite.services.file_transfer import TransferView


class Refused(Exception):
    """An action the client will not do; the message says why, in words for a person."""


class RefusalKind(StrEnum):
    UNKNOWN = "unknown"
    AMBIGUOUS = "ambiguous"
    OFFLINE = "offline"
    DECLINED = "declined"
    POLICY = "policy"
    NEEDS_CONFIRMATION = "needs_confirmation"
    INVALID = "invalid"
    STATE = "state"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A device an alias may mean, for the user to confirm or choose (known from discovery
    only, never connected)."""

    device_id: DeviceId
    alias: str
    fingerprint: bytes
    address: str
    """host:port as announced."""
    last_seen: float | None
    """Wall-clock time (epoch seconds) it was last announced."""


class RefusedWithKind(Refused):
    def __init__(
        self, kind: RefusalKind, message: str, candidates: tuple[Candidate, ...] = ()
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.candidates = candidates
        """For NEEDS_CONFIRMATION and AMBIGUOUS: the devices the user can confirm in place."""


@dataclass(frozen=True, slots=True)
class Status:
    device_id: DeviceId
    alias: str
    fingerprint: bytes
    online: bool
    """Listening on at least one address."""
    listen_addresses: tuple[str, ...]
    discovery: DiscoveryMode
    interfaces: tuple[str, ...]
    key_location: str
    """'keyring' or 'file'."""
    key_warning: str | None
    policy_broken: str | None
    accept_from: AcceptFrom
    home: str


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """Whether an address-book entry's manual address answered as that device."""

    reachable: bool
    address: str
    reason: str = ""
    """Why not, in words for a person ("nothing answers at 10.0.0.5:7070", ...)."""


@dataclass(frozen=True, slots=True)
class Settings:
    alias: str
    accept_from: AcceptFrom
    discovery: DiscoveryMode
    interfaces: tuple[str, ...]
    default_profile: str
    keep_running_in_background: bool | None = None
    """Whether closing the main window leaves the client running; None: not asked yet."""
    incoming_folder: str = ""
    """Where files from guests are saved (an absolute path); empty: the Downloads folder."""


class ClientFacade(Protocol):
    """A running client, as its front ends see it.

    Signals: status_changed, peers_changed, invitations_changed, sessions_changed (each with
    no useful payload but the new snapshot is one call away), invitation_received
    (InvitationView: a new incoming invitation or request to show as a toast / Accept Window),
    session_started (SessionView), warning (str: something the user should see, e.g. a key
    collision).
    """

    status_changed: Signal[Status]
    peers_changed: Signal[None]
    invitations_changed: Signal[None]
    sessions_changed: Signal[None]
    invitation_received: Signal[InvitationView]
    session_started: Signal[SessionView]
    warning: Signal[str]

    def status(self) -> Status: ...
    def settings(self) -> Settings: ...
    async def update_settings(self, settings: Settings) -> None: ...
    def policy(self) -> Policy: ...
    def profiles(self) -> list[PermissionProfile]: ...
    async def save_profile(self, name: str, permissions: frozenset[Permission]) -> None: ...
    async def delete_profile(self, name: str) -> None: ...

    def peers(self) -> list[PeerView]:
        """Every known peer (favorites, recent, discovery, address book), deduplicated by ID."""
        ...

    async def add_to_address_book(
        self,
        device_id: DeviceId,
        alias: str = "",
        display_name: str = "",
        tags: tuple[str, ...] = (),
        manual_address: str | None = None,
    ) -> None: ...
    async def remove_from_address_book(self, device_id: DeviceId) -> None: ...
    async def probe_address(self, device_id: DeviceId) -> ProbeResult:
        """Try the manual address of an address-book entry now (the UI shows the answer)."""
        ...

    async def set_favorite(self, device_id: DeviceId, favorite: bool) -> None: ...

    def invitations(self) -> list[InvitationView]: ...
    async def invite(
        self,
        target: str,
        permissions: frozenset[Permission],
        profile: str = "",
        confirm_fingerprint: str | None = None,
    ) -> InvitationView:
        """Invite the peer named by ID or alias. Inviting a peer with a pending invitation
        raises Refused naming that invitation (the UI opens it for editing)."""
        ...

    async def edit_invitation(
        self, invitation_id: str, permissions: frozenset[Permission], profile: str = ""
    ) -> InvitationView: ...
    async def cancel_invitation(self, invitation_id: str) -> None: ...
    async def accept(
        self,
        invitation_id: str,
        permissions: frozenset[Permission] | None = None,
        profile: str = "",
    ) -> SessionView:
        """Accept an incoming invitation (permissions must be None) or connection request
        (permissions chosen by the user; default: the request profile)."""
        ...

    async def reject(self, invitation_id: str) -> None: ...
    async def connect(self, target: str, confirm_fingerprint: str | None = None) -> InvitationView:
        """Send a connection request (the way an email invitation is used)."""
        ...

    def sessions(self) -> list[SessionView]: ...
    async def set_session_permissions(
        self, session_id: str, permissions: frozenset[Permission]
    ) -> SessionView: ...
    async def end_session(self, session_id: str) -> None: ...
    async def system_information(self, session_id: str) -> SysInfo:
        """Guest: ask the host; Refused when the host does not grant it."""
        ...

    def transfers(self, session_id: str | None = None) -> list[TransferView]: ...
    async def send_file(self, session_id: str, path: str) -> TransferView:
        """Guest: send a file, which the host saves. Host: offer one for the guest to fetch."""
        ...

    async def fetch_file(self, session_id: str, transfer_id: str) -> TransferView: ...
    async def cancel_transfer(
        self, transfer_id: str, reason: str = "cancelled"
    ) -> TransferView: ...
    async def wait_transfer(self, transfer_id: str) -> TransferView: ...
    async def set_send_clipboard(self, session_id: str, on: bool) -> None: ...


INVITATION_KINDS = tuple(Kind)
