"""Permissions and profiles: built-in contents and the rules for changing profiles."""

from __future__ import annotations

import pytest

from anydesk_invite.core.permissions import (
    ALL_PERMISSIONS,
    BUILTIN_PROFILES,
    DEFAULT,
    FULL_ACCESS,
    PROFILE_NAME_MAX,
    SCREEN_SHARING,
    Permission,
    PermissionError_,
    PermissionProfile,
    ProfileBook,
    parse_permission,
    permission_keys,
    permissions_from_keys,
    profile_matching,
)

P = Permission


def test_permission_keys_are_the_wire_names() -> None:
    assert {p.value for p in Permission} == {
        "control",
        "clipboard",
        "file_transfer",
        "system_info",
        "draw",
    }
    assert all(p.label for p in Permission)


def test_builtin_profiles_have_exactly_the_documented_contents() -> None:
    book = ProfileBook()
    assert book.get(FULL_ACCESS).permissions == ALL_PERMISSIONS
    assert book.get(DEFAULT).permissions == ALL_PERMISSIONS - {P.FILE_TRANSFER}
    assert book.get(SCREEN_SHARING).permissions == frozenset()
    assert [p.name for p in BUILTIN_PROFILES] == [FULL_ACCESS, DEFAULT, SCREEN_SHARING]
    assert all(p.builtin for p in BUILTIN_PROFILES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("control", P.CONTROL), (" File-Transfer ", P.FILE_TRANSFER), ("SYSTEM_INFO", P.SYSTEM_INFO)],
)
def test_parse_permission_is_forgiving_about_case_and_dashes(text: str, expected: P) -> None:
    assert parse_permission(text) is expected


def test_unknown_permission_names_the_known_ones() -> None:
    with pytest.raises(PermissionError_, match=r"unknown permission 'view'.*control"):
        parse_permission("view")


def test_keys_round_trip_in_sorted_order() -> None:
    perms = permissions_from_keys(["draw", "control"])
    assert perms == {P.DRAW, P.CONTROL}
    assert permission_keys(perms) == ["control", "draw"]


def test_create_adds_a_custom_profile_listed_after_the_builtins() -> None:
    book = ProfileBook()
    made = book.create("  Support  ", [P.CONTROL])
    assert made == PermissionProfile("Support", frozenset({P.CONTROL}))
    assert book.get("support") == made
    assert [p.name for p in book.all()] == [FULL_ACCESS, DEFAULT, SCREEN_SHARING, "Support"]
    assert book.custom() == [made]


def test_custom_profiles_are_sorted_case_insensitively() -> None:
    book = ProfileBook()
    for name in ("beta", "Alpha", "gamma"):
        book.create(name, [])
    assert [p.name for p in book.custom()] == ["Alpha", "beta", "gamma"]


@pytest.mark.parametrize("name", ["Full Access", "default", " SCREEN SHARING "])
def test_create_refuses_a_builtin_name(name: str) -> None:
    with pytest.raises(PermissionError_, match="exists already"):
        ProfileBook().create(name, [])


def test_create_refuses_a_duplicate_name_in_any_case() -> None:
    book = ProfileBook()
    book.create("Support", [])
    with pytest.raises(PermissionError_, match="exists already"):
        book.create("SUPPORT", [P.DRAW])
    assert book.get("support").permissions == frozenset()


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "needs a name"), ("   ", "needs a name"), ("a\x07b", "control"), ("x" * 41, "at most")],
)
def test_create_refuses_bad_names(name: str, message: str) -> None:
    with pytest.raises(PermissionError_, match=message):
        ProfileBook().create(name, [])
    assert PROFILE_NAME_MAX == 40


def test_update_changes_permissions_and_keeps_the_name() -> None:
    book = ProfileBook([PermissionProfile("Support", frozenset({P.CONTROL}))])
    updated = book.update("SUPPORT", [P.DRAW, P.CLIPBOARD])
    assert updated.name == "Support"
    assert book.get("Support").permissions == {P.DRAW, P.CLIPBOARD}


def test_rename_moves_the_profile_and_keeps_its_permissions() -> None:
    book = ProfileBook()
    book.create("Support", [P.CONTROL])
    renamed = book.rename("support", "Helpdesk")
    assert renamed == PermissionProfile("Helpdesk", frozenset({P.CONTROL}))
    with pytest.raises(PermissionError_, match="unknown profile"):
        book.get("Support")


def test_rename_to_a_different_case_of_itself_is_allowed() -> None:
    book = ProfileBook()
    book.create("support", [])
    assert book.rename("support", "Support").name == "Support"
    assert [p.name for p in book.custom()] == ["Support"]


def test_rename_refuses_a_taken_or_builtin_name() -> None:
    book = ProfileBook()
    book.create("A", [])
    book.create("B", [])
    with pytest.raises(PermissionError_, match="exists already"):
        book.rename("A", "b")
    with pytest.raises(PermissionError_, match="exists already"):
        book.rename("A", "Default")
    assert {p.name for p in book.custom()} == {"A", "B"}


def test_delete_removes_a_custom_profile() -> None:
    book = ProfileBook()
    book.create("Temp", [])
    book.delete("temp")
    assert book.custom() == []
    with pytest.raises(PermissionError_, match="unknown profile"):
        book.delete("temp")


@pytest.mark.parametrize("name", ["Full Access", "default", " Default ", "Screen Sharing "])
def test_builtins_cannot_be_deleted_renamed_or_changed(name: str) -> None:
    book = ProfileBook()
    with pytest.raises(PermissionError_, match="cannot be deleted"):
        book.delete(name)
    with pytest.raises(PermissionError_, match="cannot be renamed"):
        book.rename(name, "Mine")
    with pytest.raises(PermissionError_, match="cannot be changed"):
        book.update(name, [P.FILE_TRANSFER])
    assert book.all() == list(BUILTIN_PROFILES)


def test_a_stored_profile_cannot_shadow_a_builtin() -> None:
    with pytest.raises(PermissionError_, match="may not be named"):
        ProfileBook([PermissionProfile("default", frozenset(ALL_PERMISSIONS))])


def test_stored_profiles_lose_a_builtin_flag() -> None:
    book = ProfileBook([PermissionProfile("Mine", frozenset(), builtin=True)])
    assert not book.get("Mine").builtin
    book.delete("Mine")


def test_profile_matching_finds_the_first_profile_with_exactly_these_permissions() -> None:
    book = ProfileBook()
    book.create("Clip", [P.CLIPBOARD])
    assert profile_matching(book, ALL_PERMISSIONS) == FULL_ACCESS
    assert profile_matching(book, frozenset()) == SCREEN_SHARING
    assert profile_matching(book, frozenset({P.CLIPBOARD})) == "Clip"
    assert profile_matching(book, frozenset({P.DRAW})) is None
