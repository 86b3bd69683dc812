"""System information in a session, behind the SYSTEM_INFO permission: a guest asks, the
host answers with its OS, host name, CPU, memory and screens (each bounded)."""

from __future__ import annotations

import asyncio

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.wire import Message, Refused, SysInfo, SysInfoRequest
from anydesk_invite.services.ports import SystemInfoSource
from anydesk_invite.services.refusals import RefusalKind, RefusedWithKind
from anydesk_invite.services.sessions.feature import BaseFeature
from anydesk_invite.services.sessions.session import Session
from anydesk_invite.services.views import Role

REQUEST_TIMEOUT = 10.0
"""Seconds a guest waits for the host's answer."""


class SystemInfoSharing(BaseFeature):
    """System information for every session on this device.

    Signals: view_changed (Session; never emitted: nothing a view shows changes).
    """

    name = "system_info"
    permission: Permission | None = Permission.SYSTEM_INFO
    from_guest: tuple[type[Message], ...] = (SysInfoRequest,)
    from_host: tuple[type[Message], ...] = (SysInfo, Refused)

    def __init__(self, source: SystemInfoSource, timeout: float = REQUEST_TIMEOUT) -> None:
        super().__init__()
        self._source = source
        self._timeout = timeout
        self._asked: dict[bytes, asyncio.Future[Message]] = {}
        """Guest: the question awaiting the host's answer, by session."""

    def refusal(self, session: Session, msg: Message) -> tuple[str, Message | None]:
        return "system information", Refused(what="system_info", reason="not permitted")

    async def handle(self, session: Session, msg: Message) -> None:
        if session.role is Role.HOST:
            info = self._source.system_information()
            await session.send(
                SysInfo(
                    os=info.os[:255],
                    hostname=info.hostname[:255],
                    cpu=info.cpu[:255],
                    cpu_count=info.cpu_count,
                    memory_total=info.memory_total,
                    screens=[s[:255] for s in info.screens[:16]],
                )
            )
            return
        fut = self._asked.get(session.session_id)
        if fut is not None and not fut.done():
            fut.set_result(msg)

    async def ask(self, session: Session) -> SysInfo:
        """Guest: the host's system information; Refused when it does not grant it."""
        if session.role is not Role.GUEST:
            raise RefusedWithKind(RefusalKind.STATE, "only a guest asks the host")
        fut: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._asked[session.session_id] = fut
        await session.send(SysInfoRequest())
        try:
            answer = await asyncio.wait_for(fut, self._timeout)
        except TimeoutError:
            raise RefusedWithKind(RefusalKind.OFFLINE, "the host did not answer") from None
        finally:
            self._asked.pop(session.session_id, None)
        if isinstance(answer, SysInfo):
            return answer
        raise RefusedWithKind(RefusalKind.POLICY, "not permitted: system information")
