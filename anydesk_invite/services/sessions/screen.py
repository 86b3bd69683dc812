"""The screen in a session: the host sends changed tiles paced by the guest's acks; the guest
assembles them into its frame buffer.

ScreenSharing here is the session Feature: a HostScreen (host_screen.py) per guest, a
GuestScreen (guest_screen.py) per host. The tiles both sides send and paste are in tiles.py,
with the measurements that chose their encoding. A guest that decodes H.264
(``ScreenSelect.video``) gets the hybrid stream instead: moving regions as video, refined to
exact tiles once they stand still (HybridPlanner, hybrid.py), paced to what the guest's acks
say the link delivers (LinkEstimate, pacing.py). ``bench/screen_video.py`` measures it beside
the tile path, host and guest in separate processes.
"""

from __future__ import annotations

from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.wire import (
    FrameAck,
    FrameTiles,
    Message,
    Refused,
    ScreenList,
    ScreenSelect,
    VideoFrame,
)
from anydesk_invite.services.ports import PhotoCodec, ScreenSource, VideoCodec
from anydesk_invite.services.sessions.guest_screen import GuestScreen
from anydesk_invite.services.sessions.host_screen import HostScreen
from anydesk_invite.services.sessions.session import Session
from anydesk_invite.services.views import Role


class ScreenSharing:
    """The screen of every session on this device: a HostScreen per guest, a GuestScreen per
    host. Viewing the screen needs no permission; without a screen source the host says
    sharing is unavailable.

    Signals: view_changed (Session; never emitted: the screen has signals of its own).
    """

    name = "screen"
    permission: Permission | None = None
    from_guest: tuple[type[Message], ...] = (FrameAck, ScreenSelect)
    from_host: tuple[type[Message], ...] = (ScreenList, FrameTiles, VideoFrame, Refused)
    refusal_interval = 0.0

    def __init__(
        self,
        source: ScreenSource | None,
        photo: PhotoCodec | None = None,
        video: VideoCodec | None = None,
    ) -> None:
        self._source = source
        self._photo = photo
        """JPEG for photo-like tiles, both ways (None: lossless tiles only)."""
        self._video = video
        """H.264 for moving content, both ways (None: tiles only)."""
        self._screens: dict[bytes, HostScreen | GuestScreen] = {}
        self.view_changed: Signal[Session] = Signal("screen.view_changed")
        self.unavailable = ""
        """Why this device has no screen to share (a Wayland desktop without a usable portal),
        told to every guest; set by the composition root."""

    def gated(self, msg: Message) -> bool:
        return False

    def refusal(self, session: Session, msg: Message) -> tuple[str, Message | None]:
        return "screen", None

    async def started(self, session: Session) -> None:
        if session.role is Role.HOST:
            host = HostScreen(
                self._source,
                session.send,
                photo=self._photo,
                video=self._video,
                unavailable=self.unavailable,
            )
            self._screens[session.session_id] = host
            await host.announce()
        else:
            self._screens[session.session_id] = GuestScreen(
                session.send, photo=self._photo, video=self._video
            )

    def permissions_changed(self, session: Session) -> None:
        pass

    def ended(self, session: Session) -> None:
        screen = self._screens.pop(session.session_id, None)
        if isinstance(screen, HostScreen):
            screen.close()

    def stop(self) -> None:
        for screen in self._screens.values():
            if isinstance(screen, HostScreen):
                screen.close()
        self._screens.clear()

    async def handle(self, session: Session, msg: Message) -> None:
        screen = self._screens.get(session.session_id)
        if screen is not None:
            await screen.handle(msg)

    def guest(self, session_id: str) -> GuestScreen | None:
        """The host's screen as this guest receives it (session id in hex)."""
        for sid, screen in self._screens.items():
            if sid.hex() == session_id and isinstance(screen, GuestScreen):
                return screen
        return None
