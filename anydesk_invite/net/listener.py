"""The listening side: accepts connections on chosen addresses, caps them per address before
TLS, runs the listener's half of the handshake and hands each authenticated Channel on."""

from __future__ import annotations

import asyncio
import collections
import logging
import ssl
from collections.abc import Awaitable, Callable

from anydesk_invite.net.channel import Channel, PeerTrust
from anydesk_invite.net.handshake import (
    Refusal,
    address_of,
    auth_transcript,
    check_hello,
    check_trust,
    close_writer,
    expect,
    peer_info,
    read_message,
    refuse,
)
from anydesk_invite.net.identity import Identity, new_nonce
from anydesk_invite.net.identity import verify_signature as _verify_signature
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.wire import (
    PROTOCOL_VERSION,
    Auth,
    AuthOk,
    Decoder,
    Hello,
    WireError,
    frame,
)

_log = logging.getLogger(__name__)


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
        address = address_of(writer)
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
                    raise Refusal(f"TLS handshake failed: {exc}") from None
                return await self._authenticate(reader, writer, address)
        except Refusal as refusal:
            _log.warning("refused connection from %s: %s", where, refusal.reason)
            await refuse(writer, refusal)
        except WireError as exc:
            _log.warning("refused connection from %s: bad data: %s", where, exc)
            await refuse(writer, Refusal(str(exc), exc.code, exc.message))
        except TimeoutError:
            _log.warning(
                "refused connection from %s: handshake not finished within %g s",
                where,
                limits.handshake_timeout,
            )
            await refuse(writer, Refusal("timeout", "timeout", "handshake took too long"))
        except asyncio.IncompleteReadError:
            _log.warning("connection from %s closed during the handshake", where)
            await close_writer(writer)
        except OSError as exc:
            _log.warning("connection from %s lost during the handshake: %s", where, exc)
            await close_writer(writer)
        return None

    async def _authenticate(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, address: tuple[str, int]
    ) -> Channel:
        identity = self._identity
        decoder = Decoder(self._limits.pre_auth_frame_limit, self._limits.post_auth_frame_limit)
        hello = expect(await read_message(reader, decoder), Hello)
        fp, device_id = check_hello(hello)
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
        auth = expect(await read_message(reader, decoder), Auth)
        transcript = auth_transcript(identity.fingerprint, fp, nonce, hello.nonce)
        if not _verify_signature(hello.public_key, auth.signature, transcript):
            raise Refusal(
                f"{device_id.grouped()} failed to prove its key (bad signature)",
                "auth",
                "the signature does not verify",
            )
        peer = peer_info(hello, fp, device_id, address)
        check_trust(self._trust, peer)
        writer.write(frame(AuthOk()))
        decoder.authenticated(peer.version)
        channel = Channel(reader, writer, decoder, peer, initiator=False, limits=self._limits)
        await channel._start()
        _log.info("accepted %s", channel)
        return channel
