"""Deadlines and caps that keep a bad or vanished peer from holding resources."""

from __future__ import annotations

from dataclasses import dataclass

from anydesk_invite.net.wire import POST_AUTH_FRAME_LIMIT, PRE_AUTH_FRAME_LIMIT


@dataclass(frozen=True, slots=True)
class Limits:
    """Network limits; the defaults are those documented in docs/PROTOCOL.md.

    Times are seconds. Tests pass short ones instead of sleeping through the real ones.
    """

    handshake_timeout: float = 5.0
    idle_timeout: float = 9.0
    """A peer that crashed or dropped off the network is noticed within 10 s."""
    heartbeat_interval: float = 3.0
    max_unauthenticated_total: int = 64
    max_unauthenticated_per_address: int = 8
    max_channels_per_key: int = 4
    """Authenticated channels one key may hold open to us at once."""
    max_channels_per_address: int = 16
    """Authenticated channels (and handshakes) one address may hold open to us at once."""
    max_channels_total: int = 128
    """Authenticated channels peers may hold open to us at once. With the handshake cap this
    keeps what peers can take far below a 1024-descriptor limit: the rest is the reserve for
    the control socket, files, the database and the channels this client dials itself."""
    unused_channel_timeout: float = 30.0
    """An accepted channel of a peer that is neither known (address book, a past session) nor
    carrying an invitation or a session is closed after this long."""
    pre_auth_frame_limit: int = PRE_AUTH_FRAME_LIMIT
    post_auth_frame_limit: int = POST_AUTH_FRAME_LIMIT

    def __post_init__(self) -> None:
        for name in (
            "handshake_timeout",
            "idle_timeout",
            "heartbeat_interval",
            "unused_channel_timeout",
        ):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if self.heartbeat_interval >= self.idle_timeout:
            raise ValueError("heartbeat_interval must be shorter than idle_timeout")
        for name in (
            "max_unauthenticated_total",
            "max_unauthenticated_per_address",
            "max_channels_per_key",
            "max_channels_per_address",
            "max_channels_total",
            "pre_auth_frame_limit",
            "post_auth_frame_limit",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
