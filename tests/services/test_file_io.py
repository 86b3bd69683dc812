"""The disk side of a file transfer against a real file system: the sender's reader stays a
bounded distance ahead of what went out, a file cut short while it is read ends early rather
than with bytes it never had, and a receiver that can write only part of a file fails the
transfer instead of keeping a short file as complete."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import Permission
from anydesk_invite.services.sessions.file_io import CHUNK, READ_AHEAD, READ_BLOCK, FileReader
from anydesk_invite.services.views import TransferState
from tests.helpers.file_offsets import offset_is
from tests.helpers.nodes import Nodes, eventually, nodes_for, session_between

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/fdinfo").is_dir(), reason="reads file offsets from /proc (Linux)"
)


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[Nodes]:
    async for n in nodes_for(tmp_path):
        yield n


async def test_the_reader_stays_at_most_its_read_ahead_in_front_of_what_was_sent(
    tmp_path: Path,
) -> None:
    path = tmp_path / "big.bin"
    with path.open("wb") as f:
        f.truncate(16 * READ_BLOCK)  # sparse: reads cost no disk
    st = path.stat()
    reader = FileReader(path, st.st_size, st.st_mtime_ns)
    try:
        # Nothing taken yet: READ_AHEAD blocks are read and the thread waits for room.
        await eventually(lambda: offset_is(path, READ_AHEAD * READ_BLOCK))
        for _ in range(READ_BLOCK // CHUNK):  # the first block goes out: one block more
            assert len(await reader.next()) == CHUNK
        await eventually(lambda: offset_is(path, (READ_AHEAD + 1) * READ_BLOCK))
    finally:
        reader.stop()


async def test_a_file_cut_short_while_it_is_read_ends_early_with_nothing_made_up(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shrinks.bin"
    path.write_bytes(os.urandom(3 * READ_BLOCK))
    st = path.stat()
    reader = FileReader(path, st.st_size, st.st_mtime_ns)
    try:
        await eventually(lambda: offset_is(path, READ_AHEAD * READ_BLOCK))
        os.truncate(path, READ_AHEAD * READ_BLOCK)  # cut behind what was read already
        got = 0
        while chunk := await reader.next():
            got += len(chunk)
        assert got == READ_AHEAD * READ_BLOCK
    finally:
        reader.stop()


@contextlib.contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Writes past ``limit`` bytes into any file fail (EFBIG), as on a full quota."""
    old = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, old[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old)
        signal.signal(signal.SIGXFSZ, handler)


async def test_a_receiver_that_can_write_only_part_of_a_file_fails_it_and_keeps_nothing(
    nodes: Nodes, tmp_path: Path
) -> None:
    anna, ben = await nodes.pair()
    folder = tmp_path / "anna-in"
    anna.client.set_incoming_folder(str(folder))
    _host, guest = await session_between(anna, ben, frozenset({Permission.FILE_TRANSFER}))
    (tmp_path / "big.bin").write_bytes(os.urandom(2 * CHUNK + 1000))
    with file_size_limit(2 * CHUNK + 500):  # the last write crosses it: cut short, then EFBIG
        sent = await ben.client.send_file(guest.session_id, str(tmp_path / "big.bin"))
        await eventually(
            lambda: any(t.transfer_id == sent.transfer_id for t in anna.client.transfers())
        )
        view = await asyncio.wait_for(anna.client.wait_transfer(sent.transfer_id), 10)
    assert view.state is TransferState.FAILED
    assert view.reason == "cannot write the file: File too large"
    assert list(folder.iterdir()) == []
