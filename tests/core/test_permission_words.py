"""What people are told about permissions, profiles and locked settings, and the profile
rules at their bounds. The permission keys are docs/PROTOCOL.md's, pinned as literals."""

from __future__ import annotations

import pytest

from anydesk_invite.core.permissions import (
    BUILTIN_PROFILES,
    Permission,
    PermissionError_,
    PermissionProfile,
    ProfileBook,
    parse_permission,
    validate_profile_name,
)
from anydesk_invite.core.policy import Override, Policy

P = Permission


def test_permission_keys_are_the_documented_strings() -> None:
    assert [p.value for p in Permission] == [
        "control",
        "clipboard",
        "file_transfer",
        "system_info",
        "draw",
    ]


def test_builtin_profiles_grant_what_the_documentation_says() -> None:
    assert {p.name: set(p.permissions) for p in BUILTIN_PROFILES} == {
        "Full Access": {P.CONTROL, P.CLIPBOARD, P.FILE_TRANSFER, P.SYSTEM_INFO, P.DRAW},
        "Default": {P.CONTROL, P.CLIPBOARD, P.SYSTEM_INFO, P.DRAW},
        "Screen Sharing": set(),
    }


def test_an_unknown_permission_is_answered_with_the_known_ones() -> None:
    with pytest.raises(PermissionError_) as refused:
        parse_permission("teleport")
    assert str(refused.value) == (
        "unknown permission 'teleport' (known: control, clipboard, file_transfer, "
        "system_info, draw)"
    )


def test_permission_names_are_read_as_people_type_them() -> None:
    assert parse_permission(" File-Transfer ") is P.FILE_TRANSFER


@pytest.mark.parametrize(
    ("name", "told"),
    [
        ("   ", "a profile needs a name"),
        ("x" * 41, "a profile name has at most 40 characters"),
        ("tab\there", "a profile name may not hold control characters"),
        ("del\x7f", "a profile name may not hold control characters"),
    ],
)
def test_a_bad_profile_name_is_answered_with_what_to_fix(name: str, told: str) -> None:
    with pytest.raises(PermissionError_) as refused:
        validate_profile_name(name)
    assert str(refused.value) == told


def test_a_profile_name_of_exactly_forty_characters_is_kept() -> None:
    assert validate_profile_name(" " + "x" * 40 + " ") == "x" * 40


def test_stored_custom_profiles_keep_their_permissions_and_list_alphabetically() -> None:
    book = ProfileBook(
        [
            PermissionProfile("helpdesk", frozenset({P.CONTROL})),
            PermissionProfile("Audit", frozenset({P.SYSTEM_INFO})),
            PermissionProfile("Zebra", frozenset()),
            PermissionProfile("beta", frozenset({P.DRAW})),
        ]
    )
    assert book.get("HELPDESK").permissions == {P.CONTROL}
    assert [p.name for p in book.all()] == [
        "Full Access",
        "Default",
        "Screen Sharing",
        "Audit",
        "beta",
        "helpdesk",
        "Zebra",
    ]


def test_an_unknown_profile_is_answered_with_the_known_ones() -> None:
    book = ProfileBook([PermissionProfile("Helpdesk", frozenset({P.CONTROL}))])
    with pytest.raises(PermissionError_) as refused:
        book.get("Nope")
    assert str(refused.value) == (
        "unknown profile 'Nope' (known: Full Access, Default, Screen Sharing, Helpdesk)"
    )


@pytest.mark.parametrize(
    ("override", "told"),
    [
        (Override.FORCE_ON, "Always granted by your administrator's custom client settings"),
        (Override.FORCE_OFF, "Switched off by your administrator's custom client settings"),
        (Override.DEFAULT_ON, None),
        (Override.DEFAULT_OFF, None),
    ],
)
def test_a_locked_permission_says_who_locked_it(override: Override, told: str | None) -> None:
    assert Policy(permissions={P.CONTROL: override}).lock_reason(P.CONTROL) == told
    assert Policy(permissions={P.CONTROL: override}).lock_reason(P.DRAW) is None
