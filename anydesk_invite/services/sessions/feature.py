"""What every session feature speaks, so that the service can dispatch through a table.

A feature (screen, remote input, clipboard, files, drawing, chat, system information) names
the messages it takes from a guest and from a host, the permission a guest's message needs,
and what a host answers when that permission is missing. The service is the one host-side
gate: it checks the permission, logs a refusal and sends the feature's answer, so a feature's
``handle`` sees only what it may act on. A feature is told when a session starts, when its
permissions change, and when it ends. ``BaseFeature`` gives those hooks, and the gate, the
defaults a feature that needs nothing more inherits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.signal import Signal
from anydesk_invite.net.wire import Message, Refused

if TYPE_CHECKING:
    from anydesk_invite.services.sessions.session import Session


class Feature(Protocol):
    """One thing a session carries.

    Signals: view_changed (Session: something the session's view shows changed).
    """

    name: str
    """The feature as the wire names it in ``Refused.what`` ("screen", "control", …)."""
    permission: Permission | None
    """What the host must have granted for a guest's gated message; None: nothing."""
    from_guest: tuple[type[Message], ...]
    """The messages a host takes from its guest and hands to this feature."""
    from_host: tuple[type[Message], ...]
    """The messages a guest takes from its host and hands to this feature."""
    refusal_interval: float
    """A host logs and answers this feature's refusals at most once per this many seconds
    per session (0: every one), so a flood costs no more than one line and one answer."""
    view_changed: Signal[Session]

    def gated(self, msg: Message) -> bool:
        """Whether this message from a guest needs ``permission``."""
        ...

    def refusal(self, session: Session, msg: Message) -> tuple[str, Message | None]:
        """What was refused, in words for the log, and the host's answer (None: none)."""
        ...

    async def started(self, session: Session) -> None: ...
    def permissions_changed(self, session: Session) -> None: ...
    def ended(self, session: Session) -> None: ...
    def stop(self) -> None:
        """This device shuts down: cancel what the feature still runs."""
        ...

    async def handle(self, session: Session, msg: Message) -> None: ...


class BaseFeature:
    """The defaults of a Feature: nothing to do when a session starts, changes or ends, or when
    the device stops; a guest's message is gated whenever the feature has a permission, and
    refused as ``Refused(name, "not permitted")``. A feature overrides what it needs.

    Signals: view_changed (Session: something the session's view shows changed).
    """

    name = ""
    permission: Permission | None = None
    from_guest: tuple[type[Message], ...] = ()
    from_host: tuple[type[Message], ...] = ()
    refusal_interval = 0.0

    def __init__(self) -> None:
        self.view_changed: Signal[Session] = Signal(f"{self.name}.view_changed")

    def gated(self, msg: Message) -> bool:
        return self.permission is not None

    def refusal(self, session: Session, msg: Message) -> tuple[str, Message | None]:
        return self.name, Refused(what=self.name, reason="not permitted")

    async def started(self, session: Session) -> None:
        pass

    def permissions_changed(self, session: Session) -> None:
        pass

    def ended(self, session: Session) -> None:
        pass

    def stop(self) -> None:
        pass

    async def handle(self, session: Session, msg: Message) -> None:
        raise NotImplementedError
