"""IDs, fingerprints and verification codes as docs/PROTOCOL.md ("IDs and fingerprints") defines
them. The expected values are computed here from the document's own formulas and table, not
from the code's constants, and a few are pinned as literals so a change on both sides is seen."""

from __future__ import annotations

import hashlib

import pytest

from anydesk_invite.core.ids import (
    DeviceId,
    IdError,
    parse_id,
    short_fingerprint,
    verification_code,
)

# The quasigroup exactly as printed in docs/PROTOCOL.md.
DOC_TABLE = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
]


def doc_damm(digits: str) -> int:
    interim = 0
    for d in digits:
        interim = DOC_TABLE[interim][int(d)]
    return interim


def doc_id(fingerprint: bytes) -> str:
    n = int.from_bytes(fingerprint[0:8], "big")
    payload = 100000000 + (n % 900000000)
    return str(payload) + str(doc_damm(str(payload)))


def doc_code(fp_a: bytes, fp_b: bytes) -> str:
    lo, hi = sorted([fp_a, fp_b])
    v = int.from_bytes(hashlib.sha256(b"adinvite-verify\x00" + lo + hi).digest()[0:8], "big")
    text = f"{v % 1000000:06d}"
    return f"{text[:3]} {text[3:]}"


FPS = [hashlib.sha256(f"doc-vector-{i}".encode()).digest() for i in range(64)]
FPS += [bytes(32), b"\xff" * 32, bytes(range(32))]


@pytest.mark.parametrize("fingerprint", FPS, ids=lambda fp: fp[:4].hex())
def test_the_id_of_a_key_is_the_documented_derivation(fingerprint: bytes) -> None:
    assert DeviceId.from_fingerprint(fingerprint).digits == doc_id(fingerprint)


def test_documented_id_vectors_pinned_as_literals() -> None:
    assert DeviceId.from_fingerprint(bytes(32)).digits == "1000000005"
    assert DeviceId.from_fingerprint(b"\xff" * 32).digits == "2095516159"
    fp = bytes.fromhex("2c14cbc1248a410f446b23c5dbc53c8830332de83b86e98742a0cec9aa5e538e")
    assert DeviceId.from_fingerprint(fp).digits == "7052093592"


def test_an_id_is_grouped_one_three_three_three() -> None:
    assert DeviceId("7052093592").grouped() == "7 052 093 592"


@pytest.mark.parametrize("wrong", [b"", bytes(31), bytes(33)])
def test_a_fingerprint_is_exactly_32_bytes(wrong: bytes) -> None:
    with pytest.raises(IdError, match=r"^a fingerprint is 32 bytes$"):
        DeviceId.from_fingerprint(wrong)


def test_short_fingerprint_is_the_first_eight_bytes_in_four_upper_case_groups() -> None:
    assert short_fingerprint(bytes(range(32))) == "0001 0203 0405 0607"
    assert short_fingerprint(bytes.fromhex("2c14cbc1248a410fff")) == "2C14 CBC1 248A 410F"


@pytest.mark.parametrize("i", range(0, 64, 2))
def test_the_verification_code_is_the_documented_derivation(i: int) -> None:
    a, b = FPS[i], FPS[i + 1]
    assert verification_code(a, b) == doc_code(a, b) == verification_code(b, a)


def test_documented_verification_code_pinned_as_a_literal() -> None:
    a = bytes.fromhex("2c14cbc1248a410f446b23c5dbc53c8830332de83b86e98742a0cec9aa5e538e")
    b = bytes.fromhex("4b5e3306716d803f62ea4fb10f78da313047518f9c7a216734dbd176deeb03a3")
    assert verification_code(a, b) == "132 224"


@pytest.mark.parametrize(
    ("typed", "told"),
    [
        ("", "enter an ID"),
        ("  - . ", "enter an ID"),
        ("12a4567890", "an ID has only digits"),
        ("١٢٣٤٥٦٧٨٩٠", "an ID has only digits"),
        ("123456789", "an ID has 10 digits; this has 9"),
        ("12345678901", "an ID has 10 digits; this has 11"),
        ("7052093593", "the check digit does not match (typo?)"),
    ],
)
def test_a_mistyped_id_is_answered_with_what_to_fix(typed: str, told: str) -> None:
    with pytest.raises(IdError) as refused:
        parse_id(typed)
    assert str(refused.value) == told
