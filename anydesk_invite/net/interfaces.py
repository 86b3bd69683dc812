"""The machine's network addresses and which of them the client listens and announces on.

By default only private LAN addresses count; VPN, container and virtual-machine interfaces,
loopback, link-local, CGNAT (Tailscale) and public addresses are left out, so the client is
not exposed beyond the local network unless the user names an address with ``--interface``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

# Interfaces that lead somewhere other than the physical LAN: tunnels, VPNs, bridges to
# containers and virtual machines. Matched on the start of the interface name.
_OFF_LAN_PREFIXES = (
    "tun",
    "tap",
    "wg",
    "ppp",
    "docker",
    "br-",
    "veth",
    "virbr",
    "vmnet",
    "vboxnet",
    "zt",
    "tailscale",
    "utun",
    "lxc",
    "cni",
    "flannel",
    "podman",
)

_PRIVATE_NETWORKS = (
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("192.168.0.0/16"),
    ipaddress.ip_network("fc00::/7"),
)


@dataclass(frozen=True, slots=True)
class InterfaceAddress:
    """One address of one network interface, with its subnet prefix length."""

    name: str
    address: str
    prefix: int

    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        """The subnet this address is on."""
        return ipaddress.ip_network(f"{self.address}/{self.prefix}", strict=False)


def list_addresses() -> list[InterfaceAddress]:
    """Every address of every interface of this machine (IPv4 and IPv6)."""
    import ifaddr  # here: a client told its interfaces starts without it

    out: list[InterfaceAddress] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            # ifaddr gives IPv6 as (address, flowinfo, scope_id); the scope is the interface.
            address = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            out.append(InterfaceAddress(str(adapter.nice_name), address, int(ip.network_prefix)))
    return out


def _is_off_lan_interface(name: str) -> bool:
    return name.lower().startswith(_OFF_LAN_PREFIXES)


def default_lan_addresses(addrs: list[InterfaceAddress]) -> list[str]:
    """The addresses to use when the user named none: private LAN addresses only.

    Keeps 10/8, 172.16/12, 192.168/16 and IPv6 unique-local (fc00::/7) addresses of
    interfaces that are not tunnels, VPNs or container/VM bridges; each address once, in
    the given order.
    """
    out: list[str] = []
    for a in addrs:
        if _is_off_lan_interface(a.name):
            continue
        try:
            ip = ipaddress.ip_address(a.address.split("%")[0])
        except ValueError:
            continue
        if ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified:
            continue
        if not any(ip.version == net.version and ip in net for net in _PRIVATE_NETWORKS):
            continue
        text = str(ip)
        if text not in out:
            out.append(text)
    return out


def validate_interface(text: str) -> str:
    """Check an ``--interface ADDR`` argument: a literal IP address, returned normalised.

    Raises ValueError with a message a person can act on.
    """
    stripped = text.strip()
    try:
        ip = ipaddress.ip_address(stripped)
    except ValueError:
        raise ValueError(
            f"--interface takes an IP address of this machine, such as 192.168.1.20 (not {text!r})"
        ) from None
    if ip.is_unspecified:
        raise ValueError(
            f"--interface takes one address of this machine; {stripped} would mean all of them"
        )
    if ip.is_multicast:
        raise ValueError(f"--interface takes an address of this machine; {stripped} is multicast")
    return str(ip)


def interface_choices() -> list[str]:
    """Addresses of this machine to offer: private LAN ones first, then the others."""
    addrs = list_addresses()
    lan = default_lan_addresses(addrs)
    others = [a.address for a in addrs if "%" not in a.address and not a.address.startswith("fe80")]
    return list(dict.fromkeys([*lan, *others]))
