"""Remote control of the host's keyboard and pointer, behind the CONTROL permission.

Guest: the session window turns pointer, wheel and key events into PointerMove,
PointerButton, PointerWheel and KeyInput while CONTROL is granted and the host can inject;
otherwise it sends only PointerPosition, which the host shows as a marker. Messages leave
through one ordered, bounded outbox per session; a pointer move replaces one still queued.

Host: every input message is checked against the session's current permissions (refused and
logged without CONTROL, whatever the guest's UI did), rate-limited per session by a token
bucket (a flood is dropped, never queued), and injected through an InputSink. The keys and
buttons a guest holds are tracked, so revoking CONTROL or ending the session releases them.
Where the sink cannot inject, the host says so with ``Unavailable`` right after the session
opens, and the guest shows CONTROL as unavailable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from anydesk_invite.core.clock import Clock
from anydesk_invite.core.input_names import Modifier, PointerButtonName
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.wire import (
    KeyInput,
    Message,
    PointerButton,
    PointerMove,
    PointerPosition,
    PointerWheel,
    Refused,
    Unavailable,
)
from anydesk_invite.services.ports import InputSink
from anydesk_invite.services.sessions.outbox import Outbox
from anydesk_invite.services.sessions.session import Session
from anydesk_invite.services.views import PointerSeen, Role

_log = logging.getLogger(__name__)

INPUT_MESSAGES = (PointerMove, PointerButton, PointerWheel, KeyInput)
REMOTE_INPUT_MESSAGES = (*INPUT_MESSAGES, PointerPosition, Unavailable)
RATE = 1000.0
"""Input events per second a host injects for one guest; more are dropped."""
BURST = 200
"""Events a guest may send at once above the rate (a fast typist's burst, a drag)."""
POSITION_INTERVAL = 1 / 30
"""Seconds between two pointer positions for the marker, on both sides."""
REFUSAL_INTERVAL = 1.0
"""A host answers and logs refused input at most once per this many seconds per session."""
NOTCH = 120
WHEEL_MAX_NOTCHES = 10
NO_SINK = "this device has no way to inject input"
BUTTONS: tuple[PointerButtonName, ...] = ("left", "middle", "right", "back", "forward")


@dataclass(slots=True)
class _Host:
    """What a host keeps per guest."""

    tokens: float
    refilled_at: float
    keys: dict[str, str] = field(default_factory=dict)
    """Held keys: code → the key text it was pressed with."""
    buttons: set[str] = field(default_factory=set)
    wheel: list[int] = field(default_factory=lambda: [0, 0])
    refused_at: float | None = None
    dropped_at: float | None = None
    dropped: int = 0
    position_at: float | None = None
    marker_shown: bool = False


class GuestControl:
    """A guest's remote control of one session's host; the session window drives it."""

    def __init__(self, owner: RemoteInput, session: Session, outbox: Outbox) -> None:
        self._owner = owner
        self._session = session
        self._outbox = outbox
        self._position_at: float | None = None
        self.unavailable_changed: Signal[str] = owner.unavailable_changed
        """Emitted with a session id hex when a host says what it cannot do."""

    @property
    def session_id(self) -> str:
        return self._session.session_id.hex()

    def unavailable(self) -> str:
        """Why the host cannot be controlled although it may grant CONTROL; empty if it can."""
        return self._session.unavailable_reason(Permission.CONTROL)

    def usable(self) -> bool:
        """CONTROL is granted and the host can inject: input goes to the host."""
        s = self._session
        return not s.ended and Permission.CONTROL in s.permissions and not self.unavailable()

    def move(self, screen: int, x: int, y: int) -> None:
        if self._session.ended:
            return
        if self.usable():
            self._outbox.post(PointerMove(screen, x, y), droppable=True, coalesce=True)
            return
        now = self._owner.clock.now()
        if self._position_at is not None and now - self._position_at < POSITION_INTERVAL:
            return
        self._position_at = now
        self._outbox.post(PointerPosition(screen, x, y), droppable=True, coalesce=True)

    def leave(self) -> None:
        """The pointer left the host's screen: the host hides the marker."""
        if not self._session.ended and not self.usable():
            self._position_at = None
            self._outbox.post(PointerPosition(0, 0, 0, inside=False))

    def button(self, screen: int, x: int, y: int, button: PointerButtonName, pressed: bool) -> bool:
        if not self.usable():
            return False
        return self._outbox.post(PointerButton(screen, x, y, button, pressed))

    def wheel(self, dx: int, dy: int) -> bool:
        if not self.usable():
            return False
        clamp = NOTCH * WHEEL_MAX_NOTCHES
        dx, dy = max(-clamp, min(clamp, dx)), max(-clamp, min(clamp, dy))
        return self._outbox.post(PointerWheel(dx, dy))

    def key(self, code: str, key: str, pressed: bool, modifiers: frozenset[Modifier]) -> bool:
        if not self.usable():
            return False
        return self._outbox.post(KeyInput(code, key[:16], pressed, modifiers))


class RemoteInput:
    """Remote control for every session on this device, host and guest side.

    Signals: pointer_seen (PointerSeen: a guest's pointer to mark on this host's screen),
    unavailable_changed (str: session id hex whose host said what it cannot do),
    view_changed (Session: the same, for the session's view).
    """

    name = "control"
    permission: Permission | None = Permission.CONTROL
    from_guest: tuple[type[Message], ...] = REMOTE_INPUT_MESSAGES
    from_host: tuple[type[Message], ...] = REMOTE_INPUT_MESSAGES
    refusal_interval = REFUSAL_INTERVAL

    def __init__(
        self,
        sink: InputSink | None,
        clock: Clock,
        *,
        rate: float = RATE,
        burst: int = BURST,
    ) -> None:
        self._sink = sink
        self.clock = clock
        self._rate = rate
        self._burst = burst
        self._broken: str | None = None
        self._hosts: dict[bytes, _Host] = {}
        self._guests: dict[bytes, GuestControl] = {}
        self.injected = 0
        """Events handed to the sink (for tests and benchmarks)."""
        self.pointer_seen: Signal[PointerSeen] = Signal("remote_input.pointer_seen")
        self.unavailable_changed: Signal[str] = Signal("remote_input.unavailable_changed")
        self.view_changed: Signal[Session] = Signal("remote_input.view_changed")

    def gated(self, msg: Message) -> bool:
        """Input needs CONTROL; the pointer position for the marker and Unavailable do not."""
        return isinstance(msg, INPUT_MESSAGES)

    def refusal(self, session: Session, msg: Message) -> tuple[str, Message | None]:
        return type(msg).__name__, Refused(what="control", reason="not permitted")

    # --- host -------------------------------------------------------------------------

    def problem(self) -> str | None:
        """Why this device cannot be controlled, or None."""
        if self._broken is not None:
            return self._broken
        if self._sink is None:
            return NO_SINK
        try:
            return self._sink.problem()
        except Exception as exc:
            return f"input injection failed: {exc}"

    def held(self, session_id: str) -> tuple[frozenset[str], frozenset[str]]:
        """Keys (codes) and buttons a guest holds down on this host."""
        for sid, h in self._hosts.items():
            if sid.hex() == session_id:
                return frozenset(h.keys), frozenset(h.buttons)
        return frozenset(), frozenset()

    async def started(self, session: Session) -> None:
        """Host: say right away what this device cannot do."""
        if session.role is not Role.HOST:
            return
        now = self.clock.now()
        self._hosts[session.session_id] = _Host(tokens=float(self._burst), refilled_at=now)
        problem = self.problem()
        if problem is not None:
            await session.send(Unavailable(frozenset({Permission.CONTROL}), problem[:200]))

    def permissions_changed(self, session: Session) -> None:
        h = self._hosts.get(session.session_id)
        if h is None:
            return
        if Permission.CONTROL not in session.permissions:
            self._release_all(session, h)
        elif h.marker_shown:
            self._hide_marker(session, h)

    def ended(self, session: Session) -> None:
        h = self._hosts.pop(session.session_id, None)
        if h is not None:
            self._release_all(session, h)
            self._hide_marker(session, h)
        self._guests.pop(session.session_id, None)

    def stop(self) -> None:
        self._guests.clear()

    async def handle(self, session: Session, msg: Message) -> None:
        """One remote-input message from the session's peer (input only where the service's
        gate found CONTROL granted)."""
        if session.role is Role.GUEST:
            if isinstance(msg, Unavailable):
                # Each names its permissions; a later one for a permission replaces the earlier.
                for perm in msg.permissions:
                    session.unavailable[perm] = msg.reason
                _log.info("host cannot honour %s: %s", sorted(msg.permissions), msg.reason)
                self.unavailable_changed.emit(session.session_id.hex())
                self.view_changed.emit(session)
            else:
                _log.warning("ignored %s from a host", type(msg).__name__)
            return
        h = self._hosts.get(session.session_id)
        if h is None:
            return
        if isinstance(msg, PointerPosition):
            self._position(session, h, msg)
            return
        if isinstance(msg, Unavailable):
            return
        problem = self.problem()
        if problem is not None:
            await self._refuse(session, h, type(msg).__name__, "unavailable")
            return
        if not self._is_release_of_held(h, msg) and not self._take_token(h):
            self._drop(session, h)
            return
        try:
            self._inject(h, msg)
        except Exception as exc:
            # A lost display connection: stop trying, and say so to later input.
            self._broken = f"input injection failed: {exc}"
            _log.exception("injecting input from %s failed", session.peer.device_id)

    def _position(self, session: Session, h: _Host, msg: PointerPosition) -> None:
        now = self.clock.now()
        if Permission.CONTROL in session.permissions and self.problem() is None:
            return
        if msg.inside:
            # Half the guest's interval: some jitter passes, a flood does not.
            if h.position_at is not None and now - h.position_at < POSITION_INTERVAL / 2:
                return
            h.position_at = now
        h.marker_shown = msg.inside
        self.pointer_seen.emit(
            PointerSeen(session.session_id.hex(), msg.screen, msg.x, msg.y, msg.inside)
        )

    def _hide_marker(self, session: Session, h: _Host) -> None:
        h.marker_shown = False
        self.pointer_seen.emit(PointerSeen(session.session_id.hex(), 0, 0, 0, inside=False))

    async def _refuse(self, session: Session, h: _Host, what: str, reason: str) -> None:
        now = self.clock.now()
        if h.refused_at is not None and now - h.refused_at < REFUSAL_INTERVAL:
            return
        h.refused_at = now
        _log.warning("refused %s from guest %s: control %s", what, session.peer.device_id, reason)
        await session.send(Refused(what="control", reason=reason))

    def _take_token(self, h: _Host) -> bool:
        now = self.clock.now()
        h.tokens = min(float(self._burst), h.tokens + (now - h.refilled_at) * self._rate)
        h.refilled_at = now
        if h.tokens < 1.0:
            return False
        h.tokens -= 1.0
        return True

    def _drop(self, session: Session, h: _Host) -> None:
        h.dropped += 1
        now = self.clock.now()
        if h.dropped_at is None or now - h.dropped_at >= REFUSAL_INTERVAL:
            h.dropped_at = now
            _log.warning(
                "dropping input from guest %s: over %d events a second (%d dropped)",
                session.peer.device_id,
                int(self._rate),
                h.dropped,
            )

    @staticmethod
    def _is_release_of_held(h: _Host, msg: Message) -> bool:
        # A release is never dropped: it only ends something held.
        if isinstance(msg, KeyInput):
            return not msg.pressed and msg.code in h.keys
        if isinstance(msg, PointerButton):
            return not msg.pressed and msg.button in h.buttons
        return False

    def _inject(self, h: _Host, msg: Message) -> None:
        sink = self._sink
        assert sink is not None
        match msg:
            case PointerMove():
                sink.move(msg.screen, msg.x, msg.y)
            case PointerButton():
                if not msg.pressed and msg.button not in h.buttons:
                    return
                sink.move(msg.screen, msg.x, msg.y)
                sink.button(msg.button, msg.pressed)
                if msg.pressed:
                    h.buttons.add(msg.button)
                else:
                    h.buttons.discard(msg.button)
            case PointerWheel():
                h.wheel[0] += msg.dx
                h.wheel[1] += msg.dy
                nx, ny = int(h.wheel[0] / NOTCH), int(h.wheel[1] / NOTCH)
                h.wheel[0] -= nx * NOTCH
                h.wheel[1] -= ny * NOTCH
                if nx or ny:
                    # Qt's angle delta is positive away from the user (up); X's down is +.
                    sink.scroll(nx, -ny)
            case KeyInput():
                if msg.pressed:
                    if sink.key(msg.code, msg.key, True):
                        h.keys[msg.code] = msg.key
                elif msg.code in h.keys:
                    sink.key(msg.code, h.keys.pop(msg.code), False)
                else:
                    return
        self.injected += 1

    def _release_all(self, session: Session, h: _Host) -> None:
        if not h.keys and not h.buttons:
            return
        sink = self._sink
        keys, buttons = dict(h.keys), set(h.buttons)
        h.keys.clear()
        h.buttons.clear()
        if sink is None:
            return
        try:
            for code, key in keys.items():
                sink.key(code, key, False)
            for b in buttons:
                sink.button(b, False)
        except Exception:
            _log.exception("releasing the input held by %s failed", session.peer.device_id)
        _log.info(
            "released %d keys and %d buttons held by %s",
            len(keys),
            len(buttons),
            session.peer.device_id,
        )

    # --- guest ------------------------------------------------------------------------

    def control(self, session: Session) -> GuestControl:
        """The guest's remote control of this session's host."""
        found = self._guests.get(session.session_id)
        if found is None:
            found = GuestControl(self, session, session.outbox())
            self._guests[session.session_id] = found
        return found
