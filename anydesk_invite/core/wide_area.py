"""Settings of discovery through the organisation's DNS (DNS-SD over unicast DNS, RFC 6763 §11).

Pure data and its checks: which domain to browse and publish in, which server takes the
signed updates (RFC 2136) and which TSIG key (RFC 8945) signs them. The key's secret is not
here: it lives in the keyring or a private file (storage/tsig_secret.py), never the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TSIG_ALGORITHMS = ("hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1")
"""The TSIG algorithms accepted (RFC 8945 §6); hmac-md5 is not."""

DEFAULT_TTL = 120
"""Seconds, on every record we publish, and the lease: see docs/PROTOCOL.md."""
MIN_TTL = 2
MAX_TTL = 86400
DEFAULT_BROWSE_INTERVAL = 30.0
DNS_PORT = 53

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?|_[a-z0-9-]{1,62}", re.IGNORECASE)


class WideAreaError(ValueError):
    """A wide-area discovery setting that is not valid; the message says why."""


def check_domain(text: str, what: str = "domain") -> str:
    """A DNS name in presentation form, lower case, without the final dot."""
    name = text.strip().rstrip(".").lower()
    if not name:
        raise WideAreaError(f"the {what} is empty")
    if len(name) > 200:
        raise WideAreaError(f"the {what} is longer than 200 characters")
    for label in name.split("."):
        if not _LABEL.fullmatch(label):
            raise WideAreaError(f"the {what} {text.strip()!r} has a bad label {label[:70]!r}")
    return name


def parse_server(text: str) -> tuple[str, int]:
    """``ADDRESS`` or ``ADDRESS:PORT`` (``[v6]:PORT``): a literal IP address and a port."""
    import ipaddress

    raw = text.strip()
    host, port = raw, DNS_PORT
    if raw.startswith("["):
        host, sep, rest = raw[1:].partition("]")
        if not sep:
            raise WideAreaError(f"the DNS server {raw!r} lacks a closing ]")
        if rest:
            if not rest.startswith(":"):
                raise WideAreaError(f"the DNS server {raw!r} is not [ADDRESS]:PORT")
            port = _port(rest[1:], raw)
    elif raw.count(":") == 1:
        host, _, port_text = raw.partition(":")
        port = _port(port_text, raw)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise WideAreaError(
            f"the DNS server must be an IP address (ADDRESS or ADDRESS:PORT), not {raw!r}"
        ) from None
    return str(ip), port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise WideAreaError(f"the DNS server {whole!r} has a bad port {text[:10]!r}")
    return int(text)


def check_key_name(text: str) -> str:
    return check_domain(text, "TSIG key name")


def check_algorithm(text: str) -> str:
    algorithm = text.strip().lower().rstrip(".")
    if algorithm not in TSIG_ALGORITHMS:
        raise WideAreaError(
            f"the TSIG algorithm is one of {', '.join(TSIG_ALGORITHMS)} (not {text[:40]!r})"
        )
    return algorithm


@dataclass(frozen=True, slots=True)
class WideAreaSettings:
    """Where and how to publish and browse. An empty ``domain`` means: learn it from the
    search domains' ``b._dns-sd._udp`` / ``lb._dns-sd._udp`` records; an empty ``server``
    switches wide-area discovery off."""

    domain: str = ""
    server: str = ""
    """ADDRESS or ADDRESS:PORT of the DNS server that is asked and updated."""
    key_name: str = ""
    """TSIG key name; empty: browse only, publish nothing."""
    algorithm: str = "hmac-sha256"
    ttl: int = DEFAULT_TTL
    browse_interval: float = DEFAULT_BROWSE_INTERVAL

    @property
    def enabled(self) -> bool:
        return bool(self.server)

    def checked(self) -> WideAreaSettings:
        """The same settings normalised, or WideAreaError naming the first bad one."""
        if not self.server:
            return WideAreaSettings()
        host, port = parse_server(self.server)
        server = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if not MIN_TTL <= self.ttl <= MAX_TTL:
            raise WideAreaError(f"the TTL is {MIN_TTL} to {MAX_TTL} seconds, not {self.ttl}")
        if not 0.2 <= self.browse_interval <= 3600:
            raise WideAreaError("the browse interval is 0.2 to 3600 seconds")
        return WideAreaSettings(
            domain=check_domain(self.domain) if self.domain.strip() else "",
            server=server,
            key_name=check_key_name(self.key_name) if self.key_name.strip() else "",
            algorithm=check_algorithm(self.algorithm),
            ttl=self.ttl,
            browse_interval=self.browse_interval,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "domain": self.domain,
            "server": self.server,
            "key_name": self.key_name,
            "algorithm": self.algorithm,
            "ttl": self.ttl,
            "browse_interval": self.browse_interval,
        }

    @classmethod
    def from_json(cls, value: object) -> WideAreaSettings:
        """From the stored JSON object; WideAreaError when it is not one we wrote."""
        if not isinstance(value, dict):
            raise WideAreaError("wide-area settings must be an object")
        known = {"domain", "server", "key_name", "algorithm", "ttl", "browse_interval"}
        unknown = set(value) - known
        if unknown:
            raise WideAreaError(f"unknown wide-area setting {sorted(unknown)[0]!r}")
        strings = {k: value.get(k, "") for k in ("domain", "server", "key_name")}
        for k, v in strings.items():
            if not isinstance(v, str):
                raise WideAreaError(f"wide-area {k} must be text")
        algorithm = value.get("algorithm", "hmac-sha256")
        ttl = value.get("ttl", DEFAULT_TTL)
        interval = value.get("browse_interval", DEFAULT_BROWSE_INTERVAL)
        if not isinstance(algorithm, str):
            raise WideAreaError("wide-area algorithm must be text")
        if not isinstance(ttl, int) or isinstance(ttl, bool):
            raise WideAreaError("wide-area ttl must be a whole number")
        if not isinstance(interval, int | float) or isinstance(interval, bool):
            raise WideAreaError("wide-area browse_interval must be a number")
        return cls(
            domain=str(strings["domain"]),
            server=str(strings["server"]),
            key_name=str(strings["key_name"]),
            algorithm=algorithm,
            ttl=ttl,
            browse_interval=float(interval),
        ).checked()
