"""Random frames into live clients over real TLS on 127.0.0.1: into the listener before and
after authentication, into the invitation handlers, and into both ends of a session.

Every bad input may cost its own connection and nothing else: a bystander peer's connection
stays open and answers, the listener keeps accepting, and no handler fails with an exception.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anydesk_invite.net.limits import Limits
from anydesk_invite.net.wire import Bye, Decoder, Error, Message, SessionEnd
from tests.helpers.nodes import Node, eventually
from tests.helpers.peers import RawPeer
from tests.helpers.raw_guest import RawGuest
from tests.reliability.frames import bodies, frames, not_utf8
from tests.reliability.live import LiveClients, live_clients, open_session
from tests.reliability.rig import AuthenticatedRawPeer, HandlerFailures, record

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Target:
    """One client under fuzz, a bystander connected to it, and the fuzzing peer's connection."""

    def __init__(self, live: LiveClients) -> None:
        self.live = live
        # The bystander carries no invitation: it stands for a peer in a session, so it must
        # not be closed as an unused channel while the fuzz runs.
        self.node: Node = live.run(live.make("target", Limits(unused_channel_timeout=3600.0)))
        self.bystander = live.run(AuthenticatedRawPeer.connect(self.address))
        self.fuzzer: AuthenticatedRawPeer | None = None
        self.inputs = 0
        self.closed = 0
        live.cleanup.append(self.close)

    async def close(self) -> None:
        await self.bystander.close()
        if self.fuzzer is not None:
            await self.fuzzer.close()

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.node.port)

    async def feed(self, data: list[bytes]) -> None:
        if self.fuzzer is None:
            self.fuzzer = await AuthenticatedRawPeer.connect(self.address)
        for chunk in data:
            self.fuzzer.send_bytes(chunk)
        self.inputs += len(data)
        if not await self.fuzzer.alive():
            self.closed += 1
            await self.fuzzer.close()
            self.fuzzer = None
        assert await self.bystander.alive(), "a bad input closed another peer's connection"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveClients]:
    with live_clients(tmp_path) as clients:
        yield clients


@pytest.fixture
def failures() -> Iterator[HandlerFailures]:
    with HandlerFailures() as watch:
        yield watch


def test_random_frames_after_authentication_cost_only_their_own_connection(
    live: LiveClients, failures: HandlerFailures
) -> None:
    target = Target(live)

    @FUZZ
    @given(st.lists(frames(), min_size=1, max_size=4))
    def one(batch: list[bytes]) -> None:
        live.run(target.feed(batch))

    started = time.monotonic()
    one()
    assert failures.texts() == []
    assert target.closed > 0, "no input was bad enough to close its connection"
    # A new peer is still served after all of it.
    fresh = live.run(AuthenticatedRawPeer.connect(target.address))
    assert live.run(fresh.alive())
    live.run(fresh.close())
    record("fuzz-channel", "inputs", target.inputs, "frames")
    record("fuzz-channel", "closed", target.closed, "connections")
    record("fuzz-channel", "seconds", time.monotonic() - started, "s")


def test_random_bytes_before_authentication_cost_only_their_own_connection(
    live: LiveClients, failures: HandlerFailures
) -> None:
    target = Target(live)

    async def feed(data: bytes, tls: bool) -> None:
        raw = await RawPeer.connect(target.address, tls=tls)
        raw.send_bytes(data)
        # Whatever it was, the listener ends this connection: at once, or at its deadline.
        limits = target.node.limits
        assert await raw.closed_by_peer(timeout=limits.handshake_timeout + 2)
        await raw.close()
        assert await target.bystander.alive()

    @settings(FUZZ, max_examples=40)
    @given(st.one_of(st.binary(min_size=1, max_size=64), frames()), st.booleans())
    def one(data: bytes, tls: bool) -> None:
        live.run(feed(data, tls))

    one()
    assert failures.texts() == []
    # Nothing half-open is left behind.
    live.run(eventually(lambda: target.node.listener.unauthenticated == 0))


class SessionUnderFuzz:
    """A session between two clients in which one side's messages now come from the test."""

    # A peer ending its own session is no fault: these would only end the session under test.
    ENDING = (SessionEnd, Bye)

    def __init__(self, live: LiveClients, *, fuzz_host: bool) -> None:
        self.live = live
        self.fuzz_host = fuzz_host
        self.decoder = Decoder()
        self.decoder.authenticated((1, 0))
        self.host = live.run(live.make("host"))
        self.sessions = 0
        self.sent = 0
        self.raw: RawGuest | None = None
        self.target: Node | None = None

    async def _open(self) -> None:
        guest = await self.live.make("guest")
        host_view, guest_view = await open_session(self.host, guest)
        self.sessions += 1
        # Fuzzing the host: the test speaks for the guest, and the other way round.
        if self.fuzz_host:
            self.raw, self.target = RawGuest(guest, guest_view.session_id), self.host
        else:
            self.raw, self.target = RawGuest(self.host, host_view.session_id), guest

    async def feed(self, batch: list[bytes]) -> None:
        if self.raw is None or self.raw.channel.closed:
            await self._open()
        assert self.raw is not None
        messages: list[Message] = []
        for body in batch:
            try:
                msg = self.decoder.decode(body)
            except Exception:
                continue
            if not isinstance(msg, self.ENDING):
                messages.append(msg)
        for msg in messages:
            try:
                await self.raw.send(msg)
            except Exception:
                break
            self.sent += 1
        # Let the target handle them, then see that it is still there for this session.
        await asyncio.sleep(0)
        assert self.target is not None
        assert self.target.client.status() is not None


@pytest.mark.parametrize("fuzz_host", [True, False], ids=["into-host", "into-guest"])
def test_random_session_messages_never_break_the_other_side(
    live: LiveClients, failures: HandlerFailures, fuzz_host: bool
) -> None:
    rig = SessionUnderFuzz(live, fuzz_host=fuzz_host)

    @settings(FUZZ, max_examples=80)
    @given(st.lists(bodies(), min_size=1, max_size=6))
    def one(batch: list[bytes]) -> None:
        live.run(rig.feed(batch))

    one()
    assert failures.texts() == []
    assert rig.sent > 0
    # The fuzzed client still invites and hosts a fresh guest.
    fresh = live.run(live.make("fresh"))
    host_view, _ = live.run(open_session(rig.host, fresh))
    assert host_view.role.value == "host"
    record(f"fuzz-session-{'host' if fuzz_host else 'guest'}", "messages", rig.sent, "messages")
    record(f"fuzz-session-{'host' if fuzz_host else 'guest'}", "sessions", rig.sessions, "opened")


@pytest.mark.parametrize("authenticated", [True, False], ids=["after-auth", "before-auth"])
def test_text_that_is_not_utf8_closes_only_its_connection_at_once(
    live: LiveClients, failures: HandlerFailures, authenticated: bool
) -> None:
    # Found by the fuzz above: msgspec raises UnicodeDecodeError, not a MsgspecError, and the
    # reader task died with it, leaving the connection open until the idle timeout.
    target = Target(live)
    chat = not_utf8({"t": "Chat", "text": "hello"})
    hello = not_utf8({"t": "Hello", "version": [1, 0], "public_key": b"k" * 44,
                      "device_id": "1234567890", "alias": "x", "nonce": b"n" * 32})  # fmt: skip

    async def send() -> Message:
        if authenticated:
            peer = await AuthenticatedRawPeer.connect(target.address)
            raw = peer.raw
            raw.send_body(chat)
        else:
            raw = await RawPeer.connect(target.address)
            raw.send_body(hello)
        answer = await raw.read(timeout=2)
        assert await raw.closed_by_peer(timeout=2)
        await raw.close()
        return answer

    answer = live.run(send())
    assert isinstance(answer, Error) and answer.code == "malformed", answer
    assert live.run(target.bystander.alive())
    assert failures.texts() == []
