"""What the front ends (UI, local control API) can ask of a running client.

`services.client.Client` implements this, in front of the services app.py builds; the UI,
the control API and their tests depend on this Protocol and on the views alone. Every method
that can be refused raises `ActionRefused` with a message a person can read; a front end
shows it (the dialog, stderr with exit code 1).

A session reaches a front end as a `SessionHandle`: its view, and on the guest's side the
host's screen, the remote control and the pen, each behind a protocol here, never as the
live objects behind them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.input_names import Modifier, PointerButtonName
from anydesk_invite.core.invitation import Kind
from anydesk_invite.core.permissions import Permission, PermissionProfile
from anydesk_invite.core.policy import AcceptFrom, DiscoveryMode, Policy
from anydesk_invite.core.screen import ScreenInfo
from anydesk_invite.core.signal import Signal
from anydesk_invite.core.wide_area import WideAreaSettings
from anydesk_invite.services.refusals import (
    ActionRefused,
    Candidate,
    RefusalKind,
    RefusedWithKind,
)
from anydesk_invite.services.views import (
    InvitationView,
    PeerChange,
    PeerView,
    PointerSeen,
    SessionView,
    StrokeView,
    TransferView,
)

if TYPE_CHECKING:
    from anydesk_invite.net.wire import SysInfo


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
    wide_area: str = "off"
    """Discovery through the organisation's DNS: where, and what is wrong (one line)."""


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
    wide_area: WideAreaSettings = field(default_factory=WideAreaSettings)
    """Discovery through the organisation's DNS (the user's choice; a policy may override)."""


class RemoteScreen(Protocol):
    """The host's screen as a guest receives it: its screens and the frame buffer.

    Signals: screens_changed (None: ``screens``, ``current`` or ``problem`` changed),
    updated (int: the seq of a frame now complete in ``buffer``).
    """

    screens_changed: Signal[None]
    updated: Signal[int]

    @property
    def screens(self) -> list[ScreenInfo] | None:
        """None until the host said; empty when it shares no screen."""
        ...

    @property
    def current(self) -> int: ...
    @property
    def problem(self) -> str: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def screen(self) -> int: ...
    @property
    def buffer(self) -> bytearray:
        """``width`` x ``height`` BGRA pixels, rows packed; replaced, never resized."""
        ...

    async def select(self, index: int) -> None: ...


class RemoteControl(Protocol):
    """A guest's keyboard and pointer on the host.

    Signals: unavailable_changed (str: session id hex whose host said what it cannot do).
    """

    unavailable_changed: Signal[str]

    def unavailable(self) -> str: ...
    def usable(self) -> bool: ...
    def move(self, screen: int, x: int, y: int) -> None: ...
    def leave(self) -> None: ...
    def button(
        self, screen: int, x: int, y: int, button: PointerButtonName, pressed: bool
    ) -> bool: ...
    def wheel(self, dx: int, dy: int) -> bool: ...
    def key(self, code: str, key: str, pressed: bool, modifiers: frozenset[Modifier]) -> bool: ...


class Pen(Protocol):
    """A guest drawing on the host's screen."""

    color: int

    def unavailable(self) -> str: ...
    def usable(self) -> bool: ...
    def begin(self, screen: int, x: int, y: int) -> bool: ...
    def extend(self, x: int, y: int) -> bool: ...
    def end(self) -> None: ...
    def clear(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SessionHandle:
    """One session as a front end holds it."""

    view: SessionView
    screen: RemoteScreen | None = None
    """Guest: the host's screen."""
    control: RemoteControl | None = None
    """Guest: remote control of the host."""
    pen: Pen | None = None
    """Guest: the draw tool."""


class ClientFacade(Protocol):
    """A running client, as its front ends see it.

    Signals: status_changed (Status: the new status), peers_changed (PeerChange: one peer that
    appeared, changed or left, with its view now), invitations_changed (InvitationView: the
    invitation or request that changed, as it is now), sessions_changed (SessionView: the
    session that started, changed or ended, ``ended`` set on its last view), invitation_received
    (InvitationView: a new incoming invitation or request to show as a toast / Accept Window),
    session_started (SessionView), warning (str: something the user should see, e.g. a key
    collision), chat_received (tuple[str session id hex, str text]), transfer_changed
    (TransferView), strokes_changed (str: session id hex whose strokes changed on this host),
    pointer_seen (PointerSeen: a guest's pointer to mark on this host's screen).
    """

    status_changed: Signal[Status]
    peers_changed: Signal[PeerChange]
    invitations_changed: Signal[InvitationView]
    sessions_changed: Signal[SessionView]
    invitation_received: Signal[InvitationView]
    session_started: Signal[SessionView]
    warning: Signal[str]
    chat_received: Signal[tuple[str, str]]
    transfer_changed: Signal[TransferView]
    strokes_changed: Signal[str]
    pointer_seen: Signal[PointerSeen]

    def status(self) -> Status: ...
    def settings(self) -> Settings: ...
    async def update_settings(self, settings: Settings) -> None: ...
    async def set_tsig_secret(self, key_name: str, secret: str) -> str:
        """Keep the secret of a TSIG key (keyring, else a 0600 file); where it went."""
        ...

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
        raises ActionRefused naming that invitation (the UI opens it for editing)."""
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
    def session_handle(self, session_id: str) -> SessionHandle:
        """The session as a front end holds it; ActionRefused when there is no such session."""
        ...

    async def send_chat(self, session_id: str, text: str) -> None: ...
    def interface_choices(self) -> list[str]:
        """Addresses of this machine one may listen on: private LAN ones first."""
        ...

    # Host: what guests draw and point at on this desktop.
    def strokes(self, session_id: str | None = None) -> list[StrokeView]: ...
    def color_of(self, session_id: str) -> int:
        """The colour this host gives a guest's marker and strokes (0xRRGGBB)."""
        ...

    async def clear_drawings(self, session_id: str) -> None: ...
    def control_problem(self) -> str:
        """Why guests cannot control this device; empty where they can."""
        ...

    async def set_session_permissions(
        self, session_id: str, permissions: frozenset[Permission]
    ) -> SessionView: ...
    async def end_session(self, session_id: str) -> None: ...
    async def system_information(self, session_id: str) -> SysInfo:
        """Guest: ask the host; ActionRefused when the host does not grant it."""
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


__all__ = [
    "ActionRefused",
    "Candidate",
    "ClientFacade",
    "Modifier",
    "Pen",
    "PointerButtonName",
    "RefusalKind",
    "RefusedWithKind",
    "RemoteControl",
    "RemoteScreen",
    "SessionHandle",
    "Settings",
    "Status",
]

INVITATION_KINDS = tuple(Kind)
