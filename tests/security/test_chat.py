"""Security suite, chat: a guest granted nothing cannot make its host keep unbounded chat;
chat is bounded per session in count, characters and rate."""

from __future__ import annotations

from anydesk_invite.net.wire import Chat
from anydesk_invite.services.sessions.session import (
    CHAT_BURST,
    CHAT_KEEP_CHARS,
    CHAT_KEEP_MESSAGES,
    CHAT_RATE,
)
from tests.helpers.nodes import Nodes, Recorder, eventually, session_between


async def test_a_chat_flood_from_a_guest_is_bounded_in_rate_count_and_size(nodes: Nodes) -> None:
    anna, ben = await nodes.pair()
    host, guest = await session_between(anna, ben, frozenset())
    channel = ben.session_channel(guest.session_id)
    taken = Recorder(anna.client.chat_received)
    hosted = anna.client.sessions_service.find(host.session_id)

    def all_read(sent: int) -> bool:
        return hosted.chat_dropped + len(taken.items) == sent

    long_text = "x" * 4000
    for _ in range(200):
        await channel.send(Chat(long_text))
    await channel.send(Chat("last"))
    # Nothing waits on the host's side for the last one: poll until the flood was read.
    await eventually(lambda: all_read(201))
    assert hosted.chat_dropped > 150
    kept = anna.client.chat_log(host.session_id)
    assert len(kept) <= CHAT_BURST
    # Time passes: the rate lets a few more in, and what is kept stays within its bounds.
    # Each burst is read to its end before time moves on, so each gets a full bucket.
    for n in range(1, 9):
        anna.clock.advance(CHAT_BURST / CHAT_RATE)
        for _ in range(30):
            await channel.send(Chat(long_text))
        await eventually(lambda n=n: all_read(201 + n * 30))
    assert len(taken.items) == 9 * CHAT_BURST
    assert sum(len(t) for _, t in taken.items) > CHAT_KEEP_CHARS  # more than may be kept
    anna.clock.advance(1)
    await channel.send(Chat("end"))  # taken: everything before it has been read
    await eventually(lambda: anna.client.chat_log(host.session_id)[-1] == ("peer", "end"))
    kept = anna.client.chat_log(host.session_id)
    assert len(kept) <= min(CHAT_KEEP_MESSAGES, 9 * CHAT_BURST + 1)
    assert sum(len(t) for _, t in kept) <= CHAT_KEEP_CHARS
    assert anna.client.sessions()  # the session goes on
