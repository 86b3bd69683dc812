"""Security suite, the screen: a malicious host that switches frame sizes fast, within the
protocol's pixel cap, cannot make its guest allocate a buffer per message or keep it busy:
size changes are rate-limited and the frame buffer is reused."""

from __future__ import annotations

from anydesk_invite.net.wire import FrameAck, FrameTiles, Message
from anydesk_invite.services.sessions.screen import SIZE_CHANGE_RATE, GuestScreen

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
