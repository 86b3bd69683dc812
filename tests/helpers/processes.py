"""Headless clients as real subprocesses, and the command line run against them.

A ``HeadlessClient`` is one ``python -m anydesk_invite --headless`` process with its own home
folder; ``cli()`` runs the real command line against it and returns what a script would see.
Clients can run inside a network namespace (``netns``); ``NamespacePair`` makes two joined by
a veth pair. Waits poll a condition every 50 ms up to a bound, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from anydesk_invite.services.control_client import send_command
from anydesk_invite.storage.home import Home

T = TypeVar("T")

START_TIMEOUT = 30.0
"""Seconds a client may take from exec to answering --get-id (imports Qt; 2 busy cores)."""
STOP_TIMEOUT = 5.0
"""Seconds between SIGTERM and SIGKILL."""
CLI_TIMEOUT = 90.0
POLL_INTERVAL = 0.05


class ClientDied(AssertionError):
    """A client process ended while a test still needed it."""


def wait_until(
    condition: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = POLL_INTERVAL,
) -> T:
    """Poll ``condition`` until it returns something truthy; that value. AssertionError at the
    bound, naming ``what`` and the last value seen."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = condition()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {what}; last: {last!r}"
            )
        time.sleep(interval)


@dataclass(frozen=True, slots=True)
class CliResult:
    """What one command line run gave: exit code, both streams and the parsed ``--json``."""

    code: int
    stdout: str
    stderr: str
    json: Any = None

    def ok(self) -> Any:
        """The parsed result of a command that must have succeeded."""
        assert self.code == 0, f"exit {self.code}: {self.stderr.strip() or self.stdout.strip()}"
        return self.json


def _quiet_env() -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    # A test client must never write to the user's real keyring: the visible file fallback.
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def run_cli(
    home: Path,
    *args: str,
    as_json: bool = True,
    netns: str | None = None,
    timeout: float = CLI_TIMEOUT,
) -> CliResult:
    """Run ``python -m anydesk_invite --home HOME [--json] ARGS`` and collect its result."""
    argv = [sys.executable, "-m", "anydesk_invite", "--home", str(home)]
    if as_json:
        argv.append("--json")
    argv += list(args)
    if netns is not None:
        argv = ["ip", "netns", "exec", netns, *argv]
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, env=_quiet_env(), check=False
    )
    parsed: Any = None
    if as_json and done.returncode == 0 and done.stdout.strip():
        parsed = json.loads(done.stdout)
    return CliResult(done.returncode, done.stdout, done.stderr, parsed)


@dataclass
class HeadlessClient:
    """One headless client process with its own home folder, driven by the command line."""

    home: Path
    name: str
    interface: str = "127.0.0.1"
    lifetime: float | None = None
    """``--test-invitation-lifetime``: the lifetime of invitations this client sends."""
    alias: str = ""
    """``--alias``; empty keeps the default ``user-host@ad``."""
    incoming_folder: Path | None = None
    """``--incoming-folder``: where files from guests go; None keeps the settings' choice."""
    auto_accept: bool = False
    """``--test-auto-accept``: accept every invitation and connection request at once."""
    netns: str | None = None
    display: str | None = None
    """An X display (e.g. Xvfb's) for the client to run on with Qt's xcb platform: then its
    screen is that display's. None runs it offscreen."""
    extra_args: tuple[str, ...] = ()
    """More start options (e.g. DNS discovery settings)."""
    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    """``--instance-tag``: unique per run, so parallel test runs on one machine differ."""
    process: subprocess.Popen[bytes] | None = None
    device_id: str = ""
    fingerprint: str = ""

    @property
    def output_path(self) -> Path:
        return self.home.parent / f"{self.home.name}.out"

    def start(self) -> None:
        """Start the process; ``wait_ready`` waits until it answers."""
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        argv = [
            sys.executable,
            "-m",
            "anydesk_invite",
            "--home",
            str(self.home),
            "--interface",
            self.interface,
            "--headless",
            "--instance-tag",
            f"{self.name}-{self.tag}"[:16],
        ]
        if self.lifetime is not None:
            argv += ["--test-invitation-lifetime", f"{self.lifetime:g}"]
        if self.alias:
            argv += ["--alias", self.alias]
        if self.incoming_folder is not None:
            argv += ["--incoming-folder", str(self.incoming_folder)]
        argv += list(self.extra_args)
        if self.auto_accept:
            argv.append("--test-auto-accept")
        if self.netns is not None:
            argv = ["ip", "netns", "exec", self.netns, *argv]
        with open(self.output_path, "wb") as out:
            # Output goes to a file: a full pipe nobody reads would block the client.
            env = _quiet_env()
            if self.display is not None:
                env.update(DISPLAY=self.display, QT_QPA_PLATFORM="xcb")
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _answer_id(self) -> str | None:
        if not self.running():
            raise ClientDied(f"client {self.name} exited before it answered:\n{self.output()}")
        result = self.cli("--get-id", as_json=False, timeout=10)
        return result.stdout.strip() if result.code == 0 else None

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until the client answers ``--get-id``; remember its ID, alias, fingerprint."""
        self.device_id = wait_until(
            self._answer_id, timeout=timeout, what=f"client {self.name} to answer --get-id"
        )
        status = self.cli("--get-status").ok()
        self.alias = status["alias"]
        self.fingerprint = status["fingerprint"]

    def cli(
        self, *args: str, as_json: bool = True, timeout: float = CLI_TIMEOUT, netns: bool = True
    ) -> CliResult:
        """Run the command line against this client (inside its namespace unless told not to)."""
        return run_cli(
            self.home,
            *args,
            as_json=as_json,
            netns=self.netns if netns else None,
            timeout=timeout,
        )

    def ask(self, cmd: str, args: dict[str, Any] | None = None) -> Any:
        """One control API request sent straight over the socket, for set-up and clean-up
        where a command line process per call would only cost time; its result."""
        socket_path = Home.resolve(str(self.home)).control_socket_path
        response = asyncio.run(send_command(socket_path, cmd, args or {}, timeout=30))
        assert response["ok"], f"{cmd} on {self.name}: {response}"
        return response["result"]

    def tidy(self) -> None:
        """Cancel pending outgoing invitations, reject incoming ones, end open sessions."""
        for v in self.ask("invitations"):
            if v["direction"] == "outgoing" and v["state"] == "pending":
                self.ask("cancel", {"id": v["id"]})
        for s in self.ask("sessions"):
            self.ask("end", {"session": s["id"]})

    def output(self) -> str:
        """What the process printed plus the tail of its log, for failure messages."""
        parts = []
        with contextlib.suppress(OSError):
            parts.append(self.output_path.read_text(errors="replace")[-4000:])
        with contextlib.suppress(OSError):
            log = self.home / "logs" / "anydesk-invite.log"
            parts.append(log.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    def kill(self) -> None:
        """SIGKILL: the client vanishes without a word to its peers."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT)

    def terminate(self) -> None:
        """Send SIGTERM without waiting; ``stop`` then waits."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; the exit code (negative: a signal)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        return self.process.returncode

    # Conveniences over the command line, each a bounded poll -------------------------------

    def peer(self, other: HeadlessClient) -> dict[str, Any] | None:
        """``other`` as this client's ``peers`` lists it (online), or None."""
        for p in self.cli("peers").ok():
            if p["id"] == other.device_id and p["online"]:
                return dict(p)
        return None

    def wait_for_peer(self, other: HeadlessClient, timeout: float = 20.0) -> dict[str, Any]:
        return wait_until(
            lambda: self.peer(other),
            timeout=timeout,
            what=f"{self.name} to discover {other.name}",
            interval=0.1,
        )

    def invitation(self, invitation_id: str) -> dict[str, Any] | None:
        for v in self.cli("invitations").ok():
            if v["id"] == invitation_id:
                return dict(v)
        return None

    def wait_for_invitation(
        self,
        invitation_id: str,
        states: Iterable[str],
        timeout: float = 15.0,
        check: Callable[[dict[str, Any]], bool] = lambda v: True,
    ) -> dict[str, Any]:
        """Poll ``invitations`` until the invitation is in one of ``states`` (and ``check``)."""
        wanted = set(states)

        def seen() -> dict[str, Any] | None:
            v = self.invitation(invitation_id)
            return v if v is not None and v["state"] in wanted and check(v) else None

        return wait_until(
            seen,
            timeout=timeout,
            what=f"invitation {invitation_id[:8]} on {self.name} to be {sorted(wanted)}",
        )

    def sessions_with(self, other: HeadlessClient) -> list[dict[str, Any]]:
        return [s for s in self.cli("sessions").ok() if s["peer_id"] == other.device_id]

    def wait_for_sessions(
        self, other: HeadlessClient, count: int, timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        """Poll ``sessions`` until exactly ``count`` are open with ``other``; them."""

        def seen() -> list[dict[str, Any]] | None:
            found = self.sessions_with(other)
            return found if len(found) == count else None

        if count == 0:
            wait_until(
                lambda: not self.sessions_with(other),
                timeout=timeout,
                what=f"{self.name} to have no session with {other.name}",
            )
            return []
        return wait_until(
            seen, timeout=timeout, what=f"{self.name} to have {count} session(s) with {other.name}"
        )


def stop_clients(clients: Sequence[HeadlessClient]) -> None:
    """Stop all the clients; they shut down side by side."""
    for c in clients:
        c.terminate()
    for c in clients:
        c.stop()


def start_clients(clients: Sequence[HeadlessClient]) -> None:
    """Start all the clients at once, then wait until each answers; stop them all on failure."""
    try:
        for c in clients:
            c.start()
        for c in clients:
            c.wait_ready()
    except BaseException:
        stop_clients(clients)
        raise


@contextlib.contextmanager
def running_clients(clients: Sequence[HeadlessClient]) -> Iterator[Sequence[HeadlessClient]]:
    """Start the clients, yield them, and stop every one of them afterwards."""
    start_clients(clients)
    try:
        yield clients
    finally:
        stop_clients(clients)


class NamespaceUnavailable(Exception):
    """Network namespaces cannot be made here (not root, no iproute2, no kernel support)."""


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=False)


@dataclass
class NamespacePair:
    """Two fresh network namespaces joined by a veth pair: 10.77.0.1/24 and 10.77.0.2/24.

    The names are unique per run; ``close()`` deletes both (and with them the veth pair).
    """

    suffix: str = field(default_factory=lambda: f"{os.getpid()}-{secrets.token_hex(2)}")
    made: list[str] = field(default_factory=list)

    @property
    def names(self) -> tuple[str, str]:
        return (f"adi-a-{self.suffix}", f"adi-b-{self.suffix}")

    ADDRESSES = ("10.77.0.1", "10.77.0.2")

    def create(self) -> None:
        try:
            first = _ip("netns", "add", self.names[0])
        except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
            raise NamespaceUnavailable(f"iproute2 cannot run here: {exc}") from exc
        if first.returncode != 0:
            raise NamespaceUnavailable(f"`ip netns add` failed: {first.stderr.strip()}")
        self.made.append(self.names[0])
        try:
            self._run("netns", "add", self.names[1])
            self.made.append(self.names[1])
            # Interface names are at most 15 bytes; they live inside the namespaces only.
            self._run(
                "link", "add", "adiva", "netns", self.names[0],
                "type", "veth", "peer", "name", "adivb", "netns", self.names[1],
            )  # fmt: skip
            for ns, dev, addr in zip(self.names, ("adiva", "adivb"), self.ADDRESSES, strict=True):
                self._run("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
                self._run("-n", ns, "link", "set", dev, "up")
                self._run("-n", ns, "link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _run(*args: str) -> None:
        done = _ip(*args)
        if done.returncode != 0:
            raise RuntimeError(f"ip {' '.join(args)} failed: {done.stderr.strip()}")

    def close(self) -> None:
        for ns in reversed(self.made):
            _ip("netns", "delete", ns)
        self.made.clear()
