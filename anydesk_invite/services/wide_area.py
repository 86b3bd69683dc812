"""Which DNS discovery settings are in force, and the TSIG secret that goes with them.

The administrator's system-wide policy wins as a whole (server, domain, key and the file
holding its secret); otherwise the user's settings and the secret in the keyring or the
home's 0600 file. Any policy file may switch it off.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from anydesk_invite.core.policy import Policy
from anydesk_invite.core.wide_area import WideAreaError, WideAreaSettings
from anydesk_invite.storage.tsig_secret import TsigSecretError, TsigSecretStore, read_secret_file


@dataclass(frozen=True, slots=True)
class WideAreaChoice:
    """What to run with: the settings, the secret (None: browse only) and why it is missing."""

    settings: WideAreaSettings
    secret: str | None = None
    problem: str | None = None


def wide_area_choice(
    policy: Policy, chosen: WideAreaSettings, store: TsigSecretStore
) -> WideAreaChoice:
    settings = policy.effective_wide_area(chosen)
    try:
        settings = settings.checked()
    except WideAreaError as exc:
        return WideAreaChoice(WideAreaSettings(), problem=str(exc))
    if not settings.enabled or not settings.key_name:
        return WideAreaChoice(settings)
    try:
        if policy.wide_area is not None:
            if not policy.wide_area_secret_file:
                return WideAreaChoice(
                    settings, problem="the policy names a TSIG key but no secret_file"
                )
            secret: str | None = read_secret_file(Path(policy.wide_area_secret_file))
        else:
            secret = store.get(settings.key_name)
    except TsigSecretError as exc:
        return WideAreaChoice(settings, problem=f"TSIG secret: {exc}; browsing only")
    if secret is None:
        return WideAreaChoice(
            settings,
            problem=f"no secret stored for TSIG key {settings.key_name!r}; browsing only",
        )
    return WideAreaChoice(settings, secret)
