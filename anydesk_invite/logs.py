"""The client's log: the home's rotating file (and stderr with --verbose), bounded in rate and
line length whatever the peers make the client log, and never below WARNING for libraries
whose debug output would carry what they pass around."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import time
from collections.abc import Callable

LOG_LINES_PER_SECOND = 50.0
"""Sustained log lines per second; beyond a burst of LOG_BURST the rest are counted, not written."""
LOG_BURST = 500
LOG_LINE_MAX = 2000
"""Characters of one log message; a longer one is cut (a line never carries a payload)."""
QUIET_LOGGERS = ("asyncio", "qasync", "zeroconf", "PIL", "av")
"""Libraries whose debug output would carry what they pass around (bytes of frames and files
handed to threads, callbacks with their arguments): never below WARNING, even with --verbose."""


class BoundedLog(logging.Filter):
    """Bounds the log's rate and line length, whatever the peers make the client log.

    A token bucket: LOG_BURST lines at once, LOG_LINES_PER_SECOND sustained; lines over that are
    dropped and counted, and the next line written says how many were dropped.
    """

    def __init__(
        self,
        rate: float = LOG_LINES_PER_SECOND,
        burst: int = LOG_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__("bounded")
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self.dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens < 1 and record.levelno < logging.ERROR:
            self.dropped += 1
            return False
        self._tokens = max(0.0, self._tokens - 1)
        message = record.getMessage()
        if len(message) > LOG_LINE_MAX:
            message = message[:LOG_LINE_MAX] + f"... ({len(message)} characters)"
        if self.dropped:
            message += f" [{self.dropped} log lines dropped before this one: too many]"
            self.dropped = 0
        record.msg, record.args = message, None
        return True


def setup_logging(log_path: os.PathLike[str] | str, verbose: bool, *, stderr: bool = True) -> None:
    """Log to the home's rotating file (and stderr with --verbose), bounded in rate.

    --verbose turns on this client's own debug lines only: those about a peer's message name
    its type and sizes, never its content.
    """
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    logging.getLogger("anydesk_invite").setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    os.makedirs(os.path.dirname(os.fspath(log_path)), mode=0o700, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    bounded = BoundedLog()
    fh = logging.handlers.RotatingFileHandler(log_path, maxBytes=1_000_000, backupCount=3)
    fh.setFormatter(fmt)
    fh.addFilter(bounded)
    root.addHandler(fh)
    if verbose and stderr:
        sh = logging.StreamHandler(sys.stderr)
        sh.setFormatter(fmt)
        sh.addFilter(BoundedLog())
        root.addHandler(sh)
