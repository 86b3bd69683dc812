"""The running client: everything services/ does, behind the ClientFacade the front ends use.

Built by app.py with its collaborators; owns every task it starts and stops them in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from anydesk_invite.core.alias import AliasError, parse_alias
from anydesk_invite.core.clock import Clock
from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import (
    Direction,
    IncomingInvitation,
    Kind,
    OutgoingInvitation,
    State,
)
from anydesk_invite.core.permissions import (
    Permission,
    PermissionError_,
    PermissionProfile,
    ProfileBook,
)
from anydesk_invite.core.policy import DiscoveryMode, Policy
from anydesk_invite.core.signal import Signal
from anydesk_invite.core.wide_area import WideAreaError, WideAreaSettings
from anydesk_invite.net.channel import Channel, ChannelClosed, PeerTrust, dial
from anydesk_invite.net.discovery import Discovery, OwnRecord
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.interfaces import interface_choices
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.wide_area import WideAreaDiscovery
from anydesk_invite.net.wire import Message, SysInfo, describe
from anydesk_invite.services.directory import PeerDirectory
from anydesk_invite.services.facade import (
    ProbeResult,
    RefusalKind,
    RefusedWithKind,
    SessionHandle,
    Settings,
    Status,
)
from anydesk_invite.services.invitations import (
    DECLINED,
    NO_ANSWER,
    AcceptFromCheck,
    InvitationService,
    Outcome,
    Target,
)
from anydesk_invite.services.links import Links, Unreachable
from anydesk_invite.services.sessions.service import SessionOutcome, SessionService
from anydesk_invite.services.views import (
    InvitationView,
    PeerView,
    Role,
    SessionView,
    StrokeView,
    TransferView,
)
from anydesk_invite.services.wide_area import WideAreaChoice, wide_area_choice
from anydesk_invite.storage.contacts import AddressEntry
from anydesk_invite.storage.db import Database
from anydesk_invite.storage.errors import SettingError, StorageValueError
from anydesk_invite.storage.history import RecentKind, RecentSession
from anydesk_invite.storage.settings import StoredSettings
from anydesk_invite.storage.tsig_secret import TsigSecretStore

_log = logging.getLogger(__name__)

PROBE_INTERVAL = 10.0


class Client:
    """A running client (implements services.facade.ClientFacade).

    Signals: status_changed, peers_changed, invitations_changed, sessions_changed
    (SessionView: what started, changed or ended), invitation_received (InvitationView),
    session_started (SessionView), warning (str), chat_received (tuple[str, str]: session
    id, text).
    """

    def __init__(
        self,
        *,
        identity: Identity,
        db: Database,
        clock: Clock,
        wall: Callable[[], float],
        policy: Callable[[], Policy],
        trust: PeerTrust,
        sessions_factory: Callable[[Links], SessionService],
        interfaces: tuple[str, ...],
        discovery: Discovery | None,
        discovery_mode: DiscoveryMode,
        listen_port: int,
        key_location: str,
        key_warning: str | None,
        home: str,
        default_alias: str,
        invitation_lifetime: float | None = None,
        limits: Limits | None = None,
        wide_area: WideAreaDiscovery | None = None,
        tsig_store: TsigSecretStore | None = None,
    ) -> None:
        self.identity = identity
        self.db = db
        self._clock = clock
        self._wall = wall
        self._policy = policy
        self._trust = trust
        self._interfaces = interfaces
        self._discovery = discovery
        self._discovery_mode = discovery_mode
        self._wide_area = wide_area
        self._tsig_store = tsig_store or TsigSecretStore(Path(home))
        self._listen_port = listen_port
        self._key_location = key_location
        self._key_warning = key_warning
        self._home = home
        self._limits = limits or Limits()
        stored_alias = db.settings.get(StoredSettings.ALIAS)
        self._alias = str(stored_alias) if stored_alias else f"{default_alias}@ad"
        self._listening: tuple[tuple[str, int], ...] = ()
        self._tasks: list[asyncio.Task[None]] = []

        self.status_changed: Signal[Status] = Signal("client.status_changed")
        self.peers_changed: Signal[None] = Signal("client.peers_changed")
        self.invitations_changed: Signal[None] = Signal("client.invitations_changed")
        self.sessions_changed: Signal[SessionView] = Signal("client.sessions_changed")
        self.invitation_received: Signal[InvitationView] = Signal("client.invitation_received")
        self.session_started: Signal[SessionView] = Signal("client.session_started")
        self.warning: Signal[str] = Signal("client.warning")
        self.chat_received: Signal[tuple[str, str]] = Signal("client.chat_received")

        self.directory = PeerDirectory(db, identity.fingerprint)
        self.links = Links(
            self._dial,
            self._route,
            on_closed=self._channel_closed,
            limits=self._limits,
            in_use=lambda ch: self.invitation_service.carries(ch.peer.fingerprint),
            known=self.known_peer,
        )
        self.sessions_service = sessions_factory(self.links)
        self.transfer_changed = self.sessions_service.transfers.changed
        """Signal[TransferView]: a file transfer was offered, progressed or ended."""
        self.strokes_changed = self.sessions_service.drawing.changed
        """Signal[str]: a guest's strokes on this host changed (session id hex)."""
        self.pointer_seen = self.sessions_service.remote_input.pointer_seen
        """Signal[PointerSeen]: a guest's pointer to mark on this host's screen."""
        built = self.sessions_service.transfers
        self._transfer_defaults = (built.incoming_folder, built.size_limit)
        """What the transfers were built with: in force while no setting is stored."""
        self._apply_transfer_settings()
        self.invitation_service = InvitationService(
            self.links,
            clock,
            policy,
            AcceptFromCheck(
                policy,
                lambda: db.settings.get(StoredSettings.ACCEPT_FROM),
                self.directory.in_address_book,
            ),
            lambda: self._alias,
            self.directory.addresses_of,
            first_contact=self.directory.first_contact,
            known=self.known_peer,
        )
        if invitation_lifetime is not None:
            self.invitation_service.lifetime = invitation_lifetime
            self.invitation_service.request_lifetime = invitation_lifetime
        inv = self.invitation_service
        inv.start_host_session = self.sessions_service.start_host
        inv.connect_as_guest = self.sessions_service.open_as_guest
        inv.changed.connect(lambda _: self.invitations_changed.emit(None))
        inv.received.connect(self.invitation_received.emit)
        inv.finished.connect(self._record_outcome)
        ss = self.sessions_service
        ss.started.connect(self._session_started)
        ss.changed.connect(self.sessions_changed.emit)
        ss.ended.connect(self._session_ended)
        ss.chat.connect(self.chat_received.emit)
        self.directory.changed.connect(lambda _: self.peers_changed.emit(None))
        if discovery is not None:
            discovery.peer_seen.connect(self.directory.discovered)
            discovery.peer_gone.connect(self.directory.gone)
            discovery.conflict.connect(self.directory.conflict)
        if wide_area is not None:
            wide_area.peer_seen.connect(self.directory.discovered_dns)
            wide_area.peer_gone.connect(self.directory.gone_dns)
            wide_area.status_changed.connect(lambda _: self.status_changed.emit(self.status()))

    def known_peer(self, fingerprint: bytes) -> bool:
        """A peer in the address book or one we had a session with: never crowded out."""
        device_id = DeviceId.from_fingerprint(fingerprint)
        return self.directory.in_address_book(fingerprint, device_id) or not (
            self.directory.first_contact(fingerprint)
        )

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def alias(self) -> str:
        return self._alias

    def set_listening(self, addresses: list[tuple[str, int]]) -> None:
        self._listening = tuple(addresses)

    async def on_channel(self, channel: Channel) -> None:
        """The listener hands over an authenticated channel."""
        await self.links.adopt(channel)

    async def start(self) -> None:
        if self._discovery is not None and self._listening:
            mode = self._policy().effective_discovery(self._discovery_mode)
            await self._discovery.start(mode, self._own_record())
        if self._wide_area is not None and self._listening:
            await self._apply_wide_area()
        self._tasks.append(
            asyncio.create_task(self.invitation_service.run_ticker(), name="invitation-ticker")
        )
        self._tasks.append(asyncio.create_task(self._probe_manual(), name="manual-probe"))
        self.status_changed.emit(self.status())

    def _own_record(self) -> OwnRecord:
        port = self._listening[0][1] if self._listening else 0
        return OwnRecord(self.identity.device_id, self._alias, self.identity.fingerprint, port)

    async def stop(self) -> None:
        await self.sessions_service.stop()
        await self.invitation_service.stop()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._discovery is not None:
            await self._discovery.stop()
        if self._wide_area is not None:
            await self._wide_area.stop()
        await self.links.stop()

    async def policy_changed(self, policy: Policy) -> None:
        await self.sessions_service.apply_policy(policy)
        if self._discovery is not None and self._listening:
            await self._discovery.set_mode(policy.effective_discovery(self._discovery_mode))
        if self._wide_area is not None and self._listening:
            await self._apply_wide_area()
        self.status_changed.emit(self.status())

    def _wide_area_choice(self) -> WideAreaChoice:
        try:
            chosen = self.db.settings.get(StoredSettings.WIDE_AREA)
        except SettingError as exc:
            _log.warning("wide-area discovery: %s", exc)
            chosen = self.db.settings.WIDE_AREA.default
        return wide_area_choice(self._policy(), chosen, self._tsig_store)

    async def _apply_wide_area(self) -> None:
        """Run DNS discovery with the settings in force now, in the LAN discovery's mode."""
        assert self._wide_area is not None
        choice = self._wide_area_choice()
        await self._wide_area.reconfigure(choice.settings, choice.secret, choice.problem)
        mode = self._policy().effective_discovery(self._discovery_mode)
        if self._wide_area.mode_wanted is DiscoveryMode.OFF and mode is not DiscoveryMode.OFF:
            await self._wide_area.start(mode, self._own_record())
        else:
            await self._wide_area.update_record(self._own_record())
            await self._wide_area.set_mode(mode)

    async def set_tsig_secret(self, key_name: str, secret: str) -> str:
        """Keep the secret of a TSIG key (keyring, else the home's 0600 file); where it went."""
        from anydesk_invite.storage.tsig_secret import TsigSecretError

        try:
            where = self._tsig_store.set(key_name, secret)
        except (TsigSecretError, OSError) as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        if self._wide_area is not None and self._listening:
            await self._apply_wide_area()
        return where

    async def _resolve(self, target: str, confirm: str | None) -> Target:
        """Resolve what was typed; a peer not known yet may be in the DNS: ask it once now."""
        try:
            return self.directory.resolve(target, confirm)
        except RefusedWithKind as exc:
            if self._wide_area is None or exc.kind not in (
                RefusalKind.UNKNOWN,
                RefusalKind.OFFLINE,
            ):
                raise
        await self._wide_area.browse_now()
        return self.directory.resolve(target, confirm)

    # --- network plumbing ---------------------------------------------------------------

    async def _dial(self, host: str, port: int, expected: bytes | None) -> Channel:
        return await dial(
            self.identity,
            self._alias,
            host,
            port,
            expected_fingerprint=expected,
            trust=self._trust,
            limits=self._limits,
        )

    async def _route(self, channel: Channel, msg: Message) -> None:
        if not await self.invitation_service.handle(channel, msg):
            _log.warning("unexpected %s from %s; closing", describe(msg), channel.peer)
            await channel.close("unexpected message")

    def _channel_closed(self, channel: Channel) -> None:
        self.sessions_service.channel_closed(channel)

    async def _probe_manual(self) -> None:
        """Address-book entries with a manual address are probed for presence.

        A probe is an ordinary link: it stays open (heartbeats keep it alive) and later
        invitations use it. A probe that closed at once could race with an invitation that
        the other side sends on it, and the invitation would be lost.
        """
        while True:
            for entry in self.directory.manual_entries():
                await self._probe_entry(entry)
            await asyncio.sleep(PROBE_INTERVAL)

    async def _probe_entry(self, entry: AddressEntry, fresh: bool = False) -> ProbeResult:
        """Reach the entry's manual address (``fresh``: over a new connection, so the answer is
        about that address and not about a link already open to the device)."""
        addr = self.directory.address_of_manual(entry)
        shown = entry.manual_address or ""
        if addr is None:
            return ProbeResult(False, shown, "no address")
        known = entry.fingerprint or self.directory.pinned_fingerprint(entry.device_id)
        online = False
        reason = ""
        try:
            if fresh:
                ch = await self.links.dial([addr], known)
            else:
                ch = await self.links.channel_to(known, [addr])
        except (Unreachable, ChannelClosed, OSError) as exc:
            reason = str(exc).removeprefix(f"{addr}: ") or "no answer"
        else:
            online = ch.peer.device_id == entry.device_id
            if online:
                self.directory.learn_address(ch.peer.fingerprint, addr)
            else:
                reason = (
                    f"{shown} answers as ID {ch.peer.device_id.grouped()}, "
                    f"not {entry.device_id.grouped()}"
                )
                await ch.close("not the device in the address book")
        self.directory.set_manual_presence(entry.device_id, online)
        return ProbeResult(online, shown, reason)

    async def probe_address(self, device_id: DeviceId) -> ProbeResult:
        entry = self.db.address_book.get(device_id)
        if entry is None or not entry.manual_address:
            raise RefusedWithKind(
                RefusalKind.INVALID, f"{device_id.grouped()} has no address in the address book"
            )
        return await self._probe_entry(entry, fresh=True)

    # --- recording --------------------------------------------------------------------------

    def _record_outcome(self, outcome: Outcome) -> None:
        if outcome.state is State.CONNECTED:
            return  # the session records itself when it ends, with its duration
        try:
            alias = parse_alias(outcome.peer.alias) if outcome.peer.alias else None
        except AliasError:
            alias = None
        outcome_text = (
            outcome.reason if outcome.reason in (DECLINED, NO_ANSWER) else outcome.state.value
        )
        self.db.recent_sessions.record(
            RecentSession(
                at=self._wall(),
                direction=outcome.direction,
                kind=RecentKind(outcome.kind.value),
                peer_id=outcome.peer.device_id,
                peer_alias=alias,
                peer_fingerprint=outcome.peer.fingerprint,
                outcome=outcome_text,
            )
        )
        self.peers_changed.emit(None)

    def _session_started(self, view: SessionView) -> None:
        self.sessions_changed.emit(view)
        self.session_started.emit(view)

    def _session_ended(self, outcome: SessionOutcome) -> None:
        v = outcome.session
        try:
            alias = parse_alias(v.peer_alias) if v.peer_alias else None
        except AliasError:
            alias = None
        direction = Direction.INCOMING if v.role.value == "host" else Direction.OUTGOING
        self.db.recent_sessions.record(
            RecentSession(
                at=v.started_at,
                direction=direction,
                kind=RecentKind.SESSION,
                peer_id=v.peer_id,
                peer_alias=alias,
                peer_fingerprint=v.peer_fingerprint,
                outcome=outcome.reason,
                duration=outcome.duration,
            )
        )
        self.sessions_changed.emit(outcome.session)
        self.peers_changed.emit(None)

    # --- facade: status and settings ------------------------------------------------------

    def status(self) -> Status:
        policy = self._policy()
        mode = policy.effective_discovery(self._discovery_mode)
        if self._discovery is None:
            mode = DiscoveryMode.OFF
        return Status(
            device_id=self.identity.device_id,
            alias=self._alias,
            fingerprint=self.identity.fingerprint,
            online=bool(self._listening),
            listen_addresses=tuple(f"{h}:{p}" for h, p in self._listening),
            discovery=mode,
            interfaces=self._interfaces,
            key_location=self._key_location,
            key_warning=self._key_warning,
            policy_broken=policy.broken,
            accept_from=policy.effective_accept_from(
                self.db.settings.get(StoredSettings.ACCEPT_FROM)
            ),
            home=self._home,
            wide_area=self._wide_area.status if self._wide_area is not None else "off",
        )

    def settings(self) -> Settings:
        s = self.db.settings
        return Settings(
            alias=self._alias,
            accept_from=s.get(StoredSettings.ACCEPT_FROM),
            discovery=self._discovery_mode,
            # The stored choice, not the running one: an --interface given for this run must
            # not become permanent when the user saves another setting.
            interfaces=s.get(StoredSettings.INTERFACES),
            default_profile=s.get(StoredSettings.DEFAULT_PROFILE),
            keep_running_in_background=s.get(StoredSettings.KEEP_RUNNING_IN_BACKGROUND),
            incoming_folder=self._stored_folder(),
            wide_area=self._stored_wide_area(),
        )

    def _stored_wide_area(self) -> WideAreaSettings:
        try:
            return self.db.settings.get(StoredSettings.WIDE_AREA)
        except SettingError:
            return WideAreaSettings()

    def _stored_folder(self) -> str:
        try:
            return self.db.settings.get(StoredSettings.INCOMING_FOLDER) or ""
        except SettingError:
            return ""

    async def update_settings(self, settings: Settings) -> None:
        try:
            alias = parse_alias(settings.alias)
            # Checked before anything is written, so a refused change leaves no half.
            default_profile = self._book().get(settings.default_profile).name
        except (AliasError, PermissionError_) as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        try:
            wide_area = settings.wide_area.checked()
        except WideAreaError as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        folder = settings.incoming_folder.strip()
        if folder and not Path(folder).expanduser().is_absolute():
            raise RefusedWithKind(
                RefusalKind.INVALID, f"the folder for received files must be absolute: {folder}"
            )
        s = self.db.settings
        s.set(StoredSettings.ALIAS, alias)
        s.set(StoredSettings.ACCEPT_FROM, settings.accept_from)
        s.set(StoredSettings.DISCOVERY, settings.discovery)
        s.set(StoredSettings.INTERFACES, settings.interfaces)
        s.set(StoredSettings.DEFAULT_PROFILE, default_profile)
        s.set(StoredSettings.KEEP_RUNNING_IN_BACKGROUND, settings.keep_running_in_background)
        s.set(StoredSettings.WIDE_AREA, wide_area)
        if folder != self._stored_folder():
            self.set_incoming_folder(folder or None)
        changed_alias = str(alias) != self._alias
        self._alias = str(alias)
        self._discovery_mode = settings.discovery
        if self._discovery is not None and self._listening:
            if changed_alias:
                await self._discovery.update_record(self._own_record())
            await self._discovery.set_mode(self._policy().effective_discovery(settings.discovery))
        if self._wide_area is not None and self._listening:
            await self._apply_wide_area()
        self.status_changed.emit(self.status())

    def policy(self) -> Policy:
        return self._policy()

    def _book(self) -> ProfileBook:
        return ProfileBook(self.db.profiles.list())

    def profiles(self) -> list[PermissionProfile]:
        return self._book().all()

    async def save_profile(self, name: str, permissions: frozenset[Permission]) -> None:
        book = self._book()
        try:
            try:
                book.get(name)
                prof = book.update(name, permissions)
            except PermissionError_:
                prof = book.create(name, permissions)
        except PermissionError_ as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        self.db.profiles.save(prof)

    async def delete_profile(self, name: str) -> None:
        try:
            self._book().delete(name)
        except PermissionError_ as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        self.db.profiles.delete(name)

    # --- facade: peers --------------------------------------------------------------------

    def peers(self) -> list[PeerView]:
        return self.directory.peers()

    async def add_to_address_book(
        self,
        device_id: DeviceId,
        alias: str = "",
        display_name: str = "",
        tags: tuple[str, ...] = (),
        manual_address: str | None = None,
    ) -> None:
        try:
            parsed = parse_alias(alias) if alias else None
            known = next((p for p in self.peers() if p.device_id == device_id), None)
            fp = known.fingerprint if known else None
            entry = AddressEntry(device_id, parsed, display_name, tags, manual_address, fp)
        except (AliasError, StorageValueError) as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        book = self.db.address_book
        if book.get(device_id) is None:
            book.add(entry)
        else:
            book.update(entry)
        self.peers_changed.emit(None)

    async def remove_from_address_book(self, device_id: DeviceId) -> None:
        self.db.address_book.remove(device_id)
        self.peers_changed.emit(None)

    async def set_favorite(self, device_id: DeviceId, favorite: bool) -> None:
        if favorite:
            known = next((p for p in self.peers() if p.device_id == device_id), None)
            alias = None
            if known and known.alias:
                with contextlib.suppress(AliasError):
                    alias = parse_alias(known.alias)
            self.db.favorites.add(device_id, alias, known.fingerprint if known else None)
        else:
            self.db.favorites.remove(device_id)
        self.peers_changed.emit(None)

    # --- facade: invitations --------------------------------------------------------------

    def invitations(self) -> list[InvitationView]:
        return self.invitation_service.views()

    async def invite(
        self,
        target: str,
        permissions: frozenset[Permission],
        profile: str = "",
        confirm_fingerprint: str | None = None,
    ) -> InvitationView:
        resolved = await self._resolve(target, confirm_fingerprint)
        if resolved.device_id == self.identity.device_id:
            raise RefusedWithKind(RefusalKind.INVALID, "that is this device's own ID")
        inv = await self.invitation_service.invite(resolved, permissions, profile)
        return self.invitation_service.view(inv)

    def _outgoing(self, invitation_id: str) -> OutgoingInvitation:
        inv = self.invitation_service.find(invitation_id)
        if not isinstance(inv, OutgoingInvitation):
            raise RefusedWithKind(RefusalKind.STATE, "only the inviter can change an invitation")
        return inv

    def _incoming(self, invitation_id: str) -> IncomingInvitation:
        inv = self.invitation_service.find(invitation_id)
        if not isinstance(inv, IncomingInvitation):
            raise RefusedWithKind(RefusalKind.STATE, "that invitation was sent from here")
        return inv

    async def edit_invitation(
        self, invitation_id: str, permissions: frozenset[Permission], profile: str = ""
    ) -> InvitationView:
        inv = await self.invitation_service.edit(
            self._outgoing(invitation_id), permissions, profile
        )
        return self.invitation_service.view(inv)

    async def cancel_invitation(self, invitation_id: str) -> None:
        await self.invitation_service.cancel(self._outgoing(invitation_id))

    async def accept(
        self,
        invitation_id: str,
        permissions: frozenset[Permission] | None = None,
        profile: str = "",
    ) -> SessionView:
        inc = self._incoming(invitation_id)
        if inc.kind is Kind.INVITATION:
            if permissions is not None:
                raise RefusedWithKind(
                    RefusalKind.INVALID, "the inviter chose the permissions of an invitation"
                )
            session_id = await self.invitation_service.accept_invitation(inc)
            return self.sessions_service.find(session_id).view()
        if permissions is None:
            name = profile or self.db.settings.get(StoredSettings.DEFAULT_PROFILE)
            try:
                permissions = self._book().get(name).permissions
            except PermissionError_ as exc:
                raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        started: asyncio.Future[SessionView] = asyncio.get_running_loop().create_future()
        origin = inc.invitation_id.hex()

        def on_started(view: SessionView) -> None:
            if view.origin == origin and not started.done():
                started.set_result(view)

        self.sessions_service.started.connect(on_started)
        try:
            await self.invitation_service.accept_request(inc, permissions)
            return await asyncio.wait_for(started, self.invitation_service.token_lifetime)
        except TimeoutError:
            raise RefusedWithKind(
                RefusalKind.OFFLINE, "the requester did not connect in time"
            ) from None
        finally:
            self.sessions_service.started.disconnect(on_started)

    async def reject(self, invitation_id: str) -> None:
        await self.invitation_service.reject(self._incoming(invitation_id))

    async def connect(self, target: str, confirm_fingerprint: str | None = None) -> InvitationView:
        resolved = await self._resolve(target, confirm_fingerprint)
        if resolved.device_id == self.identity.device_id:
            raise RefusedWithKind(RefusalKind.INVALID, "that is this device's own ID")
        inv = await self.invitation_service.request(resolved)
        return self.invitation_service.view(inv)

    # --- facade: sessions -------------------------------------------------------------------

    def sessions(self) -> list[SessionView]:
        return self.sessions_service.views()

    async def set_session_permissions(
        self, session_id: str, permissions: frozenset[Permission]
    ) -> SessionView:
        session = self.sessions_service.find(session_id)
        return (await self.sessions_service.set_permissions(session, permissions)).view()

    async def end_session(self, session_id: str) -> None:
        await self.sessions_service.end(self.sessions_service.find(session_id), "ended")

    async def system_information(self, session_id: str) -> SysInfo:
        return await self.sessions_service.request_system_info(
            self.sessions_service.find(session_id)
        )

    async def send_chat(self, session_id: str, text: str) -> None:
        await self.sessions_service.send_chat(self.sessions_service.find(session_id), text)

    def chat_log(self, session_id: str) -> list[tuple[str, str]]:
        return list(self.sessions_service.find(session_id).chat)

    def session_handle(self, session_id: str) -> SessionHandle:
        ss = self.sessions_service
        session = ss.find(session_id)
        if session.role is Role.HOST:
            return SessionHandle(session.view())
        control = ss.remote_input.control(session)
        return SessionHandle(
            session.view(),
            screen=ss.guest_screen(session.id_hex),
            control=control,
            pen=ss.drawing.pen(session),
        )

    def interface_choices(self) -> list[str]:
        return interface_choices()

    def strokes(self, session_id: str | None = None) -> list[StrokeView]:
        return self.sessions_service.drawing.strokes(session_id)

    def color_of(self, session_id: str) -> int:
        return self.sessions_service.drawing.color_of(session_id)

    async def clear_drawings(self, session_id: str) -> None:
        await self.sessions_service.drawing.clear(self.sessions_service.find(session_id))

    def control_problem(self) -> str:
        return self.sessions_service.remote_input.problem() or ""

    # --- facade: file transfer and clipboard ----------------------------------------------

    def transfers(self, session_id: str | None = None) -> list[TransferView]:
        """File transfers, of one session (id in hex) or of all."""
        return self.sessions_service.transfers.views(session_id)

    async def send_file(self, session_id: str, path: str) -> TransferView:
        """Guest: send a file, which the host saves. Host: offer a file for the guest to fetch."""
        session = self.sessions_service.find(session_id)
        return await self.sessions_service.transfers.send_file(session, Path(path))

    async def fetch_file(self, session_id: str, transfer_id: str) -> TransferView:
        session = self.sessions_service.find(session_id)
        return await self.sessions_service.transfers.fetch(session, transfer_id)

    async def cancel_transfer(self, transfer_id: str, reason: str = "cancelled") -> TransferView:
        return await self.sessions_service.transfers.cancel(transfer_id, reason)

    async def wait_transfer(self, transfer_id: str) -> TransferView:
        """The transfer once it is done, failed or cancelled."""
        return await self.sessions_service.transfers.wait(transfer_id)

    def set_incoming_folder(self, folder: str | None) -> None:
        """Save received files in this absolute folder from now on (kept); None: Downloads."""
        s = self.db.settings
        try:
            if folder is None:
                s.reset(StoredSettings.INCOMING_FOLDER)
            else:
                s.set(StoredSettings.INCOMING_FOLDER, str(Path(folder).expanduser()))
        except StorageValueError as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        self._apply_transfer_settings()

    def set_transfer_size_limit(self, limit: int | None) -> None:
        """Refuse incoming files over ``limit`` bytes from now on (kept); None: the default."""
        s = self.db.settings
        try:
            if limit is None:
                s.reset(StoredSettings.TRANSFER_SIZE_LIMIT)
            else:
                s.set(StoredSettings.TRANSFER_SIZE_LIMIT, limit)
        except StorageValueError as exc:
            raise RefusedWithKind(RefusalKind.INVALID, str(exc)) from None
        self._apply_transfer_settings()

    def _apply_transfer_settings(self) -> None:
        transfers = self.sessions_service.transfers
        s = self.db.settings
        try:
            folder = s.get(StoredSettings.INCOMING_FOLDER)
        except SettingError as exc:
            # A damaged setting must not stop the client: say so and use the default.
            _log.warning("%s; received files go to the default folder", exc)
            folder = None
        try:
            limit = s.get(StoredSettings.TRANSFER_SIZE_LIMIT)
        except SettingError as exc:
            _log.warning("%s; the default size limit holds", exc)
            limit = None
        default_folder, default_limit = self._transfer_defaults
        transfers.incoming_folder = Path(folder) if folder else default_folder
        transfers.size_limit = limit if limit is not None else default_limit

    async def set_send_clipboard(self, session_id: str, on: bool) -> None:
        session = self.sessions_service.find(session_id)
        await self.sessions_service.set_send_clipboard(session, on)
