"""Policy files on disk: format, who may write them, merging, and picking up changes."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from anydesk_invite.core.permissions import ALL_PERMISSIONS, Permission
from anydesk_invite.core.policy import AcceptFrom, DiscoveryMode, Override, Policy
from anydesk_invite.storage.policy_files import POLICY_FILE_MAX_BYTES, load_policy_file
from anydesk_invite.storage.policy_watch import (
    HOME_POLICY_NAME,
    SYSTEM_POLICY_PATH,
    PolicySources,
    PolicyWatcher,
)

P = Permission
O = Override  # noqa: E741

FULL = """\
# custom client settings
[permissions]
control = "force_off"
file_transfer = "default_off"
draw = "force_on"
clipboard = "default_on"

[invitations]
accept_from = "address_book"

[discovery]
mode = "hidden"
"""

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to own files as root")


def _write(path: Path, text: str | bytes, mode: int = 0o644) -> Path:
    """Replace the file at once, as an admin's tools should, so a poll never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    tmp.write_bytes(text.encode() if isinstance(text, str) else text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return path


@pytest.fixture
def etc(tmp_path: Path) -> Path:
    """A root-owned folder writable only by root, like /etc/anydesk-invite."""
    folder = tmp_path / "etc"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    return folder


def test_missing_file_is_an_empty_policy(tmp_path: Path) -> None:
    assert load_policy_file(tmp_path / "nope.toml", trusted=True) == Policy()
    assert load_policy_file(tmp_path / "nope.toml", trusted=False) == Policy()


@needs_root
def test_root_owned_system_file_is_read_in_full(etc: Path) -> None:
    path = _write(etc / "policy.toml", FULL)
    pol = load_policy_file(path, trusted=True)
    assert pol.broken is None
    assert pol.permissions == {
        P.CONTROL: O.FORCE_OFF,
        P.FILE_TRANSFER: O.DEFAULT_OFF,
        P.DRAW: O.FORCE_ON,
        P.CLIPBOARD: O.DEFAULT_ON,
    }
    assert pol.max_accept_from is AcceptFrom.ADDRESS_BOOK
    assert pol.max_discovery is DiscoveryMode.HIDDEN
    assert pol.sources == (str(path),)


@needs_root
def test_read_only_root_owned_system_file_is_trusted(etc: Path) -> None:
    path = _write(etc / "policy.toml", FULL, mode=0o444)
    assert load_policy_file(path, trusted=True).permissions[P.DRAW] is O.FORCE_ON


@needs_root
@pytest.mark.parametrize("mode", [0o664, 0o646, 0o666])
def test_system_file_writable_by_others_is_refused_as_broken(etc: Path, mode: int) -> None:
    path = _write(etc / "policy.toml", FULL, mode=mode)
    pol = load_policy_file(path, trusted=True)
    assert pol.broken is not None
    assert str(path) in pol.broken and "writable by group or others" in pol.broken
    assert pol.apply(ALL_PERMISSIONS) == frozenset()  # fails closed, not ignored


@needs_root
def test_system_file_owned_by_someone_else_is_refused(etc: Path) -> None:
    path = _write(etc / "policy.toml", FULL)
    os.chown(path, 1000, 1000)
    pol = load_policy_file(path, trusted=True)
    assert pol.broken is not None and "not owned by root" in pol.broken


@needs_root
def test_system_file_in_a_folder_others_can_write_is_refused(etc: Path) -> None:
    path = _write(etc / "policy.toml", FULL)
    os.chmod(etc, 0o777)
    pol = load_policy_file(path, trusted=True)
    assert pol.broken is not None and "folder" in pol.broken


def test_untrusted_file_reads_force_on_as_default_on(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.toml", '[permissions]\ncontrol = "force_on"\n', mode=0o666)
    pol = load_policy_file(path, trusted=False)
    assert pol.broken is None
    assert pol.permissions == {P.CONTROL: O.DEFAULT_ON}


def test_invalid_toml_is_reported_with_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.toml", '[permissions]\ncontrol = "force_off"\ndraw = \n')
    pol = load_policy_file(path, trusted=False)
    assert pol.broken is not None
    assert pol.broken.startswith(f"{path}:3: invalid TOML")


def test_invalid_toml_at_the_end_names_the_last_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.toml", '[permissions]\ncontrol = "force_off')
    pol = load_policy_file(path, trusted=False)
    assert pol.broken is not None and pol.broken.startswith(f"{path}:2: invalid TOML")


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ('[permissions]\ncontrol = "force_off"\nscreen = "force_on"\n', 3, "unknown permission"),
        ('[invitations]\naccept_from = "nobody"\n\n[extras]\nx = 1\n', 4, "unknown section"),
        ('[invitations]\naccept_from = "nobody"\nfrom = "x"\n', 3, "unknown key 'from'"),
        ('[discovery]\n# comment\n  "speed" = "fast"\n', 3, "unknown key 'speed'"),
        ('mode = "off"\n', 1, "unknown section 'mode'"),
        (
            '[permissions]\ndraw = "force_on"\n[discovery]\nmode = "on"\npermissions.bogus = 1\n',
            5,
            "unknown key 'permissions'",
        ),
        ('discovery.mode = "off"\npermissions.control = "off"\n', 2, "permissions.control"),
        ('[permissions]\ncontrol = "force_off"\ndraw = "always"\n', 3, "force_on, force_off"),
        ("[permissions]\ncontrol = true\n", 2, "must be a string"),
        ('[invitations]\naccept_from = "friends"\n', 2, "everyone, address_book, nobody"),
        ('[discovery]\nmode = "loud"\n', 2, "on, hidden, off"),
        ('permissions = "all"\n', 1, "must be a table"),
        ('[[permissions]]\ncontrol = "force_off"\n', 1, "must be a table"),
    ],
)
def test_bad_content_is_reported_with_file_line_and_what(
    tmp_path: Path, text: str, line: int, what: str
) -> None:
    path = _write(tmp_path / "p.toml", text)
    pol = load_policy_file(path, trusted=False)
    assert pol.broken is not None
    assert pol.broken.startswith(f"{path}:{line}: "), pol.broken
    assert what in pol.broken
    assert pol.permissions == {}  # nothing of a broken file is half-applied


def test_text_that_is_not_utf8_is_reported_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.toml", b'[permissions]\ncontrol = "force_\xff"\n')
    pol = load_policy_file(path, trusted=False)
    assert pol.broken == f"{path}:2: not UTF-8 text"


def test_a_folder_or_fifo_in_place_of_the_file_is_broken(tmp_path: Path) -> None:
    folder = tmp_path / "dir.toml"
    folder.mkdir()
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    for path in (folder, fifo):
        pol = load_policy_file(path, trusted=False)
        assert pol.broken is not None and pol.broken.startswith(f"{path}: cannot read")


def test_an_oversized_file_is_refused_unread(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.toml", "#" * (POLICY_FILE_MAX_BYTES + 1))
    pol = load_policy_file(path, trusted=False)
    assert pol.broken is not None and "larger than" in pol.broken


def test_for_home_uses_the_documented_paths(tmp_path: Path) -> None:
    sources = PolicySources.for_home(tmp_path, "")
    assert sources.system_path == SYSTEM_POLICY_PATH == Path("/etc/anydesk-invite/policy.toml")
    assert sources.home_path == tmp_path / HOME_POLICY_NAME
    assert sources.env_path is None
    assert PolicySources.for_home(tmp_path, str(tmp_path / "e.toml")).env_path == (
        tmp_path / "e.toml"
    )


def test_no_files_anywhere_gives_the_empty_policy(tmp_path: Path) -> None:
    sources = PolicySources(tmp_path / "sys.toml", tmp_path / "home.toml", tmp_path / "env.toml")
    assert sources.load() == Policy()


@needs_root
def test_sources_merge_so_the_tightest_setting_wins(etc: Path, tmp_path: Path) -> None:
    system = _write(etc / "policy.toml", FULL)
    home = _write(
        tmp_path / "home" / "policy.toml",
        '[permissions]\nfile_transfer = "force_off"\ndraw = "force_off"\n'
        '[discovery]\nmode = "off"\n',
    )
    env = _write(tmp_path / "env.toml", '[invitations]\naccept_from = "nobody"\n')
    pol = PolicySources(system, home, env).load()
    assert pol.broken is None
    assert pol.permissions[P.FILE_TRANSFER] is O.FORCE_OFF
    assert pol.permissions[P.DRAW] is O.FORCE_OFF
    assert pol.permissions[P.CONTROL] is O.FORCE_OFF
    assert pol.max_discovery is DiscoveryMode.OFF
    assert pol.max_accept_from is AcceptFrom.NOBODY
    assert pol.sources == (str(system), str(home), str(env))


@needs_root
def test_env_file_that_tries_force_on_gets_only_default_on(etc: Path, tmp_path: Path) -> None:
    system = _write(etc / "policy.toml", '[permissions]\ncontrol = "force_off"\n')
    env = _write(
        tmp_path / "env.toml",
        '[permissions]\ncontrol = "force_on"\nfile_transfer = "force_on"\n'
        '[invitations]\naccept_from = "everyone"\n',
    )
    sources = PolicySources.for_home(tmp_path / "home", str(env), system_path=system)
    pol = sources.load()
    assert pol.permissions == {P.CONTROL: O.FORCE_OFF, P.FILE_TRANSFER: O.DEFAULT_ON}
    assert not pol.is_locked(P.FILE_TRANSFER)
    assert P.CONTROL not in pol.apply(ALL_PERMISSIONS)
    assert P.FILE_TRANSFER not in pol.apply(frozenset())


@needs_root
def test_only_the_system_file_may_force_even_when_root_owns_the_home_file(
    etc: Path, tmp_path: Path
) -> None:
    # As root every file is root-owned and could pass the system file's checks: what makes
    # the home and $ADINVITE_POLICY files restricting is where they are, not who owns them.
    system = _write(etc / "policy.toml", '[permissions]\ndraw = "force_on"\n')
    home = _write(tmp_path / "home" / "policy.toml", '[permissions]\ncontrol = "force_on"\n')
    env = _write(tmp_path / "env.toml", '[permissions]\nclipboard = "force_on"\n')
    pol = PolicySources(system, home, env).load()
    assert pol.broken is None
    assert pol.permissions == {
        P.DRAW: O.FORCE_ON,
        P.CONTROL: O.DEFAULT_ON,
        P.CLIPBOARD: O.DEFAULT_ON,
    }
    assert pol.is_locked(P.DRAW) and not pol.is_locked(P.CONTROL)


@needs_root
def test_the_system_file_is_checked_as_the_trusted_one(etc: Path, tmp_path: Path) -> None:
    system = _write(etc / "policy.toml", '[permissions]\ndraw = "force_on"\n', mode=0o666)
    home = _write(tmp_path / "home" / "policy.toml", '[permissions]\ncontrol = "force_off"\n')
    env = _write(tmp_path / "env.toml", '[discovery]\nmode = "off"\n', mode=0o666)
    os.chmod(home, 0o666)  # home and $ADINVITE_POLICY files anyone may write only restrict
    read = PolicySources(tmp_path / "none.toml", home, env).load()
    assert read.broken is None
    assert read.permissions == {P.CONTROL: O.FORCE_OFF}
    assert read.max_discovery is DiscoveryMode.OFF
    pol = PolicySources(system, home, None).load()
    assert pol.broken is not None and pol.broken.startswith(f"{system}: writable by group")


def test_a_broken_home_file_breaks_the_merged_policy(tmp_path: Path) -> None:
    home = _write(tmp_path / "policy.toml", "[permissions\n")
    pol = PolicySources(tmp_path / "none.toml", home, None).load()
    assert pol.broken is not None and pol.broken.startswith(f"{home}:1:")
    assert pol.effective_accept_from(AcceptFrom.EVERYONE) is AcceptFrom.NOBODY


@needs_root
def test_an_untrusted_system_file_breaks_the_merged_policy(etc: Path, tmp_path: Path) -> None:
    system = _write(etc / "policy.toml", FULL, mode=0o666)
    pol = PolicySources(system, tmp_path / "none.toml", None).load()
    assert pol.broken is not None and "not trusted" in pol.broken
    assert pol.apply(ALL_PERMISSIONS) == frozenset()


def test_fingerprint_is_stable_and_changes_with_the_files(tmp_path: Path) -> None:
    home = tmp_path / "policy.toml"
    sources = PolicySources(tmp_path / "sys.toml", home, None)
    before = sources.fingerprint()
    assert before == sources.fingerprint()
    assert [entry[0] for entry in before] == [str(tmp_path / "sys.toml"), str(home)]
    _write(home, '[discovery]\nmode = "hidden"\n')
    created = sources.fingerprint()
    assert created != before
    assert [entry[0] for entry in created] == [str(tmp_path / "sys.toml"), str(home)]
    os.chmod(home, 0o600)
    assert sources.fingerprint() != created


def test_watcher_check_reports_only_real_changes(tmp_path: Path) -> None:
    home = tmp_path / "policy.toml"
    watcher = PolicyWatcher(PolicySources(tmp_path / "sys.toml", home, None), interval=0.01)
    seen: list[Policy] = []
    watcher.changed.connect(seen.append)
    assert watcher.check() is False
    _write(home, '[discovery]\nmode = "off"\n')
    assert watcher.check() is True
    assert seen == [watcher.policy]
    assert watcher.policy.max_discovery is DiscoveryMode.OFF
    _write(home, '# the same, with a comment\n[discovery]\nmode = "off"\n')
    assert watcher.check() is False  # the file changed, the policy did not
    assert len(seen) == 1


async def test_watcher_picks_up_a_changed_file_while_running(tmp_path: Path) -> None:
    home = _write(tmp_path / "policy.toml", '[permissions]\ncontrol = "default_off"\n')
    watcher = PolicyWatcher(PolicySources(tmp_path / "sys.toml", home, None), interval=0.01)
    assert watcher.policy.permissions == {P.CONTROL: O.DEFAULT_OFF}
    got: asyncio.Queue[Policy] = asyncio.Queue()
    watcher.changed.connect(got.put_nowait)
    watcher.start()
    try:
        _write(home, '[permissions]\ncontrol = "force_off"\nclipboard = "force_off"\n')
        pol = await asyncio.wait_for(got.get(), timeout=5)
        assert pol.permissions == {P.CONTROL: O.FORCE_OFF, P.CLIPBOARD: O.FORCE_OFF}
        assert watcher.policy == pol

        _write(home, "[permissions\n")  # an admin's typo takes effect too: fail closed
        broken = await asyncio.wait_for(got.get(), timeout=5)
        assert broken.broken is not None and broken.broken.startswith(f"{home}:1:")

        home.unlink()
        assert await asyncio.wait_for(got.get(), timeout=5) == Policy()
    finally:
        await watcher.stop()
    assert not watcher.running


async def test_watcher_start_is_idempotent_and_stop_ends_its_task(tmp_path: Path) -> None:
    watcher = PolicyWatcher(PolicySources(tmp_path / "a", tmp_path / "b", None), interval=0.01)
    await watcher.stop()  # stopping a watcher that never ran is harmless
    watcher.start()
    watcher.start()
    assert watcher.running
    tasks = [t for t in asyncio.all_tasks() if t.get_name() == "policy-watcher"]
    assert len(tasks) == 1
    await watcher.stop()
    assert not watcher.running
    assert tasks[0].done()


def test_watcher_refuses_a_poll_interval_that_is_not_positive(tmp_path: Path) -> None:
    sources = PolicySources(tmp_path / "a", tmp_path / "b", None)
    for interval in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError) as refused:
            PolicyWatcher(sources, interval=interval)
        assert str(refused.value) == "the poll interval must be positive"


def test_a_failing_listener_is_logged_under_the_policy_changed_signal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = tmp_path / "policy.toml"
    watcher = PolicyWatcher(PolicySources(tmp_path / "sys.toml", home, None), interval=0.01)

    def broken_listener(policy: Policy) -> None:
        raise RuntimeError("listener failed")

    watcher.changed.connect(broken_listener)
    _write(home, '[discovery]\nmode = "off"\n')
    with caplog.at_level(logging.ERROR):
        assert watcher.check() is True  # the change still counts
    assert "slot for signal policy.changed failed" in caplog.text
