"""The invitee's and the requested device's side: whether an incoming invitation or request
may be shown (policy, accept-from, rate and pending limits, replays), accepting and rejecting
it, and the session a guest opens with its token."""

from __future__ import annotations

import logging
from collections import deque

from anydesk_invite.core.invitation import (
    INVITATION_LIFETIME,
    REFUSAL_TEXTS,
    REQUEST_LIFETIME,
    WRONG_DEVICE,
    IncomingInvitation,
    Kind,
    Peer,
    Refusal,
    State,
    state_text,
    tokens_equal,
)
from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.channel import Channel
from anydesk_invite.net.wire import (
    ConnectRequest,
    Invite,
    InviteAccept,
    InviteAcceptOk,
    InviteDeclined,
    InviteRefused,
    InviteReject,
    InviteShown,
    Message,
    RequestAccepted,
    RequestDismissed,
    SessionOpen,
)
from anydesk_invite.services.invitation_book import (
    DECLINED,
    MAX_PENDING_INCOMING,
    RATE_MAX,
    RATE_WINDOW,
    SEEN_IDS,
    Awaited,
    InvitationBook,
    _HostTicket,
)
from anydesk_invite.services.invitation_texts import (
    INVITER_GONE,
    INVITER_SILENT,
    REQUESTER_GONE,
    REQUESTER_LATE,
    session_failed,
)
from anydesk_invite.services.refusals import RefusalKind, RefusedWithKind

_log = logging.getLogger(__name__)


class Invited(InvitationBook):
    """Invitations and requests received by this device."""

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
        self.changed.emit(self.view(inc))
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
        self.changed.emit(self.view(inc))
        self._expect_answer((inc.invitation_id, Awaited.ACCEPT))
        if not await self._send(
            inc, InviteAccept(invitation_id=inc.invitation_id, revision=revision)
        ):
            self._answers.pop((inc.invitation_id, Awaited.ACCEPT), None)
            inc.fail(INVITER_GONE)
            self._settle(inc)
            raise RefusedWithKind(RefusalKind.OFFLINE, INVITER_GONE)
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
                raise RefusedWithKind(RefusalKind.STATE, REFUSAL_TEXTS[refusal])
            raise RefusedWithKind(RefusalKind.STATE, state_text(inc.state))
        if not isinstance(answer, InviteAcceptOk):
            inc.fail(INVITER_SILENT)
            self._settle(inc)
            raise RefusedWithKind(RefusalKind.OFFLINE, INVITER_SILENT)
        try:
            session_id = await self.connect_as_guest(
                inc.peer,
                self._listen_addresses(inc.peer.fingerprint),
                answer.session_token,
                inc.permissions,
            )
        except Exception as exc:
            why = session_failed(exc)
            inc.fail(why)
            self._settle(inc)
            raise RefusedWithKind(RefusalKind.OFFLINE, why) from exc
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
        self.changed.emit(self.view(inc))
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
            inc.fail(REQUESTER_GONE)
            self._settle(inc)
            raise RefusedWithKind(RefusalKind.OFFLINE, REQUESTER_GONE)

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
        # Invitations: the inviter holds the token in the state machine.
        for inv in self.outgoing.values():
            if (
                inv.state is State.ACCEPTED
                and inv.session_token
                and tokens_equal(inv.session_token, msg.session_token)
            ):
                ok = inv.redeem_token(msg.session_token, channel.peer.fingerprint, now)
                self._settle(inv)
                if ok:
                    await self.start_host_session(
                        channel, inv.peer, inv.permissions, inv.invitation_id.hex()
                    )
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
                ):
                    req.connected()
                    self._settle(req)
                    await self.start_host_session(
                        channel, req.peer, req.permissions, req.invitation_id.hex()
                    )
                    return
                if req is not None:
                    # A request already over (cancelled by the requester, expired) stays so.
                    req.fail(REQUESTER_LATE if now >= ticket.deadline else WRONG_DEVICE)
                    self._settle(req)
                break
        _log.warning("refused a session token from %s", channel.peer.device_id)
        await channel.refuse("bad_token", "the session token is not valid")
