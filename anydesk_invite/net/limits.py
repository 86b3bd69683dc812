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
    pre_auth_frame_limit: int = PRE_AUTH_FRAME_LIMIT
    post_auth_frame_limit: int = POST_AUTH_FRAME_LIMIT

    def __post_init__(self) -> None:
        for name in ("handshake_timeout", "idle_timeout", "heartbeat_interval"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if self.heartbeat_interval >= self.idle_timeout:
            raise ValueError("heartbeat_interval must be shorter than idle_timeout")
        for name in (
            "max_unauthenticated_total",
            "max_unauthenticated_per_address",
            "pre_auth_frame_limit",
            "post_auth_frame_limit",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
