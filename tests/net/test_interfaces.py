"""Which addresses the client uses by default, and the --interface argument."""

from __future__ import annotations

import pytest

from anydesk_invite.net.interfaces import (
    InterfaceAddress,
    default_lan_addresses,
    list_addresses,
    validate_interface,
)


def _a(name: str, address: str, prefix: int = 24) -> InterfaceAddress:
    return InterfaceAddress(name, address, prefix)


def test_private_lan_addresses_are_kept_in_order() -> None:
    addrs = [
        _a("eth0", "192.168.1.20"),
        _a("eth1", "10.1.2.3", 8),
        _a("wlan0", "172.20.0.5", 16),
        _a("eth0", "fd12:3456::1", 64),
    ]
    assert default_lan_addresses(addrs) == [
        "192.168.1.20",
        "10.1.2.3",
        "172.20.0.5",
        "fd12:3456::1",
    ]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",  # loopback
        "::1",
        "169.254.10.1",  # link-local
        "fe80::1",
        "8.8.8.8",  # public
        "2001:db8::1",
        "172.32.0.1",  # just outside 172.16/12
        "100.64.0.7",  # CGNAT (Tailscale)
        "100.127.255.1",
    ],
)
def test_non_private_addresses_are_left_out(address: str) -> None:
    assert default_lan_addresses([_a("eth0", address)]) == []


@pytest.mark.parametrize(
    "name",
    [
        "tun0",
        "tap1",
        "wg0",
        "ppp0",
        "docker0",
        "br-1a2b3c",
        "veth12ab",
        "virbr0",
        "vmnet8",
        "vboxnet0",
        "zt5u4y",
        "tailscale0",
        "utun3",
        "lxcbr0",
        "cni0",
        "flannel.1",
        "podman0",
        "Docker0",
    ],
)
def test_vpn_and_container_interfaces_are_left_out_by_name(name: str) -> None:
    assert default_lan_addresses([_a(name, "10.8.0.2")]) == []


def test_an_address_on_two_interfaces_is_listed_once() -> None:
    addrs = [_a("eth0", "192.168.1.20"), _a("eth0:1", "192.168.1.20")]
    assert default_lan_addresses(addrs) == ["192.168.1.20"]


def test_a_bridge_named_like_a_lan_interface_is_kept() -> None:
    # "br0" is a user's own LAN bridge; only "br-…" (docker networks) are excluded.
    assert default_lan_addresses([_a("br0", "192.168.0.2")]) == ["192.168.0.2"]


def test_nothing_private_gives_an_empty_list() -> None:
    assert default_lan_addresses([]) == []


def test_loopback_is_listed_with_its_prefix() -> None:
    addrs = list_addresses()
    loop = [a for a in addrs if a.address == "127.0.0.1"]
    assert loop, addrs
    assert loop[0].prefix == 8
    assert str(loop[0].network()) == "127.0.0.0/8"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        (" 192.168.1.20 ", "192.168.1.20"),
        ("FD00::0001", "fd00::1"),
    ],
)
def test_an_interface_argument_is_a_literal_ip(text: str, expected: str) -> None:
    assert validate_interface(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("eth0", "IP address"),
        ("", "IP address"),
        ("192.168.1", "IP address"),
        ("host.local", "IP address"),
        ("0.0.0.0", "all of them"),
        ("::", "all of them"),
        ("224.0.0.251", "multicast"),
    ],
)
def test_a_bad_interface_argument_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_interface(text)
