"""A guest that bypasses its own client: the test takes over its session channel and sends
raw messages, to show what the host enforces by itself."""

from __future__ import annotations

import asyncio
from typing import TypeVar

from anydesk_invite.net.channel import Channel
from anydesk_invite.net.wire import Message
from tests.helpers.nodes import Node

M = TypeVar("M", bound=Message)


class RawGuest:
    """The guest side of a session whose messages now reach the test instead of the client."""

    def __init__(self, guest: Node, session_id: str) -> None:
        self.channel = guest.session_channel(session_id)
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()

        async def take(channel: Channel, msg: Message) -> None:
            self.inbox.put_nowait(msg)

        guest.client.links.claim(self.channel, take)

    async def send(self, msg: Message) -> None:
        await self.channel.send(msg)

    async def expect(self, kind: type[M], timeout: float = 5.0) -> M:
        """The next message of this kind; messages of other kinds (screen, ...) are skipped."""
        async with asyncio.timeout(timeout):
            while True:
                msg = await self.inbox.get()
                if isinstance(msg, kind):
                    return msg
