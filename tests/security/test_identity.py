"""Security suite, who is who: discovery records, man-in-the-middle, dialler authentication,
pinned keys. Each test names the protection it pins; scripts/security_mutants.py switches the
protection off and shows the test failing."""

from __future__ import annotations

import asyncio
import os
import ssl
import uuid
from collections.abc import AsyncIterator

import pytest

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.policy import DiscoveryMode
from anydesk_invite.net.discovery import Discovery
from anydesk_invite.net.handshake import auth_transcript
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.records import DiscoveredPeer, OwnRecord, TxtError, parse_txt
from anydesk_invite.net.wire import PROTOCOL_VERSION, Auth, AuthOk, Error, Hello
from anydesk_invite.services.facade import ActionRefused
from anydesk_invite.services.links import Address
from anydesk_invite.services.views import PeerSource
from anydesk_invite.storage.contacts import AddressEntry
from anydesk_invite.storage.pins import PinnedPeer
from tests.helpers.nodes import LOOPBACK, Node, Nodes, eventually
from tests.helpers.peers import RawPeer

CONTROL = frozenset({Permission.CONTROL})


def same_id_other_key(fingerprint: bytes) -> bytes:
    """A fingerprint with the same ID: the ID derives from the first eight bytes only."""
    return fingerprint[:8] + bytes(b ^ 0xFF for b in fingerprint[8:])


def announced(port: int, fingerprint: bytes, device_id: DeviceId, alias: str) -> DiscoveredPeer:
    return DiscoveredPeer(device_id, alias, fingerprint, (LOOPBACK,), port, "1.0", "x")


# --- discovery records ------------------------------------------------------------------------


def test_discovery_drops_a_record_whose_id_does_not_derive_from_its_key() -> None:
    victim = Identity.generate()
    forged = {
        b"v": b"1.0",
        b"id": victim.device_id.digits.encode(),
        b"alias": b"victim@ad",
        b"fp": Identity.generate().fingerprint.hex().encode(),
    }
    with pytest.raises(TxtError, match="does not derive"):
        parse_txt(forged)


@pytest.fixture
async def announcers() -> AsyncIterator[list[Discovery]]:
    started: list[Discovery] = []
    yield started
    await asyncio.gather(*(d.stop() for d in started))


async def announce(started: list[Discovery], record: OwnRecord) -> None:
    d = Discovery([LOOPBACK], record.fingerprint, instance_tag=f"-s{uuid.uuid4().hex[:8]}")
    started.append(d)
    await d.start(DiscoveryMode.ON, record)


async def test_a_discovery_record_with_a_victims_id_and_alias_and_another_key_is_never_merged(
    nodes: Nodes, announcers: list[Discovery]
) -> None:
    anna = await nodes.make("anna")
    ben = await nodes.make("ben")
    ben.knows(anna)
    listening = Discovery([LOOPBACK], ben.identity.fingerprint, instance_tag="-ben")
    announcers.append(listening)
    listening.peer_seen.connect(ben.client.directory.discovered)
    await listening.start(DiscoveryMode.HIDDEN, OwnRecord(ben.identity.device_id, "b@ad", b"", 1))

    forged = Identity.generate().fingerprint
    await announce(announcers, OwnRecord(anna.identity.device_id, "anna@ad", forged, 40001))
    honest = Identity.generate()
    await announce(announcers, OwnRecord(honest.device_id, "dora@ad", honest.fingerprint, 40002))
    # The honest record went out after the forged one: once it is in, the forged one was heard.
    await eventually(
        lambda: any(p.fingerprint == honest.fingerprint for p in ben.client.peers()), 10
    )
    [row] = [p for p in ben.client.peers() if p.device_id == anna.identity.device_id]
    assert row.fingerprint == anna.identity.fingerprint
    assert PeerSource.DISCOVERY not in row.sources
    assert all(p.fingerprint != forged for p in ben.client.peers())


async def test_a_colliding_discovery_record_never_adds_its_address_to_the_pinned_victim(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    carl = await nodes.make("carl")
    forged = same_id_other_key(anna.identity.fingerprint)
    ben.client.directory.discovered(
        announced(carl.port, forged, anna.identity.device_id, "anna@ad")
    )
    addresses = ben.client.directory.addresses_of(anna.identity.fingerprint)
    assert Address(LOOPBACK, carl.port) not in addresses
    assert addresses == (Address(LOOPBACK, anna.port),)
    await ben.client.invite("anna@ad", CONTROL)
    assert (await anna.received.wait()).peer_id == ben.identity.device_id
    assert carl.received.items == []


async def test_a_discovery_record_pointing_at_another_host_cannot_make_the_client_connect_there(
    nodes: Nodes,
) -> None:
    ben = await nodes.make("ben")
    carl = await nodes.make("carl")
    victim = Identity.generate()
    # The record names the victim's key but carl's port: the dialler must check the key.
    ben.client.directory.discovered(
        announced(carl.port, victim.fingerprint, victim.device_id, "victim@ad")
    )
    with pytest.raises(ActionRefused, match="offline"):
        await ben.client.invite(victim.device_id.digits, CONTROL)
    assert carl.received.items == []
    assert carl.client.links.channels() == []


# --- man in the middle --------------------------------------------------------------------------


async def test_a_relaying_man_in_the_middle_with_another_certificate_gets_no_invitation_bytes(
    nodes: Nodes,
) -> None:
    anna, ben = await nodes.pair()
    mallory = Identity.generate()
    got: list[bytes] = []
    tls_done = asyncio.Event()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tls_done.set()
        try:
            got.append(await reader.read(65536))
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(relay, LOOPBACK, 0, ssl=mallory.server_context())
    port = server.sockets[0].getsockname()[1]
    try:
        # Ben's way to anna now leads through mallory, who presents her own certificate.
        ben.db.address_book.remove(anna.identity.device_id)
        ben.db.address_book.add(
            AddressEntry(
                anna.identity.device_id,
                manual_address=f"{LOOPBACK}:{port}",
                fingerprint=anna.identity.fingerprint,
            )
        )
        with pytest.raises(ActionRefused):
            await ben.client.invite(anna.device_id, CONTROL)
        await asyncio.wait_for(tls_done.wait(), 5)
    finally:
        server.close()
        await server.wait_closed()
    assert b"".join(got) == b""
    assert anna.received.items == []


# --- dialler authentication ---------------------------------------------------------------------


async def hello_to(node: Node, identity: Identity) -> tuple[RawPeer, Hello, bytes]:
    raw = await RawPeer.connect((LOOPBACK, node.port))
    nonce = os.urandom(32)
    raw.send(
        Hello(PROTOCOL_VERSION, identity.public_key_der, identity.device_id.digits, "x@ad", nonce)
    )
    answer = await raw.read()
    assert isinstance(answer, Hello)
    return raw, answer, nonce


async def test_a_dialler_whose_signature_does_not_verify_is_refused(nodes: Nodes) -> None:
    ben = await nodes.make("ben")
    liar = Identity.generate()
    raw, _, _ = await hello_to(ben, liar)
    try:
        raw.send(Auth(os.urandom(64)))
        answer = await raw.read()
        assert isinstance(answer, Error) and answer.code == "auth"
        assert await raw.closed_by_peer()
    finally:
        await raw.close()
    assert ben.client.links.channels() == []


async def test_an_authentication_signature_made_for_another_listener_is_refused(
    nodes: Nodes,
) -> None:
    ben = await nodes.make("ben")
    anna = Identity.generate()
    mallory = Identity.generate()
    raw, ben_hello, nonce = await hello_to(ben, anna)
    try:
        # Anna dialled mallory, who copied ben's nonce into her Hello: anna's signature binds
        # mallory's fingerprint, so relaying it to ben must not log mallory in as anna.
        relayed = anna.sign(
            auth_transcript(mallory.fingerprint, anna.fingerprint, ben_hello.nonce, nonce)
        )
        raw.send(Auth(relayed))
        answer = await raw.read()
        assert not isinstance(answer, AuthOk)
        assert isinstance(answer, Error) and answer.code == "auth"
    finally:
        await raw.close()
    assert ben.client.links.channels() == []


# --- trust on first use -----------------------------------------------------------------------


async def test_a_new_key_for_a_pinned_peers_id_is_refused_with_a_warning(nodes: Nodes) -> None:
    ben = await nodes.make("ben")
    carl = await nodes.make("carl")
    carl.knows(ben)
    # Ben pinned carl's ID with another key (as if a searched-for key had taken carl's ID,
    # or carl's real key were the old one): the key now presented is not the pinned one.
    pinned = same_id_other_key(carl.identity.fingerprint)
    ben.db.pinned_peers.pin(PinnedPeer(pinned, carl.identity.device_id, None, 1.0, 1.0))
    with pytest.raises(ActionRefused):
        await carl.client.invite(ben.device_id, CONTROL)
    warning = await ben.warnings.wait()
    assert carl.identity.device_id.grouped() in warning and "refused" in warning
    assert ben.received.items == []
