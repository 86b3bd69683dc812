"""A session's messages to the peer, in order, bounded."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from anydesk_invite.net.wire import Message

OUTBOX = 512
"""Messages a guest keeps queued for one session; the oldest droppable ones go first."""


class Outbox:
    """One session's messages to the peer, sent in order by one task.

    Bounded: when full, the oldest droppable message (a pointer move or position) goes; a
    non-droppable one is refused (False) rather than queued without end.
    """

    def __init__(self, send: Callable[[Message], Awaitable[None]], limit: int = OUTBOX) -> None:
        self._send = send
        self._limit = limit
        self._queue: deque[tuple[Message, bool]] = deque()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def post(self, msg: Message, *, droppable: bool = False, coalesce: bool = False) -> bool:
        if coalesce and self._queue and type(self._queue[-1][0]) is type(msg):
            self._queue[-1] = (msg, droppable)
            return True
        if len(self._queue) >= self._limit:
            at = next((i for i, (_, d) in enumerate(self._queue) if d), None)
            self.dropped += 1
            if at is None:
                return False
            del self._queue[at]
        self._queue.append((msg, droppable))
        self._ready.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return True

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            while self._queue:
                msg, _ = self._queue.popleft()
                await self._send(msg)
            self._ready.clear()

    def close(self) -> None:
        self._queue.clear()
        if self._task is not None:
            self._task.cancel()
            self._task = None
