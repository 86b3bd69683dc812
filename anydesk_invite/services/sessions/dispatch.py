"""The session service's dispatch table and its one host-side permission gate.

Each message from the peer goes to the feature that takes it (a table built from each
feature's ``from_guest`` / ``from_host``). A guest's message that needs a permission the
session lacks is refused here, logged and answered as its feature says, whatever the guest's
UI did.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from anydesk_invite.core.clock import Clock
from anydesk_invite.net.wire import Message, Refused
from anydesk_invite.services.sessions.feature import Feature
from anydesk_invite.services.sessions.session import Session
from anydesk_invite.services.views import Role

_log = logging.getLogger(__name__)


class Dispatch:
    """Routes a session's messages to its features; refuses what a host did not permit."""

    def __init__(
        self,
        features: Sequence[Feature],
        clock: Clock,
        send: Callable[[Session, Message], Awaitable[None]],
    ) -> None:
        self._features = features
        self._clock = clock
        self._send = send
        """The service's send: a closed channel ends the session."""
        self._from_guest = _table(features, lambda f: f.from_guest)
        self._from_host = _table(features, lambda f: f.from_host)
        self._named = {f.name: f for f in features}
        self._refused_at: dict[tuple[bytes, str], float] = {}
        """When the gate last logged and answered a refusal, per session and feature."""

    async def route(self, session: Session, msg: Message) -> None:
        """Hand ``msg`` from the peer to the feature that takes it, through the gate on a host;
        a message no feature takes is refused and logged."""
        match msg:
            case Refused() if session.role is Role.GUEST:
                _log.info("host refused %s: %s", msg.what, msg.reason)
                named = self._named.get(msg.what)
                if named is not None and Refused in named.from_host:
                    await named.handle(session, msg)
                return
        host = session.role is Role.HOST
        feature = (self._from_guest if host else self._from_host).get(type(msg))
        if feature is None:
            _log.warning("unexpected %s in a session from %s", type(msg).__name__, session.peer)
            await self._send(session, Refused(what="unexpected", reason="not permitted"))
            return
        if host and not await self._permitted(session, feature, msg):
            return
        await feature.handle(session, msg)

    async def _permitted(self, session: Session, feature: Feature, msg: Message) -> bool:
        """The host-side gate: whether the guest's ``msg`` may reach ``feature``. A refusal is
        logged and answered as the feature says, at most once per its refusal interval."""
        perm = feature.permission
        if perm is None or perm in session.permissions or not feature.gated(msg):
            return True
        key = (session.session_id, feature.name)
        now = self._clock.now()
        last = self._refused_at.get(key)
        if last is not None and now - last < feature.refusal_interval:
            return False
        self._refused_at[key] = now
        what, answer = feature.refusal(session, msg)
        _log.warning(
            "refused %s from guest %s: %s not granted",
            what,
            session.peer.device_id,
            perm.value.replace("_", " "),
        )
        if answer is not None:
            await self._send(session, answer)
        return False

    def forget(self, session: Session) -> None:
        """The session ended: its refusals need no more spacing."""
        for f in self._features:
            self._refused_at.pop((session.session_id, f.name), None)


def _table(
    features: Sequence[Feature], messages: Callable[[Feature], tuple[type[Message], ...]]
) -> dict[type[Message], Feature]:
    """Message type -> the feature that takes it; two features taking one type is a mistake."""
    table: dict[type[Message], Feature] = {}
    for f in features:
        for kind in messages(f):
            if kind is Refused:
                continue  # a host's refusal goes to the feature it names (``Refused.what``)
            if kind in table:
                raise ValueError(f"{kind.__name__} is taken by {table[kind].name} and {f.name}")
            table[kind] = f
    return table
