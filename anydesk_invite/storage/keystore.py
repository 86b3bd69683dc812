"""The device's Ed25519 private key: in the OS keyring, or visibly in a 0600 file.

The keyring entry is named by the home's install id, so two homes are two devices. Where no
keyring backend works (a headless machine without D-Bus) the key goes to a PEM file in the
home folder, and the result says so; that fallback is never silent. A key file others could
read or change is refused, never loaded.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import secrets
import stat
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import keyring
import keyring.backends.fail
import keyring.errors
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from anydesk_invite.storage.home import Home

SERVICE = "anydesk-invite"
KEY_LENGTH = 32
NO_KEYRING_WARNING = "the key is stored in a file because no keyring is available"
FILE_KEPT_WARNING = (
    "the key is stored in a file: it was made when no keyring was available, "
    "and it stays there so this device keeps its ID"
)
_KEY_FILE_MAX = 64 * 1024


class KeyStoreError(Exception):
    """The key exists but cannot be used safely; the message says why and what to do."""


class KeyLocation(StrEnum):
    KEYRING = "keyring"
    FILE = "file"


@dataclass(frozen=True, slots=True, repr=False)
class StoredKey:
    """The device key (raw 32 bytes) and where it lives; ``warning`` is for the user."""

    private_key: bytes
    location: KeyLocation
    warning: str | None = None

    def __repr__(self) -> str:
        # Keep the key out of logs and tracebacks.
        return f"StoredKey(location={self.location.value!r}, warning={self.warning!r})"


class _NoKeyring(Exception):
    """No keyring backend works here; the message says why."""


class KeyStore:
    """Loads the device key of one home, creating it on first use.

    Keyring calls block (D-Bus), so they run in a worker thread; this object is their one
    owner and runs one call at a time.
    """

    def __init__(self, home: Home) -> None:
        self._home = home
        self._lock = asyncio.Lock()
        self._key: StoredKey | None = None

    async def load_or_create(self) -> StoredKey:
        async with self._lock:
            if self._key is None:
                self._key = await asyncio.to_thread(self._load_or_create)
            return self._key

    def _load_or_create(self) -> StoredKey:
        username = f"device-key-{self._home.install_id}"
        path = self._home.key_file
        try:
            stored = _keyring_get(username)
        except _NoKeyring as exc:
            problem: str | None = str(exc)
            stored = None
        else:
            problem = None
        if stored is not None:
            return StoredKey(_decode_keyring_value(stored, username), KeyLocation.KEYRING)
        if os.path.lexists(path):
            raw = _read_key_file(path)
            return StoredKey(raw, KeyLocation.FILE, _file_warning(problem))
        raw = Ed25519PrivateKey.generate().private_bytes_raw()
        if problem is None:
            try:
                _keyring_set(username, raw)
            except _NoKeyring as exc:
                problem = str(exc)
            else:
                return StoredKey(raw, KeyLocation.KEYRING)
        raw = _write_key_file(path, raw)
        return StoredKey(raw, KeyLocation.FILE, _file_warning(problem))


def _file_warning(problem: str | None) -> str:
    if problem is None:
        return FILE_KEPT_WARNING
    return (
        f"{NO_KEYRING_WARNING} ({problem}); "
        "a desktop keyring (GNOME Keyring, KWallet) keeps it safer"
    )


def _backend() -> object:
    backend = keyring.get_keyring()
    if isinstance(backend, keyring.backends.fail.Keyring):
        raise _NoKeyring("no keyring backend is installed or running")
    return backend


def _keyring_get(username: str) -> str | None:
    _backend()
    try:
        value = keyring.get_password(SERVICE, username)
    except keyring.errors.KeyringError as exc:
        raise _NoKeyring(f"the keyring failed: {exc}") from exc
    except Exception as exc:
        # Backends let their own D-Bus and OS errors through; all mean "no working keyring".
        raise _NoKeyring(f"the keyring failed: {type(exc).__name__}: {exc}") from exc
    return value if isinstance(value, str) else None


def _keyring_set(username: str, raw: bytes) -> None:
    _backend()
    value = base64.b64encode(raw).decode("ascii")
    try:
        keyring.set_password(SERVICE, username, value)
        kept = keyring.get_password(SERVICE, username)
    except keyring.errors.KeyringError as exc:
        raise _NoKeyring(f"the keyring failed: {exc}") from exc
    except Exception as exc:
        raise _NoKeyring(f"the keyring failed: {type(exc).__name__}: {exc}") from exc
    if kept != value:
        # Some backend chains accept a write and keep nothing; a key lost that way is an
        # identity lost, so only a read-back counts as stored.
        raise _NoKeyring("the keyring did not keep the key")


def _decode_keyring_value(value: str, username: str) -> bytes:
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raw = b""
    if len(raw) != KEY_LENGTH:
        raise KeyStoreError(
            f"the device key in the keyring (service {SERVICE!r}, user {username!r}) is "
            "damaged; it was left as it is. Restore it, or delete that entry to make this "
            "device a new one (with a new ID)"
        )
    return raw


def _read_key_file(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if os.path.islink(path):
            raise KeyStoreError(f"the key file {path} is a symbolic link; refusing it") from exc
        raise KeyStoreError(f"cannot open the key file {path}: {exc.strerror}") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise KeyStoreError(f"the key file {path} is not a regular file; refusing it")
        if st.st_uid != os.geteuid():
            raise KeyStoreError(
                f"the key file {path} belongs to uid {st.st_uid}, not to us; refusing it"
            )
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            raise KeyStoreError(
                f"the key file {path} is open to group or others (mode {mode:o}), so it was "
                "not loaded. If nobody else can have read or changed it, make it private "
                f"with: chmod 600 {path}"
            )
        data = os.read(fd, _KEY_FILE_MAX + 1)
    finally:
        os.close(fd)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyStoreError(
            f"the key file {path} is damaged or not an unencrypted PEM key; it was left as it is"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyStoreError(f"the key file {path} holds a key that is not Ed25519")
    return key.private_bytes_raw()


def _write_key_file(path: Path, raw: bytes) -> bytes:
    """Write the key 0600 without ever replacing a key file; return the key that is kept."""
    pem = Ed25519PrivateKey.from_private_bytes(raw).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
    except OSError as exc:
        raise KeyStoreError(f"cannot write the key file {path}: {exc.strerror}") from exc
    try:
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            # link() instead of rename(): it never replaces a key another client wrote first.
            os.link(tmp, path)
        except FileExistsError:
            return _read_key_file(path)
        except OSError as exc:
            raise KeyStoreError(f"cannot write the key file {path}: {exc.strerror}") from exc
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return raw
