"""Chat in a session: a line of text either way, kept in the session for its window."""

from __future__ import annotations

from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.wire import Chat, Message
from anydesk_invite.services.sessions.session import Session

MAX_TEXT = 4000
"""Characters of one line sent; longer text is cut."""


class SessionChat:
    """Chat for every session on this device.

    Signals: received (tuple[str session id hex, str text]), view_changed (Session).
    """

    name = "chat"
    permission: Permission | None = None
    from_guest: tuple[type[Message], ...] = (Chat,)
    from_host: tuple[type[Message], ...] = (Chat,)
    refusal_interval = 0.0

    def __init__(self) -> None:
        self.received: Signal[tuple[str, str]] = Signal("chat.received")
        self.view_changed: Signal[Session] = Signal("chat.view_changed")

    def gated(self, msg: Message) -> bool:
        return False

    def refusal(self, session: Session, msg: Message) -> tuple[str, Message | None]:
        return "chat", None

    async def started(self, session: Session) -> None:
        pass

    def permissions_changed(self, session: Session) -> None:
        pass

    def ended(self, session: Session) -> None:
        pass

    def stop(self) -> None:
        pass

    async def handle(self, session: Session, msg: Message) -> None:
        if isinstance(msg, Chat):
            session.chat.append(("peer", msg.text))
            self.received.emit((session.id_hex, msg.text))
            self.view_changed.emit(session)

    async def say(self, session: Session, text: str) -> None:
        text = text[:MAX_TEXT]
        session.chat.append(("me", text))
        await session.send(Chat(text=text))
        self.view_changed.emit(session)
