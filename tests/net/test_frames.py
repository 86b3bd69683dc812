"""FrameProtocol: the byte stream, however TLS cuts it, becomes exactly the frames sent."""

from __future__ import annotations

import asyncio
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anydesk_invite.net.frames import LARGE, PAUSE_AT, READ_SIZE, FrameProtocol, PeerClosed
from anydesk_invite.net.wire import HEADER, PROTOCOL_VERSION, Decoder, WireError


class Transport(asyncio.Transport):
    """Records what the protocol asks of its transport (pausing and resuming reading)."""

    def __init__(self) -> None:
        super().__init__()
        self.paused = False
        self.pauses = 0
        self.resumes = 0

    def pause_reading(self) -> None:
        self.paused = True
        self.pauses += 1

    def resume_reading(self) -> None:
        self.paused = False
        self.resumes += 1


def authenticated() -> Decoder:
    d = Decoder()
    d.authenticated(PROTOCOL_VERSION)
    return d


def framed(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


def feed(protocol: FrameProtocol, data: bytes, cuts: list[int]) -> list[memoryview]:
    """Deliver ``data`` as TLS would: into the protocol's own buffers, cut at ``cuts``."""
    handed: list[memoryview] = []
    at = 0
    for end in [*sorted(c for c in cuts if 0 < c < len(data)), len(data)]:
        while at < end:
            room = protocol.get_buffer(end - at)
            assert len(room) > 0
            handed.append(room)
            n = min(len(room), end - at)
            room[:n] = data[at : at + n]
            protocol.buffer_updated(n)
            at += n
    return handed


async def bodies(protocol: FrameProtocol, count: int) -> list[bytes]:
    return [bytes(await protocol.next_body()) for _ in range(count)]


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(
        st.one_of(st.integers(0, 300), st.integers(LARGE - 10, LARGE + 10), st.just(262_200)),
        min_size=1,
        max_size=12,
    ),
    cuts=st.lists(st.integers(0, 2_000_000), max_size=30),
)
def test_any_cutting_of_the_stream_gives_back_the_frames_in_order(
    sizes: list[int], cuts: list[int]
) -> None:
    async def run() -> None:
        protocol = FrameProtocol(authenticated())
        protocol.connection_made(Transport())
        sent = [os.urandom(n) for n in sizes]
        feed(protocol, b"".join(framed(b) for b in sent), cuts)
        assert await bodies(protocol, len(sent)) == sent

    asyncio.run(run())


async def test_a_large_frame_is_received_into_its_own_buffer_and_handed_on_as_it_is() -> None:
    protocol = FrameProtocol(authenticated())
    protocol.connection_made(Transport())
    body = os.urandom(256 * 1024)
    handed = feed(protocol, framed(body), [])
    received = await protocol.next_body()
    assert received == body
    # Only the first TLS record's worth went through the shared buffer; the rest was
    # decrypted straight into the frame's own buffer, which is what the reader got.
    assert len(handed[0]) == READ_SIZE
    assert all(view.obj is received for view in handed[1:])


async def test_a_frame_over_the_limit_is_refused_before_any_room_is_made_for_it() -> None:
    decoder = Decoder(post_auth_limit=1000)
    decoder.authenticated(PROTOCOL_VERSION)
    protocol = FrameProtocol(decoder)
    protocol.connection_made(Transport())
    feed(protocol, framed(b"ok") + HEADER.pack(10**9), [])
    assert await protocol.next_body() == b"ok"
    with pytest.raises(WireError) as refused:
        await protocol.next_body()
    assert refused.value.code == "too_large"
    assert len(protocol.get_buffer(1)) <= READ_SIZE  # no gigabyte buffer was made


async def test_reading_pauses_while_too_much_waits_and_resumes_as_it_is_taken() -> None:
    transport = Transport()
    protocol = FrameProtocol(authenticated())
    protocol.connection_made(transport)
    body = os.urandom(1024 * 1024)
    count = PAUSE_AT // len(body) + 1
    feed(protocol, framed(body) * count, [])
    assert transport.paused
    for _ in range(count):
        assert await protocol.next_body() == body
    assert not transport.paused and transport.pauses == 1


async def test_the_end_of_the_stream_comes_after_the_frames_before_it() -> None:
    protocol = FrameProtocol(authenticated())
    protocol.connection_made(Transport())
    feed(protocol, framed(b"last words") + HEADER.pack(100)[:2], [])
    protocol.eof_received()
    assert await protocol.next_body() == b"last words"
    with pytest.raises(PeerClosed) as closed:
        await protocol.next_body()
    assert closed.value.reason == str(closed.value) == "the peer closed the connection"


async def test_a_lost_connection_wakes_a_waiting_reader_and_writer() -> None:
    protocol = FrameProtocol(authenticated())
    protocol.connection_made(Transport())
    protocol.pause_writing()
    reading = asyncio.ensure_future(protocol.next_body())
    writing = asyncio.ensure_future(protocol.drain())
    await asyncio.sleep(0)  # one turn of the loop, no time: both are now waiting
    assert not reading.done() and not writing.done()
    protocol.connection_lost(ConnectionResetError("reset by peer"))
    with pytest.raises(PeerClosed, match="reset by peer"):
        await reading
    with pytest.raises(PeerClosed):
        await writing
    await protocol.wait_lost()


async def test_bytes_the_previous_protocol_kept_are_read_first() -> None:
    protocol = FrameProtocol(authenticated())
    first, second = os.urandom(70_000), b"second"
    stream = framed(first) + framed(second)
    protocol.attach(Transport(), stream[:100_000])
    feed(protocol, stream[100_000:], [])
    assert await bodies(protocol, 2) == [first, second]


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (None, "the peer closed the connection"),
        (ConnectionResetError("reset by peer"), "the connection was lost: reset by peer"),
        (ConnectionResetError(), "the connection was lost: ConnectionResetError"),
    ],
)
async def test_a_lost_connection_says_how_it_ended(exc: Exception | None, reason: str) -> None:
    protocol = FrameProtocol(authenticated())
    protocol.connection_made(Transport())
    protocol.connection_lost(exc)
    with pytest.raises(PeerClosed) as closed:
        await protocol.next_body()
    assert closed.value.reason == reason


async def test_small_frames_cut_mid_frame_fill_the_shared_buffer_and_still_come_out_whole() -> None:
    protocol = FrameProtocol(authenticated())
    protocol.connection_made(Transport())
    # 101-byte frames in 16 KiB records: every record ends inside a frame, so the unparsed
    # tail is never empty and the buffer fills up until that tail is moved to its front.
    sent = [os.urandom(97) for _ in range(8000)]
    feed(protocol, b"".join(framed(b) for b in sent), [])
    assert await bodies(protocol, len(sent)) == sent


async def test_bytes_handed_over_past_the_pause_limit_pause_reading_at_once() -> None:
    transport = Transport()
    protocol = FrameProtocol(authenticated())
    body = os.urandom(1024 * 1024)
    count = PAUSE_AT // len(body) + 1
    protocol.attach(transport, framed(body) * count)
    assert transport.paused
    assert await bodies(protocol, count) == [body] * count
    assert not transport.paused


MIB = 1024 * 1024


def _queued(sizes: list[int]) -> tuple[Transport, FrameProtocol, list[bytes]]:
    """A protocol with frames of these body sizes received and none taken yet."""
    transport = Transport()
    protocol = FrameProtocol(authenticated())
    protocol.connection_made(transport)
    sent = [os.urandom(n) for n in sizes]
    feed(protocol, b"".join(framed(b) for b in sent), [])
    return transport, protocol, sent


async def test_reading_pauses_when_exactly_the_limit_waits_and_not_one_byte_before() -> None:
    transport, protocol, sent = _queued([MIB, MIB, MIB, MIB - 1])
    assert not transport.paused and transport.pauses == 0
    assert await bodies(protocol, len(sent)) == sent
    transport, protocol, sent = _queued([MIB, MIB, MIB, MIB])
    assert transport.paused and transport.pauses == 1
    assert await bodies(protocol, len(sent)) == sent


async def test_reading_resumes_only_once_less_than_half_the_limit_waits() -> None:
    transport, protocol, sent = _queued([PAUSE_AT // 2, PAUSE_AT // 2])
    assert transport.paused
    assert await protocol.next_body() == sent[0]
    assert transport.paused  # exactly half still waits: not below it
    assert await protocol.next_body() == sent[1]
    assert not transport.paused and transport.resumes == 1


async def test_reading_resumes_as_soon_as_the_waiting_bytes_drop_below_half() -> None:
    transport, protocol, sent = _queued([PAUSE_AT // 2 + 1, PAUSE_AT // 2 - 1])
    assert transport.paused
    assert await protocol.next_body() == sent[0]
    assert not transport.paused and transport.resumes == 1  # half less one byte waits
    assert await protocol.next_body() == sent[1]
    assert transport.resumes == 1  # resumed once, not again for every frame taken


async def test_reading_pauses_again_each_time_too_much_waits_again() -> None:
    transport, protocol, sent = _queued([MIB] * 4)
    assert await bodies(protocol, 4) == sent
    assert (transport.pauses, transport.resumes, transport.paused) == (1, 1, False)
    again = [os.urandom(MIB) for _ in range(4)]
    feed(protocol, b"".join(framed(b) for b in again), [])
    assert (transport.pauses, transport.paused) == (2, True)
    assert await bodies(protocol, 4) == again
    assert (transport.resumes, transport.paused) == (2, False)


async def test_reading_is_not_resumed_after_the_stream_ended() -> None:
    transport, protocol, sent = _queued([MIB] * 4)
    protocol.eof_received()
    assert await bodies(protocol, 4) == sent
    assert transport.resumes == 0
    with pytest.raises(PeerClosed):
        await protocol.next_body()


async def test_frames_arriving_after_a_reader_waited_and_left_are_kept_for_the_next_read() -> None:
    protocol = FrameProtocol(authenticated())
    protocol.connection_made(Transport())
    waiting = asyncio.ensure_future(protocol.next_body())
    await asyncio.sleep(0)  # one turn of the loop, no time: the reader now waits
    feed(protocol, framed(b"first"), [])
    assert await waiting == b"first"
    feed(protocol, framed(b"second") + framed(b"third"), [])  # nobody is waiting now
    assert await bodies(protocol, 2) == [b"second", b"third"]


async def test_a_frame_of_exactly_the_large_size_gets_a_buffer_of_its_own() -> None:
    protocol = FrameProtocol(authenticated())
    protocol.connection_made(Transport())
    body = os.urandom(LARGE)
    handed = feed(protocol, framed(body), [])
    received = await protocol.next_body()
    assert received == body
    assert len(handed) > 1 and all(view.obj is received for view in handed[1:])
