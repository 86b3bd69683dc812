"""Builds the services of one client and the Client (the facade) in front of them, and connects
their signals. Part of the composition root: app.py calls it for a running client, tests for
whole clients in one process.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from anydesk_invite.core.invitation import INVITATION_LIFETIME, REQUEST_LIFETIME
from anydesk_invite.core.policy import DiscoveryMode
from anydesk_invite.net.discovery import Discovery
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.network import Network, TlsNetwork
from anydesk_invite.net.wide_area import WideAreaDiscovery
from anydesk_invite.services.address_book import AddressBook
from anydesk_invite.services.client import Client
from anydesk_invite.services.directory import PeerDirectory
from anydesk_invite.services.invitations import AcceptFromCheck, InvitationService
from anydesk_invite.services.links import ChannelDialer, Links
from anydesk_invite.services.preferences import Preferences
from anydesk_invite.services.presence import Presence
from anydesk_invite.services.probing import ManualProbe
from anydesk_invite.services.profiles import Profiles
from anydesk_invite.services.recents import RecentSessions
from anydesk_invite.services.sessions.feature_set import SessionFeatures
from anydesk_invite.services.sessions.service import SessionService
from anydesk_invite.storage.db import Database
from anydesk_invite.storage.settings import StoredSettings
from anydesk_invite.storage.tsig_secret import TsigSecretStore

if TYPE_CHECKING:
    from anydesk_invite.core.clock import Clock
    from anydesk_invite.core.policy import Policy
    from anydesk_invite.net.channel import PeerTrust
    from anydesk_invite.services.ports import DesktopAccess


def compose_client(
    *,
    identity: Identity,
    db: Database,
    clock: Clock,
    wall: Callable[[], float],
    policy: Callable[[], Policy],
    trust: PeerTrust,
    features: SessionFeatures,
    interfaces: tuple[str, ...],
    discovery: Discovery | None,
    discovery_mode: DiscoveryMode,
    key_location: str,
    key_warning: str | None,
    home: str,
    default_alias: str,
    desktop: DesktopAccess | None = None,
    invitation_lifetime: float | None = None,
    limits: Limits | None = None,
    wide_area: WideAreaDiscovery | None = None,
    tsig_store: TsigSecretStore | None = None,
    network: Network | None = None,
) -> Client:
    """Build the services of a client and the Client (the facade) in front of them, and connect
    their signals; nothing here touches the network until ``Client.start``. Channels are
    dialled over ``network``: TCP + TLS unless another is given (tests pass an in-memory
    ``net.memory.MemoryNetwork``)."""

    limits = limits or Limits()
    directory = PeerDirectory(db, identity.fingerprint)
    address_book = AddressBook(db, directory)
    presence = Presence(
        identity=identity,
        db=db,
        policy=policy,
        directory=directory,
        interfaces=interfaces,
        discovery=discovery,
        discovery_mode=discovery_mode,
        wide_area=wide_area,
        tsig_store=tsig_store or TsigSecretStore(Path(home)),
        key_location=key_location,
        key_warning=key_warning,
        home=home,
        default_alias=default_alias,
    )
    # Links route through the invitations and tell the sessions of closed channels; both are
    # built over the links, so these three late-bound calls close the loop.
    links = Links(
        ChannelDialer(network or TlsNetwork(), identity, lambda: presence.alias, trust, limits),
        lambda channel, msg: invitations.route(channel, msg),
        on_closed=lambda channel: sessions.channel_closed(channel),
        limits=limits,
        in_use=lambda channel: invitations.carries(channel.peer.fingerprint),
        known=address_book.known_peer,
    )
    sessions = SessionService(links, clock, policy, features, desktop=desktop)
    invitations = InvitationService(
        links,
        clock,
        policy,
        AcceptFromCheck(
            policy,
            lambda: db.settings.get(StoredSettings.ACCEPT_FROM),
            directory.in_address_book,
        ),
        directory.addresses_of,
        lifetime=INVITATION_LIFETIME if invitation_lifetime is None else invitation_lifetime,
        request_lifetime=REQUEST_LIFETIME if invitation_lifetime is None else invitation_lifetime,
        first_contact=directory.first_contact,
        known=address_book.known_peer,
        start_host_session=sessions.start_host,
        connect_as_guest=sessions.open_as_guest,
    )
    profiles = Profiles(db)
    preferences = Preferences(db, presence, profiles, features.transfers)
    recents = RecentSessions(db, wall, directory)
    invitations.finished.connect(recents.invitation_finished)
    sessions.ended.connect(recents.session_ended)
    if discovery is not None:
        discovery.peer_seen.connect(directory.discovered)
        discovery.peer_gone.connect(directory.gone)
        discovery.conflict.connect(directory.conflict)
    if wide_area is not None:
        wide_area.peer_seen.connect(directory.discovered_dns)
        wide_area.peer_gone.connect(directory.gone_dns)
    return Client(
        identity=identity,
        db=db,
        links=links,
        directory=directory,
        invitations=invitations,
        sessions=sessions,
        presence=presence,
        preferences=preferences,
        profiles=profiles,
        address_book=address_book,
        probe=ManualProbe(db, directory, links),
    )
