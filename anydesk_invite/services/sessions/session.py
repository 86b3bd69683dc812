"""One session between a host and a guest, as both sides keep it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from anydesk_invite.core.invitation import Peer
from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.channel import Channel, ChannelClosed
from anydesk_invite.net.wire import Message
from anydesk_invite.services.sessions.outbox import Outbox
from anydesk_invite.services.views import Role, SessionView


@dataclass(slots=True)
class Session:
    session_id: bytes
    role: Role
    peer: Peer
    channel: Channel
    permissions: frozenset[Permission]
    locked: frozenset[Permission]
    started_at: float
    started_mono: float
    origin: str = ""
    """Hex id of the invitation or request this session came from (host side; empty if none)."""
    ended: bool = False
    end_reason: str = ""
    chat: list[tuple[str, str]] = field(default_factory=list)
    """(who, text): 'me' or 'peer'."""
    send_clipboard: bool = False
    """Guest side: whether this guest's clipboard may leave the machine."""
    pending: dict[str, asyncio.Future[Message]] = field(default_factory=dict)
    """Guest side: questions to the host awaiting their answer, by the name of what was asked."""
    unavailable: dict[Permission, str] = field(default_factory=dict)
    """Guest side: permissions the host said it cannot honour (Unavailable), with the reason."""
    desktop_asking: bool = False
    """Host side: the desktop is asking its user to share the screen (Wayland portal)."""
    _outbox: Outbox | None = None

    @property
    def id_hex(self) -> str:
        return self.session_id.hex()

    def unavailable_reason(self, perm: Permission) -> str:
        """Guest: why the host cannot honour ``perm`` although it may grant it; empty if it can."""
        return self.unavailable.get(perm, "")

    def outbox(self) -> Outbox:
        """The session's ordered outbox (input and strokes share it, so they keep order)."""
        if self._outbox is None:
            self._outbox = Outbox(self.send)
        return self._outbox

    def close_outbox(self) -> None:
        if self._outbox is not None:
            self._outbox.close()
            self._outbox = None

    async def send(self, msg: Message) -> None:
        """Send to the peer; a closed channel is noticed by the service, which ends the session."""
        try:
            await self.channel.send(msg)
        except ChannelClosed:
            pass

    def view(self) -> SessionView:
        return SessionView(
            session_id=self.session_id.hex(),
            role=self.role,
            peer_id=self.peer.device_id,
            peer_alias=self.peer.alias,
            peer_fingerprint=self.peer.fingerprint,
            permissions=self.permissions,
            locked=self.locked,
            started_at=self.started_at,
            unavailable=tuple(sorted(self.unavailable.items())),
            origin=self.origin,
            ended=self.ended,
            desktop_asking=self.desktop_asking,
        )


@dataclass(frozen=True, slots=True)
class SessionOutcome:
    session: SessionView
    duration: float
    reason: str
