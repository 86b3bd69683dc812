"""Every feature a session carries (SessionFeatures), built by the composition root."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from anydesk_invite.core.clock import Clock
from anydesk_invite.services.ports import (
    ClipboardPort,
    InputSink,
    PhotoCodec,
    ScreenSource,
    SystemInfoSource,
    VideoCodec,
)
from anydesk_invite.services.sessions.chat import SessionChat
from anydesk_invite.services.sessions.clipboard import ClipboardSharing
from anydesk_invite.services.sessions.drawing import Drawing
from anydesk_invite.services.sessions.feature import Feature
from anydesk_invite.services.sessions.files import FileTransfers
from anydesk_invite.services.sessions.remote_input import RemoteInput
from anydesk_invite.services.sessions.screen import ScreenSharing
from anydesk_invite.services.sessions.sysinfo import SystemInfoSharing


@dataclass(frozen=True, slots=True)
class SessionFeatures:
    """Every feature a session carries, built by the composition root."""

    screen: ScreenSharing
    drawing: Drawing
    remote_input: RemoteInput
    transfers: FileTransfers
    clipboard: ClipboardSharing
    chat: SessionChat
    system_info: SystemInfoSharing

    def in_order(self) -> tuple[Feature, ...]:
        """In the order they hear of a session: the screen first, so a guest has its screen
        list before the host says what it cannot do."""
        return (
            self.screen,
            self.drawing,
            self.remote_input,
            self.transfers,
            self.clipboard,
            self.chat,
            self.system_info,
        )

    @classmethod
    def build(
        cls,
        clock: Clock,
        system_info: SystemInfoSource,
        *,
        clipboard: ClipboardPort | None = None,
        screen: ScreenSource | None = None,
        input_sink: InputSink | None = None,
        photo: PhotoCodec | None = None,
        video: VideoCodec | None = None,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> SessionFeatures:
        """The features over these desktop adapters (None: this device has none of that)."""
        return cls(
            screen=ScreenSharing(screen, photo, video),
            drawing=Drawing(clock),
            remote_input=RemoteInput(input_sink, clock),
            transfers=FileTransfers(clock, random_bytes=random_bytes),
            clipboard=ClipboardSharing(clipboard),
            chat=SessionChat(clock),
            system_info=SystemInfoSharing(system_info),
        )
