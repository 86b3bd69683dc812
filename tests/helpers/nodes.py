"""Whole clients in one process, built as app.py builds them.

Each node has its own database in tmp_path, a fresh identity, a ManualClock for invitation
expiry, pinned-key trust and a session service with real system information and an in-memory
clipboard. Discovery is off: peers find each other through address-book entries with a manual
address, as on a network where multicast is blocked.

The nodes of one ``Nodes`` talk over an in-memory network (net/memory.py: the same channels,
without TCP and TLS) unless it is made with ``tls=True``: then over real TLS on 127.0.0.1, as
tests of the channel itself, of the listener's caps, of descriptors or of bytes on the wire
need.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from anydesk_invite.compose import compose_client
from anydesk_invite.core.alias import parse_alias
from anydesk_invite.core.clock import ManualClock
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.policy import AcceptFrom, DiscoveryMode, Policy
from anydesk_invite.core.signal import Signal
from anydesk_invite.desktop.system_info import DesktopSystemInfo
from anydesk_invite.net.channel import Channel, PeerInfo
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.memory import MemoryNetwork
from anydesk_invite.net.network import ChannelListener, Network, TlsNetwork
from anydesk_invite.net.records import DiscoveredPeer
from anydesk_invite.services.client import Client
from anydesk_invite.services.facade import Settings
from anydesk_invite.services.ports import DesktopAccess, InputSink, ScreenSource, VideoCodec
from anydesk_invite.services.sessions.feature_set import SessionFeatures
from anydesk_invite.services.trust import PinnedTrust
from anydesk_invite.services.views import InvitationView, SessionView, TransferView
from anydesk_invite.storage.contacts import AddressEntry
from anydesk_invite.storage.db import Database

LOOPBACK = "127.0.0.1"
T = TypeVar("T")


async def eventually(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait until the predicate holds; fail with its source position after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        await asyncio.sleep(0.01)


class Recorder(Generic[T]):
    """Every payload a signal emitted, with a way to wait for the n-th one."""

    def __init__(self, signal: Signal[T]) -> None:
        self.items: list[T] = []
        signal.connect(self.items.append)

    async def wait(self, count: int = 1, timeout: float = 5.0) -> T:
        await eventually(lambda: len(self.items) >= count, timeout)
        return self.items[count - 1]


class MemoryClipboard:
    """The local clipboard of a node (the Qt clipboard needs a GUI application)."""

    def __init__(self) -> None:
        self.content = ""
        self.writes: list[str] = []
        self.changed: Signal[str] = Signal("clipboard.changed")

    def text(self) -> str:
        return self.content

    def set_text(self, text: str) -> None:
        self.content = text
        self.writes.append(text)
        # As QClipboard.dataChanged, which also fires for the application's own writes.
        self.changed.emit(text)

    def user_copies(self, text: str) -> None:
        """The local user copies text (not a write from a peer)."""
        self.content = text
        self.changed.emit(text)


class AcceptAll:
    """A trust store for raw test peers: every authenticated key is fine."""

    def check(self, peer: PeerInfo) -> None:
        pass


@dataclass
class Node:
    """One running client and what a test needs to steer it."""

    name: str
    client: Client
    listener: ChannelListener
    network: Network
    identity: Identity
    db: Database
    clock: ManualClock
    trust: PinnedTrust
    clipboard: MemoryClipboard
    features: SessionFeatures
    """What sessions carry, built here as app.py builds them: a test sets up what app.py would
    (a host that cannot show drawings, the pace of transfer reports)."""
    port: int
    limits: Limits
    policy: Policy = field(default_factory=Policy)
    received: Recorder[InvitationView] = field(init=False)
    started: Recorder[SessionView] = field(init=False)
    warnings: Recorder[str] = field(init=False)
    stopped: bool = False

    def __post_init__(self) -> None:
        self.received = Recorder(self.client.invitation_received)
        self.started = Recorder(self.client.session_started)
        self.warnings = Recorder(self.client.warning)

    @property
    def alias(self) -> str:
        return self.client.alias

    @property
    def device_id(self) -> str:
        return self.identity.device_id.digits

    @property
    def manual_address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def knows(self, other: Node, *, fingerprint: bool = True, alias: bool = True) -> None:
        """Put ``other`` in this node's address book with its manual address."""
        self.db.address_book.add(
            AddressEntry(
                other.identity.device_id,
                parse_alias(other.alias) if alias else None,
                manual_address=other.manual_address,
                fingerprint=other.identity.fingerprint if fingerprint else None,
            )
        )

    async def set_accept_from(self, mode: AcceptFrom) -> None:
        s = self.client.settings()
        await self.client.update_settings(
            Settings(s.alias, mode, s.discovery, s.interfaces, s.default_profile)
        )

    def invitation(self, invitation_id: str) -> InvitationView:
        [view] = [v for v in self.client.invitations() if v.invitation_id == invitation_id]
        return view

    def transfer(self, transfer_id: str) -> TransferView:
        [view] = [t for t in self.client.transfers() if t.transfer_id == transfer_id]
        return view

    def state(self, invitation_id: str) -> str:
        return self.invitation(invitation_id).state.value

    def tick(self) -> None:
        """Expire what is past its deadline on this node's clock now, as the client's ticker
        does every 0.25 s: a test that advanced the clock need not wait for it."""
        self.client.invitation_service.tick()

    def seen_on_lan(self, identity: Identity, alias: str, port: int, instance: str = "") -> None:
        """LAN discovery finds a device with this key and alias at 127.0.0.1:``port``, as
        Discovery reports it (discovery itself is off in these nodes)."""
        self.client.directory.discovered(
            DiscoveredPeer(
                identity.device_id,
                alias,
                identity.fingerprint,
                (LOOPBACK,),
                port,
                "1",
                instance or alias,
            )
        )

    def session_channel(self, session_id: str) -> Channel:
        """The channel this node's session runs on, for a test that sends on it what this
        client never would (no front end has a channel: the one reach past the facade)."""
        return self.client.sessions_service.find(session_id).channel

    async def dial_raw(self, identity: Identity | None = None, alias: str = "raw@ad") -> Channel:
        """An authenticated channel to this node from a bare identity (no client behind it)."""
        return await self.network.dial(
            identity or Identity.generate(),
            alias,
            LOOPBACK,
            self.port,
            expected_fingerprint=self.identity.fingerprint,
            trust=AcceptAll(),
            limits=self.limits,
        )

    async def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        await self.client.stop()
        await self.listener.stop()
        self.db.close()


class Nodes:
    """Makes nodes in a temporary folder and stops them all at the end of a test; they talk
    in memory, or over real TLS on 127.0.0.1 with ``tls=True``."""

    def __init__(self, tmp_path: Path, *, tls: bool = False) -> None:
        self._tmp = tmp_path
        self.network: Network = TlsNetwork() if tls else MemoryNetwork()
        self.all: list[Node] = []

    async def make(
        self,
        name: str,
        *,
        limits: Limits | None = None,
        policy: Policy | None = None,
        start: bool = True,
        input_sink: InputSink | None = None,
        screen: ScreenSource | None = None,
        desktop: DesktopAccess | None = None,
        screen_problem: str = "",
        video: VideoCodec | None = None,
    ) -> Node:
        folder = self._tmp / name
        folder.mkdir()
        db = Database.open(folder / "db.sqlite")
        identity = Identity.generate()
        clock = ManualClock()
        trust = PinnedTrust(db)
        clipboard = MemoryClipboard()
        holder: list[Node] = []

        def current_policy() -> Policy:
            return holder[0].policy if holder else (policy or Policy())

        features = SessionFeatures.build(
            clock,
            DesktopSystemInfo(),
            clipboard=clipboard,
            screen=screen,
            input_sink=input_sink,
            video=video,
        )
        features.screen.unavailable = screen_problem
        client = compose_client(
            identity=identity,
            db=db,
            clock=clock,
            wall=time.time,
            policy=current_policy,
            trust=trust,
            features=features,
            desktop=desktop,
            interfaces=(LOOPBACK,),
            discovery=None,
            discovery_mode=DiscoveryMode.OFF,
            key_location="keyring",
            key_warning=None,
            home=str(folder),
            default_alias=name,
            limits=limits,
            network=self.network,
        )
        trust.warning.connect(client.warning.emit)
        listener = self.network.listener(
            identity, lambda: client.alias, trust, client.on_channel, limits or Limits()
        )
        addresses = await listener.start([LOOPBACK])
        client.set_listening(addresses)
        node = Node(
            name,
            client,
            listener,
            self.network,
            identity,
            db,
            clock,
            trust,
            clipboard,
            features,
            addresses[0][1],
            limits or Limits(),
            policy or Policy(),
        )
        holder.append(node)
        self.all.append(node)
        s = client.settings()
        await client.update_settings(
            Settings(f"{name}@ad", s.accept_from, s.discovery, s.interfaces, s.default_profile)
        )
        if start:
            await client.start()
        return node

    async def pair(self, **kwargs: object) -> tuple[Node, Node]:
        """An inviter (anna) and an invitee (ben) who have each other in their address books."""
        a = await self.make("anna", **kwargs)  # type: ignore[arg-type]
        b = await self.make("ben", **kwargs)  # type: ignore[arg-type]
        a.knows(b)
        b.knows(a)
        return a, b

    async def close(self) -> None:
        for node in reversed(self.all):
            await node.stop()


async def nodes_for(tmp_path: Path, *, tls: bool = False) -> AsyncIterator[Nodes]:
    """The body of a ``nodes`` fixture: yields a factory and stops every node it made (in
    memory, or over real TLS with ``tls=True``)."""
    nodes = Nodes(tmp_path, tls=tls)
    try:
        yield nodes
    finally:
        await nodes.close()


def outcomes(node: Node) -> list[tuple[str, str, str]]:
    """Recent Sessions of a node, oldest first, as (direction, kind, outcome)."""
    return [
        (r.direction.value, r.kind.value, r.outcome)
        for r in reversed(node.db.recent_sessions.list())
    ]


async def session_between(
    anna: Node, ben: Node, permissions: frozenset[Permission]
) -> tuple[SessionView, SessionView]:
    """Anna invites ben with these permissions and ben accepts: (host view, guest view)."""
    sent = await anna.client.invite(ben.device_id, permissions, "")
    await ben.received.wait()
    guest = await ben.client.accept(sent.invitation_id)
    await eventually(lambda: len(anna.client.sessions()) == 1)
    [host] = anna.client.sessions()
    return host, guest
