"""Remote sessions: the host (inviter, the one viewed) and the guest (invitee).

The service opens sessions on both sides and hands each message from the peer to its
dispatch table (dispatch.py: the feature that takes it, through the one host-side permission
gate that refuses, logs and answers what the session lacks). A change of permissions on the
host reaches the guest at once (``SessionPermissions``). One host serves up to MAX_GUESTS
sessions at once, each with its own permissions.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from anydesk_invite.core.clock import Clock
from anydesk_invite.core.invitation import Peer
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.policy import Policy
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.channel import Channel, ChannelClosed
from anydesk_invite.net.wire import (
    Error,
    Message,
    SessionEnd,
    SessionOpen,
    SessionOpened,
    SessionPermissions,
    SysInfo,
    Unavailable,
)
from anydesk_invite.services.links import Address, Links
from anydesk_invite.services.ports import DesktopAccess
from anydesk_invite.services.refusals import RefusalKind, RefusedWithKind
from anydesk_invite.services.sessions.dispatch import Dispatch
from anydesk_invite.services.sessions.drawing import GuestPen
from anydesk_invite.services.sessions.feature import Feature
from anydesk_invite.services.sessions.feature_set import SessionFeatures
from anydesk_invite.services.sessions.guest_screen import GuestScreen
from anydesk_invite.services.sessions.remote_input import GuestControl
from anydesk_invite.services.sessions.session import Session, SessionOutcome
from anydesk_invite.services.views import Role, SessionView

MAX_GUESTS = 4
OPEN_TIMEOUT = 10.0

__all__ = [
    "MAX_GUESTS",
    "OPEN_TIMEOUT",
    "Session",
    "SessionOutcome",
    "SessionService",
]


class SessionService:
    """Open sessions on both sides.

    Signals: started (SessionView), changed (SessionView: permissions, chat, or what the host
    cannot honour), ended (SessionOutcome), chat (tuple[str session id hex, str text]).
    """

    def __init__(
        self,
        links: Links,
        clock: Clock,
        policy: Callable[[], Policy],
        features: SessionFeatures,
        wall: Callable[[], float] = time.time,
        random_bytes: Callable[[int], bytes] = os.urandom,
        desktop: DesktopAccess | None = None,
    ) -> None:
        self._links = links
        self._desktop = desktop
        """A desktop that asks its user before sharing (Wayland); None: nothing to ask."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._clock = clock
        self._policy = policy
        self._wall = wall
        self._random = random_bytes
        self.screen = features.screen
        self.transfers = features.transfers
        self.remote_input = features.remote_input
        self.drawing = features.drawing
        self.clipboard = features.clipboard
        self.conversation = features.chat
        self.system_info = features.system_info
        self.features: Sequence[Feature] = features.in_order()
        self._dispatch = Dispatch(self.features, clock, self._send)
        for f in self.features:
            f.view_changed.connect(self._view_changed)
        self.sessions: dict[bytes, Session] = {}
        self.started: Signal[SessionView] = Signal("sessions.started")
        self.changed: Signal[SessionView] = Signal("sessions.changed")
        self.ended: Signal[SessionOutcome] = Signal("sessions.ended")
        self.chat: Signal[tuple[str, str]] = self.conversation.received

    def views(self) -> list[SessionView]:
        return [s.view() for s in self.sessions.values() if not s.ended]

    def find(self, text: str) -> Session:
        key = text.strip().lower()
        found = [
            s for s in self.sessions.values() if not s.ended and s.session_id.hex().startswith(key)
        ]
        if len(key) < 4 or not found:
            raise RefusedWithKind(RefusalKind.UNKNOWN, f"no session {text}")
        if len(found) > 1:
            raise RefusedWithKind(RefusalKind.AMBIGUOUS, f"{text} matches several sessions")
        return found[0]

    def _locked(self, policy: Policy) -> frozenset[Permission]:
        return frozenset(p for p in Permission if policy.is_locked(p))

    def _view_changed(self, session: Session) -> None:
        if not session.ended:
            self.changed.emit(session.view())

    # --- host -------------------------------------------------------------------------

    async def start_host(
        self, channel: Channel, guest: Peer, permissions: frozenset[Permission], origin: str
    ) -> None:
        policy = self._policy()
        hosting = [s for s in self.sessions.values() if s.role is Role.HOST and not s.ended]
        if policy.broken or len(hosting) >= MAX_GUESTS:
            reason = "policy" if policy.broken else "too many guests"
            await channel.refuse("refused", reason)
            return
        session = Session(
            session_id=self._random(16),
            role=Role.HOST,
            peer=guest,
            channel=channel,
            permissions=policy.apply(permissions),
            locked=self._locked(policy),
            started_at=self._wall(),
            started_mono=self._clock.now(),
            origin=origin,
        )
        self._adopt(session)
        await channel.send(
            SessionOpened(
                session_id=session.session_id,
                permissions=session.permissions,
                locked=session.locked,
            )
        )
        announced = False
        refusal: str | None = None
        if self._desktop is not None:
            control = Permission.CONTROL in session.permissions
            if self._desktop.asks(control):
                # The desktop asks its user now: the Accept Window says so meanwhile.
                session.desktop_asking = True
                self.started.emit(session.view())
                announced = True
            refusal = await self._desktop.open(control)
            session.desktop_asking = False
            if session.ended:
                await self._release_desktop()
                return
            if refusal is not None and not self._desktop_shared():
                await self.end(session, refusal)
                await self._release_desktop()
                return
        for f in self.features:
            await f.started(session)
        if refusal is not None:
            # The screen is shared for another session; this one's control was refused.
            await self._send(session, Unavailable(frozenset({Permission.CONTROL}), refusal[:200]))
        if announced:
            self.changed.emit(session.view())
        else:
            self.started.emit(session.view())

    def _adopt(self, session: Session) -> None:
        self.sessions[session.session_id] = session

        async def handler(channel: Channel, msg: Message) -> None:
            await self._handle(session, msg)

        self._links.claim(session.channel, handler)

    async def set_permissions(
        self, session: Session, permissions: frozenset[Permission]
    ) -> Session:
        if session.role is not Role.HOST:
            raise RefusedWithKind(RefusalKind.STATE, "only the host changes permissions")
        policy = self._policy()
        wanted = policy.apply(permissions)
        granted_control = (
            Permission.CONTROL in wanted and Permission.CONTROL not in session.permissions
        )
        session.permissions = wanted
        session.locked = self._locked(policy)
        if granted_control:
            self._spawn(self._desktop_control(session))
        self._permissions_changed(session)
        await self._send(session, SessionPermissions(permissions=wanted, locked=session.locked))
        self.changed.emit(session.view())
        return session

    async def apply_policy(self, policy: Policy) -> None:
        """A changed policy file takes effect in running sessions at once."""
        for s in list(self.sessions.values()):
            if s.role is Role.HOST and not s.ended:
                new = policy.apply(s.permissions)
                locked = self._locked(policy)
                if new != s.permissions or locked != s.locked:
                    s.permissions, s.locked = new, locked
                    self._permissions_changed(s)
                    self.changed.emit(s.view())
                    await self._send(s, SessionPermissions(permissions=new, locked=locked))

    def _permissions_changed(self, session: Session) -> None:
        for f in self.features:
            f.permissions_changed(session)

    def _desktop_shared(self) -> bool:
        """Another host session already shares the desktop (its portal session runs)."""
        return self._desktop is not None and not self._desktop.asks(False)

    async def _desktop_control(self, session: Session) -> None:
        """CONTROL was granted: a desktop that shared the screen only is asked for input."""
        desktop = self._desktop
        if desktop is None or not desktop.asks(True):
            return
        session.desktop_asking = True
        self.changed.emit(session.view())
        refusal = await desktop.open(True)
        session.desktop_asking = False
        if session.ended:
            return
        self.changed.emit(session.view())
        if refusal is not None:
            await self._send(session, Unavailable(frozenset({Permission.CONTROL}), refusal[:200]))

    async def _release_desktop(self) -> None:
        if self._desktop is None:
            return
        if not any(s.role is Role.HOST and not s.ended for s in self.sessions.values()):
            await self._desktop.release()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- guest ------------------------------------------------------------------------

    async def open_as_guest(
        self,
        host: Peer,
        addresses: tuple[Address, ...],
        token: bytes,
        offered: frozenset[Permission],
    ) -> str:
        """Dial the host, present the token, and wait for the session to open."""
        channel = await self._links.dial(list(addresses), host.fingerprint) if addresses else None
        if channel is None:
            channel = self._links.channel_for(host.fingerprint)
        if channel is None:
            raise RefusedWithKind(RefusalKind.OFFLINE, "no address of the host is known")
        opened: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        early: list[Message] = []

        async def first(ch: Channel, msg: Message) -> None:
            if not opened.done():
                opened.set_result(msg)
            elif len(early) < 64:
                # Sent right after SessionOpened, before the session's handler takes over.
                early.append(msg)

        async def closed() -> None:  # an Error from the host closes the channel: no answer
            await channel.wait_closed()
            if not opened.done():
                opened.set_exception(ChannelClosed(channel.close_reason))

        self._links.claim(channel, first)
        await channel.send(SessionOpen(session_token=token))
        watcher = asyncio.create_task(closed())
        try:
            answer = await asyncio.wait_for(opened, OPEN_TIMEOUT)
        except TimeoutError:
            await channel.close("the session did not open")
            raise RefusedWithKind(
                RefusalKind.OFFLINE, "the host did not open the session"
            ) from None
        except ChannelClosed as exc:
            raise RefusedWithKind(RefusalKind.OFFLINE, f"the host closed it: {exc}") from None
        finally:
            watcher.cancel()
        if not isinstance(answer, SessionOpened):
            await channel.close("the session was refused")
            reason = answer.message if isinstance(answer, Error) else type(answer).__name__
            raise RefusedWithKind(RefusalKind.DECLINED, f"the host refused the session: {reason}")
        session = Session(
            session_id=answer.session_id,
            role=Role.GUEST,
            peer=host,
            channel=channel,
            permissions=answer.permissions,
            locked=answer.locked,
            started_at=self._wall(),
            started_mono=self._clock.now(),
        )
        for f in self.features:
            await f.started(session)
        self._adopt(session)
        for msg in early:
            await self._handle(session, msg)
        self.started.emit(session.view())
        return session.session_id.hex()

    def guest_screen(self, session_id: str) -> GuestScreen | None:
        """The host's screen as this guest receives it (session id in hex)."""
        return self.screen.guest(session_id)

    def guest_control(self, session_id: str) -> tuple[GuestControl, GuestPen] | None:
        """The guest's remote control and pen for this session (session id in hex)."""
        for s in self.sessions.values():
            if s.session_id.hex() == session_id and s.role is Role.GUEST and not s.ended:
                return self.remote_input.control(s), self.drawing.pen(s)
        return None

    async def request_system_info(self, session: Session) -> SysInfo:
        return await self.system_info.ask(session)

    async def send_chat(self, session: Session, text: str) -> None:
        await self.conversation.say(session, text)

    async def send_clipboard(self, session: Session, text: str) -> None:
        """Send clipboard text to the peer; a guest only while it switched sending on."""
        await self.clipboard.send(session, text)

    async def set_send_clipboard(self, session: Session, on: bool) -> None:
        """Guest: let this device's clipboard go to the host (sent at once, then on change)."""
        await self.clipboard.set_send(session, on)

    # --- both -------------------------------------------------------------------------

    async def _send(self, session: Session, msg: Message) -> None:
        try:
            await session.channel.send(msg)
        except ChannelClosed:
            self._ended(session, "connection lost")

    async def _handle(self, session: Session, msg: Message) -> None:
        match msg:
            case SessionEnd():
                self._ended(session, msg.reason or "ended by the peer")
                await session.channel.close("session ended")
                return
            case SessionPermissions() if session.role is Role.GUEST:
                session.permissions = msg.permissions
                session.locked = msg.locked
                self._permissions_changed(session)
                self.changed.emit(session.view())
                return
        await self._dispatch.route(session, msg)

    def channel_closed(self, channel: Channel) -> None:
        for s in list(self.sessions.values()):
            if s.channel is channel and not s.ended:
                self._ended(s, channel.close_reason or "connection lost")

    def _ended(self, session: Session, reason: str) -> None:
        if session.ended:
            return
        session.ended = True
        session.end_reason = reason
        for f in self.features:
            f.ended(session)
        self._dispatch.forget(session)
        session.close_outbox()
        duration = max(0.0, self._clock.now() - session.started_mono)
        self.ended.emit(SessionOutcome(session.view(), duration, reason))
        del self.sessions[session.session_id]
        if session.role is Role.HOST and self._desktop is not None:
            with contextlib.suppress(RuntimeError):  # no running loop: stop() releases it
                self._spawn(self._release_desktop())

    async def end(self, session: Session, reason: str = "ended") -> None:
        await self._send(session, SessionEnd(reason=reason))
        self._ended(session, reason)
        await session.channel.close("session ended")

    async def stop(self) -> None:
        for s in list(self.sessions.values()):
            await self.end(s, "the other side quit")
        for f in self.features:
            f.stop()
        if self._desktop is not None:
            await self._desktop.release()
        for t in list(self._tasks):
            t.cancel()
