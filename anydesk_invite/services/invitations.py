"""Invitations and connection requests over the network, on both sides.

The inviter (host) sends ``Invite`` over an authenticated channel; the invitee shows it
(after its policy and accept-from checks) and answers ``InviteShown`` or ``InviteDeclined``.
On accept the invitee names the revision it saw; the inviter answers with a single-use
session token, and the invitee opens a fresh channel to the inviter presenting it. A
connection request runs the other way: the requester asks, the requested device accepts with
permissions of its owner's choice and sends the token, and the requester connects as guest.
The inviter's order of events decides every race; see docs/PROTOCOL.md.

This module routes the peer's messages to the two sides: inviting.py (the inviter's and the
requester's) and invited.py (the invitee's and the requested device's), over the state they
share in invitation_book.py.
"""

from __future__ import annotations

import logging

from anydesk_invite.core.invitation import (
    Kind,
    Refusal,
)
from anydesk_invite.net.channel import Channel
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
    describe,
)
from anydesk_invite.services.invitation_book import (
    DECLINED,
    NO_ANSWER,
    AcceptFromCheck,
    Awaited,
    Outcome,
    Target,
)
from anydesk_invite.services.invited import Invited
from anydesk_invite.services.inviting import Inviting

__all__ = [
    "DECLINED",
    "NO_ANSWER",
    "AcceptFromCheck",
    "InvitationService",
    "Outcome",
    "Target",
]

_log = logging.getLogger(__name__)


class InvitationService(Inviting, Invited):
    """Every invitation and request this client sent or received.

    Signals: changed (InvitationView: the invitation or request whose state changed, as it is
    now); received (InvitationView) when a new incoming invitation or request is shown;
    finished (Outcome) once per final state.
    """

    async def route(self, channel: Channel, msg: Message) -> None:
        """The router of every channel that no session claimed: a message that is not about
        invitations closes the channel."""
        if not await self.handle(channel, msg):
            _log.warning("unexpected %s from %s; closing", describe(msg), channel.peer)
            await channel.close("unexpected message")

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
                    self.changed.emit(self.view(inc))
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
