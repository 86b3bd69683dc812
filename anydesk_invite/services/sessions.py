"""Remote sessions: the host (inviter, the one viewed) and the guest (invitee).

The host enforces every permission: each guest request is checked against the session's
current permissions, and a refused one is logged and answered with ``Refused``. A change of
permissions on the host reaches the guest at once (``SessionPermissions``). One host serves
up to MAX_GUESTS sessions at once, each with its own permissions.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from anydesk_invite.core.clock import Clock
from anydesk_invite.core.invitation import Peer
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.policy import Policy
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.channel import Channel, ChannelClosed
from anydesk_invite.net.wire import (
    Chat,
    ClipboardText,
    Error,
    Message,
    Refused,
    SessionEnd,
    SessionOpen,
    SessionOpened,
    SessionPermissions,
    SysInfo,
    SysInfoRequest,
)
from anydesk_invite.services.drawing import DRAW_MESSAGES, Drawing, GuestPen
from anydesk_invite.services.facade import RefusalKind, RefusedWithKind
from anydesk_invite.services.file_transfer import FILE_MESSAGES, FileTransfers
from anydesk_invite.services.links import Address, Links
from anydesk_invite.services.ports import (
    ClipboardPort,
    PhotoCodec,
    ScreenSource,
    SystemInfoSource,
)
from anydesk_invite.services.remote_input import REMOTE_INPUT_MESSAGES, GuestControl, RemoteInput
from anydesk_invite.services.screen_stream import GuestScreen, HostScreen
from anydesk_invite.services.views import Role, SessionView

_log = logging.getLogger(__name__)

CHAT_KEEP_MESSAGES = 500
"""Chat lines a session keeps (both directions); older ones are dropped."""
CHAT_KEEP_CHARS = 256 * 1024
"""Characters of chat a session keeps; older lines are dropped beyond it."""
CHAT_RATE = 5.0
"""Chat messages per second taken from a peer, after a burst of CHAT_BURST; more are dropped."""
CHAT_BURST = 20

MAX_GUESTS = 4
OPEN_TIMEOUT = 10.0
REQUEST_TIMEOUT = 10.0


@dataclass(slots=True)
class Session:
    session_id: bytes
    role: Role
    peer: Peer
    channel: Channel
    permissions: frozenset[Permission]
    locked: frozenset[Permission]
    started_at: float
    started_mono: float
    origin: str = ""
    ended: bool = False
    end_reason: str = ""
    chat: list[tuple[str, str]] = field(default_factory=list)
    """(who, text): 'me' or 'peer'; the newest CHAT_KEEP_MESSAGES / CHAT_KEEP_CHARS only."""
    chat_tokens: float = 0.0
    """Peer chat messages this session may still take now (a token bucket, CHAT_RATE/s)."""
    chat_refill: float = 0.0
    chat_dropped: int = 0

    def keep_chat(self, who: str, text: str) -> None:
        """Append a chat line; the oldest go beyond the count or size bound."""
        self.chat.append((who, text))
        excess = len(self.chat) - CHAT_KEEP_MESSAGES
        if excess > 0:
            del self.chat[:excess]
        total = sum(len(t) for _, t in self.chat)
        while total > CHAT_KEEP_CHARS and len(self.chat) > 1:
            total -= len(self.chat.pop(0)[1])

    def chat_allowed(self, now: float) -> bool:
        """Whether one more chat message from the peer is taken now (rate bound)."""
        if self.chat_refill == 0.0:
            self.chat_tokens, self.chat_refill = float(CHAT_BURST), now
        self.chat_tokens = min(
            float(CHAT_BURST), self.chat_tokens + (now - self.chat_refill) * CHAT_RATE
        )
        self.chat_refill = now
        if self.chat_tokens < 1:
            self.chat_dropped += 1
            return False
        self.chat_tokens -= 1
        return True

    send_clipboard: bool = False
    """Guest side: whether this guest's clipboard may leave the machine."""
    pending: dict[str, asyncio.Future[Message]] = field(default_factory=dict)
    unavailable: dict[Permission, str] = field(default_factory=dict)
    """Guest side: permissions the host said it cannot honour (Unavailable), with the reason."""

    def unavailable_reason(self, perm: Permission) -> str:
        """Guest: why the host cannot honour ``perm`` although it may grant it; empty if it can."""
        return self.unavailable.get(perm, "")

    def view(self) -> SessionView:
        return SessionView(
            session_id=self.session_id.hex(),
            role=self.role,
            peer_id=self.peer.device_id,
            peer_alias=self.peer.alias,
            peer_fingerprint=self.peer.fingerprint,
            permissions=self.permissions,
            locked=self.locked,
            started_at=self.started_at,
            unavailable=tuple(sorted(self.unavailable.items())),
        )


@dataclass(frozen=True, slots=True)
class SessionOutcome:
    session: SessionView
    duration: float
    reason: str


class SessionService:
    """Open sessions on both sides.

    Signals: started (SessionView), changed (SessionView: permissions or chat), ended
    (SessionOutcome), chat (tuple[str session id hex, str text]).
    """

    def __init__(
        self,
        links: Links,
        clock: Clock,
        policy: Callable[[], Policy],
        system_info: SystemInfoSource,
        clipboard: ClipboardPort | None = None,
        wall: Callable[[], float] = time.time,
        random_bytes: Callable[[int], bytes] = os.urandom,
        transfers: FileTransfers | None = None,
        screen: ScreenSource | None = None,
        remote_input: RemoteInput | None = None,
        drawing: Drawing | None = None,
        photo: PhotoCodec | None = None,
    ) -> None:
        self._links = links
        self._photo = photo
        """JPEG for photo-like screen tiles, both ways (None: lossless tiles only)."""
        self._clock = clock
        self._policy = policy
        self._system_info = system_info
        self._clipboard = clipboard
        self._wall = wall
        self._random = random_bytes
        self.transfers = transfers or FileTransfers(random_bytes=random_bytes)
        self.remote_input = remote_input or RemoteInput(None, clock)
        self.remote_input.unavailable_changed.connect(self._host_cannot)
        self.drawing = drawing or Drawing(clock)
        self._from_peer = ""
        """The clipboard text last set from a peer, so it is not echoed back."""
        self._tasks: set[asyncio.Task[None]] = set()
        if clipboard is not None:
            clipboard.changed.connect(self._local_clipboard_changed)
        self._screen_source = screen
        self._screens: dict[bytes, HostScreen | GuestScreen] = {}
        """Each open session's screen; None as source: the host shares no screen."""
        self.sessions: dict[bytes, Session] = {}
        self.started: Signal[SessionView] = Signal("sessions.started")
        self.changed: Signal[SessionView] = Signal("sessions.changed")
        self.ended: Signal[SessionOutcome] = Signal("sessions.ended")
        self.chat: Signal[tuple[str, str]] = Signal("sessions.chat")

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

    # --- host -------------------------------------------------------------------------

    async def start_host(
        self, channel: Channel, guest: Peer, permissions: frozenset[Permission], origin: str
    ) -> None:
        policy = self._policy()
        hosting = [s for s in self.sessions.values() if s.role is Role.HOST and not s.ended]
        if policy.broken or len(hosting) >= MAX_GUESTS:
            reason = "policy" if policy.broken else "too many guests"
            await channel.send(Error(code="refused", message=reason))
            await channel.close(reason)
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
        host_screen = HostScreen(
            self._screen_source, lambda m: self._send(session, m), photo=self._photo
        )
        self._screens[session.session_id] = host_screen
        await host_screen.announce()
        await self.drawing.session_started(session)
        await self.remote_input.session_started(session)
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
        session.permissions = wanted
        session.locked = self._locked(policy)
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
        self.transfers.permissions_changed(session)
        self.remote_input.permissions_changed(session)
        self.drawing.permissions_changed(session)

    def _allowed(self, session: Session, perm: Permission, what: str) -> bool:
        if perm in session.permissions:
            return True
        _log.warning("refused %s from guest %s: %s not granted", what, session.peer.device_id, perm)
        return False

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

        self._links.claim(channel, first)
        await channel.send(SessionOpen(session_token=token))
        try:
            answer = await asyncio.wait_for(opened, OPEN_TIMEOUT)
        except TimeoutError:
            await channel.close("the session did not open")
            raise RefusedWithKind(
                RefusalKind.OFFLINE, "the host did not open the session"
            ) from None
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
        self._screens[session.session_id] = GuestScreen(
            lambda m: self._send(session, m), photo=self._photo
        )
        self._adopt(session)
        for msg in early:
            await self._handle(session, msg)
        self.started.emit(session.view())
        return session.session_id.hex()

    def guest_screen(self, session_id: str) -> GuestScreen | None:
        """The host's screen as this guest receives it (session id in hex)."""
        for s in self.sessions.values():
            screen = self._screens.get(s.session_id)
            if s.session_id.hex() == session_id and isinstance(screen, GuestScreen):
                return screen
        return None

    def _host_cannot(self, session_id: str) -> None:
        """The host said what it cannot honour: the session's view says so too."""
        for s in self.sessions.values():
            if s.session_id.hex() == session_id and not s.ended:
                self.changed.emit(s.view())

    def guest_control(self, session_id: str) -> tuple[GuestControl, GuestPen] | None:
        """The guest's remote control and pen for this session (session id in hex)."""
        for s in self.sessions.values():
            if s.session_id.hex() == session_id and s.role is Role.GUEST and not s.ended:
                box = self.remote_input.outbox(s)
                return self.remote_input.control(s), self.drawing.pen(s, box)
        return None

    async def request_system_info(self, session: Session) -> SysInfo:
        answer = await self._ask(session, "sysinfo", SysInfoRequest())
        if isinstance(answer, SysInfo):
            return answer
        raise RefusedWithKind(RefusalKind.POLICY, "not permitted: system information")

    async def _ask(self, session: Session, key: str, msg: Message) -> Message:
        if session.role is not Role.GUEST:
            raise RefusedWithKind(RefusalKind.STATE, "only a guest asks the host")
        fut: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        session.pending[key] = fut
        await self._send(session, msg)
        try:
            return await asyncio.wait_for(fut, REQUEST_TIMEOUT)
        except TimeoutError:
            raise RefusedWithKind(RefusalKind.OFFLINE, "the host did not answer") from None
        finally:
            session.pending.pop(key, None)

    async def send_chat(self, session: Session, text: str) -> None:
        text = text[:4000]
        session.keep_chat("me", text)
        await self._send(session, Chat(text=text))
        self.changed.emit(session.view())

    async def send_clipboard(self, session: Session, text: str) -> None:
        """Send clipboard text to the peer; a guest only while it switched sending on."""
        if session.role is Role.GUEST and not session.send_clipboard:
            raise RefusedWithKind(RefusalKind.STATE, "sending your clipboard is switched off")
        if Permission.CLIPBOARD not in session.permissions:
            raise RefusedWithKind(RefusalKind.POLICY, "not permitted: clipboard")
        await self._send(session, ClipboardText(text=text[: 1024 * 1024]))

    async def set_send_clipboard(self, session: Session, on: bool) -> None:
        """Guest: let this device's clipboard go to the host (sent at once, then on change)."""
        if session.role is not Role.GUEST:
            raise RefusedWithKind(RefusalKind.STATE, "only a guest decides to send its clipboard")
        session.send_clipboard = on
        self.changed.emit(session.view())
        text = self._clipboard.text() if self._clipboard is not None else ""
        if on and text and Permission.CLIPBOARD in session.permissions:
            await self._send(session, ClipboardText(text=text[: 1024 * 1024]))

    def _local_clipboard_changed(self, text: str) -> None:
        """Send a local clipboard change where it may go: from a host to every guest granted
        the clipboard, from a guest to its host only while it switched sending on."""
        if not text or text == self._from_peer:
            return
        for s in list(self.sessions.values()):
            if s.ended or Permission.CLIPBOARD not in s.permissions:
                continue
            if s.role is Role.GUEST and not s.send_clipboard:
                continue
            task = asyncio.get_running_loop().create_task(
                self._send(s, ClipboardText(text=text[: 1024 * 1024]))
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # --- both -------------------------------------------------------------------------

    async def _send(self, session: Session, msg: Message) -> None:
        try:
            await session.channel.send(msg)
        except ChannelClosed:
            self._ended(session, "connection lost")

    async def _handle(self, session: Session, msg: Message) -> None:
        screen = self._screens.get(session.session_id)
        if screen is not None and await screen.handle(msg):
            return
        match msg:
            case Chat():
                if not session.chat_allowed(self._clock.now()):
                    if session.chat_dropped in (1, 100, 10_000):
                        _log.warning(
                            "%s sends chat faster than %g messages/s; %d dropped",
                            session.peer.device_id,
                            CHAT_RATE,
                            session.chat_dropped,
                        )
                    return
                session.keep_chat("peer", msg.text)
                self.chat.emit((session.session_id.hex(), msg.text))
                self.changed.emit(session.view())
            case SessionEnd():
                self._ended(session, msg.reason or "ended by the peer")
                await session.channel.close("session ended")
            case SysInfoRequest() if session.role is Role.HOST:
                if self._allowed(session, Permission.SYSTEM_INFO, "system information"):
                    info = self._system_info.system_information()
                    await self._send(
                        session,
                        SysInfo(
                            os=info.os[:255],
                            hostname=info.hostname[:255],
                            cpu=info.cpu[:255],
                            cpu_count=info.cpu_count,
                            memory_total=info.memory_total,
                            screens=[s[:255] for s in info.screens[:16]],
                        ),
                    )
                else:
                    await self._send(session, Refused(what="system_info", reason="not permitted"))
            case ClipboardText():
                if session.role is Role.HOST and not self._allowed(
                    session, Permission.CLIPBOARD, "clipboard"
                ):
                    await self._send(session, Refused(what="clipboard", reason="not permitted"))
                elif Permission.CLIPBOARD in session.permissions and self._clipboard is not None:
                    self._from_peer = msg.text
                    self._clipboard.set_text(msg.text)
            case SessionPermissions() if session.role is Role.GUEST:
                session.permissions = msg.permissions
                session.locked = msg.locked
                self._permissions_changed(session)
                self.changed.emit(session.view())
            case SysInfo() if session.role is Role.GUEST:
                fut = session.pending.get("sysinfo")
                if fut is not None and not fut.done():
                    fut.set_result(msg)
            case Refused() if session.role is Role.GUEST:
                key = "sysinfo" if msg.what == "system_info" else msg.what
                fut = session.pending.get(key)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
                _log.info("host refused %s: %s", msg.what, msg.reason)
            case _ if isinstance(msg, FILE_MESSAGES):
                await self.transfers.handle(session, msg)
            case _ if isinstance(msg, REMOTE_INPUT_MESSAGES):
                await self.remote_input.handle(session, msg)
            case _ if isinstance(msg, DRAW_MESSAGES):
                await self.drawing.handle(session, msg)
            case _:
                _log.warning("unexpected %s in a session from %s", type(msg).__name__, session.peer)
                await self._send(session, Refused(what="unexpected", reason="not permitted"))

    def channel_closed(self, channel: Channel) -> None:
        for s in list(self.sessions.values()):
            if s.channel is channel and not s.ended:
                self._ended(s, channel.close_reason or "connection lost")

    def _ended(self, session: Session, reason: str) -> None:
        if session.ended:
            return
        session.ended = True
        session.end_reason = reason
        self.transfers.session_ended(session)
        self.remote_input.session_ended(session)
        self.drawing.session_ended(session)
        screen = self._screens.pop(session.session_id, None)
        if isinstance(screen, HostScreen):
            screen.close()
        duration = max(0.0, self._clock.now() - session.started_mono)
        self.ended.emit(SessionOutcome(session.view(), duration, reason))
        del self.sessions[session.session_id]

    async def end(self, session: Session, reason: str = "ended") -> None:
        await self._send(session, SessionEnd(reason=reason))
        self._ended(session, reason)
        await session.channel.close("session ended")

    async def stop(self) -> None:
        for s in list(self.sessions.values()):
            await self.end(s, "the other side quit")
