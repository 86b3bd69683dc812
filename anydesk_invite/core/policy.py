"""Custom client settings (admin policy): what an administrator forces or presets.

A policy is pure data. Several policies merge so that the tightest setting wins; the file
format lives in storage/policy_files.py, which files count in storage/policy_watch.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.wide_area import WideAreaSettings


class Override(StrEnum):
    """How a policy sets one permission."""

    FORCE_ON = "force_on"
    FORCE_OFF = "force_off"
    DEFAULT_ON = "default_on"
    DEFAULT_OFF = "default_off"

    @property
    def locked(self) -> bool:
        return self in (Override.FORCE_ON, Override.FORCE_OFF)


class AcceptFrom(IntEnum):
    """Whose invitations and requests are shown. Higher is tighter."""

    EVERYONE = 0
    ADDRESS_BOOK = 1
    NOBODY = 2

    @property
    def key(self) -> str:
        return self.name.lower()


class DiscoveryMode(IntEnum):
    """Discovery on (browse and announce), hidden (browse only) or off. Higher is tighter."""

    ON = 0
    HIDDEN = 1
    OFF = 2

    @property
    def key(self) -> str:
        return self.name.lower()


def parse_accept_from(text: str) -> AcceptFrom:
    try:
        return AcceptFrom[text.strip().upper().replace("-", "_")]
    except KeyError:
        raise ValueError(
            f"accept-from is one of everyone, address_book, nobody (not {text!r})"
        ) from None


def parse_discovery_mode(text: str) -> DiscoveryMode:
    try:
        return DiscoveryMode[text.strip().upper()]
    except KeyError:
        raise ValueError(f"discovery is one of on, hidden, off (not {text!r})") from None


# Tightness when two policies disagree on one permission: forcing off beats everything,
# then forcing on, then defaults (a default never overrides a force).
_TIGHTNESS = {
    Override.FORCE_OFF: 3,
    Override.FORCE_ON: 2,
    Override.DEFAULT_OFF: 1,
    Override.DEFAULT_ON: 0,
}


@dataclass(frozen=True, slots=True)
class Policy:
    """The effective custom client settings.

    ``broken`` holds a reason when a policy file could not be read: the client then fails
    closed (refuses invitations, requests and sessions) until it is fixed.
    """

    permissions: dict[Permission, Override] = field(default_factory=dict)
    max_accept_from: AcceptFrom = AcceptFrom.EVERYONE
    max_discovery: DiscoveryMode = DiscoveryMode.ON
    broken: str | None = None
    sources: tuple[str, ...] = ()
    wide_area: WideAreaSettings | None = None
    """Discovery through DNS as the administrator set it (system-wide file only); replaces
    the user's settings as a whole."""
    wide_area_secret_file: str = ""
    """Where the administrator put the TSIG secret (system-wide file only)."""
    wide_area_allowed: bool = True
    """False when any file says ``[wide_area] enabled = false``."""

    def is_locked(self, perm: Permission) -> bool:
        if self.broken:
            return True
        o = self.permissions.get(perm)
        return o is not None and o.locked

    def lock_reason(self, perm: Permission) -> str | None:
        if self.broken:
            return f"Your administrator's custom client settings cannot be read: {self.broken}"
        o = self.permissions.get(perm)
        if o is Override.FORCE_ON:
            return "Always granted by your administrator's custom client settings"
        if o is Override.FORCE_OFF:
            return "Switched off by your administrator's custom client settings"
        return None

    def apply(self, requested: frozenset[Permission]) -> frozenset[Permission]:
        """The permissions actually granted: forced ones win over what was asked."""
        if self.broken:
            # Fail closed: with unreadable settings nothing beyond viewing is granted.
            return frozenset()
        out = set(requested)
        for perm, o in self.permissions.items():
            if o is Override.FORCE_ON:
                out.add(perm)
            elif o is Override.FORCE_OFF:
                out.discard(perm)
        return frozenset(out)

    def defaults(self, base: frozenset[Permission]) -> frozenset[Permission]:
        """A starting selection: the base with default and forced settings applied."""
        if self.broken:
            return frozenset()
        out = set(base)
        for perm, o in self.permissions.items():
            if o in (Override.FORCE_ON, Override.DEFAULT_ON):
                out.add(perm)
            else:
                out.discard(perm)
        return frozenset(out)

    def effective_accept_from(self, chosen: AcceptFrom) -> AcceptFrom:
        if self.broken:
            return AcceptFrom.NOBODY
        return max(chosen, self.max_accept_from)

    def effective_discovery(self, chosen: DiscoveryMode) -> DiscoveryMode:
        if self.broken:
            return DiscoveryMode.OFF
        return max(chosen, self.max_discovery)

    def effective_wide_area(self, chosen: WideAreaSettings) -> WideAreaSettings:
        """The DNS discovery settings in force: off when broken or forbidden, the
        administrator's when set, else the user's."""
        if self.broken or not self.wide_area_allowed:
            return WideAreaSettings()
        return self.wide_area if self.wide_area is not None else chosen


def merge_policies(trusted: Policy | None, restricting: list[Policy]) -> Policy:
    """Merge a trusted (system-wide) policy with ones that may only restrict.

    A restricting policy cannot force a permission on nor loosen anything: its FORCE_ON is
    read as DEFAULT_ON and its defaults never override a force. Any broken input breaks
    the result (fail closed).
    """
    perms: dict[Permission, Override] = dict(trusted.permissions) if trusted else {}
    accept = trusted.max_accept_from if trusted else AcceptFrom.EVERYONE
    disc = trusted.max_discovery if trusted else DiscoveryMode.ON
    broken = [trusted.broken] if trusted and trusted.broken else []
    sources = list(trusted.sources) if trusted else []
    wide_allowed = trusted.wide_area_allowed if trusted else True
    for pol in restricting:
        sources.extend(pol.sources)
        wide_allowed = wide_allowed and pol.wide_area_allowed
        if pol.broken:
            broken.append(pol.broken)
        accept = max(accept, pol.max_accept_from)
        disc = max(disc, pol.max_discovery)
        for perm, o in pol.permissions.items():
            if o is Override.FORCE_ON:
                o = Override.DEFAULT_ON
            cur = perms.get(perm)
            if cur is None or _TIGHTNESS[o] > _TIGHTNESS[cur]:
                perms[perm] = o
    return Policy(
        permissions=perms,
        max_accept_from=accept,
        max_discovery=disc,
        broken="; ".join(broken) if broken else None,
        sources=tuple(sources),
        # Only the trusted file may point the fleet at a DNS server and key.
        wide_area=trusted.wide_area if trusted else None,
        wide_area_secret_file=trusted.wide_area_secret_file if trusted else "",
        wide_area_allowed=wide_allowed,
    )
