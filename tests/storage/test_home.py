"""The home folder: its paths, install id, and the short private runtime directory."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from anydesk_invite.storage.home import SOCKET_PATH_MAX, Home, HomeError
from tests.helpers.short_dir import short_dir

OTHER_UID = 65534


@pytest.fixture
def short() -> Iterator[Path]:
    with short_dir() as path:
        yield path


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_resolve_creates_the_folder_private_with_its_files_inside(tmp_path: Path) -> None:
    home = Home.resolve(str(tmp_path / "a" / "home"))
    assert home.path == (tmp_path / "a" / "home").resolve()
    assert home.path.is_dir()
    assert _mode(home.path) == 0o700
    assert home.db_path == home.path / "anydesk-invite.db"
    assert home.log_path == home.path / "logs" / "anydesk-invite.log"
    assert home.key_file == home.path / "device-key.pem"
    assert home.policy_path == home.path / "policy.toml"


def test_resolve_without_a_path_uses_the_user_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    home = Home.resolve(None)
    assert home.path == (tmp_path / "data" / "anydesk-invite").resolve()
    assert _mode(home.path) == 0o700


def test_resolve_refuses_a_file_in_place_of_the_folder(tmp_path: Path) -> None:
    (tmp_path / "home").write_text("x")
    with pytest.raises(HomeError, match="not a folder"):
        Home.resolve(str(tmp_path / "home"))


def test_install_id_is_made_once_and_kept(tmp_path: Path) -> None:
    first = Home.resolve(str(tmp_path / "h")).install_id
    assert len(first) == 32
    int(first, 16)
    assert Home.resolve(str(tmp_path / "h")).install_id == first
    assert (tmp_path / "h" / "install-id").read_text().strip() == first


def test_two_homes_have_different_install_ids(tmp_path: Path) -> None:
    a = Home.resolve(str(tmp_path / "a")).install_id
    b = Home.resolve(str(tmp_path / "b")).install_id
    assert a != b


def test_damaged_install_id_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    home = Home.resolve(str(tmp_path / "h"))
    (home.path / "install-id").write_text("not-an-id\n")
    with pytest.raises(HomeError, match="damaged"):
        _ = home.install_id
    assert (home.path / "install-id").read_text() == "not-an-id\n"


def test_runtime_dir_is_under_xdg_runtime_dir_and_private(tmp_path: Path, short: Path) -> None:
    home = Home.resolve(str(tmp_path / "h"), environ={"XDG_RUNTIME_DIR": str(short)})
    rd = home.runtime_dir
    assert rd.parent == short / "anydesk-invite"
    assert len(rd.name) == 16
    assert _mode(rd) == 0o700
    assert home.control_socket_path == rd / "control"


def test_control_socket_can_be_bound_even_for_a_deep_home(tmp_path: Path, short: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "home"
    home = Home.resolve(str(deep), environ={"XDG_RUNTIME_DIR": str(short)})
    path = home.control_socket_path
    assert len(os.fsencode(path)) < SOCKET_PATH_MAX
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(os.fspath(path))
    assert stat.S_ISSOCK(os.stat(path).st_mode)


def test_each_home_has_its_own_runtime_dir_and_keeps_it(tmp_path: Path, short: Path) -> None:
    env = {"XDG_RUNTIME_DIR": str(short)}
    a = Home.resolve(str(tmp_path / "a"), environ=env).runtime_dir
    b = Home.resolve(str(tmp_path / "b"), environ=env).runtime_dir
    again = Home.resolve(str(tmp_path / "a"), environ=env).runtime_dir
    assert a != b
    assert a == again


def test_runtime_dir_falls_back_to_a_random_private_dir_recorded_in_the_home(
    tmp_path: Path, short: Path
) -> None:
    home = Home.resolve(str(tmp_path / "h"), environ={}, tmp_base=short)
    rd = home.runtime_dir
    assert rd.parent == short
    assert rd.name.startswith("anydesk-invite-")
    assert rd.name != f"anydesk-invite-{os.geteuid()}"
    assert _mode(rd) == 0o700
    assert (home.path / "runtime-dir").read_text().strip() == str(rd)
    again = Home.resolve(str(tmp_path / "h"), environ={}, tmp_base=short)
    assert again.runtime_dir == rd
    assert again.find_control_socket() == rd / "control"


def test_two_homes_get_different_random_runtime_dirs(tmp_path: Path, short: Path) -> None:
    a = Home.resolve(str(tmp_path / "a"), environ={}, tmp_base=short).runtime_dir
    b = Home.resolve(str(tmp_path / "b"), environ={}, tmp_base=short).runtime_dir
    assert a != b


def test_runtime_dir_ignores_an_xdg_runtime_dir_that_is_not_ours(
    tmp_path: Path, short: Path
) -> None:
    foreign = short / "foreign"
    foreign.mkdir(mode=0o700)
    os.chown(foreign, OTHER_UID, OTHER_UID)
    home = Home.resolve(
        str(tmp_path / "h"), environ={"XDG_RUNTIME_DIR": str(foreign)}, tmp_base=short
    )
    assert home.runtime_dir.parent == short
    assert not str(home.runtime_dir).startswith(str(foreign))


def _record(home: Home, path: Path) -> None:
    (home.path / "runtime-dir").write_text(f"{path}\n")


def test_a_recorded_runtime_dir_taken_by_another_user_is_replaced(
    tmp_path: Path, short: Path
) -> None:
    home = Home.resolve(str(tmp_path / "h"), environ={}, tmp_base=short)
    claimed = short / "anydesk-invite-claimed"
    claimed.mkdir(mode=0o700)
    os.chown(claimed, OTHER_UID, OTHER_UID)
    _record(home, claimed)
    rd = home.runtime_dir
    assert rd != claimed
    assert os.stat(rd).st_uid == os.geteuid()
    assert (home.path / "runtime-dir").read_text().strip() == str(rd)


def test_a_recorded_runtime_dir_writable_by_others_is_replaced(tmp_path: Path, short: Path) -> None:
    home = Home.resolve(str(tmp_path / "h"), environ={}, tmp_base=short)
    loose = short / "anydesk-invite-loose"
    loose.mkdir()
    os.chmod(loose, 0o777)
    _record(home, loose)
    assert home.control_socket_path.parent != loose


def test_a_recorded_runtime_dir_that_is_a_symlink_is_replaced(tmp_path: Path, short: Path) -> None:
    home = Home.resolve(str(tmp_path / "h"), environ={}, tmp_base=short)
    target = short / "elsewhere"
    target.mkdir(mode=0o700)
    link = short / "anydesk-invite-link"
    link.symlink_to(target)
    _record(home, link)
    assert home.runtime_dir not in (link, target)


def test_a_recorded_runtime_dir_outside_the_temporary_folder_is_ignored(
    tmp_path: Path, short: Path
) -> None:
    home = Home.resolve(str(tmp_path / "h"), environ={}, tmp_base=short)
    elsewhere = tmp_path / "anydesk-invite-x"
    elsewhere.mkdir(mode=0o700)
    _record(home, elsewhere)
    assert home.runtime_dir.parent == short


def test_finding_the_socket_creates_nothing(tmp_path: Path, short: Path) -> None:
    home = Home.resolve(str(tmp_path / "h"), environ={}, tmp_base=short)
    assert home.find_control_socket() is None
    assert list(short.iterdir()) == []
    assert not (home.path / "runtime-dir").exists()
    xdg = Home.resolve(str(tmp_path / "x"), environ={"XDG_RUNTIME_DIR": str(short)})
    assert xdg.find_control_socket() is None
    assert list(short.iterdir()) == []


def test_removing_the_runtime_dir_removes_the_random_dir_and_its_record(
    tmp_path: Path, short: Path
) -> None:
    home = Home.resolve(str(tmp_path / "h"), environ={}, tmp_base=short)
    path = home.control_socket_path
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(os.fspath(path))
    home.remove_runtime_dir()
    assert list(short.iterdir()) == []
    assert not (home.path / "runtime-dir").exists()


def test_removing_the_runtime_dir_under_xdg_removes_the_homes_own_dir_only(
    tmp_path: Path, short: Path
) -> None:
    env = {"XDG_RUNTIME_DIR": str(short)}
    a = Home.resolve(str(tmp_path / "a"), environ=env)
    b = Home.resolve(str(tmp_path / "b"), environ=env)
    a_dir, b_dir = a.runtime_dir, b.runtime_dir
    a.remove_runtime_dir()
    assert not a_dir.exists()
    assert b_dir.is_dir()


def test_clients_starting_together_agree_on_one_install_id(tmp_path: Path) -> None:
    Home.resolve(str(tmp_path / "h"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(lambda _: Home.resolve(str(tmp_path / "h")).install_id, range(16)))
    assert len(ids) == 1
    assert [p.name for p in (tmp_path / "h").iterdir()] == ["install-id"]
