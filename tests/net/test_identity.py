"""Device identity: key round trips, derived fingerprint and ID, certificate, TLS contexts."""

from __future__ import annotations

import os
import ssl
import stat
import tempfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from anydesk_invite.core.ids import DeviceId, fingerprint_of
from anydesk_invite.net import identity as identity_module
from anydesk_invite.net.identity import Identity, IdentityError, verify_signature


def test_private_bytes_round_trip_gives_the_same_device() -> None:
    a = Identity.generate()
    b = Identity.from_private_bytes(a.private_bytes())
    assert len(a.private_bytes()) == 32
    assert b.public_key_der == a.public_key_der
    assert b.fingerprint == a.fingerprint
    assert b.device_id == a.device_id


def test_two_generated_identities_differ() -> None:
    assert Identity.generate().fingerprint != Identity.generate().fingerprint


def test_fingerprint_and_id_derive_from_the_public_key() -> None:
    ident = Identity.generate()
    assert ident.fingerprint == fingerprint_of(ident.public_key_der)
    assert ident.device_id == DeviceId.from_fingerprint(ident.fingerprint)
    assert len(ident.public_key_der) <= 100


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_a_private_key_of_the_wrong_length_is_refused(length: int) -> None:
    with pytest.raises(IdentityError, match="32 bytes"):
        Identity.from_private_bytes(b"\x01" * length)


def test_signature_verifies_only_for_its_key_and_data() -> None:
    a, b = Identity.generate(), Identity.generate()
    sig = a.sign(b"data")
    assert verify_signature(a.public_key_der, sig, b"data")
    assert not verify_signature(a.public_key_der, sig, b"other")
    assert not verify_signature(b.public_key_der, sig, b"data")
    assert not verify_signature(a.public_key_der, sig[:-1] + bytes([sig[-1] ^ 1]), b"data")


@pytest.mark.parametrize("key", [b"", b"\x00" * 44, b"not a key at all"])
def test_garbage_public_key_never_verifies(key: bytes) -> None:
    assert not verify_signature(key, b"\x00" * 64, b"data")


def test_a_non_ed25519_public_key_never_verifies() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = other.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert not verify_signature(der, b"\x00" * 64, b"data")


def test_certificate_is_self_signed_over_the_device_key_and_long_lived() -> None:
    ident = Identity.generate()
    cert = x509.load_pem_x509_certificate(ident.certificate_pem())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert spki == ident.public_key_der
    assert cert.issuer == cert.subject
    assert str(ident.device_id) in cert.subject.rfc4514_string()
    assert cert.not_valid_after_utc.year == 9999


def test_contexts_are_tls13_only() -> None:
    ident = Identity.generate()
    for ctx in (ident.server_context(), ident.client_context()):
        assert ctx.minimum_version == ssl.TLSVersion.TLSv1_3
        assert ctx.maximum_version == ssl.TLSVersion.TLSv1_3
    assert ident.client_context().verify_mode == ssl.CERT_NONE
    assert ident.server_context() is ident.server_context()


def test_without_memfd_the_key_goes_through_a_private_temp_file_that_is_removed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]
) -> None:
    monkeypatch.delattr(os, "memfd_create", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen: list[int] = []
    real = identity_module._secret_file

    def spy(content: bytes):  # type: ignore[no-untyped-def]
        cm = real(content)
        path = cm.__enter__()
        seen.append(stat.S_IMODE(os.stat(path).st_mode))

        class _Wrapped:
            def __enter__(self) -> str:
                return path

            def __exit__(self, *exc: object) -> None:
                cm.__exit__(None, None, None)

        return _Wrapped()

    monkeypatch.setattr(identity_module, "_secret_file", spy)
    ctx = Identity.generate().server_context()
    assert isinstance(ctx, ssl.SSLContext)
    assert seen == [0o600]
    assert list(os.listdir(tmp_path)) == []
