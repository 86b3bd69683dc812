"""This device's Ed25519 key pair, its self-signed certificate, and the TLS contexts made from it.

Peers are pinned by fingerprint, not by any certificate authority: the dialler checks the
listener's key itself, and the listener checks the dialler's signature in the handshake.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import secrets
import ssl
import tempfile
from collections.abc import Iterator

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from anydesk_invite.core.ids import DeviceId, fingerprint_of

PRIVATE_KEY_LENGTH = 32
# RFC 5280 4.1.2.5: "no well-defined expiration date" — a device key lives as long as the install.
_NOT_AFTER = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)


class IdentityError(ValueError):
    """Key material that cannot be used as a device identity."""


class Identity:
    """The key pair of this device and everything derived from it."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key_der: bytes = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.fingerprint: bytes = fingerprint_of(self.public_key_der)
        self.device_id: DeviceId = DeviceId.from_fingerprint(self.fingerprint)
        self._server_context: ssl.SSLContext | None = None
        self._client_context: ssl.SSLContext | None = None

    @classmethod
    def generate(cls) -> Identity:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> Identity:
        """Load a 32-byte raw Ed25519 private key (as kept in the keyring)."""
        if len(raw) != PRIVATE_KEY_LENGTH:
            raise IdentityError(f"a device key has {PRIVATE_KEY_LENGTH} bytes, not {len(raw)}")
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    def private_bytes(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def certificate_pem(self) -> bytes:
        """A self-signed X.509 certificate over this key, named after the device ID."""
        # Loaded here, when TLS first needs it, not at start-up (bench/startup.py).
        from cryptography import x509
        from cryptography.x509.oid import NameOID

        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"adinvite {self.device_id}")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(_NOT_AFTER)
            .sign(self._key, None)
        )
        return cert.public_bytes(serialization.Encoding.PEM)

    def server_context(self) -> ssl.SSLContext:
        """TLS 1.3 only, presenting the self-signed certificate; no client certificate asked."""
        if self._server_context is None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
            ctx.maximum_version = ssl.TLSVersion.TLSv1_3
            key_pem = self._key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            with _secret_file(self.certificate_pem() + key_pem) as path:
                ctx.load_cert_chain(path)
            self._server_context = ctx
        return self._server_context

    def client_context(self) -> ssl.SSLContext:
        """TLS 1.3 only; no CA check, because the caller pins the peer's fingerprint."""
        if self._client_context is None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
            ctx.maximum_version = ssl.TLSVersion.TLSv1_3
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self._client_context = ctx
        return self._client_context


@contextlib.contextmanager
def _secret_file(content: bytes) -> Iterator[str]:
    """A path holding the content for as short as possible: ssl loads keys only from files."""
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is not None:
        try:
            fd = memfd_create("adinvite-tls", getattr(os, "MFD_CLOEXEC", 0))
        except OSError:
            fd = -1
        if fd >= 0:
            try:
                os.write(fd, content)
                yield f"/proc/self/fd/{fd}"
            finally:
                os.close(fd)
            return
    fd, path = tempfile.mkstemp(prefix="adinvite-tls-")  # mkstemp creates it 0600
    try:
        os.write(fd, content)
        os.close(fd)
        fd = -1
        yield path
    finally:
        if fd >= 0:
            os.close(fd)
        os.unlink(path)


def public_key_from_der(public_key_der: bytes) -> Ed25519PublicKey:
    """Parse an SPKI DER Ed25519 public key; IdentityError when it is anything else."""
    try:
        key = serialization.load_der_public_key(public_key_der)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise IdentityError(f"not a public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise IdentityError("not an Ed25519 public key")
    return key


def verify_signature(public_key_der: bytes, signature: bytes, data: bytes) -> bool:
    """True when the signature over data was made by the Ed25519 key in public_key_der."""
    try:
        public_key_from_der(public_key_der).verify(signature, data)
    except (IdentityError, InvalidSignature):
        return False
    return True


def new_nonce() -> bytes:
    return secrets.token_bytes(32)
