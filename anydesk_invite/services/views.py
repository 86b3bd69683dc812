"""Read-only snapshots that services hand to the UI, the control API and the CLI.

They are plain frozen dataclasses so every front end shows the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import Direction, Kind, State
from anydesk_invite.core.permissions import Permission


class PeerSource(StrEnum):
    FAVORITES = "favorites"
    RECENT = "recent"
    DISCOVERY = "discovery"
    ADDRESS_BOOK = "address_book"


__all__ = ["Direction"]  # with the views: what a front end shows an invitation by


@dataclass(frozen=True, slots=True)
class PeerView:
    """A peer as a tile shows it."""

    device_id: DeviceId
    alias: str = ""
    display_name: str = ""
    fingerprint: bytes | None = None
    online: bool = False
    sources: frozenset[PeerSource] = frozenset()
    tags: tuple[str, ...] = ()
    manual_address: str | None = None
    last_session: float | None = None
    """Wall-clock time (epoch seconds) of the last session, for Recent Sessions."""
    first_contact: bool = True
    conflict: bool = False
    """Two keys claim this ID on the LAN."""
    found_via: frozenset[str] = frozenset()
    """How discovery found it now: "lan" (multicast DNS), "dns" (the organisation's DNS)."""

    @property
    def title(self) -> str:
        return self.display_name or self.alias or self.device_id.grouped()


@dataclass(frozen=True, slots=True)
class PeerChange:
    """One peer changed (found, gone, edited, a session recorded): its view now."""

    device_id: DeviceId
    peer: PeerView | None
    """None: the peer is no longer listed anywhere."""


@dataclass(frozen=True, slots=True)
class InvitationView:
    """An invitation or connection request, on either side."""

    invitation_id: str
    """Hex of the random invitation id."""
    kind: Kind
    direction: Direction
    peer_id: DeviceId
    peer_alias: str
    peer_fingerprint: bytes
    permissions: frozenset[Permission]
    profile: str
    revision: int
    state: State
    seconds_left: float
    reason: str = ""
    missed: bool = False
    first_contact: bool = False


class Role(StrEnum):
    HOST = "host"
    GUEST = "guest"


@dataclass(frozen=True, slots=True)
class SessionView:
    session_id: str
    role: Role
    peer_id: DeviceId
    peer_alias: str
    peer_fingerprint: bytes
    permissions: frozenset[Permission]
    locked: frozenset[Permission] = field(default_factory=frozenset)
    started_at: float = 0.0
    """Wall-clock start (epoch seconds)."""
    unavailable: tuple[tuple[Permission, str], ...] = ()
    """Guest side: (permission, reason) for each the host said it cannot honour."""
    origin: str = ""
    """Host side: hex id of the invitation or connection request this session came from."""
    ended: bool = False
    """The session is over (the last view a front end gets of it)."""
    desktop_asking: bool = False
    """Host side: the desktop (Wayland portal) is asking its user to share the screen."""


class TransferDirection(StrEnum):
    SEND = "send"
    RECEIVE = "receive"


class TransferState(StrEnum):
    OFFERED = "offered"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (TransferState.DONE, TransferState.FAILED, TransferState.CANCELLED)


@dataclass(frozen=True, slots=True)
class TransferView:
    transfer_id: str
    """Hex of the random transfer id."""
    session_id: str
    direction: TransferDirection
    name: str
    size: int
    done: int
    """Bytes written by the receiver (on the sending side: acknowledged by it)."""
    state: TransferState
    reason: str = ""
    path: str = ""
    """Sender: the file sent. Receiver: the saved file, once done."""


@dataclass(frozen=True, slots=True)
class StrokeView:
    """A stroke as the overlay paints it: device pixels of the host's screen ``screen``."""

    session_id: str
    stroke: int
    screen: int
    color: int
    """0xRRGGBB."""
    points: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class PointerSeen:
    """The guest's pointer on the host's screen, for the marker; ``inside`` False: hide it."""

    session_id: str
    screen: int
    x: int
    y: int
    inside: bool
