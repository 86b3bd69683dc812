"""The authenticated channel between two devices: TLS 1.3, a signed handshake, heartbeats.

``dial`` connects to a peer's ``Listener``; both end with a ``Channel`` whose ``peer`` is proven
by key. The handshake is specified in docs/PROTOCOL.md (section "Handshake").
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hmac
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from cryptography.hazmat.primitives import serialization

from anydesk_invite.core.alias import AliasError, parse_received_alias, sanitize_display
from anydesk_invite.core.ids import DeviceId, fingerprint_of, short_fingerprint
from anydesk_invite.net.frames import FrameProtocol, PeerClosed
from anydesk_invite.net.identity import Identity, IdentityError, new_nonce, public_key_from_der
from anydesk_invite.net.identity import verify_signature as _verify_signature
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.wire import (
    HEADER,
    PROTOCOL_VERSION,
    Auth,
    AuthOk,
    Bye,
    Decoder,
    Error,
    Hello,
    Message,
    Ping,
    Pong,
    WireError,
    frame,
    frame_parts,
)

_log = logging.getLogger(__name__)
_M = TypeVar("_M", bound=Message)

AUTH_CONTEXT = b"adinvite-auth-v1\x00"
REASON_MAX = 200
# How long a closing side waits for the TLS close to complete before dropping the connection.
_CLOSE_GRACE = 1.0
# Messages received but not yet taken by receive(); past this the reader stops reading, so a
# fast peer is slowed down by TCP instead of filling memory.
_INBOX_MAX = 256


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """The other device, as proven in the handshake."""

    fingerprint: bytes
    public_key_der: bytes
    device_id: DeviceId
    alias: str
    version: tuple[int, int]
    address: tuple[str, int]


class TrustError(Exception):
    """The peer is refused by the trust store; the text is shown to the user."""


class PeerTrust(Protocol):
    def check(self, peer: PeerInfo) -> None:
        """Raise TrustError to refuse this peer (called on both sides after authentication)."""
        ...


class ChannelClosed(Exception):
    """The channel is closed; the text is the reason."""


class ConnectError(Exception):
    """A connection could not be set up; the text is the reason, fit to show to the user."""


class _Refusal(Exception):
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


async def _read_message(reader: asyncio.StreamReader, decoder: Decoder) -> Message:
    header = await reader.readexactly(HEADER.size)
    # Checked before the body is read: an oversized length never makes us wait or allocate.
    length = decoder.body_length(header)
    body = await reader.readexactly(length)
    return decoder.decode(body)


async def _close_writer(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        async with asyncio.timeout(_CLOSE_GRACE):
            await writer.wait_closed()
    except (TimeoutError, OSError):
        writer.transport.abort()
    except BaseException:
        writer.transport.abort()
        raise


async def _refuse(writer: asyncio.StreamWriter, refusal: _Refusal) -> None:
    # Only inside TLS: nothing, not even an error, is ever sent in plaintext.
    tls_up = writer.get_extra_info("ssl_object") is not None
    if refusal.code is not None and tls_up and not writer.is_closing():
        with contextlib.suppress(OSError, RuntimeError):
            writer.write(frame(Error(refusal.code, refusal.message[:REASON_MAX])))
    await _close_writer(writer)


def _check_hello(hello: Hello) -> tuple[bytes, DeviceId]:
    """The fingerprint and ID of a Hello whose version and ID are acceptable."""
    if hello.version[0] != PROTOCOL_VERSION[0]:
        ours = f"{PROTOCOL_VERSION[0]}.{PROTOCOL_VERSION[1]}"
        theirs = f"{hello.version[0]}.{hello.version[1]}"
        raise _Refusal(
            f"the peer speaks protocol {theirs}, this device {ours}",
            "version",
            f"this device speaks protocol {ours}",
        )
    try:
        public_key_from_der(hello.public_key)
    except IdentityError as exc:
        raise _Refusal(f"the peer's public key is unusable: {exc}", "identity") from None
    fp = fingerprint_of(hello.public_key)
    derived = DeviceId.from_fingerprint(fp)
    if derived.digits != hello.device_id:
        raise _Refusal(
            f"the peer claims ID {hello.device_id}, but its key derives {derived.digits}",
            "identity",
            "the ID does not derive from the key",
        )
    try:
        parse_received_alias(hello.alias)
    except AliasError as exc:
        # Refused, never cleaned up: a cleaned alias could pass for someone else's.
        raise _Refusal(
            f"the peer's alias is refused: {exc}",
            "invalid",
            "the alias is not name@ad (ASCII letters, digits, '-', '_', '.'; 1-25, not all digits)",
        ) from None
    return fp, derived


def _peer_info(hello: Hello, fp: bytes, device_id: DeviceId, address: tuple[str, int]) -> PeerInfo:
    return PeerInfo(
        fingerprint=fp,
        public_key_der=hello.public_key,
        device_id=device_id,
        alias=hello.alias,
        version=(hello.version[0], hello.version[1]),
        address=address,
    )


def _check_trust(trust: PeerTrust, peer: PeerInfo) -> None:
    try:
        trust.check(peer)
    except TrustError as exc:
        raise _Refusal(
            f"{peer.device_id.grouped()} ({short_fingerprint(peer.fingerprint)}) is not trusted: "
            f"{exc}",
            "trust",
            "not trusted by this device",
        ) from None


def _expect(msg: Message, kind: type[_M]) -> _M:
    if isinstance(msg, kind):
        return msg
    if isinstance(msg, Error):
        raise _Refusal(f"the peer refused: {msg.code}: {sanitize_display(msg.message)}")
    raise _Refusal(
        f"expected {kind.__name__}, got {type(msg).__name__}",
        "unexpected",
        f"expected {kind.__name__}",
    )


def _address(writer: asyncio.StreamWriter) -> tuple[str, int]:
    peername = writer.get_extra_info("peername")
    if isinstance(peername, tuple) and len(peername) >= 2:
        return (str(peername[0]), int(peername[1]))
    return ("?", 0)


class Channel:
    """An authenticated, framed connection to one peer. Made by ``dial`` and ``Listener``.

    The channel answers Pings itself and closes when the peer says Bye, sends bad data or is
    silent for ``idle_timeout``; its reader and heartbeat tasks end with it.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        decoder: Decoder,
        peer: PeerInfo,
        *,
        initiator: bool,
        limits: Limits,
    ) -> None:
        self.peer = peer
        self.initiator = initiator
        self.closed = False
        self.close_reason = ""
        self._reader = reader
        self._writer = writer
        self._decoder = decoder
        self._frames = FrameProtocol(decoder)
        self._limits = limits
        self._inbox: asyncio.Queue[Message | None] = asyncio.Queue()
        self._room = asyncio.Event()
        self._closed_event = asyncio.Event()
        self._closing = False
        self._loop = loop = asyncio.get_running_loop()
        self._last_received = loop.time()
        self._last_sent = loop.time()
        self._tasks: list[asyncio.Task[None]] = []

    def __repr__(self) -> str:
        side = "to" if self.initiator else "from"
        return f"<Channel {side} {self.peer.device_id} at {self.peer.address[0]}>"

    async def _start(self) -> None:
        # From here on frames are read by FrameProtocol; whatever the StreamReader already
        # holds (a peer may send right after the handshake) is handed over first.
        transport = self._writer.transport
        transport.set_protocol(self._frames)
        self._reader.feed_eof()
        self._frames.attach(transport, await self._reader.read())
        if transport.is_closing():
            # The connection ended before the switch; only the old protocol was told.
            self._frames.connection_lost(None)
        name = f"{self.peer.device_id}@{self.peer.address[0]}:{self.peer.address[1]}"
        self._tasks = [
            asyncio.create_task(self._read_loop(), name=f"channel-read {name}"),
            asyncio.create_task(self._heartbeat(), name=f"channel-heartbeat {name}"),
        ]

    async def send(self, msg: Message) -> None:
        """Send one message; ChannelClosed when the channel is (or becomes) closed."""
        if self.closed:
            raise ChannelClosed(self.close_reason)
        parts = frame_parts(msg)
        size = sum(len(p) for p in parts) - HEADER.size
        if size > self._limits.post_auth_frame_limit:
            raise WireError(
                "too_large",
                f"{type(msg).__name__} of {size} bytes is over the limit of "
                f"{self._limits.post_auth_frame_limit}",
            )
        try:
            self._writer.writelines(parts)
            self._last_sent = self._loop.time()
            await self._frames.drain()
        except PeerClosed as exc:
            await self._shutdown(exc.reason)
            raise ChannelClosed(self.close_reason) from None
        except (OSError, RuntimeError) as exc:
            await self._shutdown(f"the connection was lost: {exc or type(exc).__name__}")
            raise ChannelClosed(self.close_reason) from None

    async def receive(self) -> Message:
        """The next message from the peer; ChannelClosed(reason) once closed and drained."""
        item = await self._inbox.get()
        if item is None:
            self._inbox.put_nowait(None)  # every later receive() sees the close too
            raise ChannelClosed(self.close_reason)
        self._room.set()
        return item

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        while True:
            try:
                msg = await self.receive()
            except ChannelClosed:
                return
            yield msg

    async def close(self, reason: str = "") -> None:
        """Say Bye with the reason and close. Safe to call more than once."""
        await self._shutdown(reason or "closed", bye=True)

    async def refuse(self, code: str, message: str) -> None:
        """Send ``Error(code, message)`` and close, without a Bye: the peer sent something
        this side will not take (see PROTOCOL.md, Closing)."""
        await self._shutdown(f"refused: {code}", error=WireError(code, message))

    async def wait_closed(self) -> None:
        await self._closed_event.wait()

    async def _shutdown(
        self, reason: str, *, bye: bool = False, error: WireError | None = None
    ) -> None:
        if self._closing:
            await self._closed_event.wait()
            return
        self._closing = True
        self.closed = True
        self.close_reason = reason
        current = asyncio.current_task()
        others = [t for t in self._tasks if t is not current and not t.done()]
        try:
            for task in others:
                task.cancel()
            farewell: Message | None = None
            if error is not None:
                farewell = Error(error.code, error.message[:REASON_MAX])
            elif bye:
                farewell = Bye(reason[:REASON_MAX])
            if farewell is not None and not self._writer.is_closing():
                with contextlib.suppress(OSError, RuntimeError):
                    self._writer.write(frame(farewell))
            await self._close_transport()
            if others:
                await asyncio.gather(*others, return_exceptions=True)
        finally:
            self._inbox.put_nowait(None)
            self._closed_event.set()
            _log.info("channel %s closed: %s", self, reason)

    async def _close_transport(self) -> None:
        """Close the connection (TLS close first), dropping it if that takes too long."""
        self._writer.close()
        try:
            async with asyncio.timeout(_CLOSE_GRACE):
                await self._frames.wait_lost()
        except TimeoutError:
            self._writer.transport.abort()
        except BaseException:
            self._writer.transport.abort()
            raise

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                msg = self._decoder.decode(await self._frames.next_body())
                self._last_received = loop.time()
                if isinstance(msg, Ping):
                    await self.send(Pong(msg.seq))
                elif isinstance(msg, Pong):
                    pass
                elif isinstance(msg, Bye):
                    said = sanitize_display(msg.reason, REASON_MAX)
                    await self._shutdown(f"the peer closed: {said}" if said else "the peer closed")
                    return
                elif isinstance(msg, Error):
                    said = sanitize_display(msg.message, REASON_MAX)
                    await self._shutdown(f"the peer reported an error: {msg.code}: {said}")
                    return
                else:
                    while self._inbox.qsize() >= _INBOX_MAX:
                        self._room.clear()
                        await self._room.wait()
                    self._inbox.put_nowait(msg)
        except WireError as exc:
            _log.warning("closing channel %s: bad data from the peer: %s", self, exc)
            await self._shutdown(f"bad data from the peer: {exc}", error=exc)
        except PeerClosed as exc:
            await self._shutdown(exc.reason)
        except ChannelClosed:
            pass
        except (OSError, RuntimeError) as exc:
            await self._shutdown(f"the connection was lost: {exc or type(exc).__name__}")

    async def _heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self._limits.heartbeat_interval
        idle = self._limits.idle_timeout
        seq = 0
        while True:
            now = loop.time()
            if self._inbox.qsize() >= _INBOX_MAX:
                # We are the slow side, not the peer: its data waits in our socket.
                self._last_received = now
            silent = now - self._last_received
            if silent >= idle:
                _log.warning("closing channel %s: nothing received for %.1f s", self, silent)
                await self._shutdown(
                    f"the peer stopped answering ({silent:.1f} s silent)", bye=True
                )
                return
            if now - self._last_sent >= interval:
                seq += 1
                try:
                    await self.send(Ping(seq))
                except ChannelClosed:
                    return
                continue
            wake = min(self._last_sent + interval, self._last_received + idle)
            await asyncio.sleep(max(0.0, wake - now))


def _cert_public_key(writer: asyncio.StreamWriter) -> bytes:
    """The SubjectPublicKeyInfo DER of the certificate the listener presented."""
    ssl_object = writer.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject):
        raise _Refusal("the connection is not TLS")
    if ssl_object.version() != "TLSv1.3":
        raise _Refusal(f"the peer negotiated {ssl_object.version()}, not TLS 1.3")
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        raise _Refusal("the peer presented no certificate")
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
        raise _Refusal(f"the peer's certificate is unusable: {exc}") from None
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
    except _Refusal as refusal:
        reason = refusal.reason
        if writer is not None:
            await _refuse(writer, refusal)
    except TimeoutError:
        reason = f"the handshake did not finish within {limits.handshake_timeout:g} s"
        if writer is not None:
            await _close_writer(writer)
    except (OSError, asyncio.IncompleteReadError) as exc:
        if isinstance(exc, asyncio.IncompleteReadError):
            reason = "the peer closed the connection during the handshake"
        else:
            reason = f"cannot connect: {exc.strerror or exc}"
        if writer is not None:
            await _close_writer(writer)
    except WireError as exc:
        reason = f"bad data from the peer: {exc}"
        if writer is not None:
            await _refuse(writer, _Refusal(reason, exc.code, exc.message))
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
    cert_key = _cert_public_key(writer)
    cert_fp = fingerprint_of(cert_key)
    # Checked before any application data leaves this device.
    if expected_fingerprint is not None and not hmac.compare_digest(cert_fp, expected_fingerprint):
        raise _Refusal(
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
    hello = _expect(await _read_message(reader, decoder), Hello)
    fp, device_id = _check_hello(hello)
    if not hmac.compare_digest(hello.public_key, cert_key):
        raise _Refusal("the peer's Hello names another key than its certificate", "identity")
    peer = _peer_info(hello, fp, device_id, _address(writer))
    _check_trust(trust, peer)
    signature = identity.sign(auth_transcript(fp, identity.fingerprint, hello.nonce, nonce))
    writer.write(frame(Auth(signature)))
    _expect(await _read_message(reader, decoder), AuthOk)
    decoder.authenticated(peer.version)
    channel = Channel(reader, writer, decoder, peer, initiator=True, limits=limits)
    await channel._start()
    _log.info("connected to %s", channel)
    return channel


class Listener:
    """Accepts connections on chosen addresses and hands each authenticated Channel on."""

    def __init__(
        self,
        identity: Identity,
        alias: Callable[[], str],
        trust: PeerTrust,
        on_channel: Callable[[Channel], Awaitable[None]],
        limits: Limits = Limits(),  # noqa: B008 - frozen, so one shared default is safe
    ) -> None:
        self._identity = identity
        self._alias = alias
        self._trust = trust
        self._on_channel = on_channel
        self._limits = limits
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[object]] = set()
        self._channels: set[Channel] = set()
        self._pending: collections.Counter[str] = collections.Counter()
        self._handshaking: dict[asyncio.Task[object] | None, tuple[str, int]] = {}
        """The tasks of connections still in their handshake, oldest first."""
        self._stopping = False

    @property
    def unauthenticated(self) -> int:
        """Connections that have not finished the handshake yet."""
        return len(self._handshaking)

    @property
    def channels(self) -> list[Channel]:
        """The accepted channels that are still open."""
        return [c for c in self._channels if not c.closed]

    async def start(self, hosts: list[str], port: int = 0) -> list[tuple[str, int]]:
        """Listen on each host; with port 0 the first gets a free port and the rest share it."""
        if not hosts:
            raise ValueError("listen on at least one address")
        bound: list[tuple[str, int]] = []
        try:
            for host in hosts:
                server = await asyncio.start_server(self._accept, host, port)
                self._servers.append(server)
                for sock in server.sockets:
                    addr = sock.getsockname()
                    bound.append((str(addr[0]), int(addr[1])))
                port = bound[0][1]
        except BaseException:
            await self.stop()
            raise
        _log.info("listening on %s", ", ".join(f"{h}:{p}" for h, p in bound))
        return bound

    async def stop(self) -> None:
        """Stop listening and close every channel this listener accepted."""
        self._stopping = True
        for server in self._servers:
            server.close()
        current = asyncio.current_task()
        channels = list(self._channels)
        await asyncio.gather(
            *(c.close("the device is going offline") for c in channels), return_exceptions=True
        )
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        self._channels.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        address = _address(writer)
        try:
            await self._serve(reader, writer, address)
        except asyncio.CancelledError:
            writer.transport.abort()
            raise
        except Exception:
            # A bug in a handler must not take the listener down with it.
            _log.exception("connection from %s:%d failed", *address)
            writer.transport.abort()
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, address: tuple[str, int]
    ) -> None:
        host = address[0]
        limits = self._limits
        if self._stopping:
            writer.transport.abort()
            return
        if self._pending[host] >= limits.max_unauthenticated_per_address:
            _log.warning(
                "refused connection from %s:%d: %d unauthenticated connections from this address",
                *address,
                limits.max_unauthenticated_per_address,
            )
            writer.transport.abort()
            return
        open_here = sum(1 for c in self._channels if not c.closed and c.peer.address[0] == host)
        if open_here + self._pending[host] >= limits.max_channels_per_address:
            # Refused before TLS: one address cannot take the descriptors of everyone else.
            _log.warning(
                "refused connection from %s:%d: %d channels from this address",
                *address,
                limits.max_channels_per_address,
            )
            writer.transport.abort()
            return
        if len(self._handshaking) >= limits.max_unauthenticated_total:
            # Make room by dropping the oldest: someone holding every slot from many
            # addresses would have to open them all within one good peer's handshake (a few
            # milliseconds) to keep that peer out.
            oldest, (old_host, old_port) = next(iter(self._handshaking.items()))
            del self._handshaking[oldest]
            _log.warning(
                "dropped the oldest unauthenticated connection, from %s:%d, to make room: "
                "%d unauthenticated connections in total",
                old_host,
                old_port,
                limits.max_unauthenticated_total,
            )
            if oldest is not None:
                oldest.cancel()  # its connection is dropped as the task ends (_accept)
        task: asyncio.Task[object] | None = asyncio.current_task()
        self._pending[host] += 1
        self._handshaking[task] = address
        try:
            channel = await self._handshake(reader, writer, address)
        finally:
            self._handshaking.pop(task, None)
            self._pending[host] -= 1
            if self._pending[host] <= 0:
                del self._pending[host]
        if channel is None:
            return
        self._channels = {c for c in self._channels if not c.closed}
        self._channels.add(channel)
        try:
            await self._on_channel(channel)
        except Exception:
            _log.exception("handling channel %s failed", channel)
            await channel.close("internal error")

    async def _handshake(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, address: tuple[str, int]
    ) -> Channel | None:
        limits = self._limits
        where = f"{address[0]}:{address[1]}"
        try:
            async with asyncio.timeout(limits.handshake_timeout):
                try:
                    await writer.start_tls(self._identity.server_context())
                except (ssl.SSLError, ConnectionError) as exc:
                    raise _Refusal(f"TLS handshake failed: {exc}") from None
                return await self._authenticate(reader, writer, address)
        except _Refusal as refusal:
            _log.warning("refused connection from %s: %s", where, refusal.reason)
            await _refuse(writer, refusal)
        except WireError as exc:
            _log.warning("refused connection from %s: bad data: %s", where, exc)
            await _refuse(writer, _Refusal(str(exc), exc.code, exc.message))
        except TimeoutError:
            _log.warning(
                "refused connection from %s: handshake not finished within %g s",
                where,
                limits.handshake_timeout,
            )
            await _refuse(writer, _Refusal("timeout", "timeout", "handshake took too long"))
        except asyncio.IncompleteReadError:
            _log.warning("connection from %s closed during the handshake", where)
            await _close_writer(writer)
        except OSError as exc:
            _log.warning("connection from %s lost during the handshake: %s", where, exc)
            await _close_writer(writer)
        return None

    async def _authenticate(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, address: tuple[str, int]
    ) -> Channel:
        identity = self._identity
        decoder = Decoder(self._limits.pre_auth_frame_limit, self._limits.post_auth_frame_limit)
        hello = _expect(await _read_message(reader, decoder), Hello)
        fp, device_id = _check_hello(hello)
        nonce = new_nonce()
        writer.write(
            frame(
                Hello(
                    PROTOCOL_VERSION,
                    identity.public_key_der,
                    identity.device_id.digits,
                    self._alias(),
                    nonce,
                )
            )
        )
        auth = _expect(await _read_message(reader, decoder), Auth)
        transcript = auth_transcript(identity.fingerprint, fp, nonce, hello.nonce)
        if not _verify_signature(hello.public_key, auth.signature, transcript):
            raise _Refusal(
                f"{device_id.grouped()} failed to prove its key (bad signature)",
                "auth",
                "the signature does not verify",
            )
        peer = _peer_info(hello, fp, device_id, address)
        _check_trust(self._trust, peer)
        writer.write(frame(AuthOk()))
        decoder.authenticated(peer.version)
        channel = Channel(reader, writer, decoder, peer, initiator=False, limits=self._limits)
        await channel._start()
        _log.info("accepted %s", channel)
        return channel
