"""Admin policy: applying it, defaults, lock reasons, and merging several policies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anydesk_invite.core.permissions import ALL_PERMISSIONS, Permission
from anydesk_invite.core.policy import (
    AcceptFrom,
    DiscoveryMode,
    Override,
    Policy,
    merge_policies,
    parse_accept_from,
    parse_discovery_mode,
)
from anydesk_invite.core.wide_area import WideAreaSettings

P = Permission
O = Override  # noqa: E741


def test_empty_policy_changes_nothing() -> None:
    pol = Policy()
    assert pol.apply(ALL_PERMISSIONS) == ALL_PERMISSIONS
    assert pol.apply(frozenset()) == frozenset()
    assert pol.defaults(frozenset({P.DRAW})) == {P.DRAW}
    assert pol.effective_accept_from(AcceptFrom.EVERYONE) is AcceptFrom.EVERYONE
    assert pol.effective_discovery(DiscoveryMode.ON) is DiscoveryMode.ON
    assert not any(pol.is_locked(p) for p in Permission)


def test_apply_forces_on_and_off_and_ignores_defaults() -> None:
    pol = Policy(
        {
            P.CONTROL: O.FORCE_OFF,
            P.DRAW: O.FORCE_ON,
            P.CLIPBOARD: O.DEFAULT_OFF,
            P.SYSTEM_INFO: O.DEFAULT_ON,
        }
    )
    granted = pol.apply(frozenset({P.CONTROL, P.CLIPBOARD}))
    assert granted == {P.DRAW, P.CLIPBOARD}


def test_defaults_set_both_defaults_and_forces() -> None:
    pol = Policy(
        {
            P.CONTROL: O.FORCE_OFF,
            P.DRAW: O.FORCE_ON,
            P.CLIPBOARD: O.DEFAULT_OFF,
            P.SYSTEM_INFO: O.DEFAULT_ON,
        }
    )
    assert pol.defaults(frozenset({P.CONTROL, P.CLIPBOARD, P.FILE_TRANSFER})) == {
        P.DRAW,
        P.SYSTEM_INFO,
        P.FILE_TRANSFER,
    }


def test_only_forced_permissions_are_locked_with_a_reason() -> None:
    pol = Policy({P.CONTROL: O.FORCE_OFF, P.DRAW: O.FORCE_ON, P.CLIPBOARD: O.DEFAULT_OFF})
    assert pol.is_locked(P.CONTROL) and pol.is_locked(P.DRAW)
    assert not pol.is_locked(P.CLIPBOARD) and not pol.is_locked(P.FILE_TRANSFER)
    assert "Switched off" in (pol.lock_reason(P.CONTROL) or "")
    assert "Always granted" in (pol.lock_reason(P.DRAW) or "")
    assert pol.lock_reason(P.CLIPBOARD) is None
    assert pol.lock_reason(P.FILE_TRANSFER) is None


def test_maximums_are_ceilings_on_the_users_choice() -> None:
    pol = Policy(max_accept_from=AcceptFrom.ADDRESS_BOOK, max_discovery=DiscoveryMode.HIDDEN)
    assert pol.effective_accept_from(AcceptFrom.EVERYONE) is AcceptFrom.ADDRESS_BOOK
    assert pol.effective_accept_from(AcceptFrom.NOBODY) is AcceptFrom.NOBODY
    assert pol.effective_discovery(DiscoveryMode.ON) is DiscoveryMode.HIDDEN
    assert pol.effective_discovery(DiscoveryMode.OFF) is DiscoveryMode.OFF


def test_a_broken_policy_fails_closed_everywhere() -> None:
    pol = Policy({P.DRAW: O.FORCE_ON}, broken="/etc/x.toml:3: bad value")
    assert pol.apply(ALL_PERMISSIONS) == frozenset()
    assert pol.defaults(ALL_PERMISSIONS) == frozenset()
    assert pol.effective_accept_from(AcceptFrom.EVERYONE) is AcceptFrom.NOBODY
    assert pol.effective_discovery(DiscoveryMode.ON) is DiscoveryMode.OFF
    assert all(pol.is_locked(p) for p in Permission)
    assert "/etc/x.toml:3" in (pol.lock_reason(P.CONTROL) or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("everyone", AcceptFrom.EVERYONE), (" Address-Book ", AcceptFrom.ADDRESS_BOOK)],
)
def test_parse_accept_from(text: str, expected: AcceptFrom) -> None:
    assert parse_accept_from(text) is expected
    assert parse_accept_from(expected.key) is expected


def test_parse_errors_name_the_choices() -> None:
    with pytest.raises(ValueError, match="everyone, address_book, nobody"):
        parse_accept_from("friends")
    with pytest.raises(ValueError, match="on, hidden, off"):
        parse_discovery_mode("loud")
    assert parse_discovery_mode("Hidden") is DiscoveryMode.HIDDEN


def test_merge_of_nothing_is_the_empty_policy() -> None:
    assert merge_policies(None, []) == Policy()


def test_merge_tightest_setting_wins() -> None:
    trusted = Policy(
        {P.CONTROL: O.DEFAULT_ON, P.DRAW: O.FORCE_ON},
        max_accept_from=AcceptFrom.ADDRESS_BOOK,
        sources=("/etc/p.toml",),
    )
    home = Policy(
        {P.CONTROL: O.DEFAULT_OFF, P.DRAW: O.FORCE_OFF},
        max_discovery=DiscoveryMode.HIDDEN,
        sources=("~/p.toml",),
    )
    merged = merge_policies(trusted, [home])
    assert merged.permissions == {P.CONTROL: O.DEFAULT_OFF, P.DRAW: O.FORCE_OFF}
    assert merged.max_accept_from is AcceptFrom.ADDRESS_BOOK
    assert merged.max_discovery is DiscoveryMode.HIDDEN
    assert merged.sources == ("/etc/p.toml", "~/p.toml")
    assert merged.broken is None


def test_a_restricting_policy_cannot_force_on() -> None:
    merged = merge_policies(None, [Policy({P.FILE_TRANSFER: O.FORCE_ON})])
    assert merged.permissions == {P.FILE_TRANSFER: O.DEFAULT_ON}
    assert not merged.is_locked(P.FILE_TRANSFER)


def test_a_restricting_policy_cannot_loosen_the_trusted_one() -> None:
    trusted = Policy(
        {P.CONTROL: O.FORCE_OFF, P.CLIPBOARD: O.DEFAULT_OFF, P.DRAW: O.FORCE_ON},
        max_accept_from=AcceptFrom.NOBODY,
        max_discovery=DiscoveryMode.OFF,
    )
    loose = Policy(
        {P.CONTROL: O.FORCE_ON, P.CLIPBOARD: O.DEFAULT_ON, P.DRAW: O.DEFAULT_OFF},
        max_accept_from=AcceptFrom.EVERYONE,
        max_discovery=DiscoveryMode.ON,
    )
    merged = merge_policies(trusted, [loose])
    assert merged.permissions == trusted.permissions
    assert merged.max_accept_from is AcceptFrom.NOBODY
    assert merged.max_discovery is DiscoveryMode.OFF


def test_any_broken_input_breaks_the_merge() -> None:
    ok = Policy({P.DRAW: O.DEFAULT_ON})
    merged = merge_policies(ok, [Policy(), Policy(broken="a.toml:1: x"), Policy(broken="b: y")])
    assert merged.broken == "a.toml:1: x; b: y"
    assert merged.apply(ALL_PERMISSIONS) == frozenset()
    assert merge_policies(Policy(broken="sys"), []).broken == "sys"


_overrides = st.dictionaries(st.sampled_from(list(Permission)), st.sampled_from(list(Override)))
_policies = st.builds(
    Policy,
    permissions=_overrides,
    max_accept_from=st.sampled_from(list(AcceptFrom)),
    max_discovery=st.sampled_from(list(DiscoveryMode)),
)


@given(
    trusted=_policies,
    restricting=st.lists(_policies, max_size=4),
    wanted=st.frozensets(st.sampled_from(list(Permission))),
)
def test_restricting_policies_never_grant_more_than_the_trusted_one_alone(
    trusted: Policy, restricting: list[Policy], wanted: frozenset[Permission]
) -> None:
    merged = merge_policies(trusted, restricting)
    alone = merge_policies(trusted, [])
    # Whatever the restricting files say, nothing forced off becomes available and nothing
    # new is forced on.
    for perm, o in merged.permissions.items():
        if o is O.FORCE_ON:
            assert trusted.permissions.get(perm) is O.FORCE_ON
    for perm, o in trusted.permissions.items():
        if o is O.FORCE_OFF:
            assert merged.permissions[perm] is O.FORCE_OFF
            assert perm not in merged.apply(wanted)
    assert merged.max_accept_from >= alone.max_accept_from
    assert merged.max_discovery >= alone.max_discovery
    assert merged.apply(wanted) <= alone.apply(wanted)


@given(restricting=st.lists(_policies, max_size=4))
def test_without_a_trusted_policy_nothing_is_ever_forced_on(restricting: list[Policy]) -> None:
    merged = merge_policies(None, restricting)
    assert O.FORCE_ON not in merged.permissions.values()
    wanted = frozenset({P.CONTROL})
    assert merged.apply(wanted) <= wanted


def test_the_trusted_files_dns_server_and_key_file_survive_a_merge_with_home_files() -> None:
    fleet = WideAreaSettings(server="10.0.0.53:53", key_name="fleet-key")
    trusted = Policy(wide_area=fleet, wide_area_secret_file="/etc/anydesk-invite/tsig.secret")
    merged = merge_policies(trusted, [Policy(), Policy()])
    assert merged.wide_area == fleet
    assert merged.wide_area_secret_file == "/etc/anydesk-invite/tsig.secret"
    assert merged.effective_wide_area(WideAreaSettings(server="10.9.9.9:53")) == fleet


def test_when_every_file_allows_dns_discovery_the_users_own_settings_run() -> None:
    mine = WideAreaSettings(server="10.9.9.9:53")
    for trusted in (None, Policy()):
        merged = merge_policies(trusted, [Policy(), Policy()])
        assert merged.wide_area_allowed
        assert merged.effective_wide_area(mine) == mine


def test_dns_discovery_switched_off_by_the_trusted_file_stays_off_whatever_home_files_say() -> None:
    merged = merge_policies(Policy(wide_area_allowed=False), [Policy(wide_area_allowed=True)])
    assert not merged.wide_area_allowed
    assert merged.effective_wide_area(WideAreaSettings(server="10.9.9.9:53")) == WideAreaSettings()


def test_dns_discovery_switched_off_by_any_home_file_is_off() -> None:
    merged = merge_policies(Policy(), [Policy(), Policy(wide_area_allowed=False), Policy()])
    assert not merged.wide_area_allowed
