"""What both sides of invitations and requests share: the invitations themselves and their
views, the answers awaited from peers (typed keys), settling a final state, expiry on the
injected clock, and the channels they travel on. inviting.py and invited.py are the two sides;
invitations.py puts them together and routes the peer's messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from enum import Enum

from anydesk_invite.core.clock import Clock
from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import (
    INVITATION_LIFETIME,
    REQUEST_LIFETIME,
    SESSION_TOKEN_LIFETIME,
    IncomingInvitation,
    InvitationRefused,
    Kind,
    OutgoingInvitation,
    Peer,
    State,
    tokens_equal,
)
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.policy import AcceptFrom, Policy
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.channel import Channel, ChannelClosed
from anydesk_invite.net.wire import (
    Message,
)
from anydesk_invite.services.invitation_texts import REQUESTER_LATE
from anydesk_invite.services.links import Address, Links, Unreachable
from anydesk_invite.services.refusals import RefusalKind, RefusedWithKind
from anydesk_invite.services.views import Direction, InvitationView

_log = logging.getLogger(__name__)


ANSWER_TIMEOUT = 5.0
"""Seconds to wait for the peer to say it showed (or declined) an invitation."""
ACCEPT_TIMEOUT = 10.0
"""Seconds an invitee waits for the inviter's answer to an accept."""
MAX_PENDING_INCOMING = 32
MAX_PENDING_PER_ADDRESS = 4
"""Pending incoming invitations and requests from one source address."""
MAX_PENDING_UNKNOWN = 8
"""Pending incoming ones from unknown keys (not in the address book, no past session) as a
group: fresh keys cost nothing, so they never take the slots of the peers the user knows."""
RATE_WINDOW = 10.0
RATE_MAX = 5
"""At most this many invitations or requests per peer per RATE_WINDOW seconds are looked at."""
SEEN_IDS = 4096
NO_ANSWER = "no answer"
"""The reason of a connection request that expired unanswered."""
DECLINED = "declined"
"""The only reason an inviter or requester is given for a refusal by the other side."""


@dataclass(frozen=True, slots=True)
class Target:
    """Whom to invite: resolved by the directory from an ID or alias."""

    device_id: DeviceId
    fingerprint: bytes | None
    """None only for a manual address never connected to (trust on first use)."""
    alias: str
    addresses: tuple[Address, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """A final state, for Recent Sessions."""

    direction: Direction
    kind: Kind
    peer: Peer
    state: State
    reason: str


@dataclass(slots=True)
class _HostTicket:
    """A session token the host issued for an accepted connection request."""

    token: bytes
    request_id: bytes
    fingerprint: bytes
    deadline: float


class AcceptFromCheck:
    """Decides whether an incoming invitation or request from a peer may be shown."""

    def __init__(
        self,
        policy: Callable[[], Policy],
        chosen: Callable[[], AcceptFrom],
        in_address_book: Callable[[bytes, DeviceId], bool],
    ) -> None:
        self._policy = policy
        self._chosen = chosen
        self._in_address_book = in_address_book

    def allows(self, fingerprint: bytes, device_id: DeviceId) -> bool:
        policy = self._policy()
        if policy.broken:
            return False
        mode = policy.effective_accept_from(self._chosen())
        if mode is AcceptFrom.NOBODY:
            return False
        if mode is AcceptFrom.ADDRESS_BOOK:
            return self._in_address_book(fingerprint, device_id)
        return True


class Awaited(Enum):
    """What an invitation waits to hear back from the peer."""

    SHOWN = "shown"
    """The invitee shows the invitation (InviteShown) or refused it."""
    ACCEPT = "accept"
    """The inviter's answer to an accept: a session token or a refusal."""


AnswerKey = tuple[bytes, Awaited]
"""An answer awaited: (invitation id, what)."""

SessionStarter = Callable[[Channel, Peer, frozenset[Permission], str], Awaitable[None]]
"""Start a host session on a channel: (channel, guest, permissions, origin invitation hex)."""
GuestConnector = Callable[[Peer, tuple[Address, ...], bytes, frozenset[Permission]], Awaitable[str]]
"""Open a guest session at the host with a token: returns the session id (hex)."""


class InvitationBook:
    """The state both sides of InvitationService work on (see invitations.py).

    Signals: changed (InvitationView: the invitation or request whose state changed, as it is
    now); received (InvitationView) when a new incoming invitation or request is shown;
    finished (Outcome) once per final state.
    """

    def __init__(
        self,
        links: Links,
        clock: Clock,
        policy: Callable[[], Policy],
        accept_from: AcceptFromCheck,
        listen_addresses: Callable[[bytes], tuple[Address, ...]],
        *,
        lifetime: float = INVITATION_LIFETIME,
        request_lifetime: float = REQUEST_LIFETIME,
        token_lifetime: float = SESSION_TOKEN_LIFETIME,
        random_bytes: Callable[[int], bytes] = os.urandom,
        first_contact: Callable[[bytes], bool] = lambda fp: True,
        known: Callable[[bytes], bool] = lambda fp: False,
        start_host_session: SessionStarter,
        connect_as_guest: GuestConnector,
    ) -> None:
        self._links = links
        self._clock = clock
        self._policy = policy
        self._accept_from = accept_from
        self._listen_addresses = listen_addresses
        self.lifetime = lifetime
        self.request_lifetime = request_lifetime
        self.token_lifetime = token_lifetime
        self._random = random_bytes
        self._first_contact = first_contact
        self._known = known
        """True for a peer in the address book or with a past session: never crowded out."""
        self.accept_timeout = ACCEPT_TIMEOUT
        """Seconds an invitee waits for the inviter's answer to an accept (real time)."""
        self.max_pending_per_address = MAX_PENDING_PER_ADDRESS
        self.max_pending_unknown = MAX_PENDING_UNKNOWN
        self._pending_from: dict[bytes, str] = {}
        """The source address each incoming invitation came from."""
        self.outgoing: OrderedDict[bytes, OutgoingInvitation] = OrderedDict()
        self.incoming: OrderedDict[bytes, IncomingInvitation] = OrderedDict()
        self._answers: dict[AnswerKey, asyncio.Future[Message]] = {}
        self._host_tickets: list[_HostTicket] = []
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._rates: dict[bytes, deque[float]] = {}
        self._reported: set[bytes] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.start_host_session = start_host_session
        self.connect_as_guest = connect_as_guest
        self.changed: Signal[InvitationView] = Signal("invitations.changed")
        self.received: Signal[InvitationView] = Signal("invitations.received")
        self.finished: Signal[Outcome] = Signal("invitations.finished")

    # --- views ------------------------------------------------------------------------

    def view(self, inv: OutgoingInvitation | IncomingInvitation) -> InvitationView:
        now = self._clock.now()
        if isinstance(inv, OutgoingInvitation):
            return InvitationView(
                invitation_id=inv.invitation_id.hex(),
                kind=inv.kind,
                direction=Direction.OUTGOING,
                peer_id=inv.peer.device_id,
                peer_alias=inv.peer.alias,
                peer_fingerprint=inv.peer.fingerprint,
                permissions=inv.permissions,
                profile=inv.profile,
                revision=inv.revision,
                state=inv.state,
                seconds_left=inv.seconds_left(now),
                reason=inv.reason,
            )
        return InvitationView(
            invitation_id=inv.invitation_id.hex(),
            kind=inv.kind,
            direction=Direction.INCOMING,
            peer_id=inv.peer.device_id,
            peer_alias=inv.peer.alias,
            peer_fingerprint=inv.peer.fingerprint,
            permissions=inv.permissions,
            profile="",
            revision=inv.revision,
            state=inv.state,
            seconds_left=inv.seconds_left(now),
            reason=inv.reason,
            missed=inv.missed,
            first_contact=self._first_contact(inv.peer.fingerprint),
        )

    def all(self) -> list[OutgoingInvitation | IncomingInvitation]:
        return [*self.outgoing.values(), *self.incoming.values()]

    def views(self) -> list[InvitationView]:
        return [self.view(i) for i in self.all()]

    def find(self, text: str) -> OutgoingInvitation | IncomingInvitation:
        """An invitation by hex id or a unique prefix of at least 4 hex digits."""
        key = text.strip().lower()
        if len(key) < 4 or any(c not in "0123456789abcdef" for c in key):
            raise RefusedWithKind(
                RefusalKind.INVALID,
                f"“{text}” is not an invitation's number; the list of invitations shows them",
            )
        found = [inv for inv in self.all() if inv.invitation_id.hex().startswith(key)]
        if not found:
            raise RefusedWithKind(RefusalKind.UNKNOWN, f"no invitation {text}")
        if len(found) > 1:
            raise RefusedWithKind(RefusalKind.AMBIGUOUS, f"{text} matches several invitations")
        return found[0]

    def carries(self, fingerprint: bytes) -> bool:
        """True while an invitation or request with this peer is open (or its token is)."""
        return any(
            not i.state.final and tokens_equal(i.peer.fingerprint, fingerprint) for i in self.all()
        ) or any(tokens_equal(t.fingerprint, fingerprint) for t in self._host_tickets)

    # --- bookkeeping ------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        async def run() -> None:
            await coro

        task = asyncio.create_task(run(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _settle(self, inv: OutgoingInvitation | IncomingInvitation) -> None:
        """Report a final state once, then tell listeners something changed."""
        if inv.state.final and inv.invitation_id not in self._reported:
            self._reported.add(inv.invitation_id)
            direction = (
                Direction.OUTGOING if isinstance(inv, OutgoingInvitation) else Direction.INCOMING
            )
            self.finished.emit(Outcome(direction, inv.kind, inv.peer, inv.state, inv.reason))
        self.changed.emit(self.view(inv))

    def tick(self) -> None:
        """Expire what is past its deadline, on this side's own clock."""
        now = self._clock.now()
        for inv in list(self.outgoing.values()):
            if inv.tick(now):
                if inv.kind is Kind.REQUEST and inv.state is State.EXPIRED:
                    # The requested device's owner never answered; say so, not just "expired".
                    inv.reason = NO_ANSWER
                self._settle(inv)
        for inc in list(self.incoming.values()):
            if inc.tick(now):
                self._settle(inc)
        expired = [t for t in self._host_tickets if now >= t.deadline]
        self._host_tickets = [t for t in self._host_tickets if now < t.deadline]
        for t in expired:
            req = self.incoming.get(t.request_id)
            if req is not None:
                req.fail(REQUESTER_LATE)
                self._settle(req)

    async def run_ticker(self, interval: float = 0.25) -> None:
        while True:
            self.tick()
            await asyncio.sleep(interval)

    @contextlib.contextmanager
    def _refusal_settles(self, inv: OutgoingInvitation | IncomingInvitation) -> Iterator[None]:
        """A state machine's refusal becomes a Refused for the user, after settling the state
        (the machine may just have expired it)."""
        try:
            yield
        except InvitationRefused as exc:
            self._settle(inv)
            raise RefusedWithKind(RefusalKind.STATE, str(exc)) from exc

    def _require_policy(self) -> Policy:
        policy = self._policy()
        if policy.broken:
            raise RefusedWithKind(
                RefusalKind.POLICY,
                f"the custom client settings cannot be read ({policy.broken}); "
                "invitations are off until they are fixed",
            )
        return policy

    async def _await_answer(self, key: AnswerKey, timeout: float) -> Message | None:
        fut = self._answers.get(key)
        if fut is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(fut), timeout)
        except TimeoutError:
            return None
        finally:
            # Also after a timeout: an answer nobody waits for any more must not be kept.
            if self._answers.get(key) is fut:
                del self._answers[key]

    def _expect_answer(self, key: AnswerKey) -> None:
        self._answers[key] = asyncio.get_running_loop().create_future()

    def _answer(self, key: AnswerKey, msg: Message) -> None:
        fut = self._answers.pop(key, None)
        if fut is not None and not fut.done():
            fut.set_result(msg)

    async def _open_channel(self, target: Target) -> Channel:
        try:
            channel = await self._links.channel_to(target.fingerprint, list(target.addresses))
        except Unreachable as exc:
            raise RefusedWithKind(
                RefusalKind.OFFLINE,
                f"{target.alias or target.device_id.grouped()} cannot be reached: is it running "
                "and on this network?",
            ) from exc
        if channel.peer.device_id != target.device_id:
            await channel.close("not the device that was asked for")
            raise RefusedWithKind(
                RefusalKind.INVALID,
                f"the device at that address has ID {channel.peer.device_id.grouped()}, "
                f"not {target.device_id.grouped()}: check the address in the address book",
            )
        return channel

    async def _send(self, inv: OutgoingInvitation | IncomingInvitation, msg: Message) -> bool:
        """Best-effort send to the peer of an invitation; False when it cannot be reached."""
        addresses = self._listen_addresses(inv.peer.fingerprint)
        try:
            channel = await self._links.channel_to(inv.peer.fingerprint, list(addresses))
            await channel.send(msg)
        except (Unreachable, ChannelClosed, OSError) as exc:
            _log.info("could not send %s to %s: %s", type(msg).__name__, inv.peer.alias, exc)
            return False
        return True

    async def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for fut in self._answers.values():
            fut.cancel()
        self._answers.clear()
