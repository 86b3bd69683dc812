"""The running client: the ClientFacade the front ends use, in front of the services it is given.

app.py builds every service and hands them over; this class starts and stops them in order,
turns facade calls into calls of the service that does the work, and presents their signals.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from anydesk_invite.core.ids import DeviceId
from anydesk_invite.core.invitation import IncomingInvitation, Kind, OutgoingInvitation
from anydesk_invite.core.permissions import Permission, PermissionProfile
from anydesk_invite.core.policy import Policy
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.channel import Channel
from anydesk_invite.net.identity import Identity
from anydesk_invite.net.interfaces import interface_choices
from anydesk_invite.net.wire import SysInfo
from anydesk_invite.services.address_book import AddressBook
from anydesk_invite.services.directory import PeerDirectory
from anydesk_invite.services.facade import (
    ProbeResult,
    RefusalKind,
    RefusedWithKind,
    SessionHandle,
    Settings,
    Status,
)
from anydesk_invite.services.invitations import InvitationService
from anydesk_invite.services.links import Links
from anydesk_invite.services.preferences import Preferences
from anydesk_invite.services.presence import Presence
from anydesk_invite.services.probing import ManualProbe
from anydesk_invite.services.profiles import Profiles
from anydesk_invite.services.sessions.service import SessionOutcome, SessionService
from anydesk_invite.services.views import (
    InvitationView,
    PeerChange,
    PeerView,
    Role,
    SessionView,
    StrokeView,
    TransferView,
)
from anydesk_invite.storage.db import Database


class Client:
    """A running client (implements services.facade.ClientFacade).

    Signals: status_changed (Status), peers_changed (PeerChange: one peer and its new view),
    invitations_changed (InvitationView: the invitation or request that changed),
    sessions_changed (SessionView: what started, changed or ended), invitation_received
    (InvitationView), session_started (SessionView), warning (str), chat_received
    (tuple[str, str]: session id, text), transfer_changed (TransferView), strokes_changed
    (str: session id hex), pointer_seen (PointerSeen).
    """

    def __init__(
        self,
        *,
        identity: Identity,
        db: Database,
        links: Links,
        directory: PeerDirectory,
        invitations: InvitationService,
        sessions: SessionService,
        presence: Presence,
        preferences: Preferences,
        profiles: Profiles,
        address_book: AddressBook,
        probe: ManualProbe,
    ) -> None:
        self.identity = identity
        self.db = db
        self.links = links
        self.directory = directory
        self.invitation_service = invitations
        self.sessions_service = sessions
        self.presence = presence
        self.preferences = preferences
        self.profile_book = profiles
        self.address_book = address_book
        self._probe = probe
        self._tasks: list[asyncio.Task[None]] = []

        self.status_changed: Signal[Status] = presence.status_changed
        self.peers_changed: Signal[PeerChange] = directory.changed
        self.invitations_changed: Signal[InvitationView] = invitations.changed
        self.invitation_received: Signal[InvitationView] = invitations.received
        self.sessions_changed: Signal[SessionView] = Signal("client.sessions_changed")
        self.session_started: Signal[SessionView] = Signal("client.session_started")
        self.warning: Signal[str] = Signal("client.warning")
        self.chat_received: Signal[tuple[str, str]] = sessions.chat
        self.transfer_changed = sessions.transfers.changed
        """Signal[TransferView]: a file transfer was offered, progressed or ended."""
        self.strokes_changed = sessions.drawing.changed
        """Signal[str]: a guest's strokes on this host changed (session id hex)."""
        self.pointer_seen = sessions.remote_input.pointer_seen
        """Signal[PointerSeen]: a guest's pointer to mark on this host's screen."""
        sessions.started.connect(self._session_started)
        sessions.changed.connect(self.sessions_changed.emit)
        sessions.ended.connect(self._session_ended)

    def _session_started(self, view: SessionView) -> None:
        self.sessions_changed.emit(view)
        self.session_started.emit(view)

    def _session_ended(self, outcome: SessionOutcome) -> None:
        self.sessions_changed.emit(outcome.session)

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def alias(self) -> str:
        return self.presence.alias

    def set_listening(self, addresses: list[tuple[str, int]]) -> None:
        self.presence.set_listening(addresses)

    async def on_channel(self, channel: Channel) -> None:
        """The listener hands over an authenticated channel."""
        await self.links.adopt(channel)

    async def start(self) -> None:
        await self.presence.start()
        self._tasks.append(
            asyncio.create_task(self.invitation_service.run_ticker(), name="invitation-ticker")
        )
        self._tasks.append(asyncio.create_task(self._probe.run(), name="manual-probe"))
        self.presence.announce()

    async def stop(self) -> None:
        await self.sessions_service.stop()
        await self.invitation_service.stop()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.presence.stop()
        await self.links.stop()

    async def policy_changed(self, policy: Policy) -> None:
        await self.sessions_service.apply_policy(policy)
        await self.presence.policy_changed(policy)
        self.presence.announce()

    # --- facade: status, settings and profiles ------------------------------------------

    def status(self) -> Status:
        return self.presence.status()

    def settings(self) -> Settings:
        return self.preferences.settings()

    async def update_settings(self, settings: Settings) -> None:
        await self.preferences.update_settings(settings)

    async def set_tsig_secret(self, key_name: str, secret: str) -> str:
        return await self.presence.set_tsig_secret(key_name, secret)

    def policy(self) -> Policy:
        return self.presence.policy()

    def profiles(self) -> list[PermissionProfile]:
        return self.profile_book.all()

    async def save_profile(self, name: str, permissions: frozenset[Permission]) -> None:
        await self.profile_book.save(name, permissions)

    async def delete_profile(self, name: str) -> None:
        await self.profile_book.delete(name)

    def interface_choices(self) -> list[str]:
        return interface_choices()

    # --- facade: peers ------------------------------------------------------------------

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
        await self.address_book.add(device_id, alias, display_name, tags, manual_address)

    async def remove_from_address_book(self, device_id: DeviceId) -> None:
        await self.address_book.remove(device_id)

    async def set_favorite(self, device_id: DeviceId, favorite: bool) -> None:
        await self.address_book.set_favorite(device_id, favorite)

    async def probe_address(self, device_id: DeviceId) -> ProbeResult:
        return await self._probe.probe_address(device_id)

    # --- facade: invitations ------------------------------------------------------------

    def invitations(self) -> list[InvitationView]:
        return self.invitation_service.views()

    async def invite(
        self,
        target: str,
        permissions: frozenset[Permission],
        profile: str = "",
        confirm_fingerprint: str | None = None,
    ) -> InvitationView:
        resolved = await self.presence.resolve(target, confirm_fingerprint)
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
            name = profile or self.profile_book.default_name()
            permissions = self.profile_book.get(name).permissions
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
        resolved = await self.presence.resolve(target, confirm_fingerprint)
        if resolved.device_id == self.identity.device_id:
            raise RefusedWithKind(RefusalKind.INVALID, "that is this device's own ID")
        inv = await self.invitation_service.request(resolved)
        return self.invitation_service.view(inv)

    # --- facade: sessions ---------------------------------------------------------------

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
        return SessionHandle(
            session.view(),
            screen=ss.guest_screen(session.id_hex),
            control=ss.remote_input.control(session),
            pen=ss.drawing.pen(session),
        )

    def strokes(self, session_id: str | None = None) -> list[StrokeView]:
        return self.sessions_service.drawing.strokes(session_id)

    def color_of(self, session_id: str) -> int:
        return self.sessions_service.drawing.color_of(session_id)

    async def clear_drawings(self, session_id: str) -> None:
        await self.sessions_service.drawing.clear(self.sessions_service.find(session_id))

    def control_problem(self) -> str:
        return self.sessions_service.remote_input.problem() or ""

    # --- facade: file transfer and clipboard --------------------------------------------

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
        self.preferences.set_incoming_folder(folder)

    def set_transfer_size_limit(self, limit: int | None) -> None:
        """Refuse incoming files over ``limit`` bytes from now on (kept); None: the default."""
        self.preferences.set_transfer_size_limit(limit)

    async def set_send_clipboard(self, session_id: str, on: bool) -> None:
        session = self.sessions_service.find(session_id)
        await self.sessions_service.set_send_clipboard(session, on)
