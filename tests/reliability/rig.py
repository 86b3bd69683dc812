"""What the fault and load tests share: a raw authenticated peer, an event-loop stall probe,
a watch on handler failures, and figures that are printed and, for scripts/reliability.py,
written to the file named by ADI_RELIABILITY_REPORT.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import ssl
from dataclasses import dataclass, field

from anydesk_invite.core.ids import fingerprint_of
from anydesk_invite.net.handshake import auth_transcript
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.wire import (
    HEADER,
    PROTOCOL_VERSION,
    Auth,
    AuthOk,
    Hello,
    Message,
    Ping,
    Pong,
    frame,
)
from tests.helpers.peers import RawPeer

REPORT_ENV = "ADI_RELIABILITY_REPORT"
SCALE_ENV = "ADI_RELIABILITY_SCALE"


def scale() -> int:
    """How much heavier than in CI a run should be (scripts/reliability.py sets it)."""
    try:
        return max(1, int(os.environ.get(SCALE_ENV, "1")))
    except ValueError:
        return 1


def record(case: str, name: str, value: float, unit: str) -> None:
    """Print a measured figure; append it to the report file when a run collects them."""
    print(f"\n[figure] {case}: {name} = {value:.3f} {unit}")
    path = os.environ.get(REPORT_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"case": case, "name": name, "value": value, "unit": unit}))
            out.write("\n")


class AuthenticatedRawPeer:
    """A peer that finishes the real handshake by hand, then writes whatever bytes it likes."""

    def __init__(self, raw: RawPeer, identity: Identity) -> None:
        self.raw = raw
        self.identity = identity
        self._seq = 0

    @classmethod
    async def connect(
        cls, address: tuple[str, int], identity: Identity | None = None, source: str | None = None
    ) -> AuthenticatedRawPeer:
        me = identity or Identity.generate()
        raw = await RawPeer.connect(address, source=source)
        nonce = os.urandom(32)
        raw.send(Hello(PROTOCOL_VERSION, me.public_key_der, me.device_id.digits, "raw@ad", nonce))
        hello = await raw.read()
        assert isinstance(hello, Hello), hello
        signed = auth_transcript(
            fingerprint_of(hello.public_key), me.fingerprint, hello.nonce, nonce
        )
        raw.send(Auth(me.sign(signed)))
        assert isinstance(await raw.read(), AuthOk)
        raw.decoder.authenticated(PROTOCOL_VERSION)
        return cls(raw, me)

    def send_bytes(self, data: bytes) -> None:
        self.raw.send_bytes(data)

    def send(self, msg: Message) -> None:
        self.raw.send_bytes(frame(msg))

    async def alive(self, timeout: float = 5.0) -> bool:
        """True when the other side still answers a Ping on this connection; False once it
        has closed it. Other messages that arrive meanwhile are read and dropped."""
        self._seq += 1
        seq = self._seq
        try:
            self.raw.send_bytes(frame(Ping(seq)))
            async with asyncio.timeout(timeout):
                while True:
                    header = await self.raw.reader.readexactly(HEADER.size)
                    # The replies of a well-behaved client always fit; read without a limit.
                    length = HEADER.unpack(header)[0]
                    body = await self.raw.reader.readexactly(length)
                    try:
                        msg = self.raw.decoder.decode(body)
                    except Exception:
                        continue
                    if isinstance(msg, Pong) and msg.seq == seq:
                        return True
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError):
            return False

    async def drain(self) -> int:
        """Read and drop everything the other side sends until it closes; the frame count."""
        count = 0
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            while True:
                header = await self.raw.reader.readexactly(HEADER.size)
                await self.raw.reader.readexactly(HEADER.unpack(header)[0])
                count += 1
        return count

    async def close(self) -> None:
        await self.raw.close()


@dataclass
class StallProbe:
    """Measures how late the event loop wakes a task that sleeps ``period`` seconds."""

    period: float = 0.005
    worst: float = 0.0
    samples: int = 0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(self.period)
            late = loop.time() - start - self.period
            self.samples += 1
            self.worst = max(self.worst, late)

    def __enter__(self) -> StallProbe:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="stall-probe")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


class HandlerFailures(logging.Handler):
    """Collects every log record that carries an exception: a handler or listener bug."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info is not None:
            self.records.append(record)

    def texts(self) -> list[str]:
        return [
            f"{r.name}: {r.getMessage()}\n{logging.Formatter().formatException(r.exc_info)}"
            for r in self.records
            if r.exc_info
        ]

    def __enter__(self) -> HandlerFailures:
        logging.getLogger("anydesk_invite").addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("anydesk_invite").removeHandler(self)
