"""Whole clients on their own event loop, so synchronous hypothesis tests can drive them
example after example without starting a client per example."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.limits import Limits
from anydesk_invite.services.views import SessionView
from tests.helpers.nodes import Node, Nodes, eventually

T = TypeVar("T")


class LiveClients:
    """A private event loop with a ``Nodes`` factory on it."""

    def __init__(self, tmp_path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.nodes = Nodes(tmp_path, tls=True)
        self._made = 0
        self.cleanup: list[Callable[[], Awaitable[None]]] = []
        """Called before the clients stop: raw peers the tests opened close here."""

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the clients' loop; TimeoutError when it hangs."""
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    async def make(self, name: str, limits: Limits | None = None) -> Node:
        self._made += 1
        return await self.nodes.make(f"{name}{self._made}", limits=limits)

    def close(self) -> None:
        try:
            for close in reversed(self.cleanup):
                self.loop.run_until_complete(close())
            self.loop.run_until_complete(self.nodes.close())
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()


@contextmanager
def live_clients(tmp_path: Path) -> Iterator[LiveClients]:
    live = LiveClients(tmp_path)
    try:
        yield live
    finally:
        live.close()


async def open_session(
    host: Node, guest: Node, permissions: frozenset[Permission] = frozenset(Permission)
) -> tuple[SessionView, SessionView]:
    """The host invites the guest, who accepts: (host's view, guest's view)."""
    host.knows(guest)
    guest.knows(host)
    before = len(host.client.sessions())
    sent = await host.client.invite(guest.device_id, permissions, "")
    await eventually(
        lambda: any(v.invitation_id == sent.invitation_id for v in guest.received.items)
    )
    guest_view = await guest.client.accept(sent.invitation_id)
    await eventually(lambda: len(host.client.sessions()) > before)
    [host_view] = [s for s in host.client.sessions() if s.session_id == guest_view.session_id]
    return host_view, guest_view
