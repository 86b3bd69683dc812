"""Security suite, the log: with --verbose a line about a peer's message names its type and
sizes, never its content; library debug output (which carries frames and callbacks with their
arguments) stays off; the log is bounded in rate and line length."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from anydesk_invite.logs import LOG_BURST, LOG_LINE_MAX, BoundedLog, setup_logging
from anydesk_invite.net.wire import Chat, FileChunk, describe

SECRET = "tile-payload-7f3a"


@pytest.fixture
def fresh_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = ("anydesk_invite", "qasync", "asyncio", "zeroconf")
    levels = {n: logging.getLogger(n).level for n in names}
    yield
    for h in root.handlers:
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)
    for n, lvl in levels.items():
        logging.getLogger(n).setLevel(lvl)


def test_a_verbose_log_has_the_clients_debug_lines_but_no_library_debug_payloads(
    tmp_path: Path, fresh_logging: None
) -> None:
    log = tmp_path / "logs" / "anydesk-invite.log"
    setup_logging(log, True, stderr=False)
    logging.getLogger("anydesk_invite.services.links").debug("a line of ours")
    # What qasync logs at debug for every call it hands a thread, and asyncio for callbacks.
    logging.getLogger("qasync._QThreadWorker").debug("got callback with args (%r,)", SECRET)
    logging.getLogger("asyncio").debug("Calling handle %s", SECRET)
    text = log.read_text()
    assert "a line of ours" in text
    assert SECRET not in text


def test_a_log_line_about_a_peers_message_names_its_type_and_sizes_only() -> None:
    assert describe(Chat(SECRET)) == f"Chat(text: {len(SECRET)} characters)"
    line = describe(FileChunk(b"\x01" * 16, 0, SECRET.encode() * 10))
    assert line.startswith("FileChunk(")
    assert "170 bytes" in line
    assert SECRET not in line


def test_the_log_is_bounded_in_rate_and_says_how_many_lines_it_dropped() -> None:
    now = [0.0]
    bounded = BoundedLog(rate=10.0, burst=LOG_BURST, clock=lambda: now[0])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "line", None, None)
    passed = sum(bounded.filter(logging.makeLogRecord(record.__dict__)) for _ in range(10_000))
    assert passed == LOG_BURST
    now[0] += 1.0
    later = logging.makeLogRecord(record.__dict__)
    assert bounded.filter(later)
    assert f"{10_000 - LOG_BURST} log lines dropped" in later.getMessage()


def test_a_long_log_message_is_cut() -> None:
    bounded = BoundedLog()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", ("x" * 100_000,), None)
    assert bounded.filter(record)
    assert len(record.getMessage()) < LOG_LINE_MAX + 100
