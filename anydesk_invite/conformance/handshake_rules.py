"""The rules of the handshake, framing, limits and versioning sections of PROTOCOL.md."""

from __future__ import annotations

import asyncio
import ssl

import msgspec

from anydesk_invite.conformance.conn import Conn, Failed, Target, connected, what_came
from anydesk_invite.conformance.table import rule
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.wire import (
    HEADER,
    POST_AUTH_FRAME_LIMIT,
    PRE_AUTH_FRAME_LIMIT,
    PROTOCOL_VERSION,
    Auth,
    AuthOk,
    Bye,
    Chat,
    Error,
    Hello,
    Message,
    Ping,
    Pong,
    encode,
)

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
            raise Failed(f'expected Error("timeout"), got {what_came(msg)}')
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
                raise Failed(f"expected Bye after the idle timeout, got {what_came(msg)}")
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
                f"closed at once (got {what_came(msg)})"
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
