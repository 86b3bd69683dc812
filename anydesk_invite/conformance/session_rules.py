"""The rules of the invitation, connection request, session and session token sections of
PROTOCOL.md; a rule that needs a session opens it through ``guest_session``."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from anydesk_invite.conformance.conn import Conn, Failed, Target, connected, what_came
from anydesk_invite.conformance.table import rule
from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.wire import (
    Bye,
    ConnectRequest,
    Error,
    FrameTiles,
    Invite,
    InviteAccept,
    InviteAcceptOk,
    InviteCancel,
    InviteDeclined,
    InviteRefused,
    InviteShown,
    Refused,
    RequestAccepted,
    RequestCancel,
    ScreenList,
    SessionEnd,
    SessionOpen,
    SessionOpened,
    SessionPermissions,
    SysInfo,
    SysInfoRequest,
    Unavailable,
)

MAX_GUESTS = 4
"""PROTOCOL.md, Constants: sessions one host serves at once."""


async def _shown(c: Conn, invitation_id: bytes) -> None:
    msg = await c.read()
    if not isinstance(msg, InviteShown) or msg.invitation_id != invitation_id:
        raise Failed(f"expected InviteShown for this id, got {what_came(msg)}")


async def _declined(c: Conn, invitation_id: bytes) -> None:
    msg = await c.read()
    while isinstance(msg, InviteAccept):
        # A peer whose user accepted the open invitation meanwhile: it is withdrawn.
        await c.send(InviteRefused(invitation_id=msg.invitation_id, code="cancelled"))
        msg = await c.read()
    if not isinstance(msg, InviteDeclined) or msg.invitation_id != invitation_id:
        raise Failed(f"expected InviteDeclined for this id, got {what_came(msg)}")
    if msg.reason != "declined":
        raise Failed(f'InviteDeclined gives the reason {msg.reason!r}, not "declined"')


def _invite(invitation_id: bytes) -> Invite:
    return Invite(
        invitation_id=invitation_id,
        revision=1,
        permissions=frozenset(),
        profile="Screen Sharing",
        seconds_left=120.0,
    )


@rule("invitation/shown", "Invitation")
async def _invitation_shown(target: Target) -> None:
    async with connected(target) as c:
        invitation_id = os.urandom(16)
        await c.send(_invite(invitation_id))
        await _shown(c, invitation_id)
        await c.send(InviteCancel(invitation_id=invitation_id))


@rule("invitation/replay", "Invitation")
async def _invitation_replay(target: Target) -> None:
    async with connected(target) as c:
        invitation_id = os.urandom(16)
        await c.send(_invite(invitation_id))
        await _shown(c, invitation_id)
        await c.send(InviteCancel(invitation_id=invitation_id))
        await c.send(_invite(invitation_id))
        await _declined(c, invitation_id)


@rule("invitation/one-per-pair", "Invitation")
async def _one_per_pair(target: Target) -> None:
    async with connected(target) as c:
        first, second = os.urandom(16), os.urandom(16)
        await c.send(_invite(first))
        await _shown(c, first)
        await c.send(_invite(second))
        await _declined(c, second)
        await c.send(InviteCancel(invitation_id=first))


@rule("invitation/unknown-accept", "Invitation")
async def _unknown_accept(target: Target) -> None:
    async with connected(target) as c:
        invitation_id = os.urandom(16)
        await c.send(InviteAccept(invitation_id=invitation_id, revision=1))
        refused = await c.expect(InviteRefused)
        if refused.invitation_id != invitation_id or refused.code != "unknown_invitation":
            raise Failed(f'expected InviteRefused("unknown_invitation"), got {refused!r}')


@rule("invitation/accept", "Invitation", answer=True)
async def _invitation_accept(target: Target) -> None:
    """The peer accepts our invitation and, as the guest, opens the session on this channel
    (the runner does not listen, so the peer has no other way to reach it)."""
    async with connected(target) as c:
        invitation_id = os.urandom(16)
        await c.send(_invite(invitation_id))
        await _shown(c, invitation_id)
        target.say(f"accept the invitation from {c.identity.device_id.grouped()}")
        accept = await c.expect(InviteAccept, timeout=target.answer_timeout)
        if accept.invitation_id != invitation_id or accept.revision != 1:
            raise Failed(f"InviteAccept names another invitation or revision: {accept!r}")
        token = os.urandom(32)
        await c.send(
            InviteAcceptOk(invitation_id=invitation_id, session_token=token, token_seconds=30.0)
        )
        opened = await c.expect(SessionOpen)
        if opened.session_token != token:
            raise Failed("SessionOpen presents another token than the one sent")
        await c.send(
            SessionOpened(session_id=os.urandom(16), permissions=frozenset(), locked=frozenset())
        )
        await c.send(ScreenList(screens=[], current=0))
        await c.send(SessionEnd(reason="conformance run"))


async def _request(c: Conn) -> RequestAccepted:
    request_id = os.urandom(16)
    await c.send(ConnectRequest(request_id=request_id, seconds_left=120.0))
    await _shown(c, request_id)
    c.target.say(f"accept the connection request from {c.identity.device_id.grouped()}")
    accepted = await c.expect(RequestAccepted, timeout=c.target.answer_timeout)
    if accepted.request_id != request_id:
        raise Failed("RequestAccepted names another request")
    return accepted


_SESSION_NOISE = (ScreenList, Unavailable, FrameTiles)


async def _session(target: Target, identity: Identity, token: bytes) -> tuple[Conn, SessionOpened]:
    conn = await Conn.open(target, identity)
    try:
        await conn.authenticate()
        await conn.send(SessionOpen(session_token=token))
        opened = await conn.expect(SessionOpened)
        await conn.expect(ScreenList, skip=(Unavailable,))
    except BaseException:
        await conn.close()
        raise
    return conn, opened


async def _end(conn: Conn) -> None:
    """End the session and wait until the host closed its channel (so it no longer counts)."""
    try:
        await conn.send(SessionEnd(reason="conformance run"))
        await conn.expect_closed(skip=(*_SESSION_NOISE, Bye, SessionEnd, Refused))
    finally:
        await conn.close()


@dataclass(slots=True)
class GuestSession:
    """A session the runner opened as the guest, after the peer accepted its request."""

    identity: Identity
    accepted: RequestAccepted
    conn: Conn
    opened: SessionOpened
    ended: bool = False
    """The rule ended the session itself: at the end, the connection is only closed."""


@contextlib.asynccontextmanager
async def guest_session(
    target: Target, check: Callable[[RequestAccepted], None] = lambda _accepted: None
) -> AsyncIterator[GuestSession]:
    """Send a connection request with fresh keys, have the peer accept it (``check`` looks at
    the answer first), and open the session as its guest; at the end, end the session and wait
    until the host closed it, then close the request's connection."""
    identity = Identity.generate()
    async with connected(target, identity) as c:
        accepted = await _request(c)
        check(accepted)
        conn, opened = await _session(target, identity, accepted.session_token)
        session = GuestSession(identity, accepted, conn, opened)
        try:
            yield session
        finally:
            if session.ended:
                await conn.close()
            else:
                await _end(conn)


def _token_seconds_in_range(accepted: RequestAccepted) -> None:
    if not 0 < accepted.token_seconds <= 86400:
        raise Failed(f"token_seconds is {accepted.token_seconds}")


@rule("request/accepted", "Connection request", answer=True)
async def _request_accepted(target: Target) -> None:
    async with guest_session(target, _token_seconds_in_range):
        pass


@rule("session/opened", "Session", answer=True)
async def _session_opened(target: Target) -> None:
    async with guest_session(target) as s:
        if s.opened.permissions != s.accepted.permissions:
            raise Failed("SessionOpened grants other permissions than RequestAccepted")
        if not s.opened.locked <= s.opened.permissions | frozenset(Permission):
            raise Failed("SessionOpened locks unknown permissions")


@rule("session/permissions", "Session", answer=True)
async def _session_permissions(target: Target) -> None:
    async with guest_session(target) as s:
        await s.conn.send(SysInfoRequest())
        answer = await s.conn.read()
        while isinstance(answer, _SESSION_NOISE):
            answer = await s.conn.read()
        granted = Permission.SYSTEM_INFO in s.opened.permissions
        if granted and not isinstance(answer, SysInfo):
            raise Failed(f"system_info is granted but SysInfoRequest got {what_came(answer)}")
        if not granted and not (isinstance(answer, Refused) and answer.what == "system_info"):
            raise Failed(f'expected Refused("system_info"), got {what_came(answer)}')


@rule("session/unexpected", "Session", answer=True)
async def _session_unexpected(target: Target) -> None:
    async with guest_session(target) as s:
        await s.conn.send(SessionPermissions(permissions=frozenset(Permission), locked=frozenset()))
        refused = await s.conn.expect(Refused, skip=_SESSION_NOISE)
        if refused.what != "unexpected":
            raise Failed(f'expected Refused("unexpected"), got {refused!r}')


@rule("session/end", "Session", answer=True)
async def _session_end(target: Target) -> None:
    async with guest_session(target) as s:
        s.ended = True
        await s.conn.send(SessionEnd(reason="conformance run"))
        await s.conn.expect_closed(skip=(*_SESSION_NOISE, Bye, SessionEnd))


@rule("session/max-guests", "Session", answer=True)
async def _max_guests(target: Target) -> None:
    sessions: list[Conn] = []
    try:
        for n in range(MAX_GUESTS + 1):
            identity = Identity.generate()
            async with connected(target, identity) as c:
                accepted = await _request(c)
                guest = await Conn.open(target, identity)
                await guest.authenticate()
                await guest.send(SessionOpen(session_token=accepted.session_token))
                answer = await guest.read()
                if n < MAX_GUESTS:
                    sessions.append(guest)
                    if not isinstance(answer, SessionOpened):
                        raise Failed(f"session {n + 1} of {MAX_GUESTS} got {what_came(answer)}")
                    continue
                try:
                    if not isinstance(answer, Error) or answer.code != "refused":
                        raise Failed(
                            f'session {n + 1} (over {MAX_GUESTS}) expected Error("refused"), '
                            f"got {what_came(answer)}"
                        )
                    await guest.expect_closed()
                finally:
                    await guest.close()
    finally:
        for conn in sessions:
            await _end(conn)


@rule("session-token/unknown", "Session token")
async def _token_unknown(target: Target) -> None:
    async with connected(target) as c:
        await c.send(SessionOpen(session_token=os.urandom(32)))
        await c.expect_error("bad_token")


@rule("session-token/single-use", "Session token", answer=True)
async def _token_single_use(target: Target) -> None:
    async with guest_session(target) as s, connected(target, s.identity) as again:
        await again.send(SessionOpen(session_token=s.accepted.session_token))
        await again.expect_error("bad_token")


@rule("session-token/other-key", "Session token", answer=True)
async def _token_other_key(target: Target) -> None:
    identity = Identity.generate()
    async with connected(target, identity) as c:
        accepted = await _request(c)
        async with connected(target) as thief:
            await thief.send(SessionOpen(session_token=accepted.session_token))
            await thief.expect_error("bad_token")
        async with connected(target, identity) as rightful:
            await rightful.send(SessionOpen(session_token=accepted.session_token))
            await rightful.expect_error("bad_token")
        await c.send(RequestCancel(request_id=accepted.request_id))
