"""File transfer between whole clients over in-memory channels: only while FILE_TRANSFER
is granted, verified by SHA-256, saved under a safe name, and never left half-written."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from anydesk_invite.compose import compose_client
from anydesk_invite.core.clock import ManualClock
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.policy import DiscoveryMode, Policy
from anydesk_invite.desktop.system_info import DesktopSystemInfo
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.wire import (
    Chat,
    FileAccept,
    FileAck,
    FileCancel,
    FileChunk,
    FileDone,
    FileOffer,
    FileRefused,
    FileSaved,
)
from anydesk_invite.services.client import Client
from anydesk_invite.services.control_commands import ControlCommands
from anydesk_invite.services.facade import ActionRefused
from anydesk_invite.services.sessions import file_io
from anydesk_invite.services.sessions.feature_set import SessionFeatures
from anydesk_invite.services.sessions.file_io import FILE_THREAD_NICENESS, READ_BLOCK
from anydesk_invite.services.sessions.filenames import NAME_MAX_BYTES, safe_file_name
from anydesk_invite.services.sessions.files import (
    ACK_EVERY,
    CHUNK,
    DISK_AHEAD,
    PERMISSION_REVOKED,
    WINDOW,
    TransferDirection,
    TransferState,
    TransferView,
)
from anydesk_invite.services.trust import PinnedTrust
from anydesk_invite.services.views import SessionView
from anydesk_invite.storage.db import Database
from anydesk_invite.storage.home import default_incoming_folder
from tests.helpers.nodes import Node, Nodes, Recorder, eventually, nodes_for, session_between
from tests.helpers.raw_guest import RawGuest

FILES = frozenset({Permission.FILE_TRANSFER})
NOTHING: frozenset[Permission] = frozenset()


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


def inbox(node: Node, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    node.client.set_incoming_folder(str(folder))
    return folder


def report_every_step(*nodes: Node) -> None:
    """Progress is reported at most once a second on the injected clock, which stands still in
    these tests: report every step instead, so a test can act mid-transfer."""
    for node in nodes:
        node.features.transfers.progress_interval = 0


def random_file(path: Path, size: int) -> Path:
    path.write_bytes(os.urandom(size))
    return path


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def finished(node: Node, transfer_id: str) -> TransferView:
    return await asyncio.wait_for(node.client.wait_transfer(transfer_id), 10)


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "saved"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/x", "x"),
        ("/abs", "abs"),
        ("/etc/passwd", "passwd"),
        ("a/../../b", "b"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("..", "received file"),
        ("", "received file"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("com1", "_com1"),
        ("a\x00b", "a_b"),
        ("tab\there\n", "tab_here_"),
        (".bashrc", "bashrc"),
        ("...hidden", "hidden"),
        ('what?<>:"|*.txt', "what_______.txt"),
        ("trailing. ", "trailing"),
        ("invoice\u202efdp.exe", "invoice_fdp.exe"),  # a right-to-left override (Cf)
        ("a\x85b", "a_b"),  # a C1 control (Cc) the shell-hostile set does not cover
        ("a\u2028b\u2029c", "a_b_c"),  # line and paragraph separators (Zl, Zp)
        ("dir/", "dir"),
        ("dir/.", "dir"),
        ("dir/..", "dir"),
        ("Xray.X", "Xray.X"),
        ("README", "README"),
        ("con.a.txt", "_con.a.txt"),  # reserved whatever follows the first dot
    ],
)
def test_offered_names_become_plain_names_inside_the_folder(offered: str, saved: str) -> None:
    assert safe_file_name(offered) == saved


@pytest.mark.parametrize(
    ("offered", "saved"),
    [
        ("s" * 300 + "." + "b" * 19, "s" * 180 + "." + "b" * 19),  # a 20-byte extension stays
        ("s" * 300 + "." + "b" * 20, "s" * 200),  # 21 bytes: not an extension, cut with the rest
        ("s" * 300 + ".tar.gz", "s" * 197 + ".gz"),  # the last extension is the one kept
        ("s" * 195 + "..txt", "s" * 195 + "..txt"),  # exactly 200 bytes: nothing cut
        ("s" * 195 + "." + "s" * 100 + ".txt", "s" * 195 + ".txt"),  # no dot left at a cut
        ("X" * 195 + "." + "X" * 100 + ".txt", "X" * 195 + ".txt"),
        ("a" + "é" * 150 + ".txt", "a" + "é" * 97 + ".txt"),  # never half a character
    ],
)
def test_a_long_name_is_cut_to_200_bytes_at_a_whole_character_keeping_a_short_extension(
    offered: str, saved: str
) -> None:
    assert safe_file_name(offered) == saved
    assert len(saved.encode()) <= NAME_MAX_BYTES


def test_a_very_long_name_is_shortened_and_keeps_its_extension() -> None:
    name = safe_file_name("é" * 3000 + ".txt")
    assert name.endswith(".txt")
    assert len(name.encode()) <= NAME_MAX_BYTES
    assert name.startswith("é")


# --- whole transfers ---------------------------------------------------------------------------


async def test_guest_sends_a_file_that_arrives_intact_with_progress_on_both_sides(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    host, guest = await session_between(anna, ben, FILES)
    source = random_file(tmp_path / "five.bin", 16 * 1024 * 1024 + 17)
    for node in (anna, ben):
        node.features.transfers.progress_interval = 0  # every step is seen
    host_seen = Recorder(anna.client.transfer_changed)
    guest_seen = Recorder(ben.client.transfer_changed)

    sent = await ben.client.send_file(guest.session_id, str(source))
    assert sent.direction is TransferDirection.SEND and sent.size == source.stat().st_size
    done = await finished(ben, sent.transfer_id)
    assert done.state is TransferState.DONE, done.reason
    await eventually(lambda: anna.client.transfers()[0].state is TransferState.DONE)

    [received] = anna.client.transfers(host.session_id)
    assert received.direction is TransferDirection.RECEIVE
    assert Path(received.path) == folder / "five.bin"
    assert sha((folder / "five.bin").read_bytes()) == sha(source.read_bytes())
    assert listing(folder) == ["five.bin"]  # no temporary file left behind
    for seen in (host_seen.items, guest_seen.items):
        progress = [v.done for v in seen if v.state is TransferState.RUNNING]
        assert progress == sorted(progress)
        # Steps between start and end (the receiver's disk writes may gather several chunks).
        assert any(0 < done < seen[-1].size for done in progress)
        assert seen[-1].done == seen[-1].size


async def test_progress_is_reported_at_most_once_per_interval_and_the_end_always(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, FILES)
    for node in (anna, ben):
        node.features.transfers.progress_interval = 3600
    seen = [Recorder(anna.client.transfer_changed), Recorder(ben.client.transfer_changed)]
    source = random_file(tmp_path / "big.bin", 40 * CHUNK)
    sent = await ben.client.send_file(guest.session_id, str(source))
    assert (await finished(ben, sent.transfer_id)).state is TransferState.DONE
    await eventually(lambda: anna.client.transfers()[0].state is TransferState.DONE)
    for recorder in seen:
        running = [v.done for v in recorder.items if v.state is TransferState.RUNNING]
        assert set(running) == {0}  # the start; no progress within the hour
        assert recorder.items[-1].state is TransferState.DONE
        assert recorder.items[-1].done == source.stat().st_size


async def test_host_offers_a_file_and_the_guest_lists_and_fetches_it(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    inbox(anna, tmp_path / "anna-in")
    ben_folder = inbox(ben, tmp_path / "ben-in")
    host, guest = await session_between(anna, ben, FILES)
    source = random_file(tmp_path / "offer.dat", 3 * CHUNK + 5)

    offer = await anna.client.send_file(host.session_id, str(source))
    await eventually(lambda: len(ben.client.transfers(guest.session_id)) == 1)
    [listed] = ben.client.transfers(guest.session_id)
    assert listed.state is TransferState.OFFERED and listed.name == "offer.dat"
    assert listing(ben_folder) == []  # nothing is taken until the guest fetches

    await ben.client.fetch_file(guest.session_id, listed.transfer_id)
    assert (await finished(ben, listed.transfer_id)).state is TransferState.DONE
    assert (await finished(anna, offer.transfer_id)).state is TransferState.DONE
    assert (ben_folder / "offer.dat").read_bytes() == source.read_bytes()


async def test_a_file_changed_after_it_was_offered_is_not_sent(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    ben_folder = inbox(ben, tmp_path / "ben-in")
    host, guest = await session_between(anna, ben, FILES)
    source = random_file(tmp_path / "draft.txt", 3 * CHUNK)
    offer = await anna.client.send_file(host.session_id, str(source))
    await eventually(lambda: len(ben.client.transfers(guest.session_id)) == 1)
    with source.open("ab") as f:
        f.write(b"one more line")  # edited while the offer waited

    [listed] = ben.client.transfers(guest.session_id)
    await ben.client.fetch_file(guest.session_id, listed.transfer_id)
    on_host = await finished(anna, offer.transfer_id)
    on_guest = await finished(ben, listed.transfer_id)
    assert on_host.state is TransferState.FAILED
    assert on_host.reason == "the file was changed after it was offered"
    assert on_guest.state is TransferState.CANCELLED and "changed" in on_guest.reason
    assert listing(ben_folder) == []


async def test_a_file_changed_while_it_is_sent_fails_instead_of_arriving_torn(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    host, guest = await session_between(anna, ben, FILES)
    raw = RawGuest(ben, guest.session_id)
    size = 8 * READ_BLOCK  # more than the reader reads ahead of a stopped sender
    source = random_file(tmp_path / "log.txt", size)
    sent = await anna.client.send_file(host.session_id, str(source))
    tid = (await raw.expect(FileOffer)).transfer_id
    await raw.send(FileAccept(tid))
    got = 0
    async with asyncio.timeout(10):
        while got < WINDOW:  # nothing acknowledged: the host stops at the window
            msg = await raw.inbox.get()
            if isinstance(msg, FileChunk):
                got += len(msg.data)
    stamp = source.stat().st_mtime_ns
    os.utime(source, ns=(stamp + 10**9, stamp + 10**9))  # someone saves the file again
    await raw.send(FileAck(tid, got))
    async with asyncio.timeout(10):
        while not isinstance(msg := await raw.inbox.get(), FileCancel):
            assert not isinstance(msg, FileDone)
            if isinstance(msg, FileChunk):
                got += len(msg.data)
                await raw.send(FileAck(tid, got))
    assert msg.reason == "the file was changed while it was sent"
    done = await finished(anna, sent.transfer_id)
    assert done.state is TransferState.FAILED and done.reason == msg.reason


async def test_a_name_taken_in_the_folder_gets_a_number_and_nothing_is_overwritten(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    (folder / "notes.txt").write_text("mine")
    _, guest = await session_between(anna, ben, FILES)
    source = tmp_path / "notes.txt"
    for text in ("one", "two"):
        source.write_text(text)
        sent = await ben.client.send_file(guest.session_id, str(source))
        assert (await finished(ben, sent.transfer_id)).state is TransferState.DONE
    assert listing(folder) == ["notes (1).txt", "notes (2).txt", "notes.txt"]
    assert (folder / "notes.txt").read_text() == "mine"
    assert (folder / "notes (2).txt").read_text() == "two"


async def test_a_taken_name_with_two_dots_is_numbered_before_its_last_extension(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    (folder / "backup.tar.gz").write_text("mine")
    _, guest = await session_between(anna, ben, FILES)
    source = tmp_path / "backup.tar.gz"
    source.write_text("theirs")
    sent = await ben.client.send_file(guest.session_id, str(source))
    assert (await finished(ben, sent.transfer_id)).state is TransferState.DONE
    assert listing(folder) == ["backup.tar (1).gz", "backup.tar.gz"]


async def test_on_a_file_system_without_hard_links_the_name_is_claimed_by_renaming(
    nodes: Nodes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FAT and exFAT sticks refuse link(2); the file still gets a free name, nothing is lost."""

    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    (folder / "notes.txt").write_text("mine")
    _, guest = await session_between(anna, ben, FILES)
    source = tmp_path / "notes.txt"
    source.write_text("theirs")
    sent = await ben.client.send_file(guest.session_id, str(source))
    assert (await finished(ben, sent.transfer_id)).state is TransferState.DONE
    assert listing(folder) == ["notes (1).txt", "notes.txt"]
    assert (folder / "notes.txt").read_text() == "mine"
    assert (folder / "notes (1).txt").read_text() == "theirs"


async def test_an_empty_file_is_transferred(nodes: Nodes, tmp_path: Path) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, FILES)
    (tmp_path / "empty").write_bytes(b"")
    sent = await ben.client.send_file(guest.session_id, str(tmp_path / "empty"))
    assert (await finished(ben, sent.transfer_id)).state is TransferState.DONE
    assert (folder / "empty").read_bytes() == b""


# --- permission ------------------------------------------------------------------------------


async def test_a_guest_without_the_permission_cannot_send(nodes: Nodes, tmp_path: Path) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, NOTHING)
    source = random_file(tmp_path / "x.bin", 10)
    with pytest.raises(ActionRefused, match="not permitted: file transfer"):
        await ben.client.send_file(guest.session_id, str(source))
    assert listing(folder) == []


async def test_the_host_refuses_a_raw_offer_and_chunk_when_not_granted(
    nodes: Nodes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, NOTHING)
    raw = RawGuest(ben, guest.session_id)
    tid = b"\x01" * 16
    with caplog.at_level(logging.WARNING):
        await raw.send(FileOffer(tid, "evil.sh", 4))
        refused = await raw.expect(FileRefused)
        assert refused.transfer_id == tid and refused.code == "not_permitted"
        await raw.send(FileChunk(tid, 0, b"evil"))
        assert (await raw.expect(FileRefused)).code == "not_permitted"
    assert listing(folder) == []
    assert anna.client.transfers() == []
    logged = [r.getMessage() for r in caplog.records if "not granted" in r.getMessage()]
    assert logged == [
        f"refused {kind} from guest {ben.identity.device_id}: file transfer not granted"
        for kind in ("FileOffer", "FileChunk")
    ]


async def test_the_host_refuses_a_chunk_for_a_transfer_it_never_accepted(
    nodes: Nodes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, FILES)
    raw = RawGuest(ben, guest.session_id)
    with caplog.at_level(logging.WARNING):
        await raw.send(FileChunk(b"\x02" * 16, 0, b"unannounced"))
        refused = await raw.expect(FileRefused)
    assert refused.code == "not_accepted"
    assert any("no accepted transfer" in r.getMessage() for r in caplog.records)
    assert listing(folder) == []


async def test_revoking_the_permission_mid_transfer_stops_both_sides_and_removes_the_partial_file(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    report_every_step(anna, ben)
    host, guest = await session_between(anna, ben, FILES)
    source = random_file(tmp_path / "big.bin", 64 * 1024 * 1024)
    revoking: list[asyncio.Task[SessionView]] = []

    def revoke_once_started(view: TransferView) -> None:
        if view.done > 0 and not revoking:
            revoking.append(
                asyncio.get_running_loop().create_task(
                    anna.client.set_session_permissions(host.session_id, NOTHING)
                )
            )

    anna.client.transfer_changed.connect(revoke_once_started)
    sent = await ben.client.send_file(guest.session_id, str(source))
    on_guest = await finished(ben, sent.transfer_id)
    await asyncio.gather(*revoking)
    [on_host] = anna.client.transfers()
    assert on_host.state is TransferState.CANCELLED and on_host.reason == PERMISSION_REVOKED
    assert on_guest.state is TransferState.CANCELLED and on_guest.reason == PERMISSION_REVOKED
    assert 0 < on_host.done < on_host.size
    assert listing(folder) == []


@pytest.mark.parametrize("side", ["guest", "host"])
async def test_either_side_cancels_a_running_transfer_and_the_partial_file_goes(
    nodes: Nodes, tmp_path: Path, side: str
) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    report_every_step(anna, ben)
    _, guest = await session_between(anna, ben, FILES)
    source = random_file(tmp_path / "big.bin", 64 * 1024 * 1024)
    canceller = ben if side == "guest" else anna
    cancelling: list[asyncio.Task[TransferView]] = []

    def cancel_once_started(view: TransferView) -> None:
        if view.done > 0 and not cancelling:
            cancelling.append(
                asyncio.get_running_loop().create_task(
                    canceller.client.cancel_transfer(view.transfer_id, "changed my mind")
                )
            )

    anna.client.transfer_changed.connect(cancel_once_started)
    sent = await ben.client.send_file(guest.session_id, str(source))
    on_guest = await finished(ben, sent.transfer_id)
    await asyncio.gather(*cancelling)
    await eventually(lambda: anna.client.transfers()[0].state.final)
    [on_host] = anna.client.transfers()
    assert on_guest.state is on_host.state is TransferState.CANCELLED
    own, other = (on_guest, on_host) if side == "guest" else (on_host, on_guest)
    assert own.reason == "changed my mind"
    assert other.reason == "the peer cancelled: changed my mind"
    assert listing(folder) == []


async def test_a_sha256_mismatch_removes_the_file_and_tells_the_sender(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, FILES)
    raw = RawGuest(ben, guest.session_id)
    tid = b"\x03" * 16
    await raw.send(FileOffer(tid, "claimed.txt", 5))
    await raw.expect(FileAccept)
    await raw.send(FileChunk(tid, 0, b"HELLO"))
    await raw.expect(FileAck)
    await raw.send(FileDone(tid, sha(b"hello")))
    cancelled = await raw.expect(FileCancel)
    assert "SHA-256" in cancelled.reason
    [on_host] = anna.client.transfers()
    assert on_host.state is TransferState.FAILED and "SHA-256" in on_host.reason
    assert listing(folder) == []


async def test_a_chunk_out_of_order_stops_the_transfer(nodes: Nodes, tmp_path: Path) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, FILES)
    raw = RawGuest(ben, guest.session_id)
    tid = b"\x04" * 16
    await raw.send(FileOffer(tid, "a.bin", 10))
    await raw.expect(FileAccept)
    await raw.send(FileChunk(tid, 5, b"56789"))
    assert "out of order" in (await raw.expect(FileCancel)).reason
    assert listing(folder) == []


@pytest.mark.parametrize(
    ("offered", "saved"),
    [
        ("../../etc/x", "x"),
        ("/abs", "abs"),
        ("a/../../b", "b"),
        ("CON", "_CON"),
        ("\x00", "_"),
        ("n" * 4000, "n" * NAME_MAX_BYTES),
    ],
)
async def test_hostile_names_from_a_raw_guest_land_inside_the_folder(
    nodes: Nodes, tmp_path: Path, offered: str, saved: str
) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, FILES)
    raw = RawGuest(ben, guest.session_id)
    tid = b"\x05" * 16
    await raw.send(FileOffer(tid, offered, 3))
    await raw.expect(FileAccept)
    await raw.send(FileChunk(tid, 0, b"abc"))
    await raw.send(FileDone(tid, sha(b"abc")))
    await raw.expect(FileSaved)
    assert listing(folder) == [saved]
    [on_host] = anna.client.transfers()
    assert Path(on_host.path).parent == folder


async def test_a_file_over_the_size_limit_is_refused_up_front(nodes: Nodes, tmp_path: Path) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    anna.client.set_transfer_size_limit(1000)
    _, guest = await session_between(anna, ben, FILES)
    sent = await ben.client.send_file(guest.session_id, str(random_file(tmp_path / "x", 1001)))
    done = await finished(ben, sent.transfer_id)
    assert done.state is TransferState.FAILED and "size limit" in done.reason
    assert listing(folder) == []


# --- a full disk -----------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs: a folder whose disk really fills up."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    where = tmp_path / "small"
    where.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


async def test_a_file_bigger_than_the_free_space_is_refused_with_disk_full(
    nodes: Nodes, tmp_path: Path, small_disk: Path
) -> None:
    anna, ben = await nodes.pair()
    inbox(anna, small_disk)
    _, guest = await session_between(anna, ben, FILES)
    source = random_file(tmp_path / "two-mb.bin", 2 * 1024 * 1024)
    sent = await ben.client.send_file(guest.session_id, str(source))
    done = await finished(ben, sent.transfer_id)
    assert done.state is TransferState.FAILED and "disk is full" in done.reason
    [on_host] = anna.client.transfers()
    assert "disk is full" in on_host.reason
    assert listing(small_disk) == []


async def test_a_disk_that_fills_up_mid_transfer_is_reported_and_the_partial_file_goes(
    nodes: Nodes, small_disk: Path
) -> None:
    anna, ben = await nodes.pair()
    inbox(anna, small_disk)
    _, guest = await session_between(anna, ben, FILES)
    raw = RawGuest(ben, guest.session_id)
    data = os.urandom(800 * 1024)
    tid = b"\x06" * 16
    await raw.send(FileOffer(tid, "fits.bin", len(data)))
    await raw.expect(FileAccept)
    # Someone else fills the disk after the offer was taken.
    (small_disk / "filler").write_bytes(b"\0" * (600 * 1024))
    for offset in range(0, len(data), CHUNK):
        await raw.send(FileChunk(tid, offset, data[offset : offset + CHUNK]))
    cancelled = await raw.expect(FileCancel)
    assert cancelled.reason == "the receiving side's disk is full"
    [on_host] = anna.client.transfers()
    assert on_host.state is TransferState.FAILED
    assert on_host.reason == "the receiving side's disk is full"
    assert listing(small_disk) == ["filler"]


# --- the local control API (what the command line sends) -----------------------------------


async def ask(node: Node, cmd: str, **args: object) -> dict[str, object]:
    commands = ControlCommands(node.client, on_raise=lambda: None)
    return await commands.answer(json.dumps({"cmd": cmd, "args": args}).encode())


async def test_send_file_over_the_control_api_answers_once_the_host_saved_it(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, FILES)
    source = random_file(tmp_path / "cli.bin", 3 * CHUNK)
    answer = await ask(ben, "send-file", session=guest.session_id[:8], path=str(source))
    assert answer["ok"], answer
    result = answer["result"]
    assert isinstance(result, dict) and result["state"] == "done" and result["size"] == 3 * CHUNK
    assert (folder / "cli.bin").read_bytes() == source.read_bytes()
    listed = await ask(ben, "transfers")
    assert [t["name"] for t in listed["result"]] == ["cli.bin"]  # type: ignore[union-attr]


async def test_send_file_over_the_control_api_reports_a_refusal(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    anna.client.set_transfer_size_limit(10)
    inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, FILES)
    source = random_file(tmp_path / "big", 11)
    answer = await ask(ben, "send-file", session=guest.session_id, path=str(source))
    assert not answer["ok"] and "size limit" in str(answer["error"])
    relative = await ask(ben, "send-file", session=guest.session_id, path="big")
    assert not relative["ok"] and "absolute" in str(relative["error"])


# --- flow control ----------------------------------------------------------------------------


async def test_the_sender_stops_at_the_window_so_a_chat_overtakes_the_rest_of_the_file(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    host, guest = await session_between(anna, ben, FILES)
    raw = RawGuest(ben, guest.session_id)
    data = os.urandom(2 * WINDOW + 5)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    sent = await anna.client.send_file(host.session_id, str(source))
    offer = await raw.expect(FileOffer)
    tid = offer.transfer_id
    await raw.send(FileAccept(tid))
    got = bytearray()

    async def take_until(kind: type[Chat] | type[FileDone], stop_at: int) -> None:
        """File data of this transfer until ``stop_at`` bytes, or until a message of ``kind``."""
        async with asyncio.timeout(10):
            while len(got) < stop_at:
                msg = await raw.inbox.get()
                if isinstance(msg, kind):
                    return
                if isinstance(msg, FileChunk) and msg.transfer_id == tid:
                    assert msg.offset == len(got)
                    got.extend(msg.data)

    await take_until(FileDone, WINDOW)
    assert len(got) == WINDOW
    # Nothing acknowledged: the host sends no more file data, so its chat comes next.
    await anna.client.send_chat(host.session_id, "still there?")
    await take_until(Chat, len(data) + 1)
    assert len(got) == WINDOW
    await raw.send(FileAck(tid, CHUNK))
    await take_until(Chat, WINDOW + CHUNK)
    assert len(got) == WINDOW + CHUNK
    await raw.send(FileAck(tid, len(got)))
    await take_until(Chat, len(data))
    await raw.expect(FileDone)
    assert bytes(got) == data
    await raw.send(FileSaved(tid))
    done = await finished(anna, sent.transfer_id)
    assert done.state is TransferState.DONE


@pytest.fixture
def slow_disk(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The receiver's disk takes no data until the returned event is set (a stalled drive)."""
    go = threading.Event()
    real_write = file_io.FileWriter._write

    def stalled(writer: object, block: bytes) -> None:
        go.wait(10)
        real_write(writer, block)  # type: ignore[arg-type]

    monkeypatch.setattr(file_io.FileWriter, "_write", stalled)
    return go


async def test_the_receiver_acknowledges_on_arrival_until_its_disk_falls_behind(
    nodes: Nodes, tmp_path: Path, slow_disk: threading.Event
) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    host, guest = await session_between(anna, ben, FILES)
    raw = RawGuest(ben, guest.session_id)
    # Acknowledged as they come until the last ACK_EVERY step the disk allows; after that the
    # backlog is over DISK_AHEAD, and the rest of the window waits for the disk.
    last_free_ack = ACK_EVERY * (DISK_AHEAD // ACK_EVERY)
    data = os.urandom(last_free_ack + WINDOW)
    assert last_free_ack + ACK_EVERY > DISK_AHEAD and len(data) >= last_free_ack + ACK_EVERY
    tid = b"\x08" * 16
    await raw.send(FileOffer(tid, "slow.bin", len(data)))
    await raw.expect(FileAccept)
    acked = 0
    for offset in range(0, last_free_ack, CHUNK):
        await raw.send(FileChunk(tid, offset, data[offset : offset + CHUNK]))
        if offset + CHUNK - acked >= ACK_EVERY:
            # Nothing is written yet, and still every ACK_EVERY bytes are acknowledged.
            acked = (await raw.expect(FileAck)).offset
            assert acked == offset + CHUNK
    assert acked == last_free_ack
    for offset in range(last_free_ack, len(data), CHUNK):
        await raw.send(FileChunk(tid, offset, data[offset : offset + CHUNK]))
    # A round trip behind the chunks: whatever the host answered them is in before its chat.
    await raw.send(Chat("marker"))
    await eventually(lambda: ("peer", "marker") in anna.client.chat_log(host.session_id))
    await anna.client.send_chat(host.session_id, "seen")
    before: list[object] = []
    async with asyncio.timeout(5):
        while not isinstance(msg := await raw.inbox.get(), Chat):
            before.append(msg)
    # More than DISK_AHEAD waits for the disk: no acknowledgement until it catches up.
    assert not [m for m in before if isinstance(m, FileAck)]
    slow_disk.set()
    assert (await raw.expect(FileAck)).offset == len(data)
    await raw.send(FileDone(tid, sha(data)))
    await raw.expect(FileSaved)
    assert (folder / "slow.bin").read_bytes() == data


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority: Linux")
async def test_the_disk_threads_run_below_the_event_loops_priority(
    nodes: Nodes, tmp_path: Path, slow_disk: threading.Event
) -> None:
    anna, ben = await nodes.pair()
    inbox(anna, tmp_path / "anna-in")
    _, guest = await session_between(anna, ben, FILES)
    source = random_file(tmp_path / "big.bin", 40 * CHUNK)
    loop_priority = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    earlier = set(threading.enumerate())
    sent = await ben.client.send_file(guest.session_id, str(source))

    def file_threads() -> list[threading.Thread]:
        return [
            t
            for t in threading.enumerate()
            if t.name.startswith(("file-read", "file-write")) and t not in earlier
        ]

    await eventually(lambda: len(file_threads()) == 2)  # the writer waits for the disk
    for thread in file_threads():
        assert thread.native_id is not None
        await eventually(
            lambda t=thread: (
                os.getpriority(os.PRIO_PROCESS, t.native_id)  # type: ignore[misc]
                == min(19, loop_priority + FILE_THREAD_NICENESS)
            )
        )
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == loop_priority
    slow_disk.set()
    assert (await finished(ben, sent.transfer_id)).state is TransferState.DONE


async def test_a_sender_that_ignores_the_window_loses_the_transfer(
    nodes: Nodes, tmp_path: Path, slow_disk: threading.Event
) -> None:
    anna, ben = await nodes.pair()
    folder = inbox(anna, tmp_path / "anna-in")
    host, guest = await session_between(anna, ben, FILES)
    raw = RawGuest(ben, guest.session_id)
    size = DISK_AHEAD + WINDOW + 4 * CHUNK
    data = os.urandom(size)
    tid = b"\x09" * 16
    await raw.send(FileOffer(tid, "flood.bin", size))
    await raw.expect(FileAccept)
    for offset in range(0, size, CHUNK):  # never waits for an acknowledgement
        await raw.send(FileChunk(tid, offset, data[offset : offset + CHUNK]))
    cancelled = await raw.expect(FileCancel)
    assert cancelled.reason == "the sender ignored flow control"
    slow_disk.set()
    [on_host] = anna.client.transfers()
    assert on_host.state is TransferState.FAILED
    await eventually(lambda: listing(folder) == [])
    # The session itself goes on.
    await raw.send(Chat("still here"))
    await eventually(lambda: ("peer", "still here") in anna.client.chat_log(host.session_id))


# --- settings --------------------------------------------------------------------------------


def client_on(db: Database, home: Path) -> tuple[Client, SessionFeatures]:
    """A client built on an existing database, as the app builds one at start, and the session
    features it was given (where its settings are put in force)."""
    clock = ManualClock()
    features = SessionFeatures.build(clock, DesktopSystemInfo())
    client = compose_client(
        identity=Identity.generate(),
        db=db,
        clock=clock,
        wall=time.time,
        policy=Policy,
        trust=PinnedTrust(db),
        features=features,
        interfaces=("127.0.0.1",),
        discovery=None,
        discovery_mode=DiscoveryMode.OFF,
        key_location="keyring",
        key_warning=None,
        home=str(home),
        default_alias="anna",
    )
    return client, features


async def test_the_incoming_folder_and_size_limit_are_kept_for_the_next_start(
    tmp_path: Path,
) -> None:
    db = Database.open(tmp_path / "db.sqlite")
    first, features = client_on(db, tmp_path)
    first.set_incoming_folder(str(tmp_path / "in"))
    first.set_transfer_size_limit(12_345)
    assert features.transfers.incoming_folder == tmp_path / "in"
    assert features.transfers.size_limit == 12_345
    db.close()

    db = Database.open(tmp_path / "db.sqlite")
    try:
        again = client_on(db, tmp_path)[1].transfers
        assert again.incoming_folder == tmp_path / "in"
        assert again.size_limit == 12_345
    finally:
        db.close()


async def test_a_size_limit_set_on_the_client_refuses_a_bigger_file_at_once(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    anna.client.set_incoming_folder(str(tmp_path / "anna-in"))
    anna.client.set_transfer_size_limit(1000)
    _, guest = await session_between(anna, ben, FILES)
    sent = await ben.client.send_file(guest.session_id, str(random_file(tmp_path / "x", 1001)))
    done = await finished(ben, sent.transfer_id)
    assert done.state is TransferState.FAILED and "size limit of 1000 bytes" in done.reason
    anna.client.set_transfer_size_limit(None)
    sent = await ben.client.send_file(guest.session_id, str(tmp_path / "x"))
    done = await finished(ben, sent.transfer_id)
    assert done.state is TransferState.DONE
    assert listing(tmp_path / "anna-in") == ["x"]


@pytest.mark.parametrize("folder", ["relative/in", "", "/a\x00b"])
async def test_a_folder_that_is_not_absolute_is_refused_and_the_old_one_stays(
    tmp_path: Path, folder: str
) -> None:
    db = Database.open(tmp_path / "db.sqlite")
    try:
        client, features = client_on(db, tmp_path)
        client.set_incoming_folder(str(tmp_path / "in"))
        with pytest.raises(ActionRefused):
            client.set_incoming_folder(folder)
        with pytest.raises(ActionRefused):
            client.set_transfer_size_limit(0)
        transfers = features.transfers
        assert transfers.incoming_folder == tmp_path / "in"
        client.set_incoming_folder(None)
        assert transfers.incoming_folder == default_incoming_folder()
    finally:
        db.close()


async def test_a_damaged_stored_folder_falls_back_to_downloads_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database.open(tmp_path / "db.sqlite")
    try:
        edit = sqlite3.connect(tmp_path / "db.sqlite")  # someone edited the table by hand
        with edit:
            edit.execute(
                "INSERT INTO settings (key, value) VALUES ('incoming_folder', '42'), "
                "('transfer_size_limit', '\"big\"')"
            )
        edit.close()
        with caplog.at_level(logging.WARNING):
            transfers = client_on(db, tmp_path)[1].transfers
        assert transfers.incoming_folder == default_incoming_folder()
        assert "incoming_folder" in caplog.text and "transfer_size_limit" in caplog.text
    finally:
        db.close()
