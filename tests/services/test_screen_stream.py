"""The screen stream: changed tiles only, chunks under the frame limit, pacing by acks, and a
host that refuses a bad screen — over real TLS on 127.0.0.1 where two sides talk."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from anydesk_invite.core.clock import ManualClock
from anydesk_invite.core.invitation import Peer
from anydesk_invite.core.policy import Policy
from anydesk_invite.core.screen import RawFrame
from anydesk_invite.core.sysinfo import SystemInformation
from anydesk_invite.desktop.photo import QtJpeg
from anydesk_invite.net.channel import Channel
from anydesk_invite.net.handshake import dial
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.wire import (
    Chat,
    FrameAck,
    FrameTiles,
    Message,
    ScreenList,
    ScreenSelect,
    SessionOpen,
    Tile,
    encode,
)
from anydesk_invite.services.links import Address, Links
from anydesk_invite.services.sessions.feature_set import SessionFeatures
from anydesk_invite.services.sessions.guest_screen import GuestScreen
from anydesk_invite.services.sessions.host_screen import HostScreen
from anydesk_invite.services.sessions.service import SessionService
from anydesk_invite.services.sessions.tiles import changed_tiles, chunks, paste_tiles
from tests.desktop.test_photo import photo_pixels
from tests.helpers.peers import TrustEveryone, dial_node, listening_node
from tests.helpers.synthetic_screen import SyntheticScreen
from tests.helpers.xvfb import psnr

WHITE = b"\xff\xff\xff\xff"
RED = b"\x00\x00\xff\xff"


async def inline(fn, *args):  # type: ignore[no-untyped-def]
    """Runs the stream's CPU work on the loop, so unit tests need no threads."""
    return fn(*args)


class Outbox:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def __call__(self, msg: Message) -> None:
        self.sent.append(msg)

    def frames(self) -> list[FrameTiles]:
        return [m for m in self.sent if isinstance(m, FrameTiles)]


async def started_host(source: SyntheticScreen, outbox: Outbox, **kwargs: object) -> HostScreen:
    host = HostScreen(source, outbox, offload=inline, **kwargs)  # type: ignore[arg-type]
    await host.announce()
    return host


def test_changed_tiles_finds_only_the_tiles_a_change_touches() -> None:
    before = RawFrame(256, 128, 1024, bytes(256 * 128 * 4))
    after = bytearray(before.data)
    # One pixel at (130, 70): tile column 2, tile row 1 of 64x64 tiles.
    at = (70 * 256 + 130) * 4
    after[at : at + 4] = RED
    assert changed_tiles(before, RawFrame(256, 128, 1024, bytes(after))) == [(128, 64, 64, 64)]
    assert changed_tiles(before, before) == []
    # A different size means every tile, edge tiles clipped.
    assert changed_tiles(before, RawFrame(100, 70, 400, bytes(100 * 70 * 4))) == [
        (0, 0, 64, 64),
        (64, 0, 36, 64),
        (0, 64, 64, 6),
        (64, 64, 36, 6),
    ]


def test_changed_tiles_ignores_row_padding() -> None:
    padded = bytearray(64 * 72 * 4)
    changed = bytearray(padded)
    changed[64 * 4 : 72 * 4] = b"\x01" * 32  # padding at the end of row 0 only
    assert (
        changed_tiles(
            RawFrame(64, 8, 72 * 4, bytes(padded)), RawFrame(64, 8, 72 * 4, bytes(changed)), 64
        )
        == []
    )


async def test_a_still_screen_sends_nothing_after_the_first_frame() -> None:
    source = SyntheticScreen([(640, 480)])
    outbox = Outbox()
    host = await started_host(source, outbox)
    host._screen = 0  # as after a ScreenSelect(0), without starting the paced loop
    assert await host.send_frame() > 0
    before = len(outbox.sent)
    for _ in range(5):
        assert await host.send_frame() == 0
    assert len(outbox.sent) == before
    assert source.grabs == 6


async def test_only_the_changed_tiles_travel_and_the_guest_frame_matches_the_host() -> None:
    source = SyntheticScreen([(640, 480)])
    source.fill(0, 0, 0, 640, 480, WHITE)
    outbox = Outbox()
    host = await started_host(source, outbox)
    host._screen = 0
    guest_out = Outbox()
    guest = GuestScreen(guest_out, offload=inline)
    for m in outbox.sent:
        await guest.handle(m)
    await host.send_frame()
    source.fill(0, 100, 100, 20, 10, RED)
    await host.send_frame()
    first, second = outbox.frames()
    assert len(first.tiles) == 10 * 8
    assert [(t.x, t.y, t.w, t.h) for t in second.tiles] == [(64, 64, 64, 64)]
    for f in (first, second):
        await guest.handle(f)
    assert bytes(guest.buffer) == bytes(source.pixels[0])
    assert all(isinstance(m, FrameAck) for m in guest_out.sent)
    assert [m.seq for m in guest_out.sent if isinstance(m, FrameAck)] == [1, 2]


def test_chunks_keep_each_message_under_the_limit_and_keep_every_tile() -> None:
    tiles = [Tile(64 * i, 0, 64, 64, "raw", bytes([i]) * 16384) for i in range(20)]
    groups = chunks(tiles, limit=50_000)
    assert [t for g in groups for t in g] == tiles
    assert len(groups) == 7
    for g in groups:
        body = encode(FrameTiles(1, 0, 1280, 64, g, final=False))
        assert len(body) <= 50_000 + 200
    assert chunks([]) == [[]]


def test_a_bad_tile_is_skipped_and_the_good_ones_still_land() -> None:
    buffer = bytearray(128 * 64 * 4)
    good = Tile(64, 0, 64, 64, "zlib", zlib.compress(RED * 4096))
    bomb = Tile(0, 0, 64, 64, "zlib", zlib.compress(bytes(10_000_000)))
    outside = Tile(100, 0, 64, 64, "raw", RED * 4096)
    garbage = Tile(0, 0, 8, 8, "zlib", b"not zlib")
    problems = paste_tiles(buffer, 128, [bomb, outside, garbage, good], 64)
    assert len(problems) == 3
    assert "outside" in problems[1] and "inflate" in problems[2]
    assert buffer[:256] == bytes(256)  # row 0, left tile: untouched
    assert buffer[256:512] == RED * 64  # row 0, right tile: pasted


# --- photo-like tiles as JPEG ------------------------------------------------------------------


def photo_screen(width: int, height: int) -> SyntheticScreen:
    """A screen showing a photograph on its left half and flat UI colour on its right."""
    source = SyntheticScreen([(width, height)])
    source.fill(0, 0, 0, width, height, WHITE)
    photo = photo_pixels(width // 2, height)
    row = width // 2 * 4
    for y in range(height):
        start = y * width * 4
        source.pixels[0][start : start + row] = photo[y * row : (y + 1) * row]
    return source


async def test_photo_tiles_travel_as_jpeg_to_a_guest_that_decodes_it_and_ui_stays_lossless() -> (
    None
):
    source = photo_screen(256, 128)
    outbox = Outbox()
    host = await started_host(source, outbox, photo=QtJpeg())
    guest_out = Outbox()
    guest = GuestScreen(guest_out, offload=inline, photo=QtJpeg())
    await guest.select(0)
    [select] = guest_out.sent
    assert select == ScreenSelect(0, jpeg=True)
    await host.handle(select)
    host.close()  # one frame by hand, not the paced loop
    await host.send_frame()
    [frame] = outbox.frames()
    encodings = {(t.x, t.y): t.encoding for t in frame.tiles}
    assert {encodings[(x, y)] for x in (0, 64) for y in (0, 64)} == {"jpeg"}  # the photo
    assert {encodings[(x, y)] for x in (128, 192) for y in (0, 64)} == {"zlib"}  # flat UI
    for m in outbox.sent:
        await guest.handle(m)
    shown, real = bytes(guest.buffer), bytes(source.pixels[0])
    assert psnr(shown, real, 256 * 128, step=1) >= 30
    # The UI half is exact: text and edges never go lossy.
    right = [(y * 256 + x) * 4 for y in range(128) for x in range(128, 256)]
    assert all(shown[i : i + 4] == real[i : i + 4] for i in right)
    sent_jpeg = sum(len(t.data) for t in frame.tiles if t.encoding == "jpeg")
    raw_photo = 128 * 128 * 4
    assert sent_jpeg < raw_photo / 4


async def test_a_guest_that_does_not_decode_jpeg_gets_none() -> None:
    source = photo_screen(256, 128)
    outbox = Outbox()
    host = await started_host(source, outbox, photo=QtJpeg())
    guest_out = Outbox()
    guest = GuestScreen(guest_out, offload=inline)  # no codec: a guest without Qt's JPEG
    await guest.select(0)
    assert guest_out.sent == [ScreenSelect(0, jpeg=False)]
    await host.handle(guest_out.sent[0])
    host.close()
    await host.send_frame()
    [frame] = outbox.frames()
    assert {t.encoding for t in frame.tiles} <= {"zlib", "raw"}
    for m in outbox.sent:
        await guest.handle(m)
    assert bytes(guest.buffer) == bytes(source.pixels[0])


def test_a_jpeg_tile_of_the_wrong_size_or_unasked_for_is_skipped() -> None:
    codec = QtJpeg()
    buffer = bytearray(128 * 64 * 4)
    wrong = Tile(0, 0, 64, 64, "jpeg", codec.encode(photo_pixels(32, 32), 32, 32))
    good = Tile(64, 0, 64, 64, "zlib", zlib.compress(RED * 4096))
    problems = paste_tiles(buffer, 128, [wrong, good], 64, codec.decode)
    assert len(problems) == 1 and "not a 64x64 JPEG" in problems[0]
    assert buffer[256:512] == RED * 64
    unasked = Tile(0, 0, 64, 64, "jpeg", codec.encode(photo_pixels(64, 64), 64, 64))
    [problem] = paste_tiles(buffer, 128, [unasked], 64)
    assert "did not ask for" in problem
    assert buffer[:256] == bytes(256)


# --- over real TLS ---------------------------------------------------------------------------


@dataclass
class Pair:
    host_channel: Channel
    guest_channel: Channel


@contextlib.asynccontextmanager
async def channel_pair() -> AsyncIterator[Pair]:
    async with listening_node() as node:
        guest = await dial_node(node)
        host = await node.next_channel()
        try:
            yield Pair(host, guest)
        finally:
            await guest.close("done")
            await host.close("done")


async def serve(channel: Channel, screen: HostScreen) -> None:
    """The host's reader: screen messages to the stream, chat echoed (a round trip)."""
    async for msg in channel:
        if not await screen.handle(msg) and isinstance(msg, Chat):
            await channel.send(msg)


async def test_a_full_screen_of_noise_arrives_intact_in_chunks_under_the_frame_limit() -> None:
    source = SyntheticScreen([(1920, 1080)])
    source.noise(0)
    async with channel_pair() as p:
        host = HostScreen(source, p.host_channel.send, max_fps=1000)
        guest = GuestScreen(p.guest_channel.send)
        reader = asyncio.create_task(serve(p.host_channel, host))
        chunk_count = 0
        try:
            await host.select(0)
            async for msg in p.guest_channel:
                await guest.handle(msg)
                if isinstance(msg, FrameTiles):
                    chunk_count += 1
                    assert len(encode(msg)) < Limits().post_auth_frame_limit
                    if msg.final:
                        break
            assert chunk_count > 8
            assert bytes(guest.buffer) == bytes(source.pixels[0])
        finally:
            host.close()
            reader.cancel()


async def test_a_guest_that_never_acks_gets_two_frames_and_the_host_memory_stays_flat() -> None:
    source = SyntheticScreen([(640, 480)], random_every_grab=True)
    async with channel_pair() as p:
        host = HostScreen(source, p.host_channel.send, max_fps=1000, max_in_flight=2)
        reader = asyncio.create_task(serve(p.host_channel, host))
        finals: list[int] = []
        received = asyncio.Event()

        async def stalled_guest() -> None:
            async for msg in p.guest_channel:
                if isinstance(msg, FrameTiles) and msg.final:
                    finals.append(msg.seq)
                elif isinstance(msg, Chat):
                    received.set()

        guest_reader = asyncio.create_task(stalled_guest())
        try:
            await p.guest_channel.send(ScreenSelect(0))
            while not (host.waiting_for_ack and len(finals) == 2):
                await asyncio.sleep(0.001)
            tracemalloc.start()
            try:
                start, _ = tracemalloc.get_traced_memory()
                # 50 round trips: at 1000 fps an unpaced host would grab and send meanwhile.
                for i in range(50):
                    received.clear()
                    await p.guest_channel.send(Chat(f"ping {i}"))
                    await asyncio.wait_for(received.wait(), 5)
                end, _ = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert finals == [1, 2]
            assert source.grabs == 2
            assert end - start < 256 * 1024
            # One ack opens the window for exactly one more frame.
            await p.guest_channel.send(FrameAck(1))
            while not (host.waiting_for_ack and len(finals) == 3):
                await asyncio.sleep(0.001)
            assert finals == [1, 2, 3]
        finally:
            host.close()
            reader.cancel()
            guest_reader.cancel()


# --- through the session service --------------------------------------------------------------


class NoSysInfo:
    def system_information(self) -> SystemInformation:
        return SystemInformation("test", "box", "cpu", 1, 0, ())


@dataclass
class SessionPair:
    host: SessionService
    guest: SessionService
    guest_session: str


@contextlib.asynccontextmanager
async def session_pair(
    source: SyntheticScreen | None, photo: QtJpeg | None = None
) -> AsyncIterator[SessionPair]:
    guest_identity = Identity.generate()
    async with listening_node() as node:

        async def host_router(channel: Channel, msg: Message) -> None:
            if isinstance(msg, SessionOpen):
                peer = Peer(channel.peer.fingerprint, channel.peer.device_id, channel.peer.alias)
                await host.start_host(channel, peer, frozenset(), "test")

        async def no_route(channel: Channel, msg: Message) -> None:
            raise AssertionError(f"unexpected {msg}")

        async def dial_host(host_name: str, port: int, expected: bytes | None) -> Channel:
            return await dial(
                guest_identity, "guest@ad", host_name, port,
                expected_fingerprint=expected, trust=TrustEveryone(), limits=Limits(),
            )  # fmt: skip

        async def never(host_name: str, port: int, expected: bytes | None) -> Channel:
            raise AssertionError("the host never dials")

        host_links = Links(never, host_router)
        guest_links = Links(dial_host, no_route)
        clock = ManualClock()
        host = SessionService(
            host_links, clock, Policy,
            SessionFeatures.build(clock, NoSysInfo(), screen=source, photo=photo),
        )  # fmt: skip
        guest = SessionService(
            guest_links, clock, Policy, SessionFeatures.build(clock, NoSysInfo(), photo=photo)
        )
        adopt = asyncio.create_task(_adopt_accepted(node.accepted, host_links))
        host_peer = Peer(node.identity.fingerprint, node.identity.device_id, "host@ad")
        try:
            session_id = await guest.open_as_guest(
                host_peer, (Address(*node.address),), bytes(32), frozenset()
            )
            yield SessionPair(host, guest, session_id)
        finally:
            adopt.cancel()
            await guest.stop()
            await host.stop()
            await guest_links.stop()
            await host_links.stop()


async def _adopt_accepted(accepted: asyncio.Queue[Channel], links: Links) -> None:
    while True:
        await links.adopt(await accepted.get())


async def wait_for(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.002)


async def test_the_guest_learns_the_screens_and_its_frame_buffer_fills_after_it_asks() -> None:
    source = SyntheticScreen([(320, 200), (160, 100)])
    source.fill(1, 10, 10, 50, 50, RED)
    async with session_pair(source) as sp:
        screen = sp.guest.guest_screen(sp.guest_session)
        assert screen is not None
        await wait_for(lambda: screen.screens is not None)
        assert [(s.index, s.width, s.height) for s in screen.screens or []] == [
            (0, 320, 200),
            (1, 160, 100),
        ]
        assert source.grabs == 0  # nothing is sent before the guest asks
        await screen.select(1)
        await wait_for(lambda: screen.frames_shown >= 1)
        assert (screen.width, screen.height, screen.current) == (160, 100, 1)
        assert bytes(screen.buffer) == bytes(source.pixels[1])


async def test_two_clients_with_jpeg_show_a_photo_close_and_the_ui_exact_over_tls() -> None:
    source = photo_screen(256, 128)
    async with session_pair(source, photo=QtJpeg()) as sp:
        screen = sp.guest.guest_screen(sp.guest_session)
        assert screen is not None
        await wait_for(lambda: screen.screens is not None)
        await screen.select(0)
        await wait_for(lambda: screen.frames_shown >= 1)
        shown, real = bytes(screen.buffer), bytes(source.pixels[0])
        assert shown != real  # the photo half went lossy...
        assert psnr(shown, real, 256 * 128, step=1) >= 30  # ...and looks the same
        right = [(y * 256 + x) * 4 for y in range(128) for x in range(128, 256)]
        assert all(shown[i : i + 4] == real[i : i + 4] for i in right)


async def test_a_screen_select_with_a_bad_index_is_refused_and_the_session_goes_on() -> None:
    source = SyntheticScreen([(320, 200)])
    async with session_pair(source) as sp:
        session = sp.guest.find(sp.guest_session)
        screen = sp.guest.guest_screen(sp.guest_session)
        assert screen is not None
        # A modified guest, bypassing its UI, asks for a screen the host does not have.
        await session.channel.send(ScreenSelect(7))
        await wait_for(lambda: screen.problem != "")
        assert screen.problem == "no screen 7"
        assert source.grabs == 0
        await sp.guest.send_chat(session, "still here")
        host_session = next(iter(sp.host.sessions.values()))
        await wait_for(lambda: host_session.chat == [("peer", "still here")])
        assert not session.ended


async def test_a_host_without_a_screen_source_says_so_and_refuses_to_stream() -> None:
    async with session_pair(None) as sp:
        screen = sp.guest.guest_screen(sp.guest_session)
        assert screen is not None
        await wait_for(lambda: screen.screens is not None)
        assert screen.screens == []
        await screen.select(0)
        await wait_for(lambda: screen.problem != "")
        assert "unavailable" in screen.problem


@pytest.mark.parametrize("msg", [ScreenList([], 0), FrameTiles(1, 0, 8, 8, [], final=True)])
async def test_a_guest_sending_host_screen_messages_is_refused(
    msg: Message, caplog: pytest.LogCaptureFixture
) -> None:
    async with session_pair(SyntheticScreen([(64, 64)])) as sp:
        session = sp.guest.find(sp.guest_session)
        with caplog.at_level(logging.INFO, "anydesk_invite.services.sessions"):
            await session.channel.send(msg)
            await wait_for(
                lambda: any(
                    "host refused unexpected: not permitted" in r.getMessage()
                    for r in caplog.records
                )
            )
