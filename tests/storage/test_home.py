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


def test_runtime_dir_falls_back_to_tmp_when_xdg_runtime_dir_is_unset(
    tmp_path: Path, short: Path
) -> None:
    home = Home.resolve(str(tmp_path / "h"), environ={}, tmp_base=short)
    rd = home.runtime_dir
    assert rd.parent == short / f"anydesk-invite-{os.geteuid()}"
    assert _mode(rd.parent) == 0o700
    assert _mode(rd) == 0o700


def test_runtime_dir_ignores_an_xdg_runtime_dir_that_is_not_ours(
    tmp_path: Path, short: Path
) -> None:
    foreign = short / "foreign"
    foreign.mkdir(mode=0o700)
    os.chown(foreign, OTHER_UID, OTHER_UID)
    home = Home.resolve(
        str(tmp_path / "h"), environ={"XDG_RUNTIME_DIR": str(foreign)}, tmp_base=short
    )
    assert home.runtime_dir.parent == short / f"anydesk-invite-{os.geteuid()}"


def test_runtime_dir_owned_by_someone_else_is_refused(tmp_path: Path, short: Path) -> None:
    planted = short / f"anydesk-invite-{os.geteuid()}"
    planted.mkdir(mode=0o700)
    os.chown(planted, OTHER_UID, OTHER_UID)
    home = Home.resolve(str(tmp_path / "h"), environ={}, tmp_base=short)
    with pytest.raises(HomeError, match="belongs to uid 65534"):
        _ = home.runtime_dir


def test_runtime_dir_writable_by_others_is_refused(tmp_path: Path, short: Path) -> None:
    loose = short / f"anydesk-invite-{os.geteuid()}"
    loose.mkdir()
    os.chmod(loose, 0o777)
    home = Home.resolve(str(tmp_path / "h"), environ={}, tmp_base=short)
    with pytest.raises(HomeError, match="writable by others"):
        _ = home.control_socket_path


def test_runtime_dir_that_is_a_symlink_is_refused(tmp_path: Path, short: Path) -> None:
    target = short / "elsewhere"
    target.mkdir(mode=0o700)
    (short / f"anydesk-invite-{os.geteuid()}").symlink_to(target)
    home = Home.resolve(str(tmp_path / "h"), environ={}, tmp_base=short)
    with pytest.raises(HomeError, match="not a folder"):
        _ = home.runtime_dir


def test_clients_starting_together_agree_on_one_install_id(tmp_path: Path) -> None:
    Home.resolve(str(tmp_path / "h"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(lambda _: Home.resolve(str(tmp_path / "h")).install_id, range(16)))
    assert len(ids) == 1
    assert [p.name for p in (tmp_path / "h").iterdir()] == ["install-id"]
