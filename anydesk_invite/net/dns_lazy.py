"""dnspython, imported on first use.

The client starts without it (bench/startup.py): DNS discovery is off by default and loads it
when it is first configured or used. The DNS modules of this package write

    if TYPE_CHECKING:
        import dns.name
    else:
        from anydesk_invite.net.dns_lazy import dns

and use ``dns.name.Name`` as usual.
"""

from __future__ import annotations

import importlib
from types import ModuleType

_MODULES = (
    "dns.asyncquery",
    "dns.exception",
    "dns.message",
    "dns.name",
    "dns.rcode",
    "dns.rdata",
    "dns.rdataclass",
    "dns.rdatatype",
    "dns.rdtypes.ANY.PTR",
    "dns.rdtypes.ANY.TXT",
    "dns.rdtypes.IN.A",
    "dns.rdtypes.IN.AAAA",
    "dns.rdtypes.IN.SRV",
    "dns.rrset",
    "dns.tsig",
    "dns.update",
)


class _DnsOnFirstUse:
    """Stands for the ``dns`` package; the first attribute read imports what we use of it."""

    def __init__(self) -> None:
        self._package: ModuleType | None = None

    def __getattr__(self, name: str) -> object:
        package = self._package
        if package is None:
            for module in _MODULES:
                importlib.import_module(module)
            package = self._package = importlib.import_module("dns")
        return getattr(package, name)


dns = _DnsOnFirstUse()
