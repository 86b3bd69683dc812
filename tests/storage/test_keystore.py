"""The device key: in the keyring when one works, otherwise visibly in a private file."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from anydesk_invite.storage.home import Home
from anydesk_invite.storage.keystore import (
    FILE_KEPT_WARNING,
    NO_KEYRING_WARNING,
    SERVICE,
    KeyLocation,
    KeyStore,
    KeyStoreError,
)
from tests.helpers.memory_keyring import FailingKeyring, MemoryKeyring
from tests.helpers.odd_keyrings import DBusBrokenKeyring, ForgetfulKeyring
from tests.helpers.short_dir import short_dir


def _username(home: Home) -> str:
    return f"device-key-{home.install_id}"


def _pem(raw: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(raw).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home.resolve(str(tmp_path / "home"))


@pytest.fixture
def no_keyring() -> FailingKeyring:
    backend = FailingKeyring()
    keyring.set_keyring(backend)  # the autouse fixture puts the previous one back
    return backend


async def test_key_goes_to_the_keyring_and_nothing_to_disk(
    home: Home, memory_keyring: MemoryKeyring
) -> None:
    key = await KeyStore(home).load_or_create()
    assert key.location is KeyLocation.KEYRING
    assert key.warning is None
    assert len(key.private_key) == 32
    stored = memory_keyring.store[(SERVICE, _username(home))]
    assert base64.b64decode(stored) == key.private_key
    assert not home.key_file.exists()
    assert not any(p.name.endswith(".tmp") for p in home.path.iterdir())


async def test_the_same_key_is_loaded_again(home: Home) -> None:
    first = await KeyStore(home).load_or_create()
    again = await KeyStore(home).load_or_create()
    assert again.private_key == first.private_key
    assert again.location is KeyLocation.KEYRING


async def test_concurrent_calls_get_one_key(home: Home, memory_keyring: MemoryKeyring) -> None:
    store = KeyStore(home)
    keys = await asyncio.gather(*(store.load_or_create() for _ in range(5)))
    assert len({k.private_key for k in keys}) == 1
    assert len(memory_keyring.store) == 1


async def test_two_homes_are_two_devices(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    a = Home.resolve(str(tmp_path / "a"))
    b = Home.resolve(str(tmp_path / "b"))
    key_a = await KeyStore(a).load_or_create()
    key_b = await KeyStore(b).load_or_create()
    assert a.install_id != b.install_id
    assert key_a.private_key != key_b.private_key
    assert len(memory_keyring.store) == 2


async def test_without_a_keyring_the_key_goes_to_a_private_file_and_says_so(
    home: Home, no_keyring: FailingKeyring
) -> None:
    key = await KeyStore(home).load_or_create()
    assert key.location is KeyLocation.FILE
    assert key.warning is not None
    assert key.warning.startswith(NO_KEYRING_WARNING)
    assert stat.S_IMODE(os.stat(home.key_file).st_mode) == 0o600
    loaded = serialization.load_pem_private_key(home.key_file.read_bytes(), password=None)
    assert isinstance(loaded, Ed25519PrivateKey)
    assert loaded.private_bytes_raw() == key.private_key
    assert not any(p.name.endswith(".tmp") for p in home.path.iterdir())
    again = await KeyStore(home).load_or_create()
    assert again.private_key == key.private_key
    assert again.location is KeyLocation.FILE


@pytest.mark.parametrize(
    "backend",
    [keyring.backends.fail.Keyring, ForgetfulKeyring, DBusBrokenKeyring],
    ids=["fail-backend", "keeps-nothing", "dbus-error"],
)
async def test_every_kind_of_broken_keyring_falls_back_to_the_file(
    home: Home, backend: type[keyring.backend.KeyringBackend]
) -> None:
    keyring.set_keyring(backend())
    key = await KeyStore(home).load_or_create()
    assert key.location is KeyLocation.FILE
    assert key.warning is not None
    assert NO_KEYRING_WARNING in key.warning
    assert home.key_file.exists()


async def test_a_key_file_made_before_a_keyring_existed_is_kept(
    home: Home, memory_keyring: MemoryKeyring
) -> None:
    keyring.set_keyring(FailingKeyring())
    first = await KeyStore(home).load_or_create()
    keyring.set_keyring(memory_keyring)
    later = await KeyStore(home).load_or_create()
    assert later.private_key == first.private_key
    assert later.location is KeyLocation.FILE
    assert later.warning == FILE_KEPT_WARNING
    assert memory_keyring.store == {}


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o660, 0o602, 0o604, 0o610])
async def test_a_key_file_open_to_others_is_refused_and_left_alone(
    home: Home, memory_keyring: MemoryKeyring, mode: int
) -> None:
    pem = _pem(Ed25519PrivateKey.generate().private_bytes_raw())
    home.key_file.write_bytes(pem)
    os.chmod(home.key_file, mode)
    with pytest.raises(KeyStoreError, match=f"open to group or others \\(mode {mode:o}\\)"):
        await KeyStore(home).load_or_create()
    assert home.key_file.read_bytes() == pem
    assert stat.S_IMODE(os.stat(home.key_file).st_mode) == mode
    assert memory_keyring.store == {}


async def test_a_key_file_that_is_a_symlink_is_refused(
    home: Home, tmp_path: Path, no_keyring: FailingKeyring
) -> None:
    target = tmp_path / "elsewhere.pem"
    target.write_bytes(_pem(Ed25519PrivateKey.generate().private_bytes_raw()))
    os.chmod(target, 0o600)
    home.key_file.symlink_to(target)
    with pytest.raises(KeyStoreError, match="symbolic link"):
        await KeyStore(home).load_or_create()


async def test_a_damaged_key_file_is_refused_and_kept(
    home: Home, no_keyring: FailingKeyring
) -> None:
    home.key_file.write_bytes(b"-----BEGIN PRIVATE KEY-----\ngarbage\n")
    os.chmod(home.key_file, 0o600)
    with pytest.raises(KeyStoreError, match="damaged"):
        await KeyStore(home).load_or_create()
    assert home.key_file.read_bytes() == b"-----BEGIN PRIVATE KEY-----\ngarbage\n"


async def test_a_damaged_keyring_entry_is_refused_and_kept(
    home: Home, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.store[(SERVICE, _username(home))] = "not base64!"
    with pytest.raises(KeyStoreError, match="damaged"):
        await KeyStore(home).load_or_create()
    assert memory_keyring.store[(SERVICE, _username(home))] == "not base64!"
    assert not home.key_file.exists()


async def test_the_key_never_shows_in_its_repr(home: Home) -> None:
    key = await KeyStore(home).load_or_create()
    assert key.private_key.hex() not in repr(key)
    assert repr(key.private_key) not in repr(key)


_REAL_KEYRING_SCRIPT = textwrap.dedent(
    """
    import asyncio, base64, sys
    import keyring
    from anydesk_invite.storage.home import Home
    from anydesk_invite.storage.keystore import SERVICE, KeyStore
    home = Home.resolve(sys.argv[1])
    first = asyncio.run(KeyStore(home).load_or_create())
    again = asyncio.run(KeyStore(home).load_or_create())
    stored = keyring.get_password(SERVICE, f"device-key-{home.install_id}")
    print(type(keyring.get_keyring()).__module__)
    print(first.location.value, again.location.value)
    print(first.private_key == again.private_key)
    print(stored == base64.b64encode(first.private_key).decode())
    print(home.key_file.exists())
    """
)


@pytest.mark.keyring_real
def test_the_key_is_kept_by_a_real_secret_service(tmp_path: Path) -> None:
    missing = [t for t in ("dbus-run-session", "gnome-keyring-daemon") if not shutil.which(t)]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (scripts/bootstrap.sh --test)")
    with short_dir() as runtime:
        os.chmod(runtime, 0o700)
        # A private HOME and runtime dir: the daemon keeps its keyrings and socket there,
        # never in the user's own keyring.
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "XDG_RUNTIME_DIR": str(runtime),
            "XDG_DATA_HOME": str(tmp_path / "data"),
        }
        shell = (
            'eval "$(printf pw | gnome-keyring-daemon --unlock --components=secrets)"; '
            'exec "$0" "$@"'
        )
        result = subprocess.run(
            [
                "dbus-run-session",
                "--",
                "sh",
                "-c",
                shell,
                sys.executable,
                "-c",
                _REAL_KEYRING_SCRIPT,
                str(tmp_path / "home"),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert lines[:5] == [
        "keyring.backends.SecretService",
        "keyring keyring",
        "True",
        "True",
        "False",
    ], result.stdout + result.stderr
