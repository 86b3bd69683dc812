"""Discovery over real zeroconf on 127.0.0.1: in one process and across two processes."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

import pytest
from zeroconf import ServiceInfo
from zeroconf.asyncio import AsyncZeroconf

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.policy import DiscoveryMode
from anydesk_invite.net.discovery import SERVICE_TYPE, Discovery
from anydesk_invite.net.records import DiscoveredPeer, OwnRecord, TxtError, parse_txt

LOOPBACK = ["127.0.0.1"]
WAIT = 10.0  # generous ceiling for "is found"; typical is well under a second
SRC = Path(__file__).resolve().parents[2]


def _fingerprint() -> bytes:
    return os.urandom(32)


def _tag() -> str:
    # Other test runs on this machine share 127.0.0.1's mDNS: keep our names our own.
    return f"-t{uuid.uuid4().hex[:8]}"


def _record(fp: bytes, alias: str = "alice@ad", port: int = 40000) -> OwnRecord:
    return OwnRecord(DeviceId.from_fingerprint(fp), alias, fp, port)


class Watcher:
    """Records what one Discovery reports and lets a test wait for a condition on it."""

    def __init__(self, discovery: Discovery, fp: bytes) -> None:
        self.discovery = discovery
        self.fp = fp
        self.seen: list[DiscoveredPeer] = []
        self.gone: list[bytes] = []
        self.conflicts: list[DeviceId] = []
        self._changed = asyncio.Event()
        discovery.peer_seen.connect(self._on(self.seen))
        discovery.peer_gone.connect(self._on(self.gone))
        discovery.conflict.connect(self._on(self.conflicts))

    def _on(self, into: list[object]) -> Callable[[object], None]:
        def slot(payload: object) -> None:
            into.append(payload)
            self._changed.set()

        return slot

    def listed(self, fp: bytes) -> DiscoveredPeer | None:
        return next((p for p in self.discovery.peers() if p.fingerprint == fp), None)

    async def until(self, condition: Callable[[], object], timeout: float = WAIT) -> None:
        async def wait() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)


class Peers:
    """Makes Discovery objects on 127.0.0.1 and stops every one of them at the end."""

    def __init__(self) -> None:
        self.started: list[Discovery] = []

    async def start(
        self,
        mode: DiscoveryMode = DiscoveryMode.ON,
        *,
        fp: bytes | None = None,
        alias: str = "alice@ad",
        offline_after: float = 15.0,
    ) -> Watcher:
        fp = fp or _fingerprint()
        d = Discovery(LOOPBACK, fp, instance_tag=_tag(), offline_after=offline_after)
        w = Watcher(d, fp)
        self.started.append(d)
        await d.start(mode, _record(fp, alias))
        return w


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    p = Peers()
    yield p
    await asyncio.gather(*(d.stop() for d in p.started))


class LogWatch(logging.Handler):
    """Collects the discovery module's log lines; a test waits for one naming its record."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self.event.set()

    async def until_line_with(self, *parts: str, timeout: float = WAIT) -> str:
        async def wait() -> str:
            while True:
                for line in self.lines:
                    if all(p in line for p in parts):
                        return line
                self.event.clear()
                await self.event.wait()

        return await asyncio.wait_for(wait(), timeout)


@pytest.fixture
def discovery_log() -> AsyncIterator[LogWatch]:
    logger = logging.getLogger("anydesk_invite.net.discovery")
    handler = LogWatch()
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield handler  # type: ignore[misc]
    logger.removeHandler(handler)
    logger.setLevel(old_level)


@pytest.fixture
async def raw_zc() -> AsyncIterator[AsyncZeroconf]:
    zc = AsyncZeroconf(interfaces=LOOPBACK)
    yield zc
    await zc.async_close()


def _good_txt(fp: bytes, alias: str = "raw@ad") -> dict[str, str]:
    return {"v": "1.0", "id": str(DeviceId.from_fingerprint(fp)), "alias": alias, "fp": fp.hex()}


async def _register_raw(
    zc: AsyncZeroconf,
    properties: Mapping[str | bytes, str | bytes | None] | bytes,
    *,
    address: str = "127.0.0.1",
) -> str:
    label = f"raw{_tag()}"
    info = ServiceInfo(
        SERVICE_TYPE,
        f"{label}.{SERVICE_TYPE}",
        port=40001,
        properties=properties if isinstance(properties, bytes) else dict(properties),
        server=f"{label}.local.",
        parsed_addresses=[address],
    )
    await zc.async_register_service(info, cooperating_responders=True)
    return info.name


# -- found, updated, gone ---------------------------------------------------------------------


async def test_two_peers_find_each_other(peers: Peers) -> None:
    wa = await peers.start(alias="alice@ad")
    wb = await peers.start(alias="bob@ad")
    await wa.until(lambda: wa.listed(wb.fp))
    await wb.until(lambda: wb.listed(wa.fp))
    seen = wa.listed(wb.fp)
    assert seen is not None
    assert seen.alias == "bob@ad"
    assert seen.device_id == DeviceId.from_fingerprint(wb.fp)
    assert seen.addresses == ("127.0.0.1",)
    assert seen.port == 40000
    assert seen.version == "1.0"
    assert seen.instance.startswith(f"bob@ad-{wb.fp.hex()[:12]}-t")


async def test_a_client_started_later_finds_running_peers_within_a_second(peers: Peers) -> None:
    wb = await peers.start()
    wc = await peers.start()
    await wc.until(lambda: wc.listed(wb.fp))
    # b's announcements are over: the newcomer finds b only by asking, and b's multicast
    # answer must reach it although several sockets share 127.0.0.1:5353.
    wa = await peers.start(DiscoveryMode.HIDDEN)
    await wa.until(lambda: wa.listed(wb.fp), timeout=1.0)


async def test_own_record_is_not_listed(peers: Peers) -> None:
    wa = await peers.start()
    wb = await peers.start()
    await wa.until(lambda: wa.listed(wb.fp))
    await wb.until(lambda: wb.listed(wa.fp))
    assert wa.listed(wa.fp) is None
    assert wa.fp not in [p.fingerprint for p in wa.seen]


async def test_alias_update_is_seen_without_the_peer_going_away(peers: Peers) -> None:
    wa = await peers.start()
    wb = await peers.start(alias="bob@ad")
    await wa.until(lambda: wa.listed(wb.fp))
    await wb.discovery.update_record(_record(wb.fp, "Robert@ad"))
    await wa.until(lambda: (p := wa.listed(wb.fp)) is not None and p.alias == "Robert@ad")
    peer = wa.listed(wb.fp)
    assert peer is not None
    assert peer.instance.startswith("Robert@ad-")
    assert wb.fp not in wa.gone
    assert [p.fingerprint for p in wa.discovery.peers()].count(wb.fp) == 1


async def test_port_update_is_seen(peers: Peers) -> None:
    wa = await peers.start()
    wb = await peers.start()
    await wa.until(lambda: wa.listed(wb.fp))
    await wb.discovery.update_record(_record(wb.fp, "alice@ad", port=40123))
    await wa.until(lambda: (p := wa.listed(wb.fp)) is not None and p.port == 40123)
    assert wb.fp not in wa.gone


async def test_stop_says_goodbye_and_the_peer_is_gone_within_a_second(peers: Peers) -> None:
    wa = await peers.start()
    wb = await peers.start()
    await wa.until(lambda: wa.listed(wb.fp))
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    stopping = asyncio.create_task(wb.discovery.stop())
    await wa.until(lambda: wb.fp in wa.gone, timeout=2.0)
    elapsed = loop.time() - t0
    await stopping
    assert elapsed <= 1.0
    assert wa.listed(wb.fp) is None


async def test_switching_to_hidden_says_goodbye(peers: Peers) -> None:
    wa = await peers.start()
    wb = await peers.start()
    await wa.until(lambda: wa.listed(wb.fp))
    await wb.discovery.set_mode(DiscoveryMode.HIDDEN)
    await wa.until(lambda: wb.fp in wa.gone, timeout=2.0)
    # Hidden still browses: b keeps seeing a.
    assert wb.listed(wa.fp) is not None


# -- hidden and off ---------------------------------------------------------------------------


async def test_hidden_browses_but_is_not_seen_by_others(peers: Peers) -> None:
    wh = await peers.start(DiscoveryMode.HIDDEN)
    wa = await peers.start()
    await wh.until(lambda: wh.listed(wa.fp))
    # A peer that started after the hidden one is already seen by a: had the hidden one
    # announced, a would have it too.
    wc = await peers.start()
    await wa.until(lambda: wa.listed(wc.fp))
    assert wa.listed(wh.fp) is None
    assert wh.discovery.mode is DiscoveryMode.HIDDEN


async def test_off_neither_browses_nor_announces(peers: Peers) -> None:
    woff = await peers.start(DiscoveryMode.OFF)
    wa = await peers.start()
    wc = await peers.start()
    await wa.until(lambda: wa.listed(wc.fp))
    await wc.until(lambda: wc.listed(wa.fp))
    assert woff.discovery.peers() == []
    assert woff.seen == []
    assert wa.listed(woff.fp) is None


async def test_off_after_on_drops_every_peer_and_on_again_finds_them(peers: Peers) -> None:
    wa = await peers.start()
    wb = await peers.start()
    await wa.until(lambda: wa.listed(wb.fp))
    await wa.discovery.set_mode(DiscoveryMode.OFF)
    assert wb.fp in wa.gone
    assert wa.discovery.peers() == []
    await wb.until(lambda: wa.fp in wb.gone, timeout=2.0)
    # A record changed while off is what goes out when on again. (It also makes the new
    # announcement differ from the old: zeroconf drops a byte-identical packet repeated
    # within 0.8 s, and the peer would then be found a second or two later, by a question.)
    await wa.discovery.update_record(_record(wa.fp, port=40999))
    await wa.discovery.set_mode(DiscoveryMode.ON)
    await wa.until(lambda: wa.listed(wb.fp), timeout=1.0)
    await wb.until(lambda: (p := wb.listed(wa.fp)) is not None and p.port == 40999, timeout=1.0)


# -- what a record may claim ------------------------------------------------------------------


async def test_two_keys_claiming_one_id_are_flagged(peers: Peers) -> None:
    wa = await peers.start()
    # The ID derives from the first eight bytes: a searched-for key can share it.
    f1 = _fingerprint()
    f2 = f1[:8] + bytes(b ^ 0xFF for b in f1[8:])
    assert DeviceId.from_fingerprint(f1) == DeviceId.from_fingerprint(f2)
    await peers.start(fp=f1, alias="real@ad")
    await peers.start(fp=f2, alias="impostor@ad")
    shared = DeviceId.from_fingerprint(f1)
    await wa.until(lambda: shared in wa.conflicts)
    await wa.until(lambda: wa.listed(f1) and wa.listed(f2))
    assert wa.conflicts == [shared]
    assert wa.discovery.conflicts() == {shared}


@pytest.mark.parametrize(
    ("name", "txt", "reason"),
    [
        ("missing fp", lambda fp: {k: v for k, v in _good_txt(fp).items() if k != "fp"}, "'fp'"),
        ("fp not hex", lambda fp: _good_txt(fp) | {"fp": "zz" * 32}, "not hex"),
        ("fp short", lambda fp: _good_txt(fp) | {"fp": fp.hex()[:40]}, "64 hex digits"),
        ("bad check digit", lambda fp: _good_txt(fp) | {"id": "1234567890"}, "bad ID"),
        (
            "id of another key",
            lambda fp: _good_txt(fp) | {"id": str(DeviceId.from_fingerprint(_fingerprint()))},
            "does not derive",
        ),
        ("alias too long", lambda fp: _good_txt(fp) | {"alias": "a" * 40 + "@ad"}, "at most"),
        ("alias not utf-8", lambda fp: _good_txt(fp) | {"alias": b"\xff\xfe@ad"}, "UTF-8"),
        ("alias only controls", lambda fp: _good_txt(fp) | {"alias": "\x00\u202e"}, "not an alias"),
        ("alias with bidi", lambda fp: _good_txt(fp) | {"alias": "ev\u202eil@ad"}, "not an alias"),
        ("alias all digits", lambda fp: _good_txt(fp) | {"alias": "1234567890@ad"}, "digits"),
        ("no version", lambda fp: {k: v for k, v in _good_txt(fp).items() if k != "v"}, "'v'"),
        ("bad version", lambda fp: _good_txt(fp) | {"v": "one"}, "version"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_a_malformed_txt_record_is_ignored_with_a_logged_reason(
    peers: Peers,
    raw_zc: AsyncZeroconf,
    discovery_log: LogWatch,
    name: str,
    txt: Callable[[bytes], dict[str, str | bytes]],
    reason: str,
) -> None:
    wa = await peers.start()
    fp = _fingerprint()
    instance = await _register_raw(raw_zc, txt(fp))
    line = await discovery_log.until_line_with("ignored record", instance.split(".")[0])
    assert reason in line
    assert wa.listed(fp) is None
    assert wa.seen == [] or fp not in [p.fingerprint for p in wa.seen]


async def test_a_record_pointing_off_our_subnets_is_ignored(
    peers: Peers, raw_zc: AsyncZeroconf, discovery_log: LogWatch
) -> None:
    wa = await peers.start()
    fp = _fingerprint()
    instance = await _register_raw(raw_zc, _good_txt(fp), address="192.168.77.9")
    line = await discovery_log.until_line_with("ignored record", instance.split(".")[0])
    assert "subnets" in line
    assert wa.listed(fp) is None


def test_parse_txt_accepts_a_good_record_whatever_the_key_case() -> None:
    fp = _fingerprint()
    props = {k.upper().encode(): v.encode() for k, v in _good_txt(fp, "Zoe@ad").items()}
    version, device_id, alias, fingerprint = parse_txt(props)
    assert (version, device_id, alias, fingerprint) == (
        "1.0",
        DeviceId.from_fingerprint(fp),
        "Zoe@ad",
        fp,
    )


def test_parse_txt_refuses_a_key_without_value() -> None:
    fp = _fingerprint()
    props: dict[bytes, bytes | None] = {k.encode(): v.encode() for k, v in _good_txt(fp).items()}
    props[b"fp"] = None
    with pytest.raises(TxtError, match="'fp'"):
        parse_txt(props)


def test_discovery_needs_explicit_interfaces() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Discovery([], _fingerprint())
    with pytest.raises(ValueError, match="IP address"):
        Discovery(["eth0"], _fingerprint())


# -- peers that vanish ------------------------------------------------------------------------


async def test_a_live_peer_stays_listed_past_offline_after(
    peers: Peers, raw_zc: AsyncZeroconf
) -> None:
    offline_after = 2.0
    wa = await peers.start(offline_after=offline_after)
    # A bare responder: it browses nothing, and a's browser already knows its PTR record
    # (known answers suppress the reply), so only a's liveness questions get it heard.
    fp = _fingerprint()
    await _register_raw(raw_zc, _good_txt(fp))
    await wa.until(lambda: wa.listed(fp))
    # Nothing happens when all is well, so wait out a span longer than offline_after.
    with pytest.raises(TimeoutError):
        await wa.until(lambda: fp in wa.gone, timeout=offline_after + 0.5)
    assert wa.listed(fp) is not None


_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from anydesk_invite.core.ids import DeviceId
    from anydesk_invite.core.policy import DiscoveryMode
    from anydesk_invite.net.discovery import Discovery
    from anydesk_invite.net.records import OwnRecord

    async def main() -> None:
        fp = bytes.fromhex(sys.argv[1])
        d = Discovery(["127.0.0.1"], fp, instance_tag=sys.argv[2])
        record = OwnRecord(DeviceId.from_fingerprint(fp), "child@ad", fp, 40002)
        await d.start(DiscoveryMode.ON, record)
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


async def test_a_peer_in_another_process_is_found_and_gone_soon_after_sigkill(
    peers: Peers,
) -> None:
    offline_after = 2.0
    wa = await peers.start(offline_after=offline_after)
    fchild = _fingerprint()
    env = dict(os.environ, PYTHONPATH=str(SRC))
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD,
        fchild.hex(),
        _tag(),
        env=env,
        stdout=subprocess.PIPE,
    )
    try:
        await wa.until(lambda: wa.listed(fchild))
        child.send_signal(signal.SIGKILL)
        await child.wait()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await wa.until(lambda: fchild in wa.gone, timeout=offline_after + 3)
        elapsed = loop.time() - t0
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    # Silence is counted from the last answer, which came before the kill.
    assert elapsed <= offline_after
    assert wa.listed(fchild) is None
