"""The TSIG secret that signs our DNS updates: in the OS keyring, or in a 0600 file.

Never in the database. The user's secret goes to the keyring under the key's name; where no
keyring works it goes to ``<home>/tsig-secret`` (mode 0600, checked on every read). An
administrator's secret is a file named by the system-wide policy; it must not be readable
or writable by others.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path

import keyring
import keyring.backends.fail
import keyring.errors

SERVICE = "anydesk-invite-tsig"
SECRET_FILE_NAME = "tsig-secret"
_MAX_BYTES = 4096


class TsigSecretError(Exception):
    """The secret cannot be read or stored; the message says why."""


def check_secret(text: str) -> str:
    """A TSIG secret is base64 (as in BIND's key files), 16 to 512 bytes once decoded."""
    value = text.strip().strip('";').strip()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise TsigSecretError("the TSIG secret is not base64") from None
    if not 16 <= len(raw) <= 512:
        raise TsigSecretError(f"the TSIG secret is {len(raw)} bytes; 16 to 512 are accepted")
    return value


def read_secret_file(path: Path) -> str:
    """The base64 secret in ``path``: the first non-comment line, or a BIND ``secret "…";``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise TsigSecretError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise TsigSecretError(f"{path} is not a regular file")
        if st.st_mode & (stat.S_IROTH | stat.S_IWOTH | stat.S_IWGRP):
            raise TsigSecretError(
                f"{path} is readable or writable by others (mode "
                f"{stat.S_IMODE(st.st_mode):04o}); make it 0600 or 0640"
            )
        data = os.read(fd, _MAX_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > _MAX_BYTES:
        raise TsigSecretError(f"{path} is larger than {_MAX_BYTES} bytes")
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "//")):
            continue
        if line.startswith("secret"):
            line = line.removeprefix("secret")
        return check_secret(line)
    raise TsigSecretError(f"{path} holds no secret")


class TsigSecretStore:
    """The user's TSIG secret for one home."""

    def __init__(self, home: Path) -> None:
        self._file = home / SECRET_FILE_NAME

    @property
    def file(self) -> Path:
        return self._file

    def get(self, key_name: str) -> str | None:
        """The secret for ``key_name``, from the keyring or else the home's file; None when
        none is stored. TsigSecretError when the stored one cannot be used."""
        if _keyring_usable():
            try:
                value = keyring.get_password(SERVICE, key_name)
            except keyring.errors.KeyringError:
                value = None
            if value:
                return check_secret(value)
        if self._file.exists():
            return read_secret_file(self._file)
        return None

    def set(self, key_name: str, secret: str) -> str:
        """Store the secret; returns where ('keyring' or the file's path)."""
        value = check_secret(secret)
        if _keyring_usable():
            try:
                keyring.set_password(SERVICE, key_name, value)
                return "keyring"
            except keyring.errors.KeyringError:
                pass
        tmp = self._file.with_name(self._file.name + ".new")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (value + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self._file)
        return str(self._file)


def _keyring_usable() -> bool:
    try:
        return not isinstance(keyring.get_keyring(), keyring.backends.fail.Keyring)
    except Exception:
        return False
