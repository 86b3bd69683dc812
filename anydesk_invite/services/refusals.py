"""Why the client will not do something: the exceptions every service raises for it.

A front end shows the message (a dialog, stderr with exit code 1); the control API sends the
kind along so a script can tell an unknown target from a declined one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from anydesk_invite.core.ids import DeviceId


class ActionRefused(Exception):
    """An action the client will not do; the message says why, in words for a person."""


class RefusalKind(StrEnum):
    UNKNOWN = "unknown"
    AMBIGUOUS = "ambiguous"
    OFFLINE = "offline"
    DECLINED = "declined"
    POLICY = "policy"
    NEEDS_CONFIRMATION = "needs_confirmation"
    INVALID = "invalid"
    STATE = "state"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A device an alias may mean, for the user to confirm or choose (known from discovery
    only, never connected)."""

    device_id: DeviceId
    alias: str
    fingerprint: bytes
    address: str
    """host:port as announced."""
    last_seen: float | None
    """Wall-clock time (epoch seconds) it was last announced."""


class RefusedWithKind(ActionRefused):
    def __init__(
        self, kind: RefusalKind, message: str, candidates: tuple[Candidate, ...] = ()
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.candidates = candidates
        """For NEEDS_CONFIRMATION and AMBIGUOUS: the devices the user can confirm in place."""
