"""One raw connection to the peer under test: the runner's own frames, TLS and handshake,
written apart from this client's channel code so it can send what a correct client never would."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from anydesk_invite.core.ids import DeviceId, fingerprint_of
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.wire import (
    HEADER,
    POST_AUTH_FRAME_LIMIT,
    PRE_AUTH_FRAME_LIMIT,
    PROTOCOL_VERSION,
    Auth,
    AuthOk,
    Bye,
    Decoder,
    Error,
    Hello,
    InviteRefused,
    Message,
    Ping,
    Pong,
    Refused,
    WireError,
    frame,
)

AUTH_CONTEXT = b"adinvite-auth-v1\x00"

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
            raise Failed(f"expected {kind.__name__}, got {what_came(msg)}")

    async def expect_closed(self, skip: tuple[type[Message], ...] = ()) -> None:
        """The peer closes the connection (after messages of ``skip``, if any)."""
        while (msg := await self.read()) is not None:
            if not isinstance(msg, skip):
                raise Failed(f"expected the peer to close, got {what_came(msg)}")

    async def expect_error(self, code: str) -> None:
        """``Error(code)`` and then the peer closes."""
        msg = await self.read()
        if not isinstance(msg, Error) or msg.code != code:
            raise Failed(f'expected Error("{code}"), got {what_came(msg)}')
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


def what_came(msg: Message | None) -> str:
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
