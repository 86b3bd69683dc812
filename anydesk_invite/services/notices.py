"""Incoming invitations and connection requests as desktop notifications (InvitationNotifier):
Connect (Accept for a request) accepts, Reject rejects, closing the notification does nothing
(the invitation stays in the main window). A notification is taken back once its invitation is
answered elsewhere, expires or is cancelled."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from anydesk_invite.core.invitation import Kind, State
from anydesk_invite.services.client import Client
from anydesk_invite.services.ports import InvitationNotifier
from anydesk_invite.services.refusals import ActionRefused
from anydesk_invite.services.views import Direction, InvitationView

_log = logging.getLogger(__name__)

OPEN = frozenset({State.PENDING, State.RECEIVED})


def describe(view: InvitationView) -> tuple[str, str, str]:
    """Summary, body and accept label of the notification for an invitation or request."""
    rights = ", ".join(sorted(p.value for p in view.permissions)) or "view"
    if view.kind is Kind.INVITATION:
        return (
            f"{view.peer_alias} invites you to their screen",
            f"Allowed: {rights}. {int(view.seconds_left)} s to answer.",
            "Connect",
        )
    return (
        f"{view.peer_alias} asks to connect to this device",
        "Accept lets them see your screen with your default profile.",
        "Accept",
    )


class InvitationNotices:
    """Shows every incoming invitation through ``notifier`` and carries out its answer."""

    def __init__(
        self,
        client: Client,
        notifier: InvitationNotifier,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._client = client
        self.notifier = notifier
        self._on_close = on_close
        self._shown: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._calls: asyncio.Queue[Callable[[], Coroutine[Any, Any, None]] | None] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self.answers = 0
        client.invitation_received.connect(self._received)
        client.invitations_changed.connect(self._changed)
        notifier.answered.connect(self._answered)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro, name="invitation-notice")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _in_turn(self, make: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run a call to the notifier after the ones before it (a notification is taken back
        only once it was shown)."""
        self._calls.put_nowait(make)
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(
                self._work(), name="invitation-notices"
            )

    async def _work(self) -> None:
        while True:
            make = await self._calls.get()
            if make is None:
                return
            try:
                await make()
            except Exception:
                _log.exception("a desktop notification call failed")

    def _received(self, view: InvitationView) -> None:
        if view.direction is not Direction.INCOMING or view.state not in OPEN:
            return
        self._shown.add(view.invitation_id)
        summary, body, accept = describe(view)
        key = view.invitation_id
        self._in_turn(lambda: self.notifier.show(key, summary, body, accept))

    def _changed(self, _changed: InvitationView) -> None:
        # Every open one is checked, not just the one named: withdrawing is cheap and a
        # notification must never outlive its invitation.
        still_open = {
            v.invitation_id
            for v in self._client.invitations()
            if v.direction is Direction.INCOMING and v.state in OPEN
        }
        for key in self._shown - still_open:
            self._shown.discard(key)
            self._in_turn(functools.partial(self.notifier.withdraw, key))

    def _answered(self, answer: tuple[str, bool]) -> None:
        key, accepted = answer
        if key not in self._shown:
            return
        self._shown.discard(key)
        self.answers += 1
        self._spawn(self._answer(key, accepted))

    async def _answer(self, key: str, accepted: bool) -> None:
        try:
            if accepted:
                await self._client.accept(key)
            else:
                await self._client.reject(key)
        except ActionRefused as exc:
            _log.warning("the answer from the notification was refused: %s", exc)

    async def close(self) -> None:
        self._client.invitation_received.disconnect(self._received)
        self._client.invitations_changed.disconnect(self._changed)
        self.notifier.answered.disconnect(self._answered)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._worker is not None:
            # Ends after the call under way (each is bounded by the notifier's timeout).
            self._calls.put_nowait(None)
            await self._worker
        if self._on_close is not None:
            await self._on_close()
