"""Device IDs: derivation from a fingerprint, grouping, parsing and typo detection."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

import pytest

from anydesk_invite.core.ids import (
    ID_LENGTH,
    DeviceId,
    IdError,
    damm_check_digit,
    damm_valid,
    fingerprint_confirmed,
    fingerprint_of,
    looks_like_id,
    parse_id,
    short_fingerprint,
    verification_code,
)


def _fingerprint(seed: int) -> bytes:
    return hashlib.sha256(seed.to_bytes(8, "big")).digest()


def _random_ids(count: int, seed: int = 20261126) -> list[DeviceId]:
    rng = random.Random(seed)
    return [DeviceId.from_fingerprint(rng.randbytes(32)) for _ in range(count)]


def test_damm_check_digit_matches_the_published_example() -> None:
    # Damm's worked example: 572 gets check digit 4.
    assert damm_check_digit("572") == 4
    assert damm_valid("5724")
    assert not damm_valid("5723")


def test_derivation_is_deterministic() -> None:
    fp = _fingerprint(1)
    assert DeviceId.from_fingerprint(fp) == DeviceId.from_fingerprint(bytes(fp))


def test_derivation_depends_only_on_the_first_eight_bytes() -> None:
    fp = _fingerprint(2)
    changed_tail = fp[:8] + bytes(b ^ 0xFF for b in fp[8:])
    changed_head = bytes([fp[0] ^ 1]) + fp[1:]
    assert DeviceId.from_fingerprint(changed_tail) == DeviceId.from_fingerprint(fp)
    assert DeviceId.from_fingerprint(changed_head) != DeviceId.from_fingerprint(fp)


def test_derived_ids_have_ten_digits_no_leading_zero_and_a_valid_check_digit() -> None:
    for device in _random_ids(500):
        assert len(device.digits) == ID_LENGTH
        assert device.digits.isdigit()
        assert device.digits[0] != "0"
        assert damm_valid(device.digits)


def test_extreme_fingerprints_still_give_ten_digits() -> None:
    for fp in (bytes(32), b"\xff" * 32):
        assert len(DeviceId.from_fingerprint(fp).digits) == ID_LENGTH


def test_fingerprint_of_wrong_length_is_refused() -> None:
    with pytest.raises(IdError, match="32 bytes"):
        DeviceId.from_fingerprint(b"\x00" * 31)


def test_grouped_form_is_one_then_three_groups_of_three() -> None:
    device = _random_ids(1)[0]
    d = device.digits
    assert device.grouped() == f"{d[0]} {d[1:4]} {d[4:7]} {d[7:]}"
    assert device.grouped().replace(" ", "") == d
    assert str(device) == d


@pytest.mark.parametrize(
    "shape",
    [
        lambda d: d,
        lambda d: f"{d[0]} {d[1:4]} {d[4:7]} {d[7:]}",
        lambda d: f"  {d[0]}-{d[1:4]}-{d[4:7]}-{d[7:]} ",
        lambda d: f"{d[:5]}.{d[5:]}",
        lambda d: f"{d[:5]}\t{d[5:]}",
    ],
    ids=["plain", "grouped", "dashes", "dot", "tab"],
)
def test_parse_accepts_plain_and_grouped_forms(shape: Callable[[str], str]) -> None:
    for device in _random_ids(20):
        assert parse_id(shape(device.digits)) == device


def test_parse_round_trips_the_grouped_form() -> None:
    for device in _random_ids(50):
        assert parse_id(device.grouped()) == device


def test_every_single_digit_typo_is_caught_with_a_typo_message() -> None:
    for device in _random_ids(200):
        d = device.digits
        for i in range(ID_LENGTH):
            for wrong in "0123456789":
                if wrong == d[i]:
                    continue
                typo = d[:i] + wrong + d[i + 1 :]
                with pytest.raises(IdError, match=r"typo\?"):
                    parse_id(typo)


def test_every_adjacent_swap_is_caught_with_a_typo_message() -> None:
    swaps = 0
    for device in _random_ids(500, seed=7):
        d = device.digits
        for i in range(ID_LENGTH - 1):
            if d[i] == d[i + 1]:
                continue
            swapped = d[:i] + d[i + 1] + d[i] + d[i + 2 :]
            with pytest.raises(IdError, match=r"typo\?"):
                parse_id(swapped)
            swaps += 1
    assert swaps > 3000  # the sample really exercised swaps, including of the check digit


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "enter an ID"),
        ("   ", "enter an ID"),
        ("123456789", "this has 9"),
        ("12345678901", "this has 11"),
        ("1 234 567 8901 2", "this has 12"),
        ("123456789a", "only digits"),
        ("anna@ad", "only digits"),
        ("１２３４５６７８９０", "only digits"),  # full-width digits are not ASCII
        ("١٢٣٤٥٦٧٨٩٠", "only digits"),
    ],
)
def test_parse_gives_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(IdError, match=message):
        parse_id(text)


def test_device_id_constructor_refuses_non_ascii_digits_and_wrong_length() -> None:
    with pytest.raises(IdError, match="10 digits"):
        DeviceId("123")
    with pytest.raises(IdError, match="10 digits"):
        DeviceId("١٢٣٤٥٦٧٨٩٠")


def test_looks_like_id_tells_ids_from_aliases() -> None:
    assert looks_like_id("1 234 567")
    assert looks_like_id("12-34")
    assert not looks_like_id("anna@ad")
    assert not looks_like_id("")
    assert not looks_like_id(" - ")


def test_fingerprint_is_sha256_of_the_key() -> None:
    assert fingerprint_of(b"key") == hashlib.sha256(b"key").digest()


def test_short_fingerprint_is_four_hex_groups() -> None:
    assert short_fingerprint(bytes(range(32))) == "0001 0203 0405 0607"


def test_verification_code_is_order_independent_and_six_digits() -> None:
    a, b, c = _fingerprint(10), _fingerprint(11), _fingerprint(12)
    code = verification_code(a, b)
    assert code == verification_code(b, a)
    assert len(code) == 7 and code[3] == " " and code.replace(" ", "").isdigit()
    assert verification_code(a, c) != code


# The fingerprint typed to confirm a first contact: 5a1f... starts with digits and letters.
_CONFIRMED_FP = bytes.fromhex("5a1fc3e0b9d2474801234567" + "89abcdef" * 5)


@pytest.mark.parametrize(
    "typed",
    ["5a1fc3e0b9d24748", "5A1F C3E0 B9D2 4748", " 5a1f c3e0\tb9d2 4748 0123 ", _CONFIRMED_FP.hex()],
)
def test_a_typed_fingerprint_of_16_or_more_digits_that_starts_the_key_confirms_it(
    typed: str,
) -> None:
    assert fingerprint_confirmed(_CONFIRMED_FP, typed)


@pytest.mark.parametrize(
    "typed",
    [
        None,
        "",
        "   ",
        "5a1fc3e0b9d2474",
        "5a1f c3e0 b9d2 474",
        "5a1fc3e0b9d24749",
        "5a1fc3e0-b9d24748",
    ],
)
def test_a_fingerprint_too_short_wrong_or_not_hex_confirms_nothing(typed: str | None) -> None:
    assert not fingerprint_confirmed(_CONFIRMED_FP, typed)
