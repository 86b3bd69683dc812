"""Conformance runner: drives a peer over the wire through the rules of docs/PROTOCOL.md.

    python -m anydesk_invite.conformance HOST:PORT --fingerprint FP [--rule NAME]...

The runner is a dialler with fresh keys of its own (a new one per rule, so one rule's rate
limit or pending invitation cannot decide another's). It speaks frames directly, not through
this client's channel code, so it can send what a correct client never would. Each rule is a
row of the table under "Conformance rules" in PROTOCOL.md, named after the section that states
it; it prints ``PASS``, ``FAIL`` (with what came instead) or ``SKIP`` (with why) per rule and
exits 1 when any rule failed.

Rules marked *answer* need the peer to accept an invitation and a connection request: its user
accepts them while the runner waits (``--answer-timeout``), or the peer answers by itself (the
reference client started with ``--test-auto-accept``). ``--no-answer`` skips them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import os
import ssl
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO, TypeVar

import msgspec
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from anydesk_invite.core.ids import DeviceId, fingerprint_of
from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.identity import Identity, IdentityError
from anydesk_invite.net.wire import (
    HEADER,
    POST_AUTH_FRAME_LIMIT,
    PRE_AUTH_FRAME_LIMIT,
    PROTOCOL_VERSION,
    Auth,
    AuthOk,
    Bye,
    Chat,
    ConnectRequest,
    Decoder,
    Error,
    FrameTiles,
    Hello,
    Invite,
    InviteAccept,
    InviteAcceptOk,
    InviteCancel,
    InviteDeclined,
    InviteRefused,
    InviteShown,
    Message,
    Ping,
    Pong,
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
    WireError,
    encode,
    frame,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
AUTH_CONTEXT = b"adinvite-auth-v1\x00"
MAX_GUESTS = 4
"""PROTOCOL.md, Constants: sessions one host serves at once."""
HANDSHAKE_DEADLINE = 5.0
"""PROTOCOL.md, Limits: the handshake deadline."""
IDLE_TIMEOUT = 9.0
"""PROTOCOL.md, Limits: a side that received nothing for this long says Bye."""
MAX_UNAUTHENTICATED_PER_ADDRESS = 8
"""PROTOCOL.md, Limits: unauthenticated connections per source address."""
COLLIDING_KEYS = (
    "8e1fc596836ee6f35dd1efc02fc68c6d63ac5b8e69ff3bdeec924ba276bc6aad",
    "3b7303903549e1254c349098da6a9a7bc060ff449f686f8b0c1611e09a424d0e",
)
"""Two Ed25519 private keys whose public keys derive the same ID (5 279 031 483), found by a
birthday search over about 20,000 keys: the first is pinned on first use, the second must be
refused."""

M = TypeVar("M", bound=Message)


class Failed(Exception):
    """The peer did not do what the rule says; the message says what it did instead."""


class Skipped(Exception):
    """The rule cannot be run against this peer; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    """The peer under test and what the runner may expect of it."""

    host: str
    port: int
    fingerprint: bytes
    answers: bool = True
    """The peer accepts invitations and requests (its user, or an auto-accept)."""
    answer_timeout: float = 30.0
    """How long to wait for the peer's user to accept."""
    timeout: float = 10.0
    """How long to wait for any other answer."""
    say: Callable[[str], None] = field(default=lambda _text: None)
    """Where to tell the person at the peer what to do (a rule that needs their answer)."""


# --- one raw connection ---------------------------------------------------------------------


def _certificate_key(writer: asyncio.StreamWriter) -> bytes:
    ssl_object = writer.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject) or ssl_object.version() != "TLSv1.3":
        raise Failed("the peer did not speak TLS 1.3")
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        raise Failed("the peer presented no certificate")
    return (
        x509.load_der_x509_certificate(der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


class Conn:
    """One TLS connection to the peer, frames written and read by hand."""

    def __init__(
        self,
        target: Target,
        identity: Identity,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        peer_key: bytes,
    ) -> None:
        self.target = target
        self.identity = identity
        self._reader = reader
        self._writer = writer
        self.peer_key = peer_key
        # Generous limits: the runner reports what the peer sends, it does not judge sizes.
        self.decoder = Decoder(PRE_AUTH_FRAME_LIMIT, POST_AUTH_FRAME_LIMIT)
        self.authenticated = False

    @classmethod
    async def open(cls, target: Target, identity: Identity | None = None) -> Conn:
        """TLS to the peer, its certificate key checked against the expected fingerprint
        before anything is sent."""
        identity = identity or Identity.generate()
        try:
            async with asyncio.timeout(target.timeout):
                reader, writer = await asyncio.open_connection(
                    target.host, target.port, ssl=identity.client_context(), server_hostname=""
                )
        except (OSError, TimeoutError) as exc:
            raise Failed(f"cannot connect to {target.host}:{target.port}: {exc}") from None
        key = _certificate_key(writer)
        if not hmac.compare_digest(fingerprint_of(key), target.fingerprint):
            writer.close()
            raise Failed(f"the peer's key has fingerprint {fingerprint_of(key).hex()}")
        return cls(target, identity, reader, writer, key)

    async def send(self, msg: Message) -> None:
        await self.send_raw(frame(msg))

    async def send_raw(self, data: bytes) -> None:
        self._writer.write(data)
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()

    async def read(
        self, timeout: float | None = None, *, answer_pings: bool = True
    ) -> Message | None:
        """The next message; None when the peer closed the connection. Pings are answered
        (and not returned) unless ``answer_pings`` is False."""
        wait = self.target.timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(wait):
                while True:
                    try:
                        header = await self._reader.readexactly(HEADER.size)
                        length = self.decoder.body_length(header)
                        msg = self.decoder.decode(await self._reader.readexactly(length))
                    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
                        return None
                    if isinstance(msg, Ping) and self.authenticated and answer_pings:
                        await self.send(Pong(seq=msg.seq))
                        continue
                    return msg
        except TimeoutError:
            raise Failed(f"no answer within {wait:g} s") from None
        except WireError as exc:
            raise Failed(f"the peer sent bad data: {exc}") from None

    async def expect(
        self,
        kind: type[M],
        skip: tuple[type[Message], ...] = (),
        timeout: float | None = None,
    ) -> M:
        """The next message, which must be of ``kind`` (messages of ``skip`` are passed by)."""
        while True:
            msg = await self.read(timeout)
            if isinstance(msg, kind):
                return msg
            if msg is not None and isinstance(msg, skip):
                continue
            raise Failed(f"expected {kind.__name__}, got {_show(msg)}")

    async def expect_closed(self, skip: tuple[type[Message], ...] = ()) -> None:
        """The peer closes the connection (after messages of ``skip``, if any)."""
        while (msg := await self.read()) is not None:
            if not isinstance(msg, skip):
                raise Failed(f"expected the peer to close, got {_show(msg)}")

    async def expect_error(self, code: str) -> None:
        """``Error(code)`` and then the peer closes."""
        msg = await self.read()
        if not isinstance(msg, Error) or msg.code != code:
            raise Failed(f'expected Error("{code}"), got {_show(msg)}')
        await self.expect_closed()

    async def hello(self, version: tuple[int, int] = PROTOCOL_VERSION) -> Hello:
        """Send our Hello; the peer's Hello, checked against its certificate."""
        await self.send(self.own_hello(version))
        return await self.peer_hello()

    def own_hello(self, version: tuple[int, int] = PROTOCOL_VERSION) -> Hello:
        self.nonce = os.urandom(32)
        return Hello(
            version=version,
            public_key=self.identity.public_key_der,
            device_id=self.identity.device_id.digits,
            alias="conformance@ad",
            nonce=self.nonce,
        )

    async def peer_hello(self) -> Hello:
        theirs = await self.expect(Hello)
        if theirs.public_key != self.peer_key:
            raise Failed("the peer's Hello names another key than its certificate")
        if theirs.device_id != DeviceId.from_fingerprint(fingerprint_of(theirs.public_key)).digits:
            raise Failed("the peer's Hello has an ID that does not derive from its key")
        return theirs

    def auth(self, theirs: Hello) -> Auth:
        transcript = (
            AUTH_CONTEXT
            + fingerprint_of(self.peer_key)
            + self.identity.fingerprint
            + theirs.nonce
            + self.nonce
        )
        return Auth(signature=self.identity.sign(transcript))

    async def authenticate(self, version: tuple[int, int] = PROTOCOL_VERSION) -> None:
        """The whole handshake, up to AuthOk; then post-authentication mode."""
        theirs = await self.hello(version)
        await self.send(self.auth(theirs))
        await self.expect(AuthOk)
        self.decoder.authenticated(theirs.version)
        self.authenticated = True

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                await self._writer.wait_closed()


def _show(msg: Message | None) -> str:
    if msg is None:
        return "the connection closed"
    if isinstance(msg, Error | Bye | Refused | InviteRefused):
        return repr(msg)
    return type(msg).__name__


@contextlib.asynccontextmanager
async def connected(
    target: Target, identity: Identity | None = None, *, auth: bool = True
) -> AsyncIterator[Conn]:
    """A connection to the peer (authenticated unless ``auth`` is False), closed at the end."""
    conn = await Conn.open(target, identity)
    try:
        if auth:
            await conn.authenticate()
        yield conn
    finally:
        await conn.close()


# --- rules ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of PROTOCOL.md's conformance table and the check that drives it."""

    name: str
    section: str
    check: Callable[[Target], Awaitable[None]]
    answer: bool = False
    """The peer (its user) must accept an invitation or a request."""


RULES: dict[str, Rule] = {}


def rule(
    name: str, section: str, *, answer: bool = False
) -> Callable[[Callable[[Target], Awaitable[None]]], Callable[[Target], Awaitable[None]]]:
    def register(
        check: Callable[[Target], Awaitable[None]],
    ) -> Callable[[Target], Awaitable[None]]:
        assert name not in RULES, name
        RULES[name] = Rule(name, section, check, answer)
        return check

    return register


HANDSHAKE = "Handshake and authentication"


@rule("handshake/version", HANDSHAKE)
async def _version(target: Target) -> None:
    async with connected(target, auth=False) as c:
        await c.send(c.own_hello((PROTOCOL_VERSION[0] + 1, 0)))
        await c.expect_error("version")


@rule("handshake/identity", HANDSHAKE)
async def _identity(target: Target) -> None:
    async with connected(target, auth=False) as c:
        hello = c.own_hello()
        other = Identity.generate().device_id.digits
        await c.send(Hello(hello.version, hello.public_key, other, hello.alias, hello.nonce))
        await c.expect_error("identity")


@rule("handshake/auth", HANDSHAKE)
async def _auth(target: Target) -> None:
    async with connected(target, auth=False) as c:
        await c.hello()
        await c.send(Auth(signature=bytes(64)))
        await c.expect_error("auth")


@rule("handshake/unexpected", HANDSHAKE)
async def _unexpected(target: Target) -> None:
    async with connected(target, auth=False) as c:
        await c.send(AuthOk())
        await c.expect_error("unexpected")


@rule("handshake/error", HANDSHAKE)
async def _error_in_handshake(target: Target) -> None:
    async with connected(target, auth=False) as c:
        await c.send(Error(code="version", message="conformance run"))
        await c.expect_closed()


@rule("handshake/trust", HANDSHAKE)
async def _trust(target: Target) -> None:
    pinned, impostor = (Identity.from_private_bytes(bytes.fromhex(k)) for k in COLLIDING_KEYS)
    async with connected(target, pinned):
        pass  # trusted on first use (or pinned by an earlier run)
    async with connected(target, impostor, auth=False) as c:
        theirs = await c.hello()
        await c.send(c.auth(theirs))
        await c.expect_error("trust")


@rule("handshake/heartbeat", HANDSHAKE)
async def _heartbeat(target: Target) -> None:
    async with connected(target) as c:
        await c.send(Ping(seq=41))
        pong = await c.expect(Pong)
        if pong.seq != 41:
            raise Failed(f"Pong answers seq {pong.seq}, not 41")


@rule("handshake/closing", HANDSHAKE)
async def _closing(target: Target) -> None:
    async with connected(target) as c:
        await c.send(Chat(text="no session here"))
        bye = await c.expect(Bye)
        if bye.reason != "unexpected message":
            raise Failed(f'expected Bye("unexpected message"), got {bye!r}')
        await c.expect_closed()


@rule("framing/malformed", "Framing")
async def _malformed(target: Target) -> None:
    async with connected(target, auth=False) as c:
        body = encode(c.own_hello()) + b"\xc0"
        await c.send_raw(HEADER.pack(len(body)) + body)
        await c.expect_error("malformed")


@rule("framing/not-a-map", "Framing")
async def _not_a_map(target: Target) -> None:
    async with connected(target, auth=False) as c:
        body = msgspec.msgpack.encode(["Hello", 1, 0])
        await c.send_raw(HEADER.pack(len(body)) + body)
        await c.expect_error("invalid")


@rule("framing/invalid", "Framing")
async def _invalid(target: Target) -> None:
    async with connected(target, auth=False) as c:
        fields = msgspec.to_builtins(c.own_hello())
        body = msgspec.msgpack.encode({**fields, "t": "Hello", "nonce": bytes(31)})
        await c.send_raw(HEADER.pack(len(body)) + body)
        await c.expect_error("invalid")


@rule("framing/unknown-type", "Framing")
async def _unknown_type_before(target: Target) -> None:
    async with connected(target, auth=False) as c:
        await c.send(Ping(seq=1))
        await c.expect_error("unknown_type")


@rule("framing/unknown-type-after", "Framing")
async def _unknown_type_after(target: Target) -> None:
    async with connected(target) as c:
        await c.send(c.own_hello())
        await c.expect_error("unknown_type")


@rule("limits/too-large-before", "Limits")
async def _too_large_before(target: Target) -> None:
    async with connected(target, auth=False) as c:
        await c.send_raw(HEADER.pack(PRE_AUTH_FRAME_LIMIT + 1))
        await c.expect_error("too_large")


@rule("limits/too-large-after", "Limits")
async def _too_large_after(target: Target) -> None:
    async with connected(target) as c:
        await c.send_raw(HEADER.pack(POST_AUTH_FRAME_LIMIT + 1))
        await c.expect_error("too_large")


@rule("limits/handshake-deadline", "Limits")
async def _deadline(target: Target) -> None:
    async with connected(target, auth=False) as c:
        msg = await c.read(timeout=HANDSHAKE_DEADLINE + target.timeout)
        if not isinstance(msg, Error) or msg.code != "timeout":
            raise Failed(f'expected Error("timeout"), got {_show(msg)}')
        await c.expect_closed()


@rule("limits/idle-timeout", "Limits")
async def _idle(target: Target) -> None:
    async with connected(target) as c:
        # Send nothing, not even a Pong: the peer's Pings do not keep the channel alive.
        deadline = IDLE_TIMEOUT + target.timeout
        while True:
            msg = await c.read(timeout=deadline, answer_pings=False)
            if isinstance(msg, Ping):
                continue
            if not isinstance(msg, Bye):
                raise Failed(f"expected Bye after the idle timeout, got {_show(msg)}")
            break
        await c.expect_closed()


@rule("limits/per-address", "Limits")
async def _per_address(target: Target) -> None:
    held: list[asyncio.StreamWriter] = []
    try:
        for _ in range(MAX_UNAUTHENTICATED_PER_ADDRESS):
            # Plain TCP, never a handshake: each counts as unauthenticated.
            _, writer = await asyncio.open_connection(target.host, target.port)
            held.append(writer)
        try:
            conn = await Conn.open(target)
        except (Failed, ssl.SSLError, ConnectionError):
            return  # closed at once: no TLS session came up
        try:
            msg = await conn.read()
        except Failed:
            msg = Ping(seq=0)  # still open after the timeout
        finally:
            await conn.close()
        if msg is not None:
            raise Failed(
                f"connection {MAX_UNAUTHENTICATED_PER_ADDRESS + 1} from one address was not "
                f"closed at once (got {_show(msg)})"
            )
    finally:
        for writer in held:
            writer.close()
        await _until_accepted(target)


async def _until_accepted(target: Target) -> None:
    """Wait until the peer takes a connection from this address again (it frees the slots
    of closed connections as it notices them), so the next rule starts clean."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + target.timeout
    while True:
        try:
            conn = await Conn.open(target)
        except Failed:
            if loop.time() >= deadline:
                raise
            await asyncio.sleep(0.05)
            continue
        await conn.close()
        return


def _with_extra_field(msg: Message) -> bytes:
    body = msgspec.msgpack.encode({**msgspec.to_builtins(msg), "t": type(msg).__name__, "zz": 1})
    return HEADER.pack(len(body)) + body


@rule("versioning/unknown-field", "Versioning")
async def _unknown_field(target: Target) -> None:
    async with connected(target) as c:
        await c.send_raw(_with_extra_field(Ping(seq=7)))
        await c.expect_error("unknown_field")


@rule("versioning/newer-minor", "Versioning")
async def _newer_minor(target: Target) -> None:
    conn = await Conn.open(target)
    try:
        await conn.authenticate((PROTOCOL_VERSION[0], PROTOCOL_VERSION[1] + 1))
        await conn.send_raw(_with_extra_field(Ping(seq=7)))
        pong = await conn.expect(Pong)
        if pong.seq != 7:
            raise Failed(f"Pong answers seq {pong.seq}, not 7")
    finally:
        await conn.close()


async def _shown(c: Conn, invitation_id: bytes) -> None:
    msg = await c.read()
    if not isinstance(msg, InviteShown) or msg.invitation_id != invitation_id:
        raise Failed(f"expected InviteShown for this id, got {_show(msg)}")


async def _declined(c: Conn, invitation_id: bytes) -> None:
    msg = await c.read()
    while isinstance(msg, InviteAccept):
        # A peer whose user accepted the open invitation meanwhile: it is withdrawn.
        await c.send(InviteRefused(invitation_id=msg.invitation_id, code="cancelled"))
        msg = await c.read()
    if not isinstance(msg, InviteDeclined) or msg.invitation_id != invitation_id:
        raise Failed(f"expected InviteDeclined for this id, got {_show(msg)}")
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


@rule("request/accepted", "Connection request", answer=True)
async def _request_accepted(target: Target) -> None:
    identity = Identity.generate()
    async with connected(target, identity) as c:
        accepted = await _request(c)
        if not 0 < accepted.token_seconds <= 86400:
            raise Failed(f"token_seconds is {accepted.token_seconds}")
        conn, _ = await _session(target, identity, accepted.session_token)
        await _end(conn)


@rule("session/opened", "Session", answer=True)
async def _session_opened(target: Target) -> None:
    identity = Identity.generate()
    async with connected(target, identity) as c:
        accepted = await _request(c)
        conn, opened = await _session(target, identity, accepted.session_token)
        try:
            if opened.permissions != accepted.permissions:
                raise Failed("SessionOpened grants other permissions than RequestAccepted")
            if not opened.locked <= opened.permissions | frozenset(Permission):
                raise Failed("SessionOpened locks unknown permissions")
        finally:
            await _end(conn)


@rule("session/permissions", "Session", answer=True)
async def _session_permissions(target: Target) -> None:
    identity = Identity.generate()
    async with connected(target, identity) as c:
        accepted = await _request(c)
        conn, opened = await _session(target, identity, accepted.session_token)
        try:
            await conn.send(SysInfoRequest())
            answer = await conn.read()
            while isinstance(answer, _SESSION_NOISE):
                answer = await conn.read()
            granted = Permission.SYSTEM_INFO in opened.permissions
            if granted and not isinstance(answer, SysInfo):
                raise Failed(f"system_info is granted but SysInfoRequest got {_show(answer)}")
            if not granted and not (isinstance(answer, Refused) and answer.what == "system_info"):
                raise Failed(f'expected Refused("system_info"), got {_show(answer)}')
        finally:
            await _end(conn)


@rule("session/unexpected", "Session", answer=True)
async def _session_unexpected(target: Target) -> None:
    identity = Identity.generate()
    async with connected(target, identity) as c:
        accepted = await _request(c)
        conn, _ = await _session(target, identity, accepted.session_token)
        try:
            await conn.send(
                SessionPermissions(permissions=frozenset(Permission), locked=frozenset())
            )
            refused = await conn.expect(Refused, skip=_SESSION_NOISE)
            if refused.what != "unexpected":
                raise Failed(f'expected Refused("unexpected"), got {refused!r}')
        finally:
            await _end(conn)


@rule("session/end", "Session", answer=True)
async def _session_end(target: Target) -> None:
    identity = Identity.generate()
    async with connected(target, identity) as c:
        accepted = await _request(c)
        conn, _ = await _session(target, identity, accepted.session_token)
        try:
            await conn.send(SessionEnd(reason="conformance run"))
            await conn.expect_closed(skip=(*_SESSION_NOISE, Bye, SessionEnd))
        finally:
            await conn.close()


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
                        raise Failed(f"session {n + 1} of {MAX_GUESTS} got {_show(answer)}")
                    continue
                try:
                    if not isinstance(answer, Error) or answer.code != "refused":
                        raise Failed(
                            f'session {n + 1} (over {MAX_GUESTS}) expected Error("refused"), '
                            f"got {_show(answer)}"
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
    identity = Identity.generate()
    async with connected(target, identity) as c:
        accepted = await _request(c)
        conn, _ = await _session(target, identity, accepted.session_token)
        try:
            async with connected(target, identity) as again:
                await again.send(SessionOpen(session_token=accepted.session_token))
                await again.expect_error("bad_token")
        finally:
            await _end(conn)


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


# --- running --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    rule: Rule
    verdict: str
    """PASS, FAIL or SKIP."""
    detail: str = ""

    def line(self) -> str:
        text = f"{self.verdict} {self.rule.name} ({self.rule.section})"
        return f"{text}: {self.detail}" if self.detail else text


async def run_rule(target: Target, r: Rule) -> Outcome:
    if r.answer and not target.answers:
        return Outcome(r, "SKIP", "needs the peer to accept (run without --no-answer)")
    try:
        await r.check(target)
    except Skipped as exc:
        return Outcome(r, "SKIP", str(exc))
    except Failed as exc:
        return Outcome(r, "FAIL", str(exc))
    except (OSError, ssl.SSLError, IdentityError) as exc:
        return Outcome(r, "FAIL", f"{type(exc).__name__}: {exc}")
    return Outcome(r, "PASS")


async def run(
    target: Target, names: Sequence[str] = (), out: Callable[[str], None] = print
) -> list[Outcome]:
    chosen = [RULES[n] for n in names] if names else list(RULES.values())
    outcomes = []
    for r in chosen:
        outcome = await run_rule(target, r)
        out(outcome.line())
        outcomes.append(outcome)
    return outcomes


def _address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def _fingerprint(text: str) -> bytes:
    digits = "".join(text.replace(":", " ").split()).lower()
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise argparse.ArgumentTypeError("a fingerprint is 64 hex digits (spaces, colons allowed)")
    return raw


def _rule_name(text: str) -> str:
    if text not in RULES:
        raise argparse.ArgumentTypeError(f"unknown rule {text!r}; known: {', '.join(RULES)}")
    return text


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m anydesk_invite.conformance",
        description="Drive a peer through the rules of docs/PROTOCOL.md; PASS/FAIL per rule.",
    )
    parser.add_argument("address", type=_address, metavar="HOST:PORT", nargs="?")
    parser.add_argument("--fingerprint", type=_fingerprint, metavar="FP")
    parser.add_argument("--rule", type=_rule_name, action="append", default=[], metavar="NAME")
    parser.add_argument("--list", action="store_true", help="list the rules and exit")
    parser.add_argument(
        "--no-answer", action="store_true", help="skip the rules the peer's user must accept"
    )
    parser.add_argument("--answer-timeout", type=float, default=30.0, metavar="SECONDS")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS")
    try:
        ns = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    if ns.list:
        for r in RULES.values():
            print(f"{r.name}\t{r.section}{' (answer)' if r.answer else ''}", file=out)
        return EXIT_OK
    if ns.address is None or ns.fingerprint is None:
        print(f"{parser.prog}: HOST:PORT and --fingerprint FP are required", file=sys.stderr)
        return EXIT_USAGE
    host, port = ns.address

    def say(text: str) -> None:
        print(f"... at the peer: {text}", file=out, flush=True)

    target = Target(
        host,
        port,
        ns.fingerprint,
        answers=not ns.no_answer,
        answer_timeout=ns.answer_timeout,
        timeout=ns.timeout,
        say=say,
    )
    outcomes = asyncio.run(run(target, ns.rule, out=lambda line: print(line, file=out, flush=True)))
    counts = {v: sum(o.verdict == v for o in outcomes) for v in ("PASS", "FAIL", "SKIP")}
    print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped", file=out)
    return EXIT_FAILED if counts["FAIL"] else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
