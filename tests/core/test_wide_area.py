"""DNS discovery settings as the user and the administrator write them: the server's address and
port, the domain, the TSIG key and algorithm, the TTL and browse interval at their bounds, the
stored JSON read back, and the message each mistake gets."""

from __future__ import annotations

import pytest

from anydesk_invite.core.wide_area import (
    WideAreaError,
    WideAreaSettings,
    check_algorithm,
    check_domain,
    check_key_name,
    parse_server,
)


def _error(call: object, *args: object) -> str:
    assert callable(call)
    with pytest.raises(WideAreaError) as caught:
        call(*args)
    return str(caught.value)


# -- the server ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.53", ("10.0.0.53", 53)),
        (" 10.0.0.53:1 ", ("10.0.0.53", 1)),
        ("10.0.0.53:65535", ("10.0.0.53", 65535)),
        ("[fd00::53]:5353", ("fd00::53", 5353)),
        ("[fd00::53]", ("fd00::53", 53)),
        ("fd00::53", ("fd00::53", 53)),
    ],
)
def test_a_server_is_an_address_with_an_optional_port_from_1_to_65535(
    text: str, expected: tuple[str, int]
) -> None:
    assert parse_server(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10.0.0.53:0", "the DNS server '10.0.0.53:0' has a bad port '0'"),
        ("10.0.0.53:65536", "the DNS server '10.0.0.53:65536' has a bad port '65536'"),
        ("[fd00::53]:0", "the DNS server '[fd00::53]:0' has a bad port '0'"),
        (
            "10.0.0.53:12345678901234",
            "the DNS server '10.0.0.53:12345678901234' has a bad port '1234567890'",
        ),
        ("[fd00::53", "the DNS server '[fd00::53' lacks a closing ]"),
        ("[fd00::53]53", "the DNS server '[fd00::53]53' is not [ADDRESS]:PORT"),
        ("[fd00::53]]:53", "the DNS server '[fd00::53]]:53' is not [ADDRESS]:PORT"),
        (
            "dns.example.org",
            "the DNS server must be an IP address (ADDRESS or ADDRESS:PORT), not 'dns.example.org'",
        ),
    ],
)
def test_a_bad_server_is_refused_with_a_message_naming_it(text: str, message: str) -> None:
    assert _error(parse_server, text) == message


# -- names --------------------------------------------------------------------------------------


def test_a_domain_is_lower_cased_without_its_final_dot() -> None:
    assert check_domain(" Clients.Example.ORG. ") == "clients.example.org"
    # Only dots are taken off the end, whatever letter comes before them.
    assert check_domain("Example.X.") == "example.x"
    assert check_domain("_dns-sd._udp.example") == "_dns-sd._udp.example"


def test_a_domain_of_200_characters_is_accepted_and_one_more_is_refused() -> None:
    name = ".".join(["a" * 50, "b" * 49, "c" * 49, "d" * 49])
    assert len(name) == 200
    assert check_domain(name) == name
    assert _error(check_domain, name + "e") == "the domain is longer than 200 characters"


def test_an_empty_or_badly_labelled_domain_gets_a_message_naming_what_is_wrong() -> None:
    assert _error(check_domain, " . ") == "the domain is empty"
    assert _error(check_domain, "a..b") == "the domain 'a..b' has a bad label ''"
    assert _error(check_domain, "-x", "browse domain") == (
        "the browse domain '-x' has a bad label '-x'"
    )
    long_label = "a" * 80
    assert _error(check_domain, f"{long_label}.org") == (
        f"the domain '{long_label}.org' has a bad label '{'a' * 70}'"
    )


def test_a_tsig_key_name_is_a_domain_name_and_its_errors_say_key_name() -> None:
    assert check_key_name("Fleet-Key.Example.") == "fleet-key.example"
    assert _error(check_key_name, "fleet..key") == (
        "the TSIG key name 'fleet..key' has a bad label ''"
    )
    assert _error(check_key_name, ".") == "the TSIG key name is empty"


def test_an_algorithm_is_one_of_the_tsig_hmacs_in_any_case_with_or_without_a_final_dot() -> None:
    assert check_algorithm(" HMAC-SHA512. ") == "hmac-sha512"
    assert check_algorithm("hmac-sha1") == "hmac-sha1"
    refused = "hmac-md5-and-a-very-long-tail-beyond-forty-characters"
    assert _error(check_algorithm, refused) == (
        "the TSIG algorithm is one of hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha224, "
        f"hmac-sha1 (not {refused[:40]!r})"
    )
    assert _error(check_algorithm, ".hmac-sha256").endswith("(not '.hmac-sha256')")


# -- the settings as a whole --------------------------------------------------------------------


def test_checked_settings_keep_every_chosen_value_normalised() -> None:
    chosen = WideAreaSettings(
        domain="Clients.Example.",
        server="10.0.0.53",
        key_name="Fleet-Key",
        algorithm="HMAC-SHA512",
        ttl=60,
        browse_interval=5.0,
    )
    assert chosen.checked() == WideAreaSettings(
        domain="clients.example",
        server="10.0.0.53:53",
        key_name="fleet-key",
        algorithm="hmac-sha512",
        ttl=60,
        browse_interval=5.0,
    )


def test_a_blank_domain_or_key_name_means_learn_the_domain_and_browse_only() -> None:
    checked = WideAreaSettings(domain="  ", server="10.0.0.53", key_name=" ").checked()
    assert checked == WideAreaSettings(server="10.0.0.53:53")
    assert (checked.domain, checked.key_name) == ("", "")


@pytest.mark.parametrize("ttl", [2, 86400])
def test_a_ttl_at_either_bound_is_accepted(ttl: int) -> None:
    assert WideAreaSettings(server="10.0.0.53", ttl=ttl).checked().ttl == ttl


@pytest.mark.parametrize("ttl", [1, 86401])
def test_a_ttl_one_past_either_bound_is_refused(ttl: int) -> None:
    settings = WideAreaSettings(server="10.0.0.53", ttl=ttl)
    assert _error(settings.checked) == f"the TTL is 2 to 86400 seconds, not {ttl}"


@pytest.mark.parametrize("interval", [0.2, 3600.0])
def test_a_browse_interval_at_either_bound_is_accepted(interval: float) -> None:
    settings = WideAreaSettings(server="10.0.0.53", browse_interval=interval)
    assert settings.checked().browse_interval == interval


@pytest.mark.parametrize("interval", [0.19, 3600.5, 3601.0])
def test_a_browse_interval_past_either_bound_is_refused(interval: float) -> None:
    settings = WideAreaSettings(server="10.0.0.53", browse_interval=interval)
    assert _error(settings.checked) == "the browse interval is 0.2 to 3600 seconds"


# -- the stored JSON ----------------------------------------------------------------------------


def test_stored_settings_read_back_with_every_value() -> None:
    settings = WideAreaSettings(
        domain="c.example",
        server="10.0.0.53:5353",
        key_name="k",
        algorithm="hmac-sha384",
        ttl=60,
        browse_interval=7.5,
    )
    assert WideAreaSettings.from_json(settings.to_json()) == settings


def test_stored_settings_without_optional_values_get_the_defaults() -> None:
    read = WideAreaSettings.from_json({"server": "10.0.0.53"})
    assert read == WideAreaSettings(server="10.0.0.53:53")
    assert (read.domain, read.key_name, read.algorithm) == ("", "", "hmac-sha256")
    assert (read.ttl, read.browse_interval) == (120, 30.0)
    assert WideAreaSettings.from_json({}) == WideAreaSettings()


def test_a_whole_number_browse_interval_is_read_as_seconds() -> None:
    read = WideAreaSettings.from_json({"server": "10.0.0.53", "browse_interval": 5})
    assert read.browse_interval == 5.0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["server"], "wide-area settings must be an object"),
        ({"zone": "x", "a_zone": "y", "server": "10.0.0.53"}, "unknown wide-area setting 'a_zone'"),
        ({"server": 53}, "wide-area server must be text"),
        ({"server": "10.0.0.53", "domain": None}, "wide-area domain must be text"),
        ({"server": "10.0.0.53", "algorithm": 256}, "wide-area algorithm must be text"),
        ({"server": "10.0.0.53", "ttl": "60"}, "wide-area ttl must be a whole number"),
        ({"server": "10.0.0.53", "ttl": 60.0}, "wide-area ttl must be a whole number"),
        ({"server": "10.0.0.53", "ttl": True}, "wide-area ttl must be a whole number"),
        (
            {"server": "10.0.0.53", "browse_interval": "5"},
            "wide-area browse_interval must be a number",
        ),
        (
            {"server": "10.0.0.53", "browse_interval": True},
            "wide-area browse_interval must be a number",
        ),
        ({"server": "10.0.0.53", "ttl": 1}, "the TTL is 2 to 86400 seconds, not 1"),
    ],
)
def test_stored_settings_we_did_not_write_are_refused_with_a_reason(
    value: object, message: str
) -> None:
    assert _error(WideAreaSettings.from_json, value) == message
