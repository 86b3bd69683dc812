"""Keyring backends that misbehave the ways real ones do, for the key store's tests."""

from __future__ import annotations

from keyring.backend import KeyringBackend


class ForgetfulKeyring(KeyringBackend):
    """Accepts every write and keeps nothing, like a backend chain with no usable member."""

    priority = 0  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        return None

    def delete_password(self, service: str, username: str) -> None:
        return None


class DBusBrokenKeyring(KeyringBackend):
    """Raises a non-keyring exception, as Secret Service backends do when D-Bus fails."""

    priority = 0  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise ConnectionRefusedError("org.freedesktop.DBus: connection refused")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise ConnectionRefusedError("org.freedesktop.DBus: connection refused")

    def delete_password(self, service: str, username: str) -> None:
        raise ConnectionRefusedError("org.freedesktop.DBus: connection refused")
