"""Chat in a session: a line of text either way, kept in the session for its window."""

from __future__ import annotations

import logging

from anydesk_invite.core.clock import Clock
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.wire import Chat, Message
from anydesk_invite.services.sessions.feature import BaseFeature
from anydesk_invite.services.sessions.session import CHAT_RATE, Session

_log = logging.getLogger(__name__)

MAX_TEXT = 4000
"""Characters of one line sent; longer text is cut."""


class SessionChat(BaseFeature):
    """Chat for every session on this device.

    Signals: received (tuple[str session id hex, str text]), view_changed (Session).
    """

    name = "chat"
    from_guest: tuple[type[Message], ...] = (Chat,)
    from_host: tuple[type[Message], ...] = (Chat,)

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self._clock = clock
        self.received: Signal[tuple[str, str]] = Signal("chat.received")

    async def handle(self, session: Session, msg: Message) -> None:
        if isinstance(msg, Chat):
            if not session.chat_allowed(self._clock.now()):
                if session.chat_dropped in (1, 100, 10_000):
                    _log.warning(
                        "%s sends chat faster than %g messages/s; %d dropped",
                        session.peer.device_id,
                        CHAT_RATE,
                        session.chat_dropped,
                    )
                return
            session.keep_chat("peer", msg.text)
            self.received.emit((session.id_hex, msg.text))
            self.view_changed.emit(session)

    async def say(self, session: Session, text: str) -> None:
        text = text[:MAX_TEXT]
        session.keep_chat("me", text)
        await session.send(Chat(text=text))
        self.view_changed.emit(session)
