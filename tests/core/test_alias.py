"""Aliases: valid and invalid names, the @ad suffix, and sanitising names from peers."""

from __future__ import annotations

import pytest

from anydesk_invite.core.alias import (
    ALIAS_NAME_MAX,
    Alias,
    AliasError,
    default_alias_name,
    escape_invisible,
    parse_alias,
    parse_received_alias,
    sanitize_display,
)


@pytest.mark.parametrize("name", ["a", "Z", "7a", "anna", "a.b-c_d", "x" * 25, "0-9.az_AZ"])
def test_valid_names_are_accepted(name: str) -> None:
    assert Alias(name).name == name
    assert str(Alias(name)) == name + "@ad"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "needs a name"),
        ("x" * 26, "at most 25"),
        ("an na", "not ' '"),
        ("anna!", "not '!'"),
        ("änna", "not 'ä'"),
        ("anna\n", "not '\\\\n'"),
        ("a@b", "not '@'"),
        ("7", "all digits"),
        ("1234567890", "all digits"),
    ],
)
def test_invalid_names_are_refused_with_the_reason(name: str, message: str) -> None:
    with pytest.raises(AliasError, match=message):
        Alias(name)


def test_length_limit_is_twenty_five() -> None:
    assert ALIAS_NAME_MAX == 25
    Alias("a" * 25)
    with pytest.raises(AliasError):
        Alias("a" * 26)


@pytest.mark.parametrize("text", ["anna@ad", "anna", "  anna@ad ", "anna@AD", "anna@Ad"])
def test_parse_accepts_the_name_with_or_without_suffix(text: str) -> None:
    assert parse_alias(text) == Alias("anna")


def test_parse_refuses_another_suffix() -> None:
    with pytest.raises(AliasError, match="ends in @ad"):
        parse_alias("anna@example.org")


def test_parse_refuses_a_bare_suffix() -> None:
    with pytest.raises(AliasError, match="needs a name"):
        parse_alias("@ad")


def test_parse_refuses_a_doubled_suffix() -> None:
    with pytest.raises(AliasError):
        parse_alias("anna@ad@ad")


def test_suffix_does_not_count_towards_the_length() -> None:
    assert parse_alias("b" * 25 + "@ad").name == "b" * 25


def test_lookup_key_is_case_insensitive() -> None:
    assert Alias("Anna").key() == Alias("anna").key()
    assert Alias("Anna") != Alias("anna")  # the display keeps the case


def test_default_alias_name_is_always_valid() -> None:
    for host, user in [
        ("laptop", "anna"),
        ("", ""),
        ("héllo wörld", "ü"),
        ("--..", ""),
        ("h" * 80, "u" * 80),
        ("host.example.org", "root"),
    ]:
        name = default_alias_name(host, user)
        Alias(name)  # does not raise
    assert default_alias_name("laptop", "anna") == "anna-laptop"
    assert default_alias_name("", "") == "device"


def test_sanitize_drops_bidi_override_and_control_characters() -> None:
    assert sanitize_display("evil\u202egnp.exe") == "evilgnp.exe"
    assert sanitize_display("a\u200fb\u2066c\u2069") == "abc"
    assert sanitize_display("a\x00b\x1bc\x7fd") == "abcd"
    assert sanitize_display("line\u2028break\u2029here") == "linebreakhere"
    assert sanitize_display("tab\there\nnew") == "tabherenew"


def test_sanitize_keeps_ordinary_text_and_normalises() -> None:
    assert sanitize_display("Zoë's Laptop") == "Zoë's Laptop"
    assert sanitize_display("Zoe\u0308") == "Zoë"  # combining diaeresis composed (NFC)
    assert sanitize_display("  padded  ") == "padded"


def test_sanitize_limits_the_length() -> None:
    assert len(sanitize_display("x" * 500)) == 64
    assert sanitize_display("abcdef", limit=3) == "abc"


def test_sanitize_drops_unassigned_and_private_use_characters() -> None:
    assert sanitize_display("a\U000e0001b\ue000c\U0010fffd") == "abc"


@pytest.mark.parametrize("text", ["anna@ad", "Anna.B-c_d@ad", "x" * 25 + "@ad", "7a@ad"])
def test_a_received_alias_in_the_grammar_is_kept_as_sent(text: str) -> None:
    assert str(parse_received_alias(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "IT-Support@ad (your admin)",
        "alice@ad \u2713 verified 1 234 567 890",
        "\u0430lice@ad",  # Cyrillic a
        "al\u200bice@ad",  # zero-width space
        "alice\u202e@ad",
        "\ufeffalice@ad",
        " alice@ad",
        "alice@ad ",
        "ali ce@ad",
        "alice",
        "alice@AD",
        "1234567890@ad",
        "1 234 567 890@ad",
        "x" * 26 + "@ad",
        "@ad",
        "",
    ],
)
def test_a_received_alias_outside_the_grammar_is_refused_not_cleaned(text: str) -> None:
    with pytest.raises(AliasError):
        parse_received_alias(text)


def test_received_aliases_compare_case_insensitively() -> None:
    assert parse_received_alias("Alice@ad").key() == parse_received_alias("aLICE@ad").key()


def test_a_default_alias_is_never_all_digits() -> None:
    assert not default_alias_name("1234567890", "").isdigit()
    Alias(default_alias_name("1234567890", ""))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "an alias needs a name before @ad"),
        ("x" * 26, "an alias name has at most 25 characters"),
        ("anna!", "an alias name may hold only letters, digits, '-', '.' and '_' (not '!')"),
        ("1234567890", "an alias name cannot be all digits (it would look like an ID)"),
    ],
)
def test_an_invalid_name_gets_the_whole_message_shown_to_the_user(name: str, message: str) -> None:
    with pytest.raises(AliasError) as caught:
        Alias(name)
    assert str(caught.value) == message


def test_a_typed_alias_with_another_suffix_is_told_it_ends_in_at_ad() -> None:
    with pytest.raises(AliasError) as caught:
        parse_alias("anna@example.org")
    assert str(caught.value) == "an alias ends in @ad"


def test_a_refused_received_alias_is_shown_escaped_and_cut_to_40_characters() -> None:
    with pytest.raises(AliasError) as caught:
        parse_received_alias("alice\u202e@ad")
    assert str(caught.value) == (
        "'alice\\u202e@ad' is not an alias (name@ad, ASCII letters, digits, -_.)"
    )
    long = "b" * 39 + "cd" + "@ad"
    with pytest.raises(AliasError) as caught:
        parse_received_alias(long)
    assert (
        str(caught.value) == f"'{'b' * 39}c' is not an alias (name@ad, ASCII letters, digits, -_.)"
    )


def test_the_lookup_key_is_the_name_in_lower_case() -> None:
    # Discovery and the address book compare it with lower-cased names as received.
    assert Alias("Anna.B").key() == "anna.b"


@pytest.mark.parametrize(
    ("host", "user", "expected"),
    [
        ("w\u00f6rk station", "zo\u00eb", "zo--w-rk-station"),
        (".laptop-", "", "laptop"),
        ("PC-X", "", "PC-X"),
        ("laptop", "", "laptop"),
        ("1234567890", "", "pc-1234567890"),
    ],
)
def test_a_default_alias_replaces_each_odd_character_and_trims_dashes_and_dots(
    host: str, user: str, expected: str
) -> None:
    assert default_alias_name(host, user) == expected


def test_escaping_shows_every_hidden_character_as_its_code_and_keeps_the_rest() -> None:
    assert escape_invisible("plain Zo\u00eb.txt") == "plain Zo\u00eb.txt"
    assert escape_invisible("evil\u202egnp.exe") == "evil\\u202egnp.exe"  # Cf: bidi override
    assert escape_invisible("a\u200bb\ufeff") == "a\\u200bb\\ufeff"  # Cf: zero width, BOM
    assert escape_invisible("a\x00b\x1b\x7f\x85") == "a\\x00b\\x1b\\x7f\\x85"  # Cc
    assert escape_invisible("line\u2028para\u2029") == "line\\u2028para\\u2029"  # Zl, Zp
    assert escape_invisible("") == ""
