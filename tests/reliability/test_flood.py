"""Floods from one peer: 10,000 invitations, 10,000 connection requests and a burst of
connection attempts give at most one toast, bounded memory, and an event loop that keeps
running. The stall is measured and printed, not asserted (speed depends on the machine)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.wire import ConnectRequest, Invite, frame
from tests.helpers.nodes import Node, Nodes, eventually, nodes_for
from tests.helpers.peers import RawPeer
from tests.reliability.rig import AuthenticatedRawPeer, StallProbe, record, scale

FLOOD = 10_000
FLOOD_SECONDS = 10.0
# Remembered invitation ids (4096), rate windows and 200 finished invitations are the only
# state a flood may leave; well under this.
MEMORY_BOUND = 4 * 1024 * 1024


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path, tls=True):
        yield n


def invitation_frames(count: int) -> bytes:
    perms = frozenset({Permission.CONTROL})
    return b"".join(frame(Invite(os.urandom(16), 1, perms, "Default", 120.0)) for _ in range(count))


def request_frames(count: int) -> bytes:
    return b"".join(frame(ConnectRequest(os.urandom(16), 120.0)) for _ in range(count))


def retained_by_the_client(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot) -> int:
    """Bytes allocated meanwhile and still held, leaving out the log records pytest keeps
    (one warning per declined message) and tracemalloc's own bookkeeping."""
    ignore = [
        tracemalloc.Filter(False, logging.__file__),
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "*/_pytest/*"),
        tracemalloc.Filter(False, "<frozen *path>"),
    ]
    diff = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "filename")
    return sum(stat.size_diff for stat in diff)


async def flood(node: Node, data: bytes, count: int) -> tuple[float, int]:
    """Send the frames from one authenticated peer, reading its answers as they come; the
    seconds until the client has answered every one, and how many answers came."""
    peer = await AuthenticatedRawPeer.connect(("127.0.0.1", node.port))
    answers = 0

    async def read() -> None:
        nonlocal answers
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while answers < count:
                await peer.raw.read(timeout=FLOOD_SECONDS)
                answers += 1

    started = time.monotonic()
    reader = asyncio.create_task(read())
    peer.send_bytes(data)
    await asyncio.wait_for(reader, FLOOD_SECONDS * scale())
    took = time.monotonic() - started
    await peer.close()
    return took, answers


async def test_ten_thousand_invitations_from_one_peer_show_one_toast(nodes: Nodes) -> None:
    node = await nodes.make("target")
    count = FLOOD * scale()
    data = invitation_frames(count)
    with StallProbe() as probe:
        took, answers = await flood(node, data, count)
    # Every invitation is answered (one shown, the rest declined), and one toast at most.
    assert answers == count
    assert len(node.received.items) <= 1
    assert took <= FLOOD_SECONDS * scale()
    record("flood-invitations", "stall", probe.worst * 1000, "ms")
    record("flood-invitations", "seconds", took, "s")
    record("flood-invitations", "toasts", len(node.received.items), "toasts")


async def test_ten_thousand_connection_requests_leave_bounded_memory(nodes: Nodes) -> None:
    node = await nodes.make("target")
    count = FLOOD * scale()
    data = request_frames(count)
    warm = request_frames(50)
    await flood(node, warm, 50)  # first-use allocations are not the flood's
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        took, answers = await flood(node, data, count)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    assert answers == count
    assert len(node.received.items) <= 2  # one from the warm-up peer, one from the flood
    grown = retained_by_the_client(before, after)
    assert grown < MEMORY_BOUND, f"the flood left {grown} bytes behind"
    record("flood-requests", "memory", grown / 1024, "KiB")
    record("flood-requests", "seconds (traced)", took, "s")


async def test_a_burst_of_connection_attempts_from_one_address_leaves_service_intact(
    nodes: Nodes,
) -> None:
    node = await nodes.make("target")
    count = 1000 * scale()
    started = time.monotonic()
    with StallProbe() as probe:
        for start in range(0, count, 50):
            batch = await asyncio.gather(
                *(RawPeer.connect(("127.0.0.1", node.port), tls=False, source="127.0.0.2")
                  for _ in range(min(50, count - start))),
                return_exceptions=True,
            )  # fmt: skip
            for raw in batch:
                if isinstance(raw, RawPeer):
                    await raw.close()
    took = time.monotonic() - started
    await eventually(lambda: node.listener.unauthenticated == 0)
    # A good peer is served at once afterwards, and none of it reached the invitation layer.
    good = await AuthenticatedRawPeer.connect(("127.0.0.1", node.port))
    assert await good.alive()
    await good.close()
    assert node.received.items == []
    record("flood-connections", "stall", probe.worst * 1000, "ms")
    record("flood-connections", "attempts per s", count / took, "1/s")


async def test_a_chat_flood_from_a_guest_granted_nothing_leaves_bounded_memory(
    nodes: Nodes,
) -> None:
    from anydesk_invite.net.wire import Chat
    from anydesk_invite.services.sessions.session import CHAT_BURST, CHAT_RATE
    from tests.helpers.nodes import session_between

    anna, ben = await nodes.pair()
    host, guest = await session_between(anna, ben, frozenset())
    channel = ben.session_channel(guest.session_id)
    count = 2000 * scale()
    text = "x" * 4000
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    started = time.monotonic()
    with StallProbe() as probe:
        for n in range(count):
            await channel.send(Chat(text))
            if n % 100 == 0:
                anna.clock.advance(1.0)  # the flood lasts count/100 seconds of host time
        # A last line after a pause the rate lets through: once one such line is kept, the
        # whole flood before it has been read (one sent while the flood is still being read
        # may meet an empty bucket, so try again).
        for attempt in range(30):
            anna.clock.advance(CHAT_BURST / CHAT_RATE)
            marker = ("peer", f"end {attempt}")
            await channel.send(Chat(marker[1]))
            try:
                await eventually(
                    lambda m=marker: anna.client.chat_log(host.session_id)[-1:] == [m], timeout=2
                )
                break
            except AssertionError:
                continue
        else:
            raise AssertionError("the host never took a line after the flood")
    elapsed = time.monotonic() - started
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    kept = sum(len(t) for _, t in anna.client.chat_log(host.session_id))
    assert anna.client.sessions()
    record("chat-flood", "messages sent", count, "messages")
    record("chat-flood", "chat kept by the host", kept / 1024, "KiB")
    record("chat-flood", "memory kept", retained_by_the_client(before, after) / 1024, "KiB")
    record("chat-flood", "event-loop stall (worst)", probe.worst * 1000, "ms")
    record("chat-flood", "flood duration", elapsed, "s")


async def test_a_host_switching_huge_frame_sizes_leaves_its_guest_responsive() -> None:
    """A few hundred small screen messages that switch between huge sizes within the pixel
    cap: the guest's event loop (which serves its control API and window) stays responsive
    and its memory bounded."""
    from anydesk_invite.net.wire import FrameTiles, Message
    from anydesk_invite.services.sessions.guest_screen import GuestScreen

    async def drop(msg: Message) -> None:
        pass

    sizes = [(7680, 4320), (4320, 7680), (7000, 4000), (4000, 7000)]
    count = 100 * scale()
    guest = GuestScreen(drop)
    tracemalloc.start()
    started = time.monotonic()
    with StallProbe() as probe:
        for seq in range(1, count + 1):
            w, h = sizes[seq % len(sizes)]
            await guest.handle(FrameTiles(seq, 0, w, h, [], True))
            await asyncio.sleep(0)
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    record("size-switch", "screen messages", count, "messages")
    record("size-switch", "frame buffers allocated", guest.allocations, "buffers")
    record("size-switch", "memory peak", peak / 2**20, "MiB")
    record("size-switch", "event-loop stall (worst)", probe.worst * 1000, "ms")
    record("size-switch", "attack duration", elapsed, "s")
