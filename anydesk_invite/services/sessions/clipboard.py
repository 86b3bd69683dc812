"""The clipboard in a session, behind the CLIPBOARD permission.

A host sends its clipboard to every guest granted it; a guest sends its own only while it
switched sending on (off by default), so the guest decides what leaves its machine. Text set
from a peer is not echoed back.
"""

from __future__ import annotations

import asyncio

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.wire import ClipboardText, Message
from anydesk_invite.services.ports import ClipboardPort
from anydesk_invite.services.refusals import RefusalKind, RefusedWithKind
from anydesk_invite.services.sessions.feature import BaseFeature
from anydesk_invite.services.sessions.session import Session
from anydesk_invite.services.views import Role

MAX_TEXT = 1024 * 1024
"""Characters of clipboard text sent at once; longer text is cut."""


class ClipboardSharing(BaseFeature):
    """The clipboard for every session on this device.

    Signals: view_changed (Session: a guest switched sending on or off).
    """

    name = "clipboard"
    permission: Permission | None = Permission.CLIPBOARD
    from_guest: tuple[type[Message], ...] = (ClipboardText,)
    from_host: tuple[type[Message], ...] = (ClipboardText,)

    def __init__(self, clipboard: ClipboardPort | None) -> None:
        super().__init__()
        self._clipboard = clipboard
        self._sessions: dict[bytes, Session] = {}
        self._from_peer = ""
        """The clipboard text last set from a peer, so it is not echoed back."""
        self._tasks: set[asyncio.Task[None]] = set()
        if clipboard is not None:
            clipboard.changed.connect(self._local_changed)

    async def started(self, session: Session) -> None:
        self._sessions[session.session_id] = session

    def ended(self, session: Session) -> None:
        self._sessions.pop(session.session_id, None)

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()

    async def handle(self, session: Session, msg: Message) -> None:
        if not isinstance(msg, ClipboardText):
            return
        if Permission.CLIPBOARD in session.permissions and self._clipboard is not None:
            self._from_peer = msg.text
            self._clipboard.set_text(msg.text)

    async def send(self, session: Session, text: str) -> None:
        """Send clipboard text to the peer; a guest only while it switched sending on."""
        if session.role is Role.GUEST and not session.send_clipboard:
            raise RefusedWithKind(RefusalKind.STATE, "sending your clipboard is switched off")
        if Permission.CLIPBOARD not in session.permissions:
            raise RefusedWithKind(RefusalKind.POLICY, "not permitted: clipboard")
        await session.send(ClipboardText(text=text[:MAX_TEXT]))

    async def set_send(self, session: Session, on: bool) -> None:
        """Guest: let this device's clipboard go to the host (sent at once, then on change)."""
        if session.role is not Role.GUEST:
            raise RefusedWithKind(RefusalKind.STATE, "only a guest decides to send its clipboard")
        session.send_clipboard = on
        self.view_changed.emit(session)
        text = self._clipboard.text() if self._clipboard is not None else ""
        if on and text and Permission.CLIPBOARD in session.permissions:
            await session.send(ClipboardText(text=text[:MAX_TEXT]))

    def _local_changed(self, text: str) -> None:
        """Send a local clipboard change where it may go: from a host to every guest granted
        the clipboard, from a guest to its host only while it switched sending on."""
        if not text or text == self._from_peer:
            return
        for s in list(self._sessions.values()):
            if s.ended or Permission.CLIPBOARD not in s.permissions:
                continue
            if s.role is Role.GUEST and not s.send_clipboard:
                continue
            task = asyncio.get_running_loop().create_task(
                s.send(ClipboardText(text=text[:MAX_TEXT]))
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
