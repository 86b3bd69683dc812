"""Drawing on the host's screen, behind the DRAW permission.

The guest drags with the draw tool; each point goes to the host in a ``DrawStroke`` naming the
stroke it extends. The host keeps each session's strokes (bounded: MAX_STROKES per session,
oldest dropped first; MAX_POINTS per stroke, later points ignored) and announces every change;
the overlay in ui/ paints them above everything. They vanish when the host clears them, when
DRAW is revoked, or when the session ends. Without DRAW a stroke is refused and logged.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field

from anydesk_invite.core.clock import Clock
from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.wire import (
    MAX_STROKE_CHUNK,
    DrawClear,
    DrawStroke,
    Message,
    Refused,
    Unavailable,
)
from anydesk_invite.services.sessions.outbox import Outbox
from anydesk_invite.services.sessions.session import Session
from anydesk_invite.services.views import Role, StrokeView

_log = logging.getLogger(__name__)

DRAW_MESSAGES = (DrawStroke, DrawClear)
MAX_STROKES = 64
MAX_POINTS = 4096
REFUSAL_INTERVAL = 1.0
COLORS = (0xFF3B30, 0x0A84FF, 0x34C759, 0xFF9F0A)
"""One colour per guest on a host, in the order they connect."""


@dataclass(slots=True)
class _Stroke:
    screen: int
    color: int
    points: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class _Canvas:
    """One session's strokes on this host."""

    strokes: OrderedDict[int, _Stroke] = field(default_factory=OrderedDict)
    refused_at: float | None = None


class GuestPen:
    """A guest drawing on one session's host; the session window's draw tool drives it."""

    def __init__(self, session: Session, outbox: Outbox, color: int = COLORS[0]) -> None:
        self._session = session
        self._outbox = outbox
        self.color = color
        self._next = 1
        self._stroke: int | None = None
        self._screen = 0
        self._count = 0

    def unavailable(self) -> str:
        """Why the host cannot show drawings although it may grant DRAW; empty if it can."""
        return self._session.unavailable_reason(Permission.DRAW)

    def usable(self) -> bool:
        s = self._session
        return not s.ended and Permission.DRAW in s.permissions and not self.unavailable()

    def begin(self, screen: int, x: int, y: int) -> bool:
        """Start a stroke at a point; False when drawing is not granted."""
        if not self.usable():
            self._stroke = None
            return False
        self._stroke = self._next
        self._next = (self._next + 1) & 0xFFFF_FFFF
        self._screen = screen
        self._count = 0
        return self.extend(x, y)

    def extend(self, x: int, y: int) -> bool:
        if self._stroke is None or not self.usable() or self._count >= MAX_POINTS:
            return False
        self._count += 1
        return self._outbox.post(DrawStroke(self._stroke, self._screen, self.color, [(x, y)]))

    def end(self) -> None:
        self._stroke = None

    def clear(self) -> None:
        """Ask the host to remove this guest's strokes."""
        if not self._session.ended:
            self._outbox.post(DrawClear())


class Drawing:
    """Strokes on this host from every session, and the guest's pens.

    Signals: changed (str: session id hex whose strokes changed), view_changed (Session;
    never emitted: strokes are not part of a session's view).
    """

    name = "draw"
    permission: Permission | None = Permission.DRAW
    from_guest: tuple[type[Message], ...] = DRAW_MESSAGES
    from_host: tuple[type[Message], ...] = DRAW_MESSAGES
    refusal_interval = REFUSAL_INTERVAL

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.display_problem: str | None = None
        """Why this device cannot show guests' strokes (it runs without a window), or None.
        Set by the composition root; a host with a problem says so as each session starts."""
        self._canvases: dict[bytes, _Canvas] = {}
        self._colors: dict[bytes, int] = {}
        self._pens: dict[bytes, GuestPen] = {}
        self.changed: Signal[str] = Signal("drawing.changed")
        self.view_changed: Signal[Session] = Signal("drawing.view_changed")

    def gated(self, msg: Message) -> bool:
        """A stroke needs DRAW; a guest may always clear its own strokes."""
        return isinstance(msg, DrawStroke)

    def refusal(self, session: Session, msg: Message) -> tuple[str, Message | None]:
        return "a stroke", Refused(what="draw", reason="not permitted")

    # --- host -------------------------------------------------------------------------

    def strokes(self, session_id: str | None = None) -> list[StrokeView]:
        out = []
        for sid, canvas in self._canvases.items():
            if session_id is not None and sid.hex() != session_id:
                continue
            for n, s in canvas.strokes.items():
                color = s.color
                out.append(StrokeView(sid.hex(), n, s.screen, color, tuple(s.points)))
        return out

    def color_of(self, session_id: str) -> int:
        """The colour this host gives the guest's marker and strokes."""
        for sid, color in self._colors.items():
            if sid.hex() == session_id:
                return color
        return COLORS[0]

    async def started(self, session: Session) -> None:
        if session.role is Role.HOST:
            used = set(self._colors.values())
            free = [c for c in COLORS if c not in used]
            self._colors[session.session_id] = (free or list(COLORS))[0]
            self._canvases[session.session_id] = _Canvas()
            if self.display_problem is not None:
                await session.send(
                    Unavailable(frozenset({Permission.DRAW}), self.display_problem[:200])
                )

    async def clear(self, session: Session) -> None:
        """Host: remove the session's strokes, and tell the guest they are gone."""
        self._wipe(session)
        if not session.ended:
            await session.send(DrawClear())

    def permissions_changed(self, session: Session) -> None:
        if Permission.DRAW not in session.permissions:
            self._wipe(session)

    def stop(self) -> None:
        pass

    def ended(self, session: Session) -> None:
        self._wipe(session)
        self._canvases.pop(session.session_id, None)
        self._colors.pop(session.session_id, None)
        self._pens.pop(session.session_id, None)

    def _wipe(self, session: Session) -> None:
        canvas = self._canvases.get(session.session_id)
        if canvas is not None and canvas.strokes:
            canvas.strokes.clear()
            self.changed.emit(session.session_id.hex())

    async def handle(self, session: Session, msg: Message) -> None:
        if session.role is Role.GUEST:
            # The host cleared this guest's strokes; nothing is kept on this side.
            return
        canvas = self._canvases.get(session.session_id)
        if canvas is None:
            return
        if isinstance(msg, DrawClear):
            self._wipe(session)
            return
        if not isinstance(msg, DrawStroke):
            return
        if self.display_problem is not None:
            # DRAW is granted (the service's gate saw to that), but there is nothing to draw on.
            now = self._clock.now()
            if canvas.refused_at is None or now - canvas.refused_at >= REFUSAL_INTERVAL:
                canvas.refused_at = now
                _log.warning(
                    "refused a stroke from guest %s: %s",
                    session.peer.device_id,
                    self.display_problem,
                )
                await session.send(Refused(what="draw", reason="unavailable"))
            return
        stroke = canvas.strokes.get(msg.stroke)
        if stroke is None:
            while len(canvas.strokes) >= MAX_STROKES:
                canvas.strokes.popitem(last=False)
            stroke = _Stroke(msg.screen, self._colors.get(session.session_id, COLORS[0]))
            canvas.strokes[msg.stroke] = stroke
        room = MAX_POINTS - len(stroke.points)
        if room <= 0:
            return
        stroke.points.extend(msg.points[: min(room, MAX_STROKE_CHUNK)])
        self.changed.emit(session.session_id.hex())

    # --- guest ------------------------------------------------------------------------

    def pen(self, session: Session) -> GuestPen:
        found = self._pens.get(session.session_id)
        if found is None:
            found = GuestPen(session, session.outbox())
            self._pens[session.session_id] = found
        return found
