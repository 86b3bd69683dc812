"""An organisation's network in miniature: subnets joined by a router, and a BIND 9 server.

``RoutedSubnets`` makes a routing namespace and one namespace per subnet (10.78.N.2/24 behind
10.78.N.1), so unicast crosses the router and multicast does not. ``Bind`` runs Debian's
``named`` in one of them with a zone that takes TSIG-signed dynamic updates below its
discovery domain, and ``dig`` asks it. Everything is torn down by ``close()``.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers.processes import NamespaceUnavailable, wait_until

ZONE = "example.test"
DOMAIN = f"clients.{ZONE}"
KEY_NAME = "fleet-key"
ALGORITHM = "hmac-sha256"
NAMED = shutil.which("named") or "/usr/sbin/named"
DIG = shutil.which("dig") or "/usr/bin/dig"


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=False)


def _must(*args: str) -> None:
    done = _ip(*args)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {done.stderr.strip()}")


@dataclass
class RoutedSubnets:
    """A router namespace and ``count`` subnet namespaces; subnet N is 10.78.N.0/24, its
    host at 10.78.N.2. Names are unique per run."""

    count: int
    suffix: str = field(default_factory=lambda: f"{os.getpid() % 100000}{secrets.token_hex(2)}")
    made: list[str] = field(default_factory=list)

    @property
    def router(self) -> str:
        return f"adr-{self.suffix}"

    def namespace(self, n: int) -> str:
        return f"ads{n}-{self.suffix}"

    @staticmethod
    def address(n: int) -> str:
        return f"10.78.{n}.2"

    def create(self) -> None:
        try:
            first = _ip("netns", "add", self.router)
        except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
            raise NamespaceUnavailable(f"iproute2 cannot run here: {exc}") from exc
        if first.returncode != 0:
            raise NamespaceUnavailable(f"`ip netns add` failed: {first.stderr.strip()}")
        self.made.append(self.router)
        try:
            _must("-n", self.router, "link", "set", "lo", "up")
            done = subprocess.run(
                ["ip", "netns", "exec", self.router, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"cannot switch forwarding on: {done.stderr.strip()}")
            for n in range(self.count):
                ns = self.namespace(n)
                _must("netns", "add", ns)
                self.made.append(ns)
                _must(
                    "link", "add", f"adr{n}", "netns", self.router,
                    "type", "veth", "peer", "name", "eth0", "netns", ns,
                )  # fmt: skip
                _must("-n", self.router, "addr", "add", f"10.78.{n}.1/24", "dev", f"adr{n}")
                _must("-n", self.router, "link", "set", f"adr{n}", "up")
                _must("-n", ns, "addr", "add", f"{self.address(n)}/24", "dev", "eth0")
                _must("-n", ns, "link", "set", "eth0", "up")
                _must("-n", ns, "link", "set", "lo", "up")
                _must("-n", ns, "route", "add", "default", "via", f"10.78.{n}.1")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for ns in reversed(self.made):
            _ip("netns", "delete", ns)
        self.made.clear()


def new_secret() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


@dataclass
class Bind:
    """``named`` serving ``ZONE`` on ``address`` inside ``netns``; updates to names under
    ``DOMAIN`` are granted to ``KEY_NAME`` (TSIG); everything else is refused."""

    netns: str
    address: str
    folder: Path
    secret: str = field(default_factory=new_secret)
    process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> str | None:
        """None when named and dig are installed, else why not."""
        for tool in (NAMED, DIG):
            if not Path(tool).exists():
                return f"{tool} is missing (Debian packages bind9 and bind9-dnsutils)"
        return None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        zone = self.folder / f"{ZONE}.zone"
        zone.write_text(
            f"$TTL 60\n"
            f"@ IN SOA ns.{ZONE}. admin.{ZONE}. 1 60 60 600 5\n"
            f"@ IN NS ns.{ZONE}.\n"
            f"ns IN A {self.address}\n"
            # The standard way to learn the browse domain (RFC 6763 §11).
            f"b._dns-sd._udp IN PTR {DOMAIN}.\n"
            f"lb._dns-sd._udp IN PTR {DOMAIN}.\n",
            encoding="ascii",
        )
        conf = self.folder / "named.conf"
        conf.write_text(
            f"""options {{
    directory "{self.folder}";
    pid-file "{self.folder}/named.pid";
    session-keyfile "{self.folder}/session.key";
    listen-on port 53 {{ {self.address}; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify no;
}};
key "{KEY_NAME}" {{ algorithm {ALGORITHM}; secret "{self.secret}"; }};
controls {{ }};
zone "{ZONE}" {{
    type primary;
    file "{zone}";
    update-policy {{ grant {KEY_NAME} subdomain {DOMAIN}. ANY; }};
    // BIND >= 9.18.28 allows 100 records of one type per name by default: the service's
    // PTR set holds one per client, so a fleet zone lifts the limit.
    max-records-per-type 0;
}};
""",
            encoding="ascii",
        )
        log = open(self.folder / "named.log", "wb")
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, NAMED, "-g", "-4", "-n", "1", "-c", str(conf)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_until(self._answers, timeout=30, what="named to answer")

    def _answers(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise AssertionError(f"named exited:\n{self.log()}")
        return f"ns.{ZONE}." in self.dig(ZONE, "NS")

    def dig(self, name: str, rdtype: str = "ANY", *, netns: str | None = None) -> str:
        """``dig +short`` from ``netns`` (the server's own by default): the answer lines."""
        done = subprocess.run(
            ["ip", "netns", "exec", netns or self.netns, DIG, "+short", "+tries=1", "+time=2",
             f"@{self.address}", name, rdtype],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )  # fmt: skip
        return done.stdout

    def log(self) -> str:
        path = self.folder / "named.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def secret_file(folder: Path, secret: str) -> Path:
    """A 0600 file holding ``secret``, as an administrator would deploy it."""
    path = folder / f"tsig-{secrets.token_hex(3)}.secret"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")
    return path


def elapsed_since(start: float) -> float:
    return time.monotonic() - start
