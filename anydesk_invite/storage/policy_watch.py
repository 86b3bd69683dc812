"""Which policy files count for a home folder, merged so the tightest wins, and watching them.

See docs/POLICY.md; reading and checking one file lives in policy_files.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from anydesk_invite.core.policy import Policy, merge_policies
from anydesk_invite.core.signal import Signal
from anydesk_invite.storage.policy_files import load_policy_file

SYSTEM_POLICY_PATH = Path("/etc/anydesk-invite/policy.toml")
HOME_POLICY_NAME = "policy.toml"
POLICY_ENV_VAR = "ADINVITE_POLICY"

DEFAULT_POLL_INTERVAL = 2.0

FileFingerprint = tuple[str, int | None, int | None, int | None, int | None, int | None]


def _stat_fingerprint(path: Path) -> FileFingerprint:
    try:
        st = os.stat(path)
    except OSError:
        return (str(path), None, None, None, None, None)
    # ctime too: a chmod or chown of the system file changes whether it is trusted.
    return (str(path), st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns, st.st_mode)


class PolicySources:
    """The policy files that count for one home folder, merged so the tightest wins."""

    def __init__(self, system_path: Path, home_path: Path, env_path: Path | None) -> None:
        self.system_path = system_path
        self.home_path = home_path
        self.env_path = env_path

    @classmethod
    def for_home(
        cls, home: Path, env_value: str | None, system_path: Path = SYSTEM_POLICY_PATH
    ) -> PolicySources:
        """The usual files: the system one, ``<home>/policy.toml`` and $ADINVITE_POLICY."""
        env_path = Path(env_value).expanduser() if env_value else None
        return cls(system_path, home / HOME_POLICY_NAME, env_path)

    def paths(self) -> Iterator[Path]:
        yield self.system_path
        yield self.home_path
        if self.env_path is not None:
            yield self.env_path

    def load(self) -> Policy:
        """Read every file and merge them; any broken one breaks the result (fail closed)."""
        system = load_policy_file(self.system_path, trusted=True)
        restricting = [load_policy_file(self.home_path, trusted=False)]
        if self.env_path is not None:
            restricting.append(load_policy_file(self.env_path, trusted=False))
        return merge_policies(system, restricting)

    def fingerprint(self) -> tuple[FileFingerprint, ...]:
        """(path, mtime_ns, size, ino, ctime_ns, mode) per file: cheap to poll for changes."""
        return tuple(_stat_fingerprint(p) for p in self.paths())


class PolicyWatcher:
    """Polls the policy files and announces the effective policy when it changes.

    Signals:
        changed(Policy): the merged policy differs from the last one announced.
    """

    def __init__(self, sources: PolicySources, interval: float = DEFAULT_POLL_INTERVAL) -> None:
        if not interval > 0:
            raise ValueError("the poll interval must be positive")
        self._sources = sources
        self._interval = interval
        self._fingerprint = sources.fingerprint()
        self._policy = sources.load()
        self._task: asyncio.Task[None] | None = None
        self.changed: Signal[Policy] = Signal("policy.changed")

    @property
    def policy(self) -> Policy:
        """The policy in force now."""
        return self._policy

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start polling; needs a running event loop."""
        if self.running:
            return
        self._task = asyncio.get_running_loop().create_task(self._poll(), name="policy-watcher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def check(self) -> bool:
        """Reload now if a file changed; True when the effective policy changed."""
        fingerprint = self._sources.fingerprint()
        if fingerprint == self._fingerprint:
            return False
        self._fingerprint = fingerprint
        policy = self._sources.load()
        if policy == self._policy:
            return False
        self._policy = policy
        self.changed.emit(policy)
        return True

    async def _poll(self) -> None:
        # A few stat() calls and, on change, reading files of a few hundred bytes: cheap
        # enough to do on the event loop.
        while True:
            await asyncio.sleep(self._interval)
            self.check()
