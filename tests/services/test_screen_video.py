"""The hybrid screen stream: moving content as H.264 (the real PyAV codec), still content
refined to its exact pixels, negotiation with a tile-only guest, and a hostile host whose
video is bounded and skipped while the session lives."""

from __future__ import annotations

import logging
import os

import pytest

from anydesk_invite.desktop.video import PyAvVideo
from anydesk_invite.net.wire import FrameAck, FrameTiles, Message, ScreenSelect, Tile, VideoFrame
from anydesk_invite.services.sessions.guest_screen import GuestScreen
from anydesk_invite.services.sessions.host_screen import HostScreen
from anydesk_invite.services.sessions.hybrid import REFINE_AFTER, STILL_AFTER
from anydesk_invite.services.sessions.pacing import (
    KEYFRAME_SECONDS,
    MAX_BITRATE,
    LinkEstimate,
    settings_for,
)
from tests.helpers.synthetic_screen import SyntheticScreen, photo_pixels
from tests.helpers.xvfb import psnr

W, H = 640, 384


async def inline(fn, *args):  # type: ignore[no-untyped-def]
    """Runs the stream's CPU work on the loop, so unit tests need no threads."""
    return fn(*args)


class Outbox:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def __call__(self, msg: Message) -> None:
        self.sent.append(msg)

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [m for m in self.sent if isinstance(m, kind)]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


PICTURE = photo_pixels(W * 2, H)


def scrolled(source: SyntheticScreen, step: int) -> None:
    """The screen's content scrolled sideways by ``step`` pixels (every tile changes)."""
    row = W * 2 * 4
    out = bytearray()
    for y in range(H):
        start = y * row + (step * 8 % W) * 4
        out += PICTURE[start : start + W * 4]
    source.pixels[0][:] = out


async def pair(
    guest_video: bool = True,
) -> tuple[SyntheticScreen, HostScreen, GuestScreen, Outbox, Outbox, Clock]:
    source = SyntheticScreen([(W, H)])
    scrolled(source, 0)
    host_out, guest_out = Outbox(), Outbox()
    clock = Clock()
    host = HostScreen(source, host_out, offload=inline, video=PyAvVideo(), clock=clock)  # type: ignore[arg-type]
    guest = GuestScreen(guest_out, offload=inline, video=PyAvVideo() if guest_video else None)
    await host.announce()
    await guest.select(0)
    select = guest_out.sent[-1]
    assert isinstance(select, ScreenSelect)
    host._screen = 0  # as after ScreenSelect, without the paced loop
    await host.handle(select)
    host.close()
    return source, host, guest, host_out, guest_out, clock


async def deliver(host_out: Outbox, guest: GuestScreen, host: HostScreen, gout: Outbox) -> None:
    for m in host_out.sent:
        await guest.handle(m)
    host_out.sent.clear()
    for m in gout.of(FrameAck):
        await host.handle(m)
    gout.sent.clear()


async def test_a_video_guest_says_so_and_moving_content_travels_as_video() -> None:
    source, host, guest, hout, gout, clock = await pair()
    assert host.planner is not None
    await host.send_frame()
    await deliver(hout, guest, host, gout)
    for step in range(1, 8):
        scrolled(source, step)
        clock.now += 1 / 30
        await host.send_frame()
        assert not hout.of(FrameTiles) or step <= 2  # after two moving grabs: video only
        await deliver(hout, guest, host, gout)
    assert host.video_frames >= 5
    assert guest.video_shown == host.video_frames
    assert psnr(bytes(guest.buffer), bytes(source.pixels[0]), W * H) >= 30


async def test_content_that_stops_moving_is_bit_exact_within_a_second_then_still() -> None:
    source, host, guest, hout, gout, clock = await pair()
    await host.send_frame()
    await deliver(hout, guest, host, gout)
    for step in range(1, 8):
        scrolled(source, step)
        clock.now += 1 / 30
        await host.send_frame()
        await deliver(hout, guest, host, gout)
    assert bytes(guest.buffer) != bytes(source.pixels[0])  # lossy while it moves
    stopped = clock.now
    while bytes(guest.buffer) != bytes(source.pixels[0]):
        clock.now += 1 / 30
        assert clock.now - stopped <= 1.0, "not bit-exact within 1 s of stopping"
        await host.send_frame()
        await deliver(hout, guest, host, gout)
    assert clock.now - stopped >= min(STILL_AFTER, REFINE_AFTER)
    assert host.planner is not None and host.planner.rect is None and host.planner.lossy == 0
    for _ in range(10):
        clock.now += 1 / 30
        assert await host.send_frame() == 0
    assert hout.sent == []


async def test_a_stream_started_on_the_guessed_rate_moves_to_the_measured_one_at_once() -> None:
    """Video starts at the second grab, before the guest has acked the first frame: that
    stream rests on the initial guess (12 pictures a second), and the first ack's measure
    replaces it at once, not after RAISE_EVERY; from then on restarts wait as usual."""
    source, host, guest, hout, gout, clock = await pair()
    assert host.planner is not None
    await host.send_frame()
    scrolled(source, 1)
    clock.now += 1 / 30
    await host.send_frame()  # the first frame is not acked yet
    guessed = settings_for(host.link.target())
    assert not host.link.measured and host.planner.settings == guessed
    assert [v.keyframe for v in hout.of(VideoFrame)] == [True]
    clock.now += 0.05  # the guest takes both frames up and acks them
    await deliver(hout, guest, host, gout)
    assert host.link.measured
    scrolled(source, 2)
    clock.now += 1 / 30
    await host.send_frame()
    assert [v.keyframe for v in hout.of(VideoFrame)] == [True]  # a new stream
    assert host.planner.settings == settings_for(MAX_BITRATE)
    assert guessed.fps < host.planner.settings.fps
    await deliver(hout, guest, host, gout)
    for step in range(3, 8):  # a wobbling estimate now waits, as for any stream
        scrolled(source, step)
        clock.now += 1 / 30
        host.link.rate = 2_000_000.0 if step % 2 else 40_000_000.0
        await host.send_frame()
        assert [v.keyframe for v in hout.of(VideoFrame)] == [False]
        await deliver(hout, guest, host, gout)
    assert guest.video_shown == host.video_frames


async def test_video_starts_when_frames_of_tiles_come_slowly() -> None:
    """On a slow link or a busy machine each whole frame of tiles takes long, so the grabs that
    show the movement come further apart than the movement history: the video starts anyway."""
    source, host, guest, hout, gout, clock = await pair()
    await host.send_frame()
    await deliver(hout, guest, host, gout)
    for step in range(1, 4):
        scrolled(source, step)
        clock.now += 0.8
        await host.send_frame()
        await deliver(hout, guest, host, gout)
    assert host.video_frames >= 1
    assert guest.video_shown == host.video_frames


async def test_a_guest_without_video_gets_exact_tiles_as_before() -> None:
    source, host, guest, hout, gout, clock = await pair(guest_video=False)
    select = ScreenSelect(0)
    assert select.video == []  # what an older, tile-only guest sends
    assert host.planner is None
    for step in range(6):
        scrolled(source, step)
        clock.now += 1 / 30
        await host.send_frame()
        assert hout.of(VideoFrame) == []
        await deliver(hout, guest, host, gout)
    assert bytes(guest.buffer) == bytes(source.pixels[0])


async def test_the_host_ignores_a_codec_it_does_not_have() -> None:
    host = (await pair())[1]
    await host.handle(ScreenSelect(0, video=["av1"]))
    assert host.planner is None


# --- a hostile host ------------------------------------------------------------------------


def video(**changes: object) -> VideoFrame:
    fields: dict[str, object] = dict(
        seq=1, screen=0, width=W, height=H, stream=1, x=0, y=0, w=W, h=H, vw=W, vh=H,
        codec="h264", keyframe=True, data=b"", final=True,
    )  # fmt: skip
    fields.update(changes)
    return VideoFrame(**fields)  # type: ignore[arg-type]


def keyframe(width: int = W, height: int = H) -> bytes:
    enc = PyAvVideo().encoder(width, height, width, height, 1_000_000, 30)
    return enc.encode(b"\x40" * (width * height * 4))[0]


@pytest.mark.parametrize(
    ("why", "msg"),
    [
        ("garbage", video(data=os.urandom(4000))),
        ("bigger picture than announced", video(vw=320, vh=192, w=320, h=192, data=keyframe())),
        ("rect outside the frame", video(x=400, data=keyframe())),
        ("picture larger than its rect", video(w=320, h=192, data=keyframe())),
        ("odd picture", video(vw=W - 1, data=keyframe())),
        ("stream starting without a keyframe", video(keyframe=False, data=keyframe())),
        ("frame over the pixel cap", video(width=8192, height=8192, data=keyframe())),
        ("codec not asked for", video(codec="vp8", data=keyframe())),
    ],
)
async def test_hostile_video_is_skipped_logged_acked_and_the_stream_lives(
    why: str, msg: VideoFrame, caplog: pytest.LogCaptureFixture
) -> None:
    gout = Outbox()
    guest = GuestScreen(gout, offload=inline, video=PyAvVideo(), max_pixels=4096 * 2160)
    with caplog.at_level(logging.WARNING):
        await guest.handle(msg)
    assert guest.video_shown == 0 and guest.video_skipped == 1, why
    assert "skipped a video frame" in caplog.text
    assert [a.seq for a in gout.of(FrameAck)] == [1]  # a host is not stalled by its own nonsense
    # The session goes on: the next good frame lands.
    tile = Tile(0, 0, 1, 1, "raw", b"\x01\x02\x03\xff")
    await guest.handle(FrameTiles(2, 0, W, H, [tile], final=True))
    assert guest.buffer[:4] == b"\x01\x02\x03\xff" and guest.last_seq == 2
    good = video(seq=3, stream=9, data=keyframe())
    await guest.handle(good)
    assert guest.video_shown == 1


async def test_a_tile_only_guest_skips_video_it_did_not_ask_for() -> None:
    gout = Outbox()
    guest = GuestScreen(gout, offload=inline)
    await guest.handle(video(data=keyframe()))
    assert guest.video_skipped == 1 and [a.seq for a in gout.of(FrameAck)] == [1]


async def test_garbage_in_a_running_stream_waits_for_the_next_keyframe() -> None:
    gout = Outbox()
    guest = GuestScreen(gout, offload=inline, video=PyAvVideo())
    enc = PyAvVideo().encoder(W, H, W, H, 1_000_000, 30)
    first, key = enc.encode(b"\x40" * (W * H * 4))
    assert key
    await guest.handle(video(seq=1, data=first))
    await guest.handle(video(seq=2, keyframe=False, data=os.urandom(3000)))
    later, key = enc.encode(b"\x50" * (W * H * 4))
    assert not key
    await guest.handle(video(seq=3, keyframe=False, data=later))
    assert guest.video_shown == 1 and guest.video_skipped == 2
    assert guest.last_seq == 3


# --- pacing ----------------------------------------------------------------------------------


def test_the_link_estimate_follows_what_the_acks_say_was_delivered() -> None:
    link = LinkEstimate()
    now = 0.0
    # 5 Mbit/s, 40 ms round trip: 25 KiB frames take 41 ms on the wire each, sent back to back.
    rate, rtt, size = 5_000_000, 0.040, 25 * 1024
    for seq in range(1, 40):
        link.sent(seq, now, size)
        link.acked(seq, now + rtt + size * 8 / rate)
        now += size * 8 / rate
    assert 0.8 * rate <= link.rate <= 1.25 * rate
    assert settings_for(link.target()).fps < settings_for(8_000_000).fps


def test_a_busy_guest_does_not_drive_the_bitrate_down() -> None:
    """A guest whose CPU is busy acks each frame 70-100 ms after it was sent, whatever its
    size: the round trip does not grow with the bytes sent, so the slow samples (small frames
    over a long time) are not the link's and the estimate keeps its rate."""
    link = LinkEstimate()
    start = link.rate
    now = 0.0
    for seq in range(1, 120):
        link.sent(seq, now, 12 * 1024)
        now += 0.070 + (seq % 4) * 0.010
        link.acked(seq, now)
    assert link.rate >= start
    assert settings_for(link.target()) == settings_for(int(start * 0.7))


def simulate(
    link: LinkEstimate,
    frames: int,
    size: int,
    rate: float,
    guest: float = 0.002,
    say_busy: bool = True,
    start: float = 0.0,
) -> float:
    """Frames of ``size`` bytes, 2 in flight, the next sent as an ack makes room, through a
    link of ``rate`` bit/s and 10 ms round trip (one frame on the wire at a time) to a guest
    that takes ``guest`` seconds a frame (one at a time). The time at the end."""
    seq0 = getattr(link, "_seq", 0)
    now, wire_free, guest_free = start, start, start
    pending: list[tuple[float, int, float]] = []
    seq = seq0
    while seq < seq0 + frames or pending:
        while len(pending) < 2 and seq < seq0 + frames:
            seq += 1
            link.sent(seq, now, size)
            wire_free = max(wire_free, now) + size * 8 / rate
            taken = max(wire_free + 0.005, guest_free)
            guest_free = taken + guest
            pending.append((guest_free + 0.005, seq, guest if say_busy else 0.0))
        pending.sort()
        now, done, busy = pending.pop(0)
        link.acked(done, now, busy)
    link._seq = seq  # type: ignore[attr-defined]
    return now


def test_a_queue_on_the_link_drives_the_bitrate_down() -> None:
    for say_busy in (False, True):
        link = LinkEstimate()
        now = simulate(link, 20, 100 * 1024, 100_000_000, say_busy=say_busy)
        assert link.rate > 50_000_000
        simulate(link, 60, 30 * 1024, 2_000_000, say_busy=say_busy, start=now)  # it slows
        assert link.rate <= 3 * 2_000_000, say_busy


def test_settings_drop_frame_rate_and_scale_with_the_bitrate() -> None:
    high, mid, low = settings_for(20_000_000), settings_for(4_000_000), settings_for(500_000)
    assert high.bitrate == 12_000_000 and high.fps == 30 and high.scale == 1.0
    assert low.fps < mid.fps < high.fps and low.scale < mid.scale == high.scale


async def test_a_wobbling_link_estimate_does_not_restart_the_stream() -> None:
    """Each restart is a new stream that starts with a keyframe (many times a P picture's
    size): small changes of the estimate keep the stream, a lasting drop restarts it once."""
    source, host, _guest, _hout, _gout, clock = await pair()
    planner = host.planner
    assert planner is not None
    previous = None
    keyframes = 0
    for step in range(90):  # 3 s at 30 pictures a second
        scrolled(source, step)
        frame = host._source.grab(0)  # type: ignore[union-attr]
        rate = 9_000_000 + (step % 5) * 500_000  # the estimate wobbles by +-10 %
        video, _tiles = planner.plan(previous, frame, clock.now, settings_for(rate))
        previous = frame
        clock.now += 1 / 30
        keyframes += video is not None and video.keyframe
    assert keyframes == 1
    for _step in range(90, 150):  # the link drops for good
        scrolled(source, _step)
        frame = host._source.grab(0)  # type: ignore[union-attr]
        video, _tiles = planner.plan(previous, frame, clock.now, settings_for(3_000_000))
        previous = frame
        clock.now += 1 / 30
        keyframes += video is not None and video.keyframe
    assert keyframes == 2
    assert planner.settings.bitrate <= 3_000_000


def test_a_guest_that_says_it_was_busy_keeps_the_bitrate_though_frames_wait_for_it() -> None:
    """A guest that takes 100 ms a frame behind a fast link: each frame waits at the guest for
    the one before, so its round trip is about twice the shortest."""
    told, untold = LinkEstimate(), LinkEstimate()
    start = told.rate
    simulate(told, 120, 12 * 1024, 100_000_000, guest=0.100, say_busy=True)
    simulate(untold, 120, 12 * 1024, 100_000_000, guest=0.100, say_busy=False)
    assert told.guest_limited
    assert told.rate >= start
    assert untold.rate < start  # without FrameAck.busy the waiting looks like a queue


def test_a_busy_host_does_not_drive_the_bitrate_down() -> None:
    """The host takes 150 ms to encode each frame, so each goes alone and the link idles
    between them: a slow sample, even with a round trip that varies, is the host's, not the
    link's."""
    link = LinkEstimate()
    start = link.rate
    now = 0.0
    for seq in range(1, 80):
        link.sent(seq, now, 12 * 1024)
        rtt = 0.010 + (seq % 5) * 0.030  # a busy machine delays some acks
        link.acked(seq, now + rtt)
        now += rtt + 0.150
    assert link.rate >= start


async def test_the_guest_says_how_long_it_spent_on_each_frame() -> None:
    clock = Clock()

    async def slow(fn, *args):  # type: ignore[no-untyped-def]
        clock.now += 0.040  # each piece of work takes 40 ms by the guest's clock
        return fn(*args)

    gout = Outbox()
    guest = GuestScreen(gout, offload=slow, video=PyAvVideo(), clock=clock)
    await guest.handle(video(seq=1, data=keyframe()))
    [ack] = gout.of(FrameAck)
    assert ack.seq == 1 and ack.busy == 80  # decoded, then pasted


class FixedLink(LinkEstimate):
    """A link whose estimate stays where it was set, whatever the acks say."""

    def acked(self, seq: int, now: float, busy: float = 0.0) -> None:
        pass


async def test_a_new_streams_keyframe_takes_at_most_its_share_of_the_link() -> None:
    source, host, guest, hout, gout, clock = await pair()
    rate = 4_000_000  # 2.2 Mbit/s of video at full size: its VBV alone would allow ~250 KB
    host.link = FixedLink(rate)
    keyframes = []
    for _ in range(6):  # noise: every tile moves, and a keyframe takes all it may
        source.pixels[0][:] = os.urandom(W * H * 4)
        clock.now += 1 / 12
        await host.send_frame()
        keyframes += [len(m.data) for m in hout.of(VideoFrame) if m.keyframe]
        await deliver(hout, guest, host, gout)
    assert keyframes, "the video did not start"
    assert keyframes[0] <= rate * KEYFRAME_SECONDS / 8 * 1.2
