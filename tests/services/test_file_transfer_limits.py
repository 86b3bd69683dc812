"""File transfer at its limits and on its refusal paths, between whole clients over in-memory
channels: each limit exactly at its bound and one past it, the words each refusal carries, and
one session's end or revoked permission leaving another session's transfers alone. The
numbers are those of docs/PROTOCOL.md (File transfer), written out on purpose."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.wire import (
    Chat,
    FileAccept,
    FileAck,
    FileChunk,
    FileDone,
    FileOffer,
    FileRefused,
    FileSaved,
)
from anydesk_invite.services.facade import ActionRefused, RefusalKind
from anydesk_invite.services.sessions import transfer_book as files
from anydesk_invite.services.views import SessionView, TransferState, TransferView
from tests.helpers.nodes import Node, Nodes, eventually, nodes_for, session_between
from tests.helpers.raw_guest import RawGuest

FILES = frozenset({Permission.FILE_TRANSFER})
NOTHING: frozenset[Permission] = frozenset()
EMPTY_SHA256 = hashlib.sha256(b"").digest()


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


def inbox(node: Node, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    node.client.set_incoming_folder(str(folder))
    return folder


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def finished(node: Node, transfer_id: str) -> TransferView:
    return await asyncio.wait_for(node.client.wait_transfer(transfer_id), 10)


def tid(n: int) -> bytes:
    return n.to_bytes(16, "big")


# --- what a guest may fetch --------------------------------------------------------------------


async def test_a_guest_cannot_fetch_its_own_file_nor_an_offer_twice(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    inbox(anna, tmp_path / "anna-in")
    inbox(ben, tmp_path / "ben-in")
    host, guest = await session_between(anna, ben, FILES)
    (tmp_path / "offer.txt").write_text("from anna")
    await anna.client.send_file(host.session_id, str(tmp_path / "offer.txt"))
    await eventually(lambda: len(ben.client.transfers(guest.session_id)) == 1)
    [offer] = ben.client.transfers(guest.session_id)
    await ben.client.fetch_file(guest.session_id, offer.transfer_id)
    assert (await finished(ben, offer.transfer_id)).state is TransferState.DONE

    with pytest.raises(ActionRefused) as again:
        await ben.client.fetch_file(guest.session_id, offer.transfer_id)
    assert str(again.value) == "that file has been transferred already"
    assert again.value.kind is RefusalKind.STATE  # type: ignore[attr-defined]

    (tmp_path / "mine.txt").write_text("from ben")
    mine = await ben.client.send_file(guest.session_id, str(tmp_path / "mine.txt"))
    with pytest.raises(ActionRefused) as own:
        await ben.client.fetch_file(guest.session_id, mine.transfer_id)
    assert str(own.value) == "that is not a file offered to this device"
    assert own.value.kind is RefusalKind.STATE  # type: ignore[attr-defined]


async def test_a_guest_fetches_an_offer_exactly_at_its_size_limit_and_not_one_byte_more(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(ben, tmp_path / "ben-in")
    host, guest = await session_between(anna, ben, FILES)
    ben.client.set_transfer_size_limit(10)
    (tmp_path / "ten.bin").write_bytes(b"0123456789")
    (tmp_path / "eleven.bin").write_bytes(b"0123456789A")
    await anna.client.send_file(host.session_id, str(tmp_path / "ten.bin"))
    await anna.client.send_file(host.session_id, str(tmp_path / "eleven.bin"))
    await eventually(lambda: len(ben.client.transfers(guest.session_id)) == 2)
    ten, eleven = ben.client.transfers(guest.session_id)

    await ben.client.fetch_file(guest.session_id, ten.transfer_id)
    assert (await finished(ben, ten.transfer_id)).state is TransferState.DONE
    with pytest.raises(ActionRefused) as refused:
        await ben.client.fetch_file(guest.session_id, eleven.transfer_id)
    assert str(refused.value) == "the file is over the size limit of 10 bytes"
    assert refused.value.kind is RefusalKind.INVALID  # type: ignore[attr-defined]
    view = ben.transfer(eleven.transfer_id)
    assert view.state is TransferState.FAILED
    assert view.reason == "the file is over the size limit of 10 bytes"
    assert listing(folder) == ["ten.bin"]


# --- what the host takes from a guest ----------------------------------------------------------


async def test_a_refused_file_message_says_not_permitted_in_words(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, NOTHING)
    raw = RawGuest(ben, guest.session_id)
    await raw.send(FileOffer(tid(1), "a.txt", 1))
    assert await raw.expect(FileRefused) == FileRefused(
        tid(1), "not_permitted", "not permitted: file transfer"
    )


async def test_a_transfer_id_already_in_use_is_refused_as_duplicate(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, FILES)
    raw = RawGuest(ben, guest.session_id)
    await raw.send(FileOffer(tid(1), "first.txt", 3))
    await raw.expect(FileAccept)
    await raw.send(FileOffer(tid(1), "second.txt", 3))
    assert await raw.expect(FileRefused) == FileRefused(
        tid(1), "duplicate", "that transfer id is in use"
    )
    [view] = anna.client.transfers()
    assert view.name == "first.txt" and view.state is TransferState.RUNNING


async def test_eight_running_transfers_per_session_and_the_ninth_is_refused(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, FILES)
    raw = RawGuest(ben, guest.session_id)
    for n in range(8):
        await raw.send(FileOffer(tid(n), f"f{n}", 0))
        assert await raw.expect(FileAccept) == FileAccept(tid(n))
    await raw.send(FileOffer(tid(8), "f8", 0))
    assert await raw.expect(FileRefused) == FileRefused(
        tid(8), "too_many", "too many transfers at once"
    )
    # One of the eight ends: a ninth is taken now.
    await raw.send(FileDone(tid(0), EMPTY_SHA256))
    assert await raw.expect(FileSaved) == FileSaved(tid(0))
    await raw.send(FileOffer(tid(9), "f9", 0))
    assert await raw.expect(FileAccept) == FileAccept(tid(9))
    assert "f0" in listing(folder)


async def test_a_folder_that_cannot_be_made_refuses_the_file_saying_why(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    anna.client.set_incoming_folder(str(blocked))
    _, guest = await session_between(anna, ben, FILES)
    raw = RawGuest(ben, guest.session_id)
    await raw.send(FileOffer(tid(1), "a.txt", 1))
    assert await raw.expect(FileRefused) == FileRefused(
        tid(1), "cannot_write", "cannot write the file: File exists"
    )
    [view] = anna.client.transfers()
    assert view.state is TransferState.FAILED
    assert view.reason == "cannot write the file: File exists"


async def test_the_newest_200_transfers_are_kept_and_older_finished_ones_dropped(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, FILES)
    raw = RawGuest(ben, guest.session_id)
    for n in range(201):
        await raw.send(FileOffer(tid(n), f"f{n}", 0))
        await raw.expect(FileAccept)
        await raw.send(FileDone(tid(n), EMPTY_SHA256))
        await raw.expect(FileSaved)
        if n == 199:
            assert len(anna.client.transfers()) == 200
    kept = anna.client.transfers()
    assert len(kept) == 200
    assert [v.name for v in kept[:1]] == ["f1"] and kept[-1].name == "f200"


# --- what a guest takes from the host ----------------------------------------------------------


async def test_a_guest_lists_64_open_offers_and_refuses_the_65th(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    inbox(ben, tmp_path / "ben-in")
    host, guest = await session_between(anna, ben, FILES)
    source = tmp_path / "offer.txt"
    source.write_text("x")
    sent = [await anna.client.send_file(host.session_id, str(source)) for _ in range(65)]
    last = await finished(anna, sent[-1].transfer_id)
    assert last.state is TransferState.FAILED
    assert last.reason == "the peer refused: too many offers"
    assert len(ben.client.transfers(guest.session_id)) == 64
    assert all(anna.transfer(s.transfer_id).state is TransferState.OFFERED for s in sent[:64])


# --- one session's end leaves the others alone ---------------------------------------------------


async def two_guests(
    nodes: Nodes, tmp_path: Path
) -> tuple[Node, SessionView, SessionView, TransferView, TransferView]:
    """Anna hosts ben and carl with FILE_TRANSFER and offers each a file: (anna, her session
    with ben, with carl, her offer to ben, to carl)."""
    anna, ben = await nodes.pair()
    carl = await nodes.make("carl")
    anna.knows(carl)
    carl.knows(anna)
    inbox(ben, tmp_path / "ben-in")
    inbox(carl, tmp_path / "carl-in")
    with_ben, _ = await session_between(anna, ben, FILES)
    sent = await anna.client.invite(carl.device_id, FILES, "")
    await carl.received.wait()
    await carl.client.accept(sent.invitation_id)
    await eventually(lambda: len(anna.client.sessions()) == 2)
    [with_carl] = [s for s in anna.client.sessions() if s.session_id != with_ben.session_id]
    source = tmp_path / "offer.txt"
    source.write_text("for you")
    to_ben = await anna.client.send_file(with_ben.session_id, str(source))
    to_carl = await anna.client.send_file(with_carl.session_id, str(source))
    await eventually(lambda: len(carl.client.transfers()) == 1)
    return anna, with_ben, with_carl, to_ben, to_carl


async def test_revoking_one_guests_file_transfer_leaves_anothers_offer_open(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, with_ben, _, to_ben, to_carl = await two_guests(nodes, tmp_path)
    await anna.client.set_session_permissions(with_ben.session_id, NOTHING)
    ended = await finished(anna, to_ben.transfer_id)
    assert ended.state is TransferState.CANCELLED
    assert ended.reason == "the file transfer permission was revoked"
    assert anna.transfer(to_carl.transfer_id).state is TransferState.OFFERED


async def test_ending_one_session_fails_only_its_own_transfers(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, with_ben, _, to_ben, to_carl = await two_guests(nodes, tmp_path)
    await anna.client.end_session(with_ben.session_id)
    ended = await finished(anna, to_ben.transfer_id)
    assert ended.state is TransferState.FAILED and ended.reason == "the session ended"
    assert anna.transfer(to_carl.transfer_id).state is TransferState.OFFERED


# --- constants, from docs/PROTOCOL.md ------------------------------------------------------------


def test_documented_file_transfer_constants() -> None:
    assert files.CHUNK == 262144
    assert files.WINDOW == 1048576
    assert files.ACK_EVERY == 786432
    assert files.DISK_AHEAD == 2097152
    assert files.MAX_ACTIVE_PER_SESSION == 8
    assert files.MAX_OFFERS_PER_SESSION == 64
    assert files.DEFAULT_SIZE_LIMIT == 4 * 1024**3


async def test_a_one_byte_file_arrives(nodes: Nodes, tmp_path: Path) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, FILES)
    (tmp_path / "one").write_bytes(b"1")
    sent = await ben.client.send_file(guest.session_id, str(tmp_path / "one"))
    assert (await finished(ben, sent.transfer_id)).state is TransferState.DONE
    assert (folder / "one").read_bytes() == b"1"


async def test_a_straggling_chunk_of_a_transfer_stopped_by_revocation_is_not_answered(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    inbox(anna, tmp_path / "anna-in")
    host, guest = await session_between(anna, ben, FILES)
    raw = RawGuest(ben, guest.session_id)
    await raw.send(FileOffer(tid(1), "a.bin", 10))
    await raw.expect(FileAccept)
    await anna.client.set_session_permissions(host.session_id, NOTHING)
    await raw.send(FileChunk(tid(1), 0, b"01234"))
    await raw.send(FileOffer(tid(2), "b.bin", 10))
    # The first refusal is the new offer's: the chunk of the stopped transfer got none.
    assert await raw.expect(FileRefused) == FileRefused(
        tid(2), "not_permitted", "not permitted: file transfer"
    )


async def test_cancelling_a_send_ends_its_reader_thread(nodes: Nodes, tmp_path: Path) -> None:
    anna, ben = await nodes.pair()
    inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, FILES)
    source = tmp_path / "reader-test.bin"
    source.write_bytes(os.urandom(16 * 1024 * 1024))
    started = asyncio.Event()

    def on_change(view: TransferView) -> None:
        if view.done > 0:
            started.set()

    ben.client.transfer_changed.connect(on_change)
    ben.features.transfers.progress_interval = 0
    sent = await ben.client.send_file(guest.session_id, str(source))
    await asyncio.wait_for(started.wait(), 10)
    await ben.client.cancel_transfer(sent.transfer_id, "stop")

    def reader_alive() -> bool:
        return any(t.name == "file-read reader-test.bin" for t in threading.enumerate())

    await eventually(lambda: not reader_alive())


async def test_an_accept_for_no_offer_of_ours_is_refused_and_logged(
    nodes: Nodes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben = await nodes.pair()
    inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, FILES)
    raw = RawGuest(ben, guest.session_id)
    caplog.set_level(logging.WARNING)
    # A transfer the guest itself offered is no offer of the host's to accept.
    await raw.send(FileOffer(tid(1), "mine.txt", 3))
    await raw.expect(FileAccept)
    for accepted in (tid(1), tid(2)):
        await raw.send(FileAccept(accepted))
        assert await raw.expect(FileRefused) == FileRefused(
            accepted, "unknown_transfer", "no such offer"
        )
    logged = [r.getMessage() for r in caplog.records if "FileAccept" in r.getMessage()]
    assert logged == [f"refused FileAccept from {ben.identity.device_id}: no such offer"] * 2
    [view] = anna.client.transfers()
    assert view.state is TransferState.RUNNING


async def test_a_source_that_became_a_folder_fails_the_send_saying_why(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    inbox(ben, tmp_path / "ben-in")
    host, guest = await session_between(anna, ben, FILES)
    source = tmp_path / "offer.txt"
    source.write_text("soon a folder")
    offer = await anna.client.send_file(host.session_id, str(source))
    await eventually(lambda: len(ben.client.transfers(guest.session_id)) == 1)
    source.unlink()
    source.mkdir()
    [listed] = ben.client.transfers(guest.session_id)
    await ben.client.fetch_file(guest.session_id, listed.transfer_id)
    on_host = await finished(anna, offer.transfer_id)
    assert on_host.state is TransferState.FAILED
    assert on_host.reason == "cannot read the file: Is a directory"
    on_guest = await finished(ben, listed.transfer_id)
    assert on_guest.reason == "the peer cancelled: cannot read the file: Is a directory"


async def test_the_sender_stops_at_exactly_one_window_unacknowledged(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    host, guest = await session_between(anna, ben, FILES)
    raw = RawGuest(ben, guest.session_id)
    window = 1048576  # docs/PROTOCOL.md: the sender's window
    source = tmp_path / "window.bin"
    source.write_bytes(os.urandom(window + 1))
    await anna.client.send_file(host.session_id, str(source))
    offer = await raw.expect(FileOffer)
    await raw.send(FileAccept(offer.transfer_id))
    got = 0
    while got < window:
        got += len((await raw.expect(FileChunk)).data)
    assert got == window
    # Once the reader thread read the whole file, nothing but the window holds the last byte.
    await eventually(
        lambda: not any(t.name == "file-read window.bin" for t in threading.enumerate())
    )
    await anna.client.send_chat(host.session_id, "next")
    async with asyncio.timeout(5):
        while not isinstance(msg := await raw.inbox.get(), Chat):
            assert not isinstance(msg, FileChunk | FileDone), msg
    await raw.send(FileAck(offer.transfer_id, window))
    last = await raw.expect(FileChunk)
    assert (last.offset, len(last.data)) == (window, 1)
