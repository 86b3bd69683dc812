"""The handshake of docs/PROTOCOL.md, both sides' checks, and ``dial``, the dialler's side: TLS
1.3, the listener's key pinned before anything is sent, Hello both ways, the dialler's signed
Auth. A failed check is a Refusal: an Error(code) inside TLS, then the connection closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import ssl
from typing import TypeVar

from cryptography.hazmat.primitives import serialization

from anydesk_invite.core.alias import AliasError, parse_received_alias, sanitize_display
from anydesk_invite.core.ids import DeviceId, fingerprint_of, short_fingerprint
from anydesk_invite.net.channel import (
    CLOSE_GRACE,
    REASON_MAX,
    Channel,
    ConnectError,
    PeerInfo,
    PeerTrust,
    TrustError,
)
from anydesk_invite.net.identity import Identity, IdentityError, new_nonce, public_key_from_der
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.wire import (
    HEADER,
    PROTOCOL_VERSION,
    Auth,
    AuthOk,
    Decoder,
    Error,
    Hello,
    Message,
    WireError,
    frame,
)

_log = logging.getLogger(__name__)
_M = TypeVar("_M", bound=Message)

AUTH_CONTEXT = b"adinvite-auth-v1\x00"


class Refusal(Exception):
    """The handshake failed. With a code, an Error(code) goes to the peer before closing."""

    def __init__(self, reason: str, code: str | None = None, message: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.message = message or reason


def auth_transcript(
    listener_fp: bytes, dialler_fp: bytes, listener_nonce: bytes, dialler_nonce: bytes
) -> bytes:
    """The bytes the dialler signs in Auth."""
    return AUTH_CONTEXT + listener_fp + dialler_fp + listener_nonce + dialler_nonce


async def read_message(reader: asyncio.StreamReader, decoder: Decoder) -> Message:
    header = await reader.readexactly(HEADER.size)
    # Checked before the body is read: an oversized length never makes us wait or allocate.
    length = decoder.body_length(header)
    body = await reader.readexactly(length)
    return decoder.decode(body)


async def close_writer(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        async with asyncio.timeout(CLOSE_GRACE):
            await writer.wait_closed()
    except (TimeoutError, OSError):
        writer.transport.abort()
    except BaseException:
        writer.transport.abort()
        raise


async def refuse(writer: asyncio.StreamWriter, refusal: Refusal) -> None:
    # Only inside TLS: nothing, not even an error, is ever sent in plaintext.
    tls_up = writer.get_extra_info("ssl_object") is not None
    if refusal.code is not None and tls_up and not writer.is_closing():
        with contextlib.suppress(OSError, RuntimeError):
            writer.write(frame(Error(refusal.code, refusal.message[:REASON_MAX])))
    await close_writer(writer)


def check_hello(hello: Hello) -> tuple[bytes, DeviceId]:
    """The fingerprint and ID of a Hello whose version and ID are acceptable."""
    if hello.version[0] != PROTOCOL_VERSION[0]:
        ours = f"{PROTOCOL_VERSION[0]}.{PROTOCOL_VERSION[1]}"
        theirs = f"{hello.version[0]}.{hello.version[1]}"
        raise Refusal(
            f"the peer speaks protocol {theirs}, this device {ours}",
            "version",
            f"this device speaks protocol {ours}",
        )
    try:
        public_key_from_der(hello.public_key)
    except IdentityError as exc:
        raise Refusal(f"the peer's public key is unusable: {exc}", "identity") from None
    fp = fingerprint_of(hello.public_key)
    derived = DeviceId.from_fingerprint(fp)
    if derived.digits != hello.device_id:
        raise Refusal(
            f"the peer claims ID {hello.device_id}, but its key derives {derived.digits}",
            "identity",
            "the ID does not derive from the key",
        )
    try:
        parse_received_alias(hello.alias)
    except AliasError as exc:
        # Refused, never cleaned up: a cleaned alias could pass for someone else's.
        raise Refusal(
            f"the peer's alias is refused: {exc}",
            "invalid",
            "the alias is not name@ad (ASCII letters, digits, '-', '_', '.'; 1-25, not all digits)",
        ) from None
    return fp, derived


def peer_info(hello: Hello, fp: bytes, device_id: DeviceId, address: tuple[str, int]) -> PeerInfo:
    return PeerInfo(
        fingerprint=fp,
        public_key_der=hello.public_key,
        device_id=device_id,
        alias=hello.alias,
        version=(hello.version[0], hello.version[1]),
        address=address,
    )


def check_trust(trust: PeerTrust, peer: PeerInfo) -> None:
    try:
        trust.check(peer)
    except TrustError as exc:
        raise Refusal(
            f"{peer.device_id.grouped()} ({short_fingerprint(peer.fingerprint)}) is not trusted: "
            f"{exc}",
            "trust",
            "not trusted by this device",
        ) from None


def expect(msg: Message, kind: type[_M]) -> _M:
    if isinstance(msg, kind):
        return msg
    if isinstance(msg, Error):
        raise Refusal(f"the peer refused: {msg.code}: {sanitize_display(msg.message)}")
    raise Refusal(
        f"expected {kind.__name__}, got {type(msg).__name__}",
        "unexpected",
        f"expected {kind.__name__}",
    )


def address_of(writer: asyncio.StreamWriter) -> tuple[str, int]:
    peername = writer.get_extra_info("peername")
    if isinstance(peername, tuple) and len(peername) >= 2:
        return (str(peername[0]), int(peername[1]))
    return ("?", 0)


def cert_public_key(writer: asyncio.StreamWriter) -> bytes:
    """The SubjectPublicKeyInfo DER of the certificate the listener presented."""
    ssl_object = writer.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject):
        raise Refusal("the connection is not TLS")
    if ssl_object.version() != "TLSv1.3":
        raise Refusal(f"the peer negotiated {ssl_object.version()}, not TLS 1.3")
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        raise Refusal("the peer presented no certificate")
    from cryptography import x509  # here, not at start-up: the client's window comes first

    try:
        spki = (
            x509.load_der_x509_certificate(der)
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        public_key_from_der(spki)
    except (ValueError, TypeError, IdentityError) as exc:
        raise Refusal(f"the peer's certificate is unusable: {exc}") from None
    return spki


async def dial(
    identity: Identity,
    alias: str,
    host: str,
    port: int,
    *,
    expected_fingerprint: bytes | None,
    trust: PeerTrust,
    limits: Limits = Limits(),  # noqa: B008 - frozen, so one shared default is safe
) -> Channel:
    """Connect to a peer's listener and authenticate both sides; ConnectError(reason) if not."""
    where = f"{host}:{port}"
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(limits.handshake_timeout):
            reader, writer = await asyncio.open_connection(
                host,
                port,
                ssl=identity.client_context(),
                server_hostname="",
            )
            return await _dial_handshake(
                identity, alias, reader, writer, expected_fingerprint, trust, limits
            )
    except Refusal as refusal:
        reason = refusal.reason
        if writer is not None:
            await refuse(writer, refusal)
    except TimeoutError:
        reason = f"the handshake did not finish within {limits.handshake_timeout:g} s"
        if writer is not None:
            await close_writer(writer)
    except (OSError, asyncio.IncompleteReadError) as exc:
        if isinstance(exc, asyncio.IncompleteReadError):
            reason = "the peer closed the connection during the handshake"
        else:
            reason = f"cannot connect: {exc.strerror or exc}"
        if writer is not None:
            await close_writer(writer)
    except WireError as exc:
        reason = f"bad data from the peer: {exc}"
        if writer is not None:
            await refuse(writer, Refusal(reason, exc.code, exc.message))
    except BaseException:
        if writer is not None:
            writer.transport.abort()
        raise
    _log.warning("could not connect to %s: %s", where, reason)
    raise ConnectError(reason)


async def _dial_handshake(
    identity: Identity,
    alias: str,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    expected_fingerprint: bytes | None,
    trust: PeerTrust,
    limits: Limits,
) -> Channel:
    cert_key = cert_public_key(writer)
    cert_fp = fingerprint_of(cert_key)
    # Checked before any application data leaves this device.
    if expected_fingerprint is not None and not hmac.compare_digest(cert_fp, expected_fingerprint):
        raise Refusal(
            f"the peer's key fingerprint is {short_fingerprint(cert_fp)}, "
            f"expected {short_fingerprint(expected_fingerprint)}"
        )
    decoder = Decoder(limits.pre_auth_frame_limit, limits.post_auth_frame_limit)
    nonce = new_nonce()
    writer.write(
        frame(
            Hello(
                PROTOCOL_VERSION, identity.public_key_der, identity.device_id.digits, alias, nonce
            )
        )
    )
    hello = expect(await read_message(reader, decoder), Hello)
    fp, device_id = check_hello(hello)
    if not hmac.compare_digest(hello.public_key, cert_key):
        raise Refusal("the peer's Hello names another key than its certificate", "identity")
    peer = peer_info(hello, fp, device_id, address_of(writer))
    check_trust(trust, peer)
    signature = identity.sign(auth_transcript(fp, identity.fingerprint, hello.nonce, nonce))
    writer.write(frame(Auth(signature)))
    expect(await read_message(reader, decoder), AuthOk)
    decoder.authenticated(peer.version)
    channel = Channel(reader, writer, decoder, peer, initiator=True, limits=limits)
    await channel._start()
    _log.info("connected to %s", channel)
    return channel
