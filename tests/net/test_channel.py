"""The authenticated channel: two nodes in one process over real TLS on 127.0.0.1.

Every refusal is logged with its reason, and the listener goes on serving a good client.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import time
from collections.abc import Callable

import msgspec
import pytest

from anydesk_invite.net.channel import Channel, ChannelClosed, ConnectError
from anydesk_invite.net.handshake import auth_transcript, dial
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.wire import (
    HEADER,
    PROTOCOL_VERSION,
    Auth,
    AuthOk,
    Chat,
    Error,
    Hello,
    Message,
    Ping,
    Pong,
    WireError,
    encode,
)
from tests.helpers.peers import (
    LOOPBACK,
    RawPeer,
    RefuseFingerprints,
    TrustEveryone,
    assert_serves_good_client,
    dial_node,
    listening_node,
)

LOG = "anydesk_invite.net"


@pytest.fixture(autouse=True)
def _log_net(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOG)


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def hello_of(identity: Identity, **changes: object) -> bytes:
    raw = msgspec.msgpack.decode(
        encode(
            Hello(
                PROTOCOL_VERSION,
                identity.public_key_der,
                identity.device_id.digits,
                "raw@ad",
                os.urandom(32),
            )
        )
    )
    raw.update(changes)
    return msgspec.msgpack.encode(raw)


async def expect_error(raw: RawPeer, code: str) -> Error:
    msg = await raw.read()
    assert isinstance(msg, Error), msg
    assert msg.code == code
    assert await raw.closed_by_peer()
    return msg


# --- the good path ----------------------------------------------------------------------------


async def test_dial_authenticates_both_sides_and_messages_flow_both_ways() -> None:
    host_trust, guest_trust = TrustEveryone(), TrustEveryone()
    async with listening_node(trust=host_trust) as node:
        guest = Identity.generate()
        channel = await dial_node(node, guest, trust=guest_trust)
        accepted = await node.next_channel()

        assert channel.initiator and not accepted.initiator
        assert channel.peer.fingerprint == node.identity.fingerprint
        assert channel.peer.device_id == node.identity.device_id
        assert channel.peer.public_key_der == node.identity.public_key_der
        assert channel.peer.alias == "host@ad"
        assert channel.peer.version == PROTOCOL_VERSION
        assert channel.peer.address == node.address
        assert accepted.peer.fingerprint == guest.fingerprint
        assert accepted.peer.device_id == guest.device_id
        assert accepted.peer.alias == "guest@ad"
        assert accepted.peer.address[0] == LOOPBACK
        assert [p.fingerprint for p in host_trust.seen] == [guest.fingerprint]
        assert [p.fingerprint for p in guest_trust.seen] == [node.identity.fingerprint]

        await channel.send(Chat("hello host"))
        await accepted.send(Chat("hello guest"))
        assert await asyncio.wait_for(accepted.receive(), 5) == Chat("hello host")
        assert await asyncio.wait_for(channel.receive(), 5) == Chat("hello guest")
        await channel.close()


async def test_dial_without_expected_fingerprint_learns_the_key_on_first_contact() -> None:
    async with listening_node() as node:
        channel = await dial_node(node, expected=None)
        assert channel.peer.fingerprint == node.identity.fingerprint
        await channel.close()


async def test_close_says_bye_with_the_reason_and_ends_iteration_on_the_other_side() -> None:
    async with listening_node() as node:
        channel = await dial_node(node)
        accepted = await node.next_channel()
        await channel.send(Chat("one"))
        await channel.send(Chat("two"))
        await channel.close("the user hung up")
        assert channel.closed
        assert channel.close_reason == "the user hung up"

        received = [m async for m in accepted]
        assert received == [Chat("one"), Chat("two")]
        await asyncio.wait_for(accepted.wait_closed(), 5)
        assert "the user hung up" in accepted.close_reason
        with pytest.raises(ChannelClosed, match="the user hung up"):
            await accepted.receive()
        with pytest.raises(ChannelClosed):
            await channel.send(Chat("too late"))
        await channel.close("twice is harmless")
        assert channel.close_reason == "the user hung up"


async def test_listener_stop_closes_every_accepted_channel() -> None:
    async with listening_node() as node:
        first = await dial_node(node)
        second = await dial_node(node)
        accepted = [await node.next_channel(), await node.next_channel()]
        assert len(node.listener.channels) == 2
        await node.listener.stop()
        for ch in (*accepted, first, second):
            await asyncio.wait_for(ch.wait_closed(), 5)
        assert "going offline" in first.close_reason
        assert node.listener.channels == []


async def test_a_listener_whose_alias_has_control_and_bidi_characters_is_refused() -> None:
    async with listening_node(alias="ev\u202eil\x07\x1b[31m@ad") as node:
        with pytest.raises(ConnectError, match="alias is refused"):
            await dial_node(node)


async def test_dial_to_a_port_nobody_listens_on_gives_connect_error() -> None:
    async with listening_node() as node:
        port = node.address[1]
    with pytest.raises(ConnectError, match="cannot connect"):
        await dial(
            Identity.generate(),
            "guest@ad",
            LOOPBACK,
            port,
            expected_fingerprint=None,
            trust=TrustEveryone(),
        )


async def test_sending_a_message_over_the_frame_limit_is_refused_locally() -> None:
    async with listening_node() as node:
        channel = await dial_node(node, limits=Limits(post_auth_frame_limit=100))
        with pytest.raises(WireError) as err:
            await channel.send(Chat("x" * 200))
        assert err.value.code == "too_large"
        assert not channel.closed
        await channel.close()


async def test_listen_on_two_addresses_shares_one_port() -> None:
    from anydesk_invite.net.listener import Listener

    async def ignore(channel: Channel) -> None:
        await channel.close()

    listener = Listener(Identity.generate(), lambda: "x@ad", TrustEveryone(), ignore)
    try:
        bound = await listener.start([LOOPBACK, "127.0.0.2"])
        assert [h for h, _ in bound] == [LOOPBACK, "127.0.0.2"]
        assert bound[0][1] == bound[1][1] != 0
    finally:
        await listener.stop()


async def test_dial_and_handshake_take_only_a_few_milliseconds_on_loopback() -> None:
    async with listening_node() as node:
        guest = Identity.generate()
        await (await dial_node(node, guest)).close()  # warm the contexts
        times = []
        for _ in range(15):
            start = time.perf_counter()
            channel = await dial_node(node, guest)
            times.append(time.perf_counter() - start)
            await channel.close()
        times.sort()
        # A generous bound for a loaded CI machine; typically ~2 ms here.
        assert times[len(times) // 2] < 0.05


# --- refusals by the listener -----------------------------------------------------------------


async def test_plaintext_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    async with listening_node() as node:
        raw = await RawPeer.connect(node.address, tls=False)
        raw.send_bytes(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert await raw.closed_by_peer()
        await raw.close()
        await until(lambda: "TLS handshake failed" in caplog.text)
        await assert_serves_good_client(node)


async def test_a_tls12_client_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    async with listening_node() as node:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            await RawPeer.connect(node.address, tls_version=ssl.TLSVersion.TLSv1_2)
        await until(lambda: "TLS handshake failed" in caplog.text)
        await assert_serves_good_client(node)


async def test_a_relayed_signature_made_for_another_listener_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with listening_node() as node:
        guest, elsewhere = Identity.generate(), Identity.generate()
        raw = await RawPeer.connect(node.address)
        nonce = os.urandom(32)
        raw.send(
            Hello(PROTOCOL_VERSION, guest.public_key_der, guest.device_id.digits, "g@ad", nonce)
        )
        hello = await raw.read()
        assert isinstance(hello, Hello)
        # A valid signature by the guest, but over another listener's fingerprint.
        signed = auth_transcript(elsewhere.fingerprint, guest.fingerprint, hello.nonce, nonce)
        raw.send(Auth(guest.sign(signed)))
        await expect_error(raw, "auth")
        assert "bad signature" in caplog.text
        await assert_serves_good_client(node)


async def test_a_signature_by_another_key_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    async with listening_node() as node:
        claimed, actual = Identity.generate(), Identity.generate()
        raw = await RawPeer.connect(node.address)
        nonce = os.urandom(32)
        raw.send(
            Hello(PROTOCOL_VERSION, claimed.public_key_der, claimed.device_id.digits, "c@ad", nonce)
        )
        hello = await raw.read()
        assert isinstance(hello, Hello)
        signed = auth_transcript(node.identity.fingerprint, claimed.fingerprint, hello.nonce, nonce)
        raw.send(Auth(actual.sign(signed)))
        await expect_error(raw, "auth")
        assert "bad signature" in caplog.text
        await assert_serves_good_client(node)


async def test_the_correct_raw_handshake_is_accepted() -> None:
    # The raw peer's handshake is right when nothing is tampered with: the refusals above
    # fail for the reason they name, not for a mistake in the raw peer.
    async with listening_node() as node:
        guest = Identity.generate()
        raw = await RawPeer.connect(node.address)
        nonce = os.urandom(32)
        raw.send(
            Hello(PROTOCOL_VERSION, guest.public_key_der, guest.device_id.digits, "g@ad", nonce)
        )
        hello = await raw.read()
        assert isinstance(hello, Hello)
        signed = auth_transcript(node.identity.fingerprint, guest.fingerprint, hello.nonce, nonce)
        raw.send(Auth(guest.sign(signed)))
        assert isinstance(await raw.read(), AuthOk)
        accepted = await node.next_channel()
        assert accepted.peer.fingerprint == guest.fingerprint
        await raw.close()


async def test_an_id_that_does_not_derive_from_the_key_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with listening_node() as node:
        guest, other = Identity.generate(), Identity.generate()
        raw = await RawPeer.connect(node.address)
        raw.send_body(hello_of(guest, device_id=other.device_id.digits))
        await expect_error(raw, "identity")
        assert f"claims ID {other.device_id.digits}" in caplog.text
        await assert_serves_good_client(node)


async def test_a_public_key_that_is_not_ed25519_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with listening_node() as node:
        raw = await RawPeer.connect(node.address)
        raw.send_body(hello_of(Identity.generate(), public_key=b"\x30" * 44))
        await expect_error(raw, "identity")
        assert "public key is unusable" in caplog.text
        await assert_serves_good_client(node)


async def test_a_peer_the_trust_store_refuses_is_refused_by_the_listener(
    caplog: pytest.LogCaptureFixture,
) -> None:
    guest = Identity.generate()
    async with listening_node(trust=RefuseFingerprints(guest.fingerprint)) as node:
        with pytest.raises(ConnectError, match="trust"):
            await dial_node(node, guest)
        assert "collides with a pinned peer" in caplog.text
        await assert_serves_good_client(node)


async def test_an_unknown_major_version_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    async with listening_node() as node:
        raw = await RawPeer.connect(node.address)
        raw.send_body(hello_of(Identity.generate(), version=[PROTOCOL_VERSION[0] + 1, 0]))
        error = await expect_error(raw, "version")
        assert f"{PROTOCOL_VERSION[0]}.{PROTOCOL_VERSION[1]}" in error.message
        assert f"speaks protocol {PROTOCOL_VERSION[0] + 1}.0" in caplog.text
        await assert_serves_good_client(node)


async def test_a_newer_minor_version_is_accepted() -> None:
    async with listening_node() as node:
        guest = Identity.generate()
        raw = await RawPeer.connect(node.address)
        nonce = os.urandom(32)
        newer = (PROTOCOL_VERSION[0], PROTOCOL_VERSION[1] + 1)
        raw.send(Hello(newer, guest.public_key_der, guest.device_id.digits, "g@ad", nonce))
        hello = await raw.read()
        assert isinstance(hello, Hello)
        signed = auth_transcript(node.identity.fingerprint, guest.fingerprint, hello.nonce, nonce)
        raw.send(Auth(guest.sign(signed)))
        assert isinstance(await raw.read(), AuthOk)
        accepted = await node.next_channel()
        assert accepted.peer.version == newer
        # From a newer minor, a field this version does not know is skipped.
        raw.send_body(msgspec.msgpack.encode({"t": "Chat", "text": "hi", "mood": "happy"}))
        assert await asyncio.wait_for(accepted.receive(), 5) == Chat("hi")
        await raw.close()


@pytest.mark.parametrize("tls", [False, True], ids=["before-tls", "after-tls"])
async def test_a_handshake_that_stalls_is_closed_at_the_deadline(
    caplog: pytest.LogCaptureFixture, tls: bool
) -> None:
    async with listening_node(limits=Limits(handshake_timeout=0.3)) as node:
        start = time.monotonic()
        raw = await RawPeer.connect(node.address, tls=tls)
        assert await raw.closed_by_peer(timeout=5)
        assert time.monotonic() - start >= 0.25
        await raw.close()
        assert "handshake not finished within 0.3 s" in caplog.text
        await assert_serves_good_client(node)


async def test_a_pre_auth_frame_over_the_limit_is_closed_before_its_body_is_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with listening_node(limits=Limits(handshake_timeout=30.0, idle_timeout=60.0)) as node:
        raw = await RawPeer.connect(node.address)
        raw.send_bytes(HEADER.pack(8 * 1024 + 1))  # and no body at all
        start = time.monotonic()
        await expect_error(raw, "too_large")
        assert time.monotonic() - start < 5  # not the 30 s handshake deadline
        assert "over the limit of 8192" in caplog.text
        await assert_serves_good_client(node)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"\xc1\xc1\xc1", "malformed"),
        (msgspec.msgpack.encode({"t": "Teleport", "to": "mars"}), "unknown_type"),
        (encode(Chat("before authentication")), "unknown_type"),
        (encode(Ping(1)), "unknown_type"),
    ],
    ids=["malformed", "unknown-type", "session-message-early", "ping-early"],
)
async def test_bad_first_frames_are_refused_with_their_error_code(
    caplog: pytest.LogCaptureFixture, body: bytes, code: str
) -> None:
    async with listening_node() as node:
        raw = await RawPeer.connect(node.address)
        raw.send_body(body)
        await expect_error(raw, code)
        assert f"bad data: {code}" in caplog.text
        await assert_serves_good_client(node)


async def test_an_unknown_field_before_authentication_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with listening_node() as node:
        raw = await RawPeer.connect(node.address)
        raw.send_body(hello_of(Identity.generate(), extra="field"))
        await expect_error(raw, "unknown_field")
        assert "unknown field `extra`" in caplog.text
        await assert_serves_good_client(node)


async def test_a_post_auth_frame_over_the_limit_closes_the_channel(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with listening_node(limits=Limits(post_auth_frame_limit=1024)) as node:
        channel = await dial_node(node)
        accepted = await node.next_channel()
        await channel.send(Chat("x" * 2000))
        await asyncio.wait_for(accepted.wait_closed(), 5)
        assert "too_large" in accepted.close_reason
        await asyncio.wait_for(channel.wait_closed(), 5)
        assert "too_large" in channel.close_reason
        assert "over the limit of 1024" in caplog.text
        await assert_serves_good_client(node)


async def test_unauthenticated_connections_are_capped_per_address(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limits = Limits(max_unauthenticated_per_address=2, max_unauthenticated_total=10)
    async with listening_node(limits=limits) as node:
        stalls = [await RawPeer.connect(node.address, tls=False, source="127.0.0.2")]
        stalls.append(await RawPeer.connect(node.address, tls=False, source="127.0.0.2"))
        await until(lambda: node.listener.unauthenticated == 2)
        extra = await RawPeer.connect(node.address, tls=False, source="127.0.0.2")
        assert await extra.closed_by_peer(timeout=2)
        assert "2 unauthenticated connections from this address" in caplog.text
        # Another address is still served while 127.0.0.2 is at its cap.
        await assert_serves_good_client(node)
        for raw in [*stalls, extra]:
            await raw.close()


async def test_at_the_total_cap_the_oldest_unauthenticated_connection_makes_room(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Stalled handshakes from many addresses cannot keep a good peer out."""
    limits = Limits(max_unauthenticated_per_address=8, max_unauthenticated_total=3)
    async with listening_node(limits=limits) as node:
        stalls = [
            await RawPeer.connect(node.address, tls=False, source=f"127.0.0.{i}") for i in (2, 3, 4)
        ]
        await until(lambda: node.listener.unauthenticated == 3)
        newcomer = await RawPeer.connect(node.address, tls=False, source="127.0.0.5")
        assert await stalls[0].closed_by_peer(timeout=2)
        assert "dropped the oldest unauthenticated connection, from 127.0.0.2" in caplog.text
        assert "3 unauthenticated connections in total" in caplog.text
        await until(lambda: node.listener.unauthenticated == 3)
        # Every slot is held by a stalled handshake, and a good client still gets through.
        await assert_serves_good_client(node)
        assert await stalls[1].closed_by_peer(timeout=2)
        for raw in [*stalls, newcomer]:
            await raw.close()


# --- refusals by the dialler ------------------------------------------------------------------


async def test_a_listener_with_another_key_than_expected_is_refused_before_any_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with listening_node() as node:
        with pytest.raises(ConnectError, match="expected"):
            await dial_node(node, expected=Identity.generate().fingerprint)
        assert "could not connect" in caplog.text
        # The listener saw no Hello: the dialler closed right after TLS.
        await until(lambda: "closed during the handshake" in caplog.text)
        await assert_serves_good_client(node)


async def test_a_listener_the_dialler_does_not_trust_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with listening_node() as node:
        refuse = RefuseFingerprints(node.identity.fingerprint, reason="ID taken by a pinned peer")
        with pytest.raises(ConnectError, match="ID taken by a pinned peer"):
            await dial_node(node, trust=refuse)
        await until(lambda: "the peer refused: trust" in caplog.text)
        await assert_serves_good_client(node)


# --- liveness ---------------------------------------------------------------------------------


async def test_heartbeats_keep_a_quiet_channel_open_and_a_silent_peer_is_closed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limits = Limits(heartbeat_interval=0.05, idle_timeout=0.4)
    async with listening_node(limits=limits) as node:
        guest = Identity.generate()
        raw = await RawPeer.connect(node.address)
        nonce = os.urandom(32)
        raw.send(
            Hello(PROTOCOL_VERSION, guest.public_key_der, guest.device_id.digits, "g@ad", nonce)
        )
        hello = await raw.read()
        assert isinstance(hello, Hello)
        signed = auth_transcript(node.identity.fingerprint, guest.fingerprint, hello.nonce, nonce)
        raw.send(Auth(guest.sign(signed)))
        assert isinstance(await raw.read(), AuthOk)
        raw.decoder.authenticated(PROTOCOL_VERSION)
        accepted = await node.next_channel()

        # Answer pings for well over the idle timeout: the channel stays open.
        start = time.monotonic()
        while time.monotonic() - start < 2 * limits.idle_timeout:
            ping = await raw.read(timeout=2)
            assert isinstance(ping, Ping)
            raw.send(Pong(ping.seq))
        assert not accepted.closed

        # Then fall silent: closed after the idle timeout.
        await asyncio.wait_for(accepted.wait_closed(), 5)
        assert "stopped answering" in accepted.close_reason
        assert "nothing received for" in caplog.text
        await raw.close()


async def test_a_ping_is_answered_with_a_pong_of_the_same_number() -> None:
    async with listening_node() as node:
        guest = Identity.generate()
        raw = await RawPeer.connect(node.address)
        nonce = os.urandom(32)
        raw.send(
            Hello(PROTOCOL_VERSION, guest.public_key_der, guest.device_id.digits, "g@ad", nonce)
        )
        hello = await raw.read()
        assert isinstance(hello, Hello)
        signed = auth_transcript(node.identity.fingerprint, guest.fingerprint, hello.nonce, nonce)
        raw.send(Auth(guest.sign(signed)))
        assert isinstance(await raw.read(), AuthOk)
        raw.decoder.authenticated(PROTOCOL_VERSION)
        accepted = await node.next_channel()
        raw.send(Ping(424242))
        assert await raw.read() == Pong(424242)
        # Link messages are the channel's business; the application never sees them.
        raw.send(Chat("after the ping"))
        assert await asyncio.wait_for(accepted.receive(), 5) == Chat("after the ping")
        await raw.close()


async def test_a_listener_whose_hello_names_another_key_than_its_certificate_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cert_owner, claimed = Identity.generate(), Identity.generate()
    got: asyncio.Queue[Message] = asyncio.Queue()

    async def rogue(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = RawPeer(reader, writer)
        await peer.read()
        peer.send_body(hello_of(claimed))
        await got.put(await peer.read())
        await peer.close()

    server = await asyncio.start_server(rogue, LOOPBACK, 0, ssl=cert_owner.server_context())
    try:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(ConnectError, match="another key than its certificate"):
            await dial(
                Identity.generate(),
                "guest@ad",
                LOOPBACK,
                port,
                expected_fingerprint=None,
                trust=TrustEveryone(),
            )
        error = await asyncio.wait_for(got.get(), 5)
        assert isinstance(error, Error) and error.code == "identity"
        assert "could not connect" in caplog.text
    finally:
        server.close()
        await server.wait_closed()


async def test_a_peer_that_vanishes_right_after_the_handshake_is_noticed_at_once() -> None:
    """No Bye, no Error: the connection just drops. The channel closes well before the idle
    timeout, with a reason, and a send on it says it is closed."""
    async with listening_node() as node:
        channel = await dial_node(node, limits=Limits(idle_timeout=30.0, heartbeat_interval=10.0))
        accepted = await node.next_channel()
        accepted._writer.transport.abort()  # the peer's connection drops
        await asyncio.wait_for(channel.wait_closed(), 5)
        assert channel.close_reason.startswith(
            ("the peer closed the connection", "the connection was lost")
        ), channel.close_reason
        with pytest.raises(ChannelClosed):
            await channel.send(Chat("anyone there?"))
