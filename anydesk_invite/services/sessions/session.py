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

CHAT_KEEP_MESSAGES = 500
"""Chat lines a session keeps (both directions); older ones are dropped."""
CHAT_KEEP_CHARS = 256 * 1024
"""Characters of chat a session keeps; older lines are dropped beyond it."""
CHAT_RATE = 5.0
"""Chat messages per second taken from a peer, after a burst of CHAT_BURST; more are dropped."""
CHAT_BURST = 20


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
    """(who, text): 'me' or 'peer'; the newest CHAT_KEEP_MESSAGES / CHAT_KEEP_CHARS only."""
    chat_tokens: float = 0.0
    """Peer chat messages this session may still take now (a token bucket, CHAT_RATE/s)."""
    chat_refill: float = 0.0
    chat_dropped: int = 0
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

    def keep_chat(self, who: str, text: str) -> None:
        """Append a chat line; the oldest go beyond the count or size bound."""
        self.chat.append((who, text))
        excess = len(self.chat) - CHAT_KEEP_MESSAGES
        if excess > 0:
            del self.chat[:excess]
        total = sum(len(t) for _, t in self.chat)
        while total > CHAT_KEEP_CHARS and len(self.chat) > 1:
            total -= len(self.chat.pop(0)[1])

    def chat_allowed(self, now: float) -> bool:
        """Whether one more chat message from the peer is taken now (rate bound)."""
        if self.chat_refill == 0.0:
            self.chat_tokens, self.chat_refill = float(CHAT_BURST), now
        self.chat_tokens = min(
            float(CHAT_BURST), self.chat_tokens + (now - self.chat_refill) * CHAT_RATE
        )
        self.chat_refill = now
        if self.chat_tokens < 1:
            self.chat_dropped += 1
            return False
        self.chat_tokens -= 1
        return True

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
