"""An Invite as a raw inviter sends it: a test picks the id (and may pick the rest)."""

from __future__ import annotations

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.wire import Invite

CONTROL = frozenset({Permission.CONTROL})


def raw_invite(
    invitation_id: bytes, permissions: frozenset[Permission] = CONTROL, revision: int = 1
) -> Invite:
    """A first invitation with this id, alive for the full 120 s."""
    return Invite(
        invitation_id=invitation_id,
        revision=revision,
        permissions=permissions,
        profile="",
        seconds_left=120.0,
    )
