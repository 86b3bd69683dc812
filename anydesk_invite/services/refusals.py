"""Why the client will not do something: the exceptions every service raises for it.

A front end shows the message (a dialog, stderr with exit code 1); the control API sends the
kind along so a script can tell an unknown target from a declined one.
"""

from __future__ import annotations

from enum import StrEnum


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


class RefusedWithKind(ActionRefused):
    def __init__(self, kind: RefusalKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
