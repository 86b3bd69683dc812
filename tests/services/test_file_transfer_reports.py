"""What a file transfer tells each side when something is wrong, over in-memory channels: the
exact answer a misbehaving peer gets on the wire, the reason the transfer ends with, the words
of each refused action, what is logged, and what a received file looks like on disk."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.wire import (
    FileAccept,
    FileAck,
    FileCancel,
    FileChunk,
    FileDone,
    FileOffer,
    FileRefused,
    FileSaved,
    Message,
)
from anydesk_invite.services.facade import ActionRefused, RefusalKind
from anydesk_invite.services.sessions.file_io import CHUNK, READ_AHEAD, READ_BLOCK
from anydesk_invite.services.sessions.transfer_book import WINDOW
from anydesk_invite.services.views import SessionView, TransferState, TransferView
from tests.helpers.file_offsets import offset_is
from tests.helpers.nodes import Node, Nodes, Recorder, eventually, nodes_for, session_between
from tests.helpers.raw_guest import RawGuest

FILES = frozenset({Permission.FILE_TRANSFER})
NOT_ACCEPTED = "no accepted transfer"


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


def tid(n: int) -> bytes:
    return n.to_bytes(16, "big")


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def refused(exc: pytest.ExceptionInfo[ActionRefused]) -> tuple[RefusalKind, str]:
    return exc.value.kind, str(exc.value)  # type: ignore[attr-defined]


async def files_session(
    nodes: Nodes, tmp_path: Path, permissions: frozenset[Permission] = FILES
) -> tuple[Node, Node, SessionView, SessionView]:
    """anna hosts ben with these permissions; each saves into tmp_path/<name>-in."""
    anna, ben = await nodes.pair()
    for node in (anna, ben):
        node.client.set_incoming_folder(str(tmp_path / f"{node.name}-in"))
    host, guest = await session_between(anna, ben, permissions)
    return anna, ben, host, guest


async def arrived(node: Node, transfer_id: str) -> TransferView:
    """The end of a transfer the other side started, once this side has heard of it."""
    await eventually(lambda: any(t.transfer_id == transfer_id for t in node.client.transfers()))
    return await asyncio.wait_for(node.client.wait_transfer(transfer_id), 10)


async def no_other(raw: RawGuest, kind: type[Message]) -> None:
    """Nothing of this kind is waiting: a Chat round trip shows every earlier message is in."""
    while not raw.inbox.empty():
        assert not isinstance(raw.inbox.get_nowait(), kind)


# --- what a misbehaving peer is answered --------------------------------------------------------


async def test_a_chunk_of_no_transfer_here_is_refused_and_logged_with_the_peer_and_the_id(
    nodes: Nodes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _anna, ben, _host, guest = await files_session(nodes, tmp_path)
    raw = RawGuest(ben, guest.session_id)
    caplog.set_level(logging.WARNING)
    await raw.send(FileChunk(tid(0xABCDEF12 << 96), 0, memoryview(b"x")))
    assert await raw.expect(FileRefused) == FileRefused(
        tid(0xABCDEF12 << 96), "not_accepted", NOT_ACCEPTED
    )
    assert f"refused FileChunk from {ben.device_id}: no accepted transfer abcdef12" in logged(
        caplog
    )


async def test_a_chunk_sent_into_the_hosts_own_offer_is_refused(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben, host, guest = await files_session(nodes, tmp_path)
    (tmp_path / "offer.txt").write_text("from anna")
    offer = await anna.client.send_file(host.session_id, str(tmp_path / "offer.txt"))
    raw = RawGuest(ben, guest.session_id)
    await raw.send(FileChunk(bytes.fromhex(offer.transfer_id), 0, memoryview(b"x")))
    refusal = await raw.expect(FileRefused)
    assert (refusal.code, refusal.reason) == ("not_accepted", NOT_ACCEPTED)
    assert anna.transfer(offer.transfer_id).state is TransferState.OFFERED


async def test_chunks_still_under_way_when_the_receiver_cancelled_are_dropped_quietly(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben, _host, guest = await files_session(nodes, tmp_path)
    raw = RawGuest(ben, guest.session_id)
    await raw.send(FileOffer(tid(1), "slow.bin", 10))
    await raw.expect(FileAccept)
    await anna.client.cancel_transfer(tid(1).hex())
    assert (await raw.expect(FileCancel)).reason == "cancelled"  # the default reason
    assert anna.transfer(tid(1).hex()).reason == "cancelled"
    await raw.send(FileChunk(tid(1), 0, memoryview(b"late")))  # crossed the cancel
    await raw.send(FileChunk(tid(2), 0, memoryview(b"none")))  # of no transfer at all
    assert (await raw.expect(FileRefused)).transfer_id == tid(2)


async def test_a_host_sending_chunks_of_an_offer_not_fetched_yet_is_refused_and_logged(
    nodes: Nodes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben, host, guest = await files_session(nodes, tmp_path)
    raw_host = RawGuest(anna, host.session_id)
    caplog.set_level(logging.WARNING)
    await raw_host.send(FileOffer(tid(3), "pushed.bin", 4))
    await eventually(lambda: len(ben.client.transfers(guest.session_id)) == 1)
    await raw_host.send(FileChunk(tid(3), 0, memoryview(b"push")))
    assert await raw_host.expect(FileRefused) == FileRefused(tid(3), "not_accepted", NOT_ACCEPTED)
    assert f"refused FileChunk from {anna.device_id}: transfer not accepted" in logged(caplog)
    assert ben.transfer(tid(3).hex()).state is TransferState.OFFERED
    assert not (tmp_path / "ben-in").exists() or list((tmp_path / "ben-in").iterdir()) == []


async def test_an_offer_to_a_guest_without_file_transfer_is_refused_as_not_permitted(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben, host, guest = await files_session(nodes, tmp_path, frozenset())
    raw_host = RawGuest(anna, host.session_id)
    await raw_host.send(FileOffer(tid(4), "pushed.bin", 4))
    assert await raw_host.expect(FileRefused) == FileRefused(
        tid(4), "not_permitted", "not permitted: file transfer"
    )
    assert ben.client.transfers(guest.session_id) == []


async def test_a_chunk_past_the_announced_size_stops_the_file_with_its_reason(
    nodes: Nodes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben, _host, guest = await files_session(nodes, tmp_path)
    raw = RawGuest(ben, guest.session_id)
    caplog.set_level(logging.WARNING)
    await raw.send(FileOffer(tid(5), "ten.bin", 10))
    await raw.expect(FileAccept)
    await raw.send(FileChunk(tid(5), 0, memoryview(b"0123456789A")))
    why = "a chunk arrived out of order or past the announced size"
    assert await raw.expect(FileCancel) == FileCancel(tid(5), why)
    view = anna.transfer(tid(5).hex())
    assert (view.state, view.reason) == (TransferState.FAILED, why)
    assert f"stopping file 'ten.bin' from {ben.device_id}: {why}" in logged(caplog)


async def test_a_file_that_ends_short_fails_saying_how_much_came_and_nothing_is_saved(
    nodes: Nodes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben, _host, guest = await files_session(nodes, tmp_path)
    raw = RawGuest(ben, guest.session_id)
    caplog.set_level(logging.WARNING)
    await raw.send(FileOffer(tid(6), "ten.bin", 10))
    await raw.expect(FileAccept)
    await raw.send(FileChunk(tid(6), 0, memoryview(b"01234")))
    await raw.send(FileDone(tid(6), hashlib.sha256(b"01234").digest()))
    why = "the file ended after 5 of 10 bytes"
    assert await raw.expect(FileCancel) == FileCancel(tid(6), why)
    view = await anna.client.wait_transfer(tid(6).hex())
    assert (view.state, view.reason) == (TransferState.FAILED, why)
    assert list((tmp_path / "anna-in").iterdir()) == []
    assert f"file transfer 'ten.bin' failed: {why}" in logged(caplog)


async def test_a_file_whose_hash_does_not_match_is_removed_and_says_so(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben, _host, guest = await files_session(nodes, tmp_path)
    raw = RawGuest(ben, guest.session_id)
    await raw.send(FileOffer(tid(7), "four.bin", 4))
    await raw.expect(FileAccept)
    await raw.send(FileChunk(tid(7), 0, memoryview(b"four")))
    await raw.send(FileDone(tid(7), hashlib.sha256(b"five").digest()))
    why = "the SHA-256 of the received file does not match; it was removed"
    assert (await raw.expect(FileCancel)).reason == why
    view = await anna.client.wait_transfer(tid(7).hex())
    assert (view.state, view.reason) == (TransferState.FAILED, why)
    assert list((tmp_path / "anna-in").iterdir()) == []


async def test_an_offer_accepted_twice_is_sent_once_and_the_second_accept_refused(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben, host, guest = await files_session(nodes, tmp_path)
    (tmp_path / "offer.txt").write_bytes(b"from anna")
    offer = await anna.client.send_file(host.session_id, str(tmp_path / "offer.txt"))
    raw = RawGuest(ben, guest.session_id)
    transfer_id = bytes.fromhex(offer.transfer_id)
    await raw.send(FileAccept(transfer_id))
    await raw.send(FileAccept(transfer_id))
    assert await raw.expect(FileRefused) == FileRefused(
        transfer_id, "unknown_transfer", "no such offer"
    )
    done = await raw.expect(FileDone)
    assert done.sha256 == hashlib.sha256(b"from anna").digest()
    await raw.send(FileAck(transfer_id, 9))
    await raw.send(FileSaved(transfer_id))
    view = await anna.client.wait_transfer(offer.transfer_id)
    assert view.state is TransferState.DONE
    await no_other(raw, FileChunk)  # the one chunk came before FileDone, and no second run


# --- what a received file looks like ------------------------------------------------------------


async def test_a_received_file_is_saved_not_executable_in_a_folder_made_for_it_and_logged(
    nodes: Nodes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben, _host, guest = await files_session(nodes, tmp_path)
    folder = tmp_path / "not" / "there" / "yet"
    anna.client.set_incoming_folder(str(folder))
    (tmp_path / "run.sh").write_bytes(b"#!/bin/sh\necho hi\n")
    (tmp_path / "run.sh").chmod(0o755)
    caplog.set_level(logging.INFO)
    sent = await ben.client.send_file(guest.session_id, str(tmp_path / "run.sh"))
    view = await arrived(anna, sent.transfer_id)
    assert (view.state, view.reason) == (TransferState.DONE, "")
    saved = folder / "run.sh"
    assert saved.read_bytes() == b"#!/bin/sh\necho hi\n"
    assert stat.S_IMODE(saved.stat().st_mode) & 0o111 == 0  # never executable on arrival
    assert f"saved {saved} (18 bytes) from {ben.device_id}" in logged(caplog)


async def test_a_link_planted_where_the_file_is_written_is_never_followed(
    nodes: Nodes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _anna, ben, _host, guest = await files_session(nodes, tmp_path)
    folder = tmp_path / "anna-in"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (folder / f".{tid(8).hex()}.adinvite-part").symlink_to(victim)
    raw = RawGuest(ben, guest.session_id)
    caplog.set_level(logging.WARNING)
    await raw.send(FileOffer(tid(8), "x.txt", 3))
    refusal = await raw.expect(FileRefused)
    why = "cannot write the file: File exists"
    assert (refusal.code, refusal.reason) == ("cannot_write", why)
    assert victim.read_text() == "keep me"
    assert f"refused file 'x.txt' from {ben.device_id}: {why}" in logged(caplog)


async def test_when_a_thousand_names_are_taken_the_file_fails_saying_so(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben, _host, guest = await files_session(nodes, tmp_path)
    folder = tmp_path / "anna-in"
    folder.mkdir()
    (folder / "a.txt").write_text("taken")
    for n in range(1, 1000):
        (folder / f"a ({n}).txt").write_text("taken")
    (tmp_path / "a.txt").write_text("new")
    sent = await ben.client.send_file(guest.session_id, str(tmp_path / "a.txt"))
    view = await arrived(anna, sent.transfer_id)
    assert view.state is TransferState.FAILED
    assert view.reason.startswith("cannot write the file: no free name for a.txt in ")
    assert len(list(folder.iterdir())) == 1000  # nothing overwritten, no part file left


# --- the words of a refused action --------------------------------------------------------------


async def test_sending_is_refused_in_words_without_permission_and_for_a_folder(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben, host, guest = await files_session(nodes, tmp_path, frozenset())
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(ActionRefused) as exc:
        await ben.client.send_file(guest.session_id, str(tmp_path / "f.txt"))
    assert refused(exc) == (RefusalKind.POLICY, "not permitted: file transfer")
    await anna.client.set_session_permissions(host.session_id, FILES)
    await eventually(lambda: Permission.FILE_TRANSFER in ben.client.sessions()[0].permissions)
    with pytest.raises(ActionRefused) as exc:
        await ben.client.send_file(guest.session_id, str(tmp_path))
    assert refused(exc) == (RefusalKind.INVALID, f"{tmp_path} is not a file")


async def test_a_transfer_is_found_by_four_digits_or_more_of_its_number(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben, _host, guest = await files_session(nodes, tmp_path)
    raw = RawGuest(ben, guest.session_id)
    ids = [bytes.fromhex("abcd10") + bytes(12) + bytes([n]) for n in (1, 2)]
    for n, transfer_id in enumerate(ids):
        await raw.send(FileOffer(transfer_id, f"{n}.bin", 10))
        await raw.expect(FileAccept)
    with pytest.raises(ActionRefused) as exc:
        await anna.client.cancel_transfer("abcd")
    assert refused(exc) == (RefusalKind.AMBIGUOUS, "abcd matches several transfers")
    for short in ("abc", "0000"):
        with pytest.raises(ActionRefused) as exc:
            await anna.client.cancel_transfer(short)
        assert refused(exc) == (RefusalKind.UNKNOWN, f"no transfer {short}")
    view = await anna.client.cancel_transfer(f" {ids[1].hex().upper()} ", "not wanted")
    assert (view.state, view.reason) == (TransferState.CANCELLED, "not wanted")
    assert anna.transfer(ids[0].hex()).state is TransferState.RUNNING


async def test_no_progress_is_reported_before_an_interval_passed_on_the_clock(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben, _host, guest = await files_session(nodes, tmp_path)
    on_anna: Recorder[TransferView] = Recorder(anna.client.transfer_changed)
    (tmp_path / "big.bin").write_bytes(os.urandom(40 * 256 * 1024))
    sent = await ben.client.send_file(guest.session_id, str(tmp_path / "big.bin"))
    view = await arrived(anna, sent.transfer_id)
    assert view.state is TransferState.DONE
    seen = [(v.state, v.done) for v in on_anna.items if v.transfer_id == sent.transfer_id]
    # The clock stood still: no progress report between the changes of state.
    assert seen[-1] == (TransferState.DONE, view.size)
    assert {done for _, done in seen[:-1]} == {0}


async def test_a_transfer_id_another_session_uses_is_refused_and_that_transfer_goes_on(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben, host, guest = await files_session(nodes, tmp_path)
    carl = await nodes.make("carl")
    carl.knows(anna)
    anna.knows(carl)
    to_carl = await anna.client.invite(carl.device_id, FILES, "")
    await carl.received.wait()
    carl_guest = await carl.client.accept(to_carl.invitation_id)
    ben_raw = RawGuest(ben, guest.session_id)
    carl_raw = RawGuest(carl, carl_guest.session_id)
    await ben_raw.send(FileOffer(tid(10), "ben.bin", 4))
    await ben_raw.expect(FileAccept)
    await carl_raw.send(FileOffer(tid(10), "carl.bin", 4))  # the same id, in another session
    assert await carl_raw.expect(FileRefused) == FileRefused(
        tid(10), "duplicate", "that transfer id is in use"
    )
    await ben_raw.send(FileChunk(tid(10), 0, memoryview(b"four")))
    await ben_raw.send(FileDone(tid(10), hashlib.sha256(b"four").digest()))
    await ben_raw.expect(FileSaved)
    assert (tmp_path / "anna-in" / "ben.bin").read_bytes() == b"four"
    (tmp_path / "offer.txt").write_text("for ben")
    offer = await anna.client.send_file(host.session_id, str(tmp_path / "offer.txt"))
    await carl_raw.send(FileAccept(bytes.fromhex(offer.transfer_id)))  # ben's offer, not carl's
    assert await carl_raw.expect(FileRefused) == FileRefused(
        bytes.fromhex(offer.transfer_id), "unknown_transfer", "no such offer"
    )
    assert anna.transfer(offer.transfer_id).state is TransferState.OFFERED


async def test_the_list_keeps_every_transfer_while_the_oldest_is_open_then_the_last_200(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben, _host, guest = await files_session(nodes, tmp_path)
    on_anna: Recorder[TransferView] = Recorder(anna.client.transfer_changed)
    raw = RawGuest(ben, guest.session_id)
    for n in range(201):  # the first 8 run (and stay open), the rest are too many at once
        await raw.send(FileOffer(tid(100 + n), f"{n}.bin", 10))
    await eventually(lambda: {v.transfer_id for v in on_anna.items} >= {tid(300).hex()})
    assert len(anna.client.transfers()) == 201  # the oldest is open: nothing is dropped
    assert [v.state for v in on_anna.items if v.transfer_id == tid(300).hex()] == [
        TransferState.OFFERED,  # the 201st is listed, and then refused
        TransferState.FAILED,
    ]
    for n in range(8):
        await anna.client.cancel_transfer(tid(100 + n).hex(), "done with it")
    await raw.send(FileOffer(tid(301), "last.bin", 10))
    await eventually(lambda: any(v.transfer_id == tid(301).hex() for v in on_anna.items))
    kept = {t.transfer_id for t in anna.client.transfers()}
    assert kept == {tid(n).hex() for n in range(102, 302)}  # the last 200, oldest gone first


async def test_messages_about_no_transfer_here_are_ignored_and_the_session_goes_on(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben, host, guest = await files_session(nodes, tmp_path)
    raw = RawGuest(ben, guest.session_id)
    await raw.send(FileOffer(tid(11), "mine.bin", 10))
    await raw.expect(FileAccept)
    await raw.send(FileAck(tid(11), 10))  # an ack of the file anna receives, not sends
    unknown = tid(12)
    for msg in (
        FileAck(unknown, 1),
        FileDone(unknown, bytes(32)),
        FileSaved(unknown),
        FileCancel(unknown, "no"),
        FileRefused(unknown, "too_many", "no"),
    ):
        await raw.send(msg)
    await raw.send(FileOffer(tid(13), "next.bin", 1))  # answered: the session still works
    await raw.expect(FileAccept)
    view = anna.transfer(tid(11).hex())
    assert (view.state, view.done, view.path) == (TransferState.RUNNING, 0, "")
    assert view.session_id == host.session_id


async def test_a_failing_transfer_listener_is_logged_by_its_signal_and_the_file_arrives(
    nodes: Nodes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben, _host, guest = await files_session(nodes, tmp_path)

    def broken(_: object) -> None:
        raise RuntimeError("a listener's own bug")

    anna.client.transfer_changed.connect(broken)
    caplog.set_level(logging.ERROR)
    (tmp_path / "f.txt").write_text("intact")
    sent = await ben.client.send_file(guest.session_id, str(tmp_path / "f.txt"))
    view = await arrived(anna, sent.transfer_id)
    assert view.state is TransferState.DONE
    assert view.path == str(tmp_path / "anna-in" / "f.txt")
    assert "slot for signal transfers.changed failed" in logged(caplog)
    sender = await asyncio.wait_for(ben.client.wait_transfer(sent.transfer_id), 10)
    assert (sender.state, sender.reason, sender.done) == (TransferState.DONE, "", 6)


async def test_a_file_that_gets_shorter_while_it_is_sent_fails_saying_so(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben, host, guest = await files_session(nodes, tmp_path)
    path = tmp_path / "shrinks.bin"
    path.write_bytes(os.urandom(5 * READ_BLOCK))
    offer = await anna.client.send_file(host.session_id, str(path))
    transfer_id = bytes.fromhex(offer.transfer_id)
    raw = RawGuest(ben, guest.session_id)
    await raw.send(FileAccept(transfer_id))
    for _ in range(WINDOW // CHUNK):  # a window's worth goes out, then the host waits
        await raw.expect(FileChunk)
    # The reader is READ_AHEAD blocks past the one being sent, waiting for room.
    ahead = (READ_AHEAD + 1) * READ_BLOCK
    await eventually(lambda: offset_is(path, ahead))
    os.truncate(path, ahead)  # cut behind what the reader has read
    await raw.send(FileAck(transfer_id, ahead))
    why = "the file got shorter while it was sent"
    assert (await raw.expect(FileCancel)).reason == why
    view = await asyncio.wait_for(anna.client.wait_transfer(offer.transfer_id), 10)
    assert (view.state, view.reason) == (TransferState.FAILED, why)


def part_file(folder: Path, transfer_id: bytes) -> Path:
    return folder / f".{transfer_id.hex()}.adinvite-part"


async def test_a_part_file_already_gone_when_a_transfer_ends_is_no_problem(
    nodes: Nodes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben, _host, guest = await files_session(nodes, tmp_path)
    raw = RawGuest(ben, guest.session_id)
    await raw.send(FileOffer(tid(14), "gone.bin", 10))
    await raw.expect(FileAccept)
    part_file(tmp_path / "anna-in", tid(14)).unlink()  # someone tidied the folder
    caplog.set_level(logging.WARNING)
    await anna.client.cancel_transfer(tid(14).hex())
    assert not caplog.records


async def test_a_part_file_that_cannot_be_removed_is_logged_with_its_path_and_why(
    nodes: Nodes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben, _host, guest = await files_session(nodes, tmp_path)
    raw = RawGuest(ben, guest.session_id)
    await raw.send(FileOffer(tid(15), "stuck.bin", 10))
    await raw.expect(FileAccept)
    part = part_file(tmp_path / "anna-in", tid(15))
    part.unlink()
    part.mkdir()  # what is at its name now cannot be unlinked
    (part / "inside").write_text("x")
    caplog.set_level(logging.WARNING)
    view = await anna.client.cancel_transfer(tid(15).hex())
    assert view.state is TransferState.CANCELLED
    [line] = logged(caplog)
    assert line.startswith(f"cannot remove the partial file {part}: [Errno 21] Is a directory")
