"""The inviter's and the requester's side: sending an invitation or a connection request,
editing and cancelling it, and what the other side answers (shown, declined, accepted with a
token, rejected)."""

from __future__ import annotations

import contextlib
import logging

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import (
    InvitationRefused,
    Kind,
    OutgoingInvitation,
    Peer,
    Refusal,
    State,
    tokens_equal,
)
from anydesk_invite.core.permissions import Permission
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
    InviteUpdate,
    Message,
    RequestAccepted,
    RequestCancel,
    RequestDismissed,
)
from anydesk_invite.services.invitation_book import (
    ANSWER_TIMEOUT,
    DECLINED,
    Awaited,
    InvitationBook,
    Target,
)
from anydesk_invite.services.invitation_texts import (
    CONNECTION_LOST,
    DECLINED_TEXT,
    PEER_SILENT,
    session_failed,
)
from anydesk_invite.services.links import Unreachable
from anydesk_invite.services.refusals import RefusalKind, RefusedWithKind

_log = logging.getLogger(__name__)


class Inviting(InvitationBook):
    """Invitations and requests sent from this device."""

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
                f"an invitation to {target.alias or target.device_id.grouped()} is waiting for "
                "an answer already; change or cancel it in the list of sent invitations",
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
                f"a request to {target.alias or target.device_id.grouped()} is waiting for an "
                "answer already; wait for it or cancel it",
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
                inv.fail(CONNECTION_LOST)
                self._settle(inv)
                raise RefusedWithKind(RefusalKind.OFFLINE, CONNECTION_LOST) from exc
        self.changed.emit(self.view(inv))
        answer = await self._await_answer((inv.invitation_id, Awaited.SHOWN), ANSWER_TIMEOUT)
        if isinstance(answer, InviteDeclined):
            self._declined(inv)
            raise RefusedWithKind(RefusalKind.DECLINED, DECLINED_TEXT)
        if answer is None and inv.state is State.PENDING:
            inv.fail(PEER_SILENT)
            self._settle(inv)
            raise RefusedWithKind(RefusalKind.OFFLINE, PEER_SILENT)
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
        self.changed.emit(self.view(inv))
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
        self.changed.emit(self.view(inv))
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
        self.changed.emit(self.view(inv))
        self._spawn(self._connect_request(inv), f"request-connect-{inv.invitation_id.hex()}")

    async def _connect_request(self, inv: OutgoingInvitation) -> None:
        addresses = self._listen_addresses(inv.peer.fingerprint)
        try:
            await self.connect_as_guest(inv.peer, addresses, inv.session_token, inv.permissions)
        except Exception as exc:
            inv.fail(session_failed(exc))
        else:
            inv.connected()
        self._settle(inv)
