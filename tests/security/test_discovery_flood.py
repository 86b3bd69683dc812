"""Security suite, discovery: a flood of fake records cannot grow memory without limit. TXT
records are bounded in size and key count, and the number of devices listed is capped."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest
from zeroconf.asyncio import AsyncZeroconf

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.policy import DiscoveryMode
from anydesk_invite.net.discovery import Discovery
from anydesk_invite.net.records import MAX_TXT_BYTES, TxtError, parse_txt
from tests.net.test_discovery import (
    LOOPBACK,
    LogWatch,
    Watcher,
    _good_txt,
    _record,
    _register_raw,
    _tag,
    discovery_log,
    raw_zc,
)

__all__ = ["discovery_log", "raw_zc"]  # fixtures shared with tests/net/test_discovery.py


def _txt(fp: bytes, **extra: bytes) -> dict[bytes, bytes | None]:
    good: dict[bytes, bytes | None] = {k.encode(): v.encode() for k, v in _good_txt(fp).items()}
    return good | {k.encode(): v for k, v in extra.items()}


def test_a_txt_record_of_eight_kilobytes_is_refused() -> None:
    fp = os.urandom(32)
    assert parse_txt(_txt(fp))[1] == DeviceId.from_fingerprint(fp)
    with pytest.raises(TxtError, match=f"at most {MAX_TXT_BYTES}"):
        parse_txt(_txt(fp, pad=b"x" * 8000))


def test_a_txt_record_with_many_keys_is_refused() -> None:
    fp = os.urandom(32)
    with pytest.raises(TxtError, match="keys"):
        parse_txt(_txt(fp, **{f"k{i}": b"" for i in range(40)}))


@pytest.fixture
async def capped() -> AsyncIterator[Watcher]:
    fp = os.urandom(32)
    d = Discovery(LOOPBACK, fp, instance_tag=_tag(), max_listed=3)
    await d.start(DiscoveryMode.HIDDEN, _record(fp))
    yield Watcher(d, fp)
    await d.stop()


async def test_a_flood_of_fake_records_lists_at_most_the_cap_of_devices(
    capped: Watcher, raw_zc: AsyncZeroconf, discovery_log: LogWatch
) -> None:
    fps = [os.urandom(32) for _ in range(8)]
    await asyncio.gather(*(_register_raw(raw_zc, _good_txt(fp)) for fp in fps))
    await discovery_log.until_line_with("ignored record", "devices listed already")
    assert len(capped.discovery.peers()) <= 3
    assert len([fp for fp in fps if capped.listed(fp)]) <= 3
