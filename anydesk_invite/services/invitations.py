"""Invitations and connection requests over the network, on both sides.

The inviter (host) sends ``Invite`` over an authenticated channel; the invitee shows it
(after its policy and accept-from checks) and answers ``InviteShown`` or ``InviteDeclined``.
On accept the invitee names the revision it saw; the inviter answers with a single-use
session token, and the invitee opens a fresh channel to the inviter presenting it. A
connection request runs the other way: the requester asks, the requested device accepts with
permissions of its owner's choice and sends the token, and the requester connects as guest.
The inviter's order of events decides every race; see docs/PROTOCOL.md.
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
    Refusal,
    State,
    tokens_equal,
)
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.policy import AcceptFrom, Policy
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.channel import Channel, ChannelClosed
from anydesk_invite.net.wire import (
    ConnectRequest,
    Invite,
    InviteAccept,
    InviteAcceptOk,
    InviteCancel,
    InviteDeclined,
    InviteRefused,
    InviteReject,
    InviteShown,
    InviteUpdate,
    Message,
    RequestAccepted,
    RequestCancel,
    RequestDismissed,
    SessionOpen,
)
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


class InvitationService:
    """Every invitation and request this client sent or received.

    Signals: changed (None) after any state change; received (InvitationView) when a new
    incoming invitation or request is shown; finished (Outcome) once per final state.
    """

    def __init__(
        self,
        links: Links,
        clock: Clock,
        policy: Callable[[], Policy],
        accept_from: AcceptFromCheck,
        own_alias: Callable[[], str],
        listen_addresses: Callable[[bytes], tuple[Address, ...]],
        *,
        lifetime: float = INVITATION_LIFETIME,
        request_lifetime: float = REQUEST_LIFETIME,
        token_lifetime: float = SESSION_TOKEN_LIFETIME,
        random_bytes: Callable[[int], bytes] = os.urandom,
        first_contact: Callable[[bytes], bool] = lambda fp: True,
        known: Callable[[bytes], bool] = lambda fp: False,
    ) -> None:
        self._links = links
        self._clock = clock
        self._policy = policy
        self._accept_from = accept_from
        self._own_alias = own_alias
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
        self.start_host_session: SessionStarter | None = None
        self.connect_as_guest: GuestConnector | None = None
        self.changed: Signal[None] = Signal("invitations.changed")
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
            raise RefusedWithKind(RefusalKind.INVALID, f"{text!r} is not an invitation id")
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
        self.changed.emit(None)

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
        before = len(self._host_tickets)
        expired = [t for t in self._host_tickets if now >= t.deadline]
        self._host_tickets = [t for t in self._host_tickets if now < t.deadline]
        for t in expired:
            req = self.incoming.get(t.request_id)
            if req is not None:
                req.fail("the requester did not connect in time")
                self._settle(req)
        if len(self._host_tickets) != before:
            self.changed.emit(None)

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
                RefusalKind.OFFLINE, f"{target.alias or target.device_id.grouped()} is offline"
            ) from exc
        if channel.peer.device_id != target.device_id:
            await channel.close("not the device that was asked for")
            raise RefusedWithKind(
                RefusalKind.INVALID,
                f"the device at that address has ID {channel.peer.device_id.grouped()}, "
                f"not {target.device_id.grouped()}",
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

    # --- inviter / requester ------------------------------------------------------------

    def pending_to(self, device_id: DeviceId) -> OutgoingInvitation | None:
        for inv in self.outgoing.values():
            if inv.peer.device_id == device_id and inv.state is State.PENDING:
                return inv
        return None

    async def invite(
        self, target: Target, permissions: frozenset[Permission], profile: str
    ) -> OutgoingInvitation:
        policy = self._require_policy()
        existing = self.pending_to(target.device_id)
        if existing is not None:
            raise RefusedWithKind(
                RefusalKind.STATE,
                f"an invitation to {target.alias or target.device_id.grouped()} is pending "
                f"({existing.invitation_id.hex()[:8]}); edit or cancel it",
            )
        channel = await self._open_channel(target)
        peer = Peer(channel.peer.fingerprint, channel.peer.device_id, channel.peer.alias)
        inv = OutgoingInvitation(
            invitation_id=self._random(16),
            kind=Kind.INVITATION,
            peer=peer,
            permissions=policy.apply(permissions),
            sent_at=self._clock.now(),
            lifetime=self.lifetime,
            profile=profile,
        )
        return await self._deliver(
            inv,
            channel,
            Invite(
                invitation_id=inv.invitation_id,
                revision=inv.revision,
                permissions=inv.permissions,
                profile=profile[:40],
                seconds_left=inv.lifetime,
            ),
        )

    async def request(self, target: Target) -> OutgoingInvitation:
        self._require_policy()
        existing = self.pending_to(target.device_id)
        if existing is not None:
            raise RefusedWithKind(
                RefusalKind.STATE,
                f"a request to {target.alias or target.device_id.grouped()} is pending",
            )
        channel = await self._open_channel(target)
        peer = Peer(channel.peer.fingerprint, channel.peer.device_id, channel.peer.alias)
        inv = OutgoingInvitation(
            invitation_id=self._random(16),
            kind=Kind.REQUEST,
            peer=peer,
            permissions=frozenset(),
            sent_at=self._clock.now(),
            lifetime=self.request_lifetime,
        )
        return await self._deliver(
            inv, channel, ConnectRequest(request_id=inv.invitation_id, seconds_left=inv.lifetime)
        )

    async def _deliver(
        self, inv: OutgoingInvitation, channel: Channel, msg: Message
    ) -> OutgoingInvitation:
        self.outgoing[inv.invitation_id] = inv
        self._expect_answer((inv.invitation_id, Awaited.SHOWN))
        try:
            await channel.send(msg)
        except ChannelClosed:
            # The open channel we picked was closing; one fresh connection is worth a try.
            try:
                fresh = await self._links.dial(
                    list(self._listen_addresses(inv.peer.fingerprint)), inv.peer.fingerprint
                )
                await fresh.send(msg)
            except (Unreachable, ChannelClosed) as exc:
                inv.fail("the connection closed")
                self._settle(inv)
                raise RefusedWithKind(
                    RefusalKind.OFFLINE, "the peer closed the connection"
                ) from exc
        self.changed.emit(None)
        answer = await self._await_answer((inv.invitation_id, Awaited.SHOWN), ANSWER_TIMEOUT)
        if isinstance(answer, InviteDeclined):
            self._declined(inv)
            raise RefusedWithKind(RefusalKind.DECLINED, DECLINED)
        if answer is None and inv.state is State.PENDING:
            inv.fail("no answer from the peer")
            self._settle(inv)
            raise RefusedWithKind(RefusalKind.OFFLINE, "the peer did not answer")
        return inv

    def _declined(self, inv: OutgoingInvitation) -> None:
        """The other side said no. Too late for one already over: its own end stands."""
        with contextlib.suppress(InvitationRefused):
            inv.on_reject(self._clock.now())
            inv.reason = DECLINED
        self._settle(inv)

    def _outgoing_from(self, channel: Channel, invitation_id: bytes) -> OutgoingInvitation | None:
        inv = self.outgoing.get(invitation_id)
        if inv is None or not tokens_equal(inv.peer.fingerprint, channel.peer.fingerprint):
            return None
        return inv

    async def edit(
        self, inv: OutgoingInvitation, permissions: frozenset[Permission], profile: str
    ) -> OutgoingInvitation:
        policy = self._require_policy()
        with self._refusal_settles(inv):
            inv.edit(policy.apply(permissions), self._clock.now(), profile)
        self.changed.emit(None)
        await self._send(inv, self._update_message(inv))
        return inv

    def _update_message(self, inv: OutgoingInvitation) -> InviteUpdate:
        return InviteUpdate(
            invitation_id=inv.invitation_id,
            revision=inv.revision,
            permissions=inv.permissions,
            profile=inv.profile[:40],
            seconds_left=inv.seconds_left(self._clock.now()),
        )

    async def cancel(self, inv: OutgoingInvitation) -> None:
        with self._refusal_settles(inv):
            inv.cancel(self._clock.now())
        self._settle(inv)
        msg: Message = (
            InviteCancel(invitation_id=inv.invitation_id)
            if inv.kind is Kind.INVITATION
            else RequestCancel(request_id=inv.invitation_id)
        )
        await self._send(inv, msg)

    async def _on_accept(self, channel: Channel, msg: InviteAccept) -> None:
        inv = self._outgoing_from(channel, msg.invitation_id)
        if inv is None or inv.kind is not Kind.INVITATION:
            _log.warning("accept for an unknown invitation from %s", channel.peer.device_id)
            await channel.send(
                InviteRefused(invitation_id=msg.invitation_id, code=Refusal.UNKNOWN.value)
            )
            return
        token = self._random(32)
        try:
            inv.on_accept(msg.revision, self._clock.now(), token, self.token_lifetime)
        except InvitationRefused as exc:
            await channel.send(
                InviteRefused(invitation_id=msg.invitation_id, code=exc.refusal.value)
            )
            if exc.refusal is Refusal.STALE_REVISION:
                await channel.send(self._update_message(inv))
            self._settle(inv)
            return
        self.changed.emit(None)
        await channel.send(
            InviteAcceptOk(
                invitation_id=inv.invitation_id,
                session_token=token,
                token_seconds=self.token_lifetime,
            )
        )

    async def _on_reject(self, channel: Channel, msg: InviteReject) -> None:
        inv = self._outgoing_from(channel, msg.invitation_id)
        if inv is None:
            return
        with contextlib.suppress(InvitationRefused):
            inv.on_reject(self._clock.now())
        self._settle(inv)

    async def _on_request_answer(
        self, channel: Channel, msg: RequestAccepted | RequestDismissed
    ) -> None:
        inv = self._outgoing_from(channel, msg.request_id)
        if inv is None or inv.kind is not Kind.REQUEST:
            return
        now = self._clock.now()
        if isinstance(msg, RequestDismissed):
            self._declined(inv)
            return
        try:
            inv.on_accept(inv.revision, now, msg.session_token, msg.token_seconds, msg.permissions)
        except InvitationRefused:
            self._settle(inv)
            return
        self.changed.emit(None)
        self._spawn(self._connect_request(inv), f"request-connect-{inv.invitation_id.hex()}")

    async def _connect_request(self, inv: OutgoingInvitation) -> None:
        connector = self.connect_as_guest
        addresses = self._listen_addresses(inv.peer.fingerprint)
        if connector is None:
            inv.fail("sessions are not available")
        else:
            try:
                await connector(inv.peer, addresses, inv.session_token, inv.permissions)
            except Exception as exc:
                inv.fail(f"could not open the session: {exc}")
            else:
                inv.connected()
        self._settle(inv)

    # --- invitee / requested device -------------------------------------------------------

    def _rate_ok(self, fingerprint: bytes) -> bool:
        now = self._clock.now()
        window = self._rates.setdefault(fingerprint, deque())
        while window and now - window[0] > RATE_WINDOW:
            window.popleft()
        if len(window) >= RATE_MAX:
            return False
        window.append(now)
        if len(self._rates) > 1024:
            self._rates.pop(next(iter(self._rates)))
        return True

    def _seen_before(self, invitation_id: bytes) -> bool:
        if invitation_id in self._seen:
            return True
        self._seen[invitation_id] = None
        if len(self._seen) > SEEN_IDS:
            self._seen.popitem(last=False)
        return False

    def _may_show(self, channel: Channel, invitation_id: bytes) -> bool:
        fp = channel.peer.fingerprint
        if self._seen_before(invitation_id):
            _log.warning("replayed invitation id from %s; declined", channel.peer.device_id)
            return False
        if not self._rate_ok(fp):
            _log.warning("too many invitations from %s; declined", channel.peer.device_id)
            return False
        if not self._accept_from.allows(fp, channel.peer.device_id):
            _log.info("invitation from %s declined by settings", channel.peer.device_id)
            return False
        open_ = [i for i in self.incoming.values() if not i.state.final]
        if len(open_) >= MAX_PENDING_INCOMING:
            _log.warning("too many pending invitations; declined one from %s", channel.peer)
            return False
        if any(tokens_equal(i.peer.fingerprint, fp) for i in open_):
            _log.info("%s already has a pending invitation here; declined", channel.peer)
            return False
        if self._known(fp):
            return True
        host = channel.peer.address[0]
        from_here = sum(1 for i in open_ if self._pending_from.get(i.invitation_id) == host)
        if from_here >= self.max_pending_per_address:
            _log.warning(
                "%d pending invitations from %s; declined one from %s",
                from_here,
                host,
                channel.peer,
            )
            return False
        unknown = sum(1 for i in open_ if not self._known(i.peer.fingerprint))
        if unknown >= self.max_pending_unknown:
            _log.warning(
                "%d pending invitations from unknown devices; declined one from %s",
                unknown,
                channel.peer,
            )
            return False
        return True

    async def _on_incoming(
        self, channel: Channel, kind: Kind, invitation_id: bytes, msg: Invite | ConnectRequest
    ) -> None:
        if not self._may_show(channel, invitation_id):
            await channel.send(InviteDeclined(invitation_id=invitation_id))
            return
        peer = Peer(channel.peer.fingerprint, channel.peer.device_id, channel.peer.alias)
        now = self._clock.now()
        if isinstance(msg, Invite):
            inc = IncomingInvitation.received(
                invitation_id,
                kind,
                peer,
                msg.permissions,
                msg.revision,
                msg.seconds_left,
                now,
                max_lifetime=INVITATION_LIFETIME,
            )
        else:
            inc = IncomingInvitation.received(
                invitation_id,
                kind,
                peer,
                frozenset(),
                1,
                msg.seconds_left,
                now,
                max_lifetime=REQUEST_LIFETIME,
            )
        self.incoming[invitation_id] = inc
        self._pending_from[invitation_id] = channel.peer.address[0]
        self._trim_incoming()
        await channel.send(InviteShown(invitation_id=invitation_id))
        self.changed.emit(None)
        self.received.emit(self.view(inc))

    def _trim_incoming(self, keep: int = 200) -> None:
        finals = [k for k, v in self.incoming.items() if v.state.final]
        for k in finals[: max(0, len(self.incoming) - keep)]:
            del self.incoming[k]
        for k in [k for k in self._pending_from if k not in self.incoming]:
            del self._pending_from[k]

    def _incoming_from(self, channel: Channel, invitation_id: bytes) -> IncomingInvitation | None:
        inc = self.incoming.get(invitation_id)
        if inc is None or not tokens_equal(inc.peer.fingerprint, channel.peer.fingerprint):
            if inc is not None:
                _log.warning("%s tried to change an invitation it did not send", channel.peer)
            return None
        return inc

    async def accept_invitation(self, inc: IncomingInvitation) -> str:
        """Accept the revision shown; returns the session id once connected."""
        self._require_policy()
        with self._refusal_settles(inc):
            revision = inc.begin_accept(self._clock.now())
        self.changed.emit(None)
        self._expect_answer((inc.invitation_id, Awaited.ACCEPT))
        if not await self._send(
            inc, InviteAccept(invitation_id=inc.invitation_id, revision=revision)
        ):
            self._answers.pop((inc.invitation_id, Awaited.ACCEPT), None)
            inc.fail("the inviter cannot be reached")
            self._settle(inc)
            raise RefusedWithKind(RefusalKind.OFFLINE, "the inviter cannot be reached")
        answer = await self._await_answer((inc.invitation_id, Awaited.ACCEPT), self.accept_timeout)
        now = self._clock.now()
        if isinstance(answer, InviteRefused):
            try:
                refusal = Refusal(answer.code)
            except ValueError:
                refusal = Refusal.NOT_PENDING
            inc.accept_refused(refusal, now)
            self._settle(inc)
            if refusal is Refusal.STALE_REVISION:
                raise RefusedWithKind(
                    RefusalKind.STATE,
                    "the inviter changed the invitation; look at it again and accept once more",
                )
            raise RefusedWithKind(RefusalKind.STATE, f"the invitation is {inc.state}")
        if not isinstance(answer, InviteAcceptOk):
            inc.fail("the inviter did not answer")
            self._settle(inc)
            raise RefusedWithKind(RefusalKind.OFFLINE, "the inviter did not answer")
        connector = self.connect_as_guest
        if connector is None:
            inc.fail("sessions are not available")
            self._settle(inc)
            raise RefusedWithKind(RefusalKind.STATE, "sessions are not available")
        try:
            session_id = await connector(
                inc.peer,
                self._listen_addresses(inc.peer.fingerprint),
                answer.session_token,
                inc.permissions,
            )
        except Exception as exc:
            inc.fail(f"could not open the session: {exc}")
            self._settle(inc)
            raise RefusedWithKind(RefusalKind.OFFLINE, f"could not connect: {exc}") from exc
        inc.connected()
        self._settle(inc)
        return session_id

    async def accept_request(
        self, inc: IncomingInvitation, permissions: frozenset[Permission]
    ) -> None:
        """The owner accepts a connection request with permissions of their choice."""
        policy = self._require_policy()
        with self._refusal_settles(inc):
            inc.begin_accept(self._clock.now())
        granted = policy.apply(permissions)
        inc.permissions = granted
        token = self._random(32)
        self._host_tickets.append(
            _HostTicket(
                token,
                inc.invitation_id,
                inc.peer.fingerprint,
                self._clock.now() + self.token_lifetime,
            )
        )
        self.changed.emit(None)
        sent = await self._send(
            inc,
            RequestAccepted(
                request_id=inc.invitation_id,
                permissions=granted,
                session_token=token,
                token_seconds=self.token_lifetime,
            ),
        )
        if not sent:
            # The request failed: its token must not open a session later.
            self._host_tickets = [t for t in self._host_tickets if t.token is not token]
            inc.fail("the requester cannot be reached")
            self._settle(inc)
            raise RefusedWithKind(RefusalKind.OFFLINE, "the requester cannot be reached")

    async def reject(self, inc: IncomingInvitation) -> None:
        with self._refusal_settles(inc):
            inc.reject(self._clock.now())
        self._settle(inc)
        msg: Message = (
            InviteReject(invitation_id=inc.invitation_id)
            if inc.kind is Kind.INVITATION
            else RequestDismissed(request_id=inc.invitation_id, reason=DECLINED)
        )
        await self._send(inc, msg)

    async def _on_session_open(self, channel: Channel, msg: SessionOpen) -> None:
        now = self._clock.now()
        starter = self.start_host_session
        # Invitations: the inviter holds the token in the state machine.
        for inv in self.outgoing.values():
            if (
                inv.state is State.ACCEPTED
                and inv.session_token
                and tokens_equal(inv.session_token, msg.session_token)
            ):
                ok = inv.redeem_token(msg.session_token, channel.peer.fingerprint, now)
                self._settle(inv)
                if ok and starter is not None:
                    await starter(channel, inv.peer, inv.permissions, inv.invitation_id.hex())
                    return
                break
        # Requests: the requested device holds a ticket, good while the request is accepting.
        for ticket in list(self._host_tickets):
            if tokens_equal(ticket.token, msg.session_token):
                self._host_tickets.remove(ticket)
                req = self.incoming.get(ticket.request_id)
                if (
                    req is not None
                    and req.state is State.ACCEPTING
                    and now < ticket.deadline
                    and tokens_equal(ticket.fingerprint, channel.peer.fingerprint)
                    and starter is not None
                ):
                    req.connected()
                    self._settle(req)
                    await starter(channel, req.peer, req.permissions, req.invitation_id.hex())
                    return
                if req is not None:
                    # A request already over (cancelled by the requester, expired) stays so.
                    req.fail(
                        "the requester did not connect in time"
                        if now >= ticket.deadline
                        else "the session token was presented by another key"
                    )
                    self._settle(req)
                break
        _log.warning("refused a session token from %s", channel.peer.device_id)
        await channel.refuse("bad_token", "the session token is not valid")

    # --- routing ------------------------------------------------------------------------

    async def handle(self, channel: Channel, msg: Message) -> bool:
        """Handle one message from a channel; False when it is not about invitations."""
        match msg:
            case Invite():
                await self._on_incoming(channel, Kind.INVITATION, msg.invitation_id, msg)
            case ConnectRequest():
                await self._on_incoming(channel, Kind.REQUEST, msg.request_id, msg)
            case InviteShown() | InviteDeclined():
                if self._outgoing_from(channel, msg.invitation_id) is not None:
                    self._answer((msg.invitation_id, Awaited.SHOWN), msg)
            case InviteUpdate():
                inc = self._incoming_from(channel, msg.invitation_id)
                if inc is not None and inc.update(
                    msg.revision, msg.permissions, msg.seconds_left, self._clock.now()
                ):
                    self.changed.emit(None)
                    self.received.emit(self.view(inc))
            case InviteCancel():
                inc = self._incoming_from(channel, msg.invitation_id)
                if inc is not None and inc.cancelled_by_peer():
                    self._answer(
                        (msg.invitation_id, Awaited.ACCEPT),
                        InviteRefused(
                            invitation_id=msg.invitation_id, code=Refusal.CANCELLED.value
                        ),
                    )
                    self._settle(inc)
            case RequestCancel():
                inc = self._incoming_from(channel, msg.request_id)
                if inc is not None and inc.cancelled_by_peer():
                    self._settle(inc)
            case InviteAccept():
                await self._on_accept(channel, msg)
            case InviteAcceptOk() | InviteRefused():
                if self._incoming_from(channel, msg.invitation_id) is not None:
                    self._answer((msg.invitation_id, Awaited.ACCEPT), msg)
            case InviteReject():
                await self._on_reject(channel, msg)
            case RequestAccepted() | RequestDismissed():
                await self._on_request_answer(channel, msg)
            case SessionOpen():
                await self._on_session_open(channel, msg)
            case _:
                return False
        return True

    async def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for fut in self._answers.values():
            fut.cancel()
        self._answers.clear()
