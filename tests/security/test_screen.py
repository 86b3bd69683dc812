"""Security suite, the screen: a malicious host that switches frame sizes fast, within the
protocol's pixel cap, cannot make its guest allocate a buffer per message or keep it busy:
size changes are rate-limited and the frame buffer is reused. The same holds for video frames,
whose frame size and picture (decoder) size take the same rate."""

from __future__ import annotations

from typing import Any

from anydesk_invite.desktop.video import PyAvVideo
from anydesk_invite.net.wire import FrameAck, FrameTiles, Message, VideoFrame
from anydesk_invite.services.sessions.guest_screen import (
    SIZE_CHANGE_BURST,
    SIZE_CHANGE_RATE,
    GuestScreen,
)

SIZES = [(7680, 4320), (4320, 7680), (7000, 4000), (4000, 7000)]


async def inline(fn, *args):  # type: ignore[no-untyped-def]
    return fn(*args)


class Outbox:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def __call__(self, msg: Message) -> None:
        self.sent.append(msg)


async def test_a_host_switching_sizes_fast_makes_the_guest_allocate_at_most_a_few_buffers() -> None:
    now = [0.0]
    out = Outbox()
    guest = GuestScreen(out, offload=inline, clock=lambda: now[0])
    for seq in range(1, 301):
        w, h = SIZES[seq % len(SIZES)]
        await guest.handle(FrameTiles(seq, 0, w, h, [], True))
    # All frames are acknowledged: the host is not stalled, only its size changes dropped.
    assert [m.seq for m in out.sent if isinstance(m, FrameAck)] == list(range(1, 301))
    assert guest.allocations <= 2
    assert guest.size_changes_dropped >= 200
    assert len(guest.buffer) <= 7680 * 4320 * 4
    # Time passes: a size change is taken again, at the documented rate.
    now[0] += 10 / SIZE_CHANGE_RATE
    await guest.handle(FrameTiles(301, 0, 1920, 1080, [], True))
    assert (guest.width, guest.height) == (1920, 1080)
    assert guest.allocations <= 2


# --- video frames that switch sizes ----------------------------------------------------------
#
# A video frame carries two sizes a host may switch at will: the frame's (width x height, the
# guest's frame buffer) and the picture's (vw x vh, what the guest's decoder is built for). Both
# go through the same rate-limited, reused frame buffer as tiles: a flood of switches costs the
# guest a few buffers and decoders, not one per message.


class CountingVideo:
    """The real H.264 codec, counting the decoders the guest builds and the pictures it
    decodes (the work a host makes it do)."""

    def __init__(self) -> None:
        self._real = PyAvVideo()
        self.name = self._real.name
        self.decoders = 0
        self.decodes = 0

    def encoder(self, *args: Any) -> Any:
        return self._real.encoder(*args)

    def decoder(self, width: int, height: int) -> Any:
        self.decoders += 1
        real = self._real.decoder(width, height)
        outer = self

        class Counted:
            def decode(self, data: bytes, out_width: int, out_height: int) -> bytes | None:
                outer.decodes += 1
                return real.decode(data, out_width, out_height)

        return Counted()


def keyframe(width: int, height: int) -> bytes:
    enc = PyAvVideo().encoder(width, height, width, height, 1_000_000, 30)
    return enc.encode(b"\x40" * (width * height * 4))[0]


FLOOD = 300


def video_frame(seq: int, width: int, height: int, vw: int, vh: int, data: bytes) -> VideoFrame:
    return VideoFrame(
        seq, 0, width, height, seq, 0, 0, vw, vh, vw, vh, "h264", True, data, True
    )  # fmt: skip


async def test_a_host_switching_video_frame_sizes_fast_costs_its_guest_a_few_buffers() -> None:
    """Every video frame a new stream at a frame size larger than any before: the guest takes
    a few size changes (a buffer each), then acks and drops the rest undecoded."""
    now = [0.0]
    out = Outbox()
    codec = CountingVideo()
    guest = GuestScreen(out, offload=inline, clock=lambda: now[0], video=codec)
    data = keyframe(64, 64)
    for seq in range(1, FLOOD + 1):
        await guest.handle(video_frame(seq, 1000 + 4 * seq, 1080, 64, 64, data))
    assert [m.seq for m in out.sent if isinstance(m, FrameAck)] == list(range(1, FLOOD + 1))
    assert guest.allocations <= SIZE_CHANGE_BURST
    assert len(guest.buffer) <= (1000 + 4 * FLOOD) * 1080 * 4
    # The pictures of the frames whose size change was dropped are not even decoded.
    assert codec.decodes <= SIZE_CHANGE_BURST
    assert guest.video_shown <= SIZE_CHANGE_BURST
    # The session lives: once time passes, a frame of a new size is shown, in the same buffer.
    now[0] += 10 / SIZE_CHANGE_RATE
    shown, allocations = guest.video_shown, guest.allocations
    await guest.handle(video_frame(FLOOD + 1, 1000, 1080, 64, 64, data))
    assert guest.video_shown == shown + 1
    assert (guest.width, guest.height) == (1000, 1080)
    assert guest.allocations == allocations


async def test_a_host_alternating_huge_video_frame_sizes_costs_its_guest_one_buffer() -> None:
    """Huge frame sizes in turn (within the pixel cap): the buffer is reused, not replaced."""
    now = [0.0]
    out = Outbox()
    guest = GuestScreen(out, offload=inline, clock=lambda: now[0], video=CountingVideo())
    data = keyframe(64, 64)
    for seq in range(1, 41):
        w, h = SIZES[seq % len(SIZES)]
        await guest.handle(video_frame(seq, w, h, 64, 64, data))
        now[0] += 1 / SIZE_CHANGE_RATE  # at the rate the guest takes them
    assert guest.video_shown == 40
    assert guest.allocations <= 2
    assert len(guest.buffer) <= 7680 * 4320 * 4


async def test_a_host_switching_video_picture_sizes_fast_costs_its_guest_a_few_decoders() -> None:
    """The frame keeps its size, every video frame is a keyframe of another picture size: a
    decoder is built for a new picture size only at the size-change rate, the other frames
    are acked and skipped."""
    now = [0.0]
    out = Outbox()
    codec = CountingVideo()
    guest = GuestScreen(out, offload=inline, clock=lambda: now[0], video=codec)
    # Each a picture size not seen before, so no decoder could be kept for it.
    pictures = [(64 + 2 * seq, 64) for seq in range(FLOOD + 2)]
    units = {size: keyframe(*size) for size in pictures}
    for seq in range(1, FLOOD + 1):
        vw, vh = pictures[seq]
        await guest.handle(video_frame(seq, 1920, 1080, vw, vh, units[(vw, vh)]))
    assert [m.seq for m in out.sent if isinstance(m, FrameAck)] == list(range(1, FLOOD + 1))
    assert codec.decoders <= SIZE_CHANGE_BURST
    assert codec.decodes <= SIZE_CHANGE_BURST
    assert guest.video_skipped >= FLOOD - SIZE_CHANGE_BURST
    assert guest.allocations == 1
    # Time passes: a new picture size is decoded again, at the documented rate.
    now[0] += 10 / SIZE_CHANGE_RATE
    built, shown = codec.decoders, guest.video_shown
    vw, vh = pictures[FLOOD + 1]
    await guest.handle(video_frame(FLOOD + 1, 1920, 1080, vw, vh, units[(vw, vh)]))
    assert codec.decoders == built + 1 and guest.video_shown == shown + 1
