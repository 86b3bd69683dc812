"""Every bound of every message field, tested from both sides: a value exactly at the bound is
accepted and the next one past it is refused as `invalid`; and the documented limits and
constants of docs/PROTOCOL.md pinned as the document writes them.

The messages are built as raw MessagePack maps (not through the classes), so a value the
classes would never produce reaches the decoder exactly as a hostile peer would send it."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest

from anydesk_invite.core import invitation
from anydesk_invite.net import wire
from anydesk_invite.net.limits import Limits
from anydesk_invite.net.wire import Decoder, WireError

# A valid example for each pattern the catalogue uses.
PATTERN_SAMPLES = {
    r"^[0-9]{10}$": "1000000005",
    r"^[a-z][a-z0-9_]*$": "a",
    r"^[A-Za-z0-9]+$": "A",
    r"^[a-z0-9]+$": "h264",
}
PATTERN_FILL = {r"^[a-z][a-z0-9_]*$": "a", r"^[A-Za-z0-9]+$": "A", r"^[a-z0-9]+$": "a"}


def bare(t: mi.Type) -> mi.Type:
    """The type under any description the catalogue attaches to it."""
    while isinstance(t, mi.Metadata):
        t = t.type
    return t


def sample(t: mi.Type) -> Any:
    """The smallest valid plain value of a field type."""
    t = bare(t)
    if isinstance(t, mi.IntType):
        return t.ge if t.ge is not None else 0
    if isinstance(t, mi.FloatType):
        return t.ge if t.ge is not None else 0.0
    if isinstance(t, mi.BoolType):
        return False
    if isinstance(t, mi.BytesType | mi.MemoryViewType):
        return b"\x00" * (getattr(t, "min_length", None) or 0)
    if isinstance(t, mi.StrType):
        if t.pattern:
            return PATTERN_SAMPLES[t.pattern]
        return "a" * (t.min_length or 0)
    if isinstance(t, mi.LiteralType):
        return t.values[0]
    if isinstance(t, mi.EnumType):
        return next(iter(t.cls)).value
    if isinstance(t, mi.TupleType):
        return [sample(i) for i in t.item_types]
    if isinstance(t, mi.ListType | mi.FrozenSetType):
        return [sample(t.item_type) for _ in range(t.min_length or 0)]
    if isinstance(t, mi.StructType):
        values = [sample(f.type) for f in t.fields]
        if t.array_like:
            return values
        return {f.encode_name: v for f, v in zip(t.fields, values, strict=True)}
    raise AssertionError(f"no sample for {t!r}")


def edges(t: mi.Type) -> Iterator[tuple[str, Any, bool]]:
    """(what, value, accepted) at each bound of a field type, and one past it."""
    t = bare(t)
    if isinstance(t, mi.IntType):
        if t.ge is not None:
            yield f"ge {t.ge}", t.ge, True
            yield f"ge {t.ge} - 1", t.ge - 1, False
        if t.le is not None:
            yield f"le {t.le}", t.le, True
            yield f"le {t.le} + 1", t.le + 1, False
    elif isinstance(t, mi.FloatType):
        if t.ge is not None:
            yield f"ge {t.ge}", t.ge, True
            yield f"below {t.ge}", math.nextafter(t.ge, -math.inf), False
        if t.le is not None:
            yield f"le {t.le}", t.le, True
            yield f"above {t.le}", math.nextafter(t.le, math.inf), False
        for odd in (math.nan, math.inf, -math.inf):
            yield repr(odd), odd, False
    elif isinstance(t, mi.BytesType | mi.MemoryViewType):
        lo, hi = getattr(t, "min_length", None), getattr(t, "max_length", None)
        if lo:
            yield f"min {lo}", b"\x01" * lo, True
            yield f"min {lo} - 1", b"\x01" * (lo - 1), False
        if hi is not None:
            yield f"max {hi}", b"\x01" * hi, True
            yield f"max {hi} + 1", b"\x01" * (hi + 1), False
    elif isinstance(t, mi.StrType):
        fill = PATTERN_FILL.get(t.pattern or "", "a")
        if t.pattern and t.pattern not in PATTERN_FILL:
            return  # a fixed-shape text (the ID): its pattern is its bound, tested in test_wire
        if t.min_length:
            yield f"min {t.min_length}", fill * t.min_length, True
            yield f"min {t.min_length} - 1", fill * (t.min_length - 1), False
        if t.max_length is not None:
            yield f"max {t.max_length}", fill * t.max_length, True
            yield f"max {t.max_length} + 1", fill * (t.max_length + 1), False
    elif isinstance(t, mi.ListType | mi.FrozenSetType):
        item = sample(t.item_type)
        if t.min_length:
            yield f"min {t.min_length}", [item] * t.min_length, True
            yield f"min {t.min_length} - 1", [item] * (t.min_length - 1), False
        if t.max_length is not None:
            if isinstance(t, mi.ListType):
                yield f"max {t.max_length}", [item] * t.max_length, True
            # A set's items are unique; its bound still holds against repeated items.
            yield f"max {t.max_length} + 1", [item] * (t.max_length + 1), False
        for what, value, ok in edges(t.item_type):
            yield f"item {what}", [value], ok
    elif isinstance(t, mi.TupleType):
        for i, item_type in enumerate(t.item_types):
            for what, value, ok in edges(item_type):
                whole = [sample(x) for x in t.item_types]
                whole[i] = value
                yield f"[{i}] {what}", whole, ok
    elif isinstance(t, mi.StructType):
        for f in t.fields:
            for what, value, ok in edges(f.type):
                whole = sample(t)
                if t.array_like:
                    whole[t.fields.index(f)] = value
                else:
                    whole[f.encode_name] = value
                yield f".{f.name} {what}", whole, ok


def cases() -> Iterator[Any]:
    for cls in wire.message_types():
        info = mi.type_info(cls)
        assert isinstance(info, mi.StructType)
        for field in info.fields:
            for what, value, ok in edges(field.type):
                yield pytest.param(
                    cls, field.name, value, ok, id=f"{cls.__name__}.{field.name} {what}"
                )


def decoder_for(cls: type[wire.Message]) -> Decoder:
    decoder = Decoder()
    if not cls.pre_auth or cls is wire.Error:
        decoder.authenticated(wire.PROTOCOL_VERSION)
    return decoder


def raw(cls: type[wire.Message], **override: Any) -> bytes:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    body: dict[str, Any] = {"t": cls.__name__}
    for f in info.fields:
        body[f.encode_name] = sample(f.type)
    body.update(override)
    return msgspec.msgpack.encode(body)


@pytest.mark.parametrize("cls", wire.message_types(), ids=lambda c: c.__name__)
def test_the_smallest_valid_message_of_each_type_is_accepted(cls: type[wire.Message]) -> None:
    assert type(decoder_for(cls).decode(raw(cls))) is cls


@pytest.mark.parametrize(("cls", "field", "value", "accepted"), list(cases()))
def test_a_value_at_a_bound_is_accepted_and_one_past_it_refused(
    cls: type[wire.Message], field: str, value: Any, accepted: bool
) -> None:
    body = raw(cls, **{field: value})
    decoder = decoder_for(cls)
    if len(body) > decoder.limit:
        pytest.skip("larger than a frame may be; the frame limit refuses it first")
    if accepted:
        assert type(decoder.decode(body)) is cls
    else:
        with pytest.raises(WireError) as refused:
            decoder.decode(body)
        assert refused.value.code == "invalid"


def test_every_bounded_field_has_edges_tested() -> None:
    # A field type the walker does not know would silently be skipped; fail instead.
    tested = {p.values[0].__name__ + "." + p.values[1] for p in cases()}
    for cls in wire.message_types():
        info = mi.type_info(cls)
        assert isinstance(info, mi.StructType)
        for f in info.fields:
            t = bare(f.type)
            if isinstance(t, mi.BoolType | mi.LiteralType):
                continue
            if isinstance(t, mi.StrType) and t.pattern == r"^[0-9]{10}$":
                continue
            if isinstance(t, mi.StrType | mi.BytesType | mi.MemoryViewType) and (
                t.max_length is None
            ):
                continue
            assert f"{cls.__name__}.{f.name}" in tested, f"{cls.__name__}.{f.name}: {f.type}"


# --- frame limits, from docs/PROTOCOL.md "Limits" --------------------------------------------


def test_documented_frame_limits() -> None:
    assert wire.PRE_AUTH_FRAME_LIMIT == 8192
    assert wire.POST_AUTH_FRAME_LIMIT == 4194304
    assert wire.PROTOCOL_VERSION == (1, 2)


@pytest.mark.parametrize(("authenticated", "limit"), [(False, 8192), (True, 4194304)])
def test_a_frame_length_at_the_limit_is_read_and_one_more_is_refused(
    authenticated: bool, limit: int
) -> None:
    decoder = Decoder()
    if authenticated:
        decoder.authenticated((1, 0))
    assert decoder.body_length(limit.to_bytes(4, "big")) == limit
    with pytest.raises(WireError) as refused:
        decoder.body_length((limit + 1).to_bytes(4, "big"))
    assert refused.value.code == "too_large"
    assert decoder.body_length(bytes(4)) == 0


def test_a_body_over_the_limit_is_refused_before_it_is_decoded() -> None:
    decoder = Decoder(pre_auth_limit=16)
    with pytest.raises(WireError) as refused:
        decoder.decode(b"\x81\xa1t\xa4Ping" + bytes(9))
    assert refused.value.code == "too_large"


def test_documented_limits_are_the_defaults() -> None:
    limits = Limits()
    assert (limits.handshake_timeout, limits.heartbeat_interval, limits.idle_timeout) == (
        5.0,
        3.0,
        9.0,
    )
    assert (limits.max_unauthenticated_total, limits.max_unauthenticated_per_address) == (64, 8)
    assert (limits.pre_auth_frame_limit, limits.post_auth_frame_limit) == (8192, 4194304)


def test_documented_invitation_constants() -> None:
    assert invitation.INVITATION_LIFETIME == 120.0
    assert invitation.REQUEST_LIFETIME == 120.0
    assert invitation.SESSION_TOKEN_LIFETIME == 30.0
    assert invitation.ACCEPT_ANSWER_WAIT == 15.0


# --- versions: unknown fields are ignored only from a newer minor of the same major ----------


@pytest.mark.parametrize(
    ("peer", "tolerant"),
    [
        ((1, 0), False),
        ((1, 1), False),
        ((1, 2), False),
        ((1, 3), True),
        ((1, 65535), True),
        ((0, 9), False),
        ((2, 2), False),
    ],
)
def test_unknown_fields_are_ignored_only_from_a_newer_minor_version(
    peer: tuple[int, int], tolerant: bool
) -> None:
    decoder = Decoder()
    decoder.authenticated(peer)
    body = msgspec.msgpack.encode({"t": "Ping", "seq": 1, "from_the_future": True})
    if tolerant:
        assert decoder.decode(body) == wire.Ping(seq=1)
    else:
        with pytest.raises(WireError) as refused:
            decoder.decode(body)
        assert refused.value.code == "unknown_field"


# --- what a refusal says: the code goes into the Error sent back, the text into the log ------


def refusal(decoder: Decoder, body: bytes) -> WireError:
    with pytest.raises(WireError) as refused:
        decoder.decode(body)
    return refused.value


def test_a_short_frame_header_is_malformed_and_says_so() -> None:
    with pytest.raises(WireError) as refused:
        Decoder().body_length(b"\x00\x00\x01")
    assert (refused.value.code, refused.value.message) == (
        "malformed",
        "a frame header has 4 bytes",
    )
    assert str(refused.value) == "malformed: a frame header has 4 bytes"


def test_a_frame_over_the_limit_names_its_length_and_the_limit() -> None:
    with pytest.raises(WireError) as refused:
        Decoder().body_length((8193).to_bytes(4, "big"))
    assert refused.value.message == "frame of 8193 bytes over the limit of 8192"
    decoder = Decoder(pre_auth_limit=16)
    told = refusal(decoder, bytes(17))
    assert (told.code, told.message) == ("too_large", "frame of 17 bytes over the limit of 16")


def test_a_body_exactly_at_the_limit_is_decoded() -> None:
    body = msgspec.msgpack.encode({"t": "Error", "code": "a", "message": ""})
    assert Decoder(pre_auth_limit=len(body)).decode(body) == wire.Error(code="a", message="")


@pytest.mark.parametrize(("authenticated", "phase"), [(False, "before"), (True, "after")])
def test_an_unknown_type_says_whether_it_came_before_or_after_authentication(
    authenticated: bool, phase: str
) -> None:
    decoder = Decoder()
    if authenticated:
        decoder.authenticated((1, 0))
    told = refusal(decoder, msgspec.msgpack.encode({"t": "Teleport"}))
    assert told.code == "unknown_type"
    assert told.message.endswith(f"({phase} authentication)")
    assert told.message != f"({phase} authentication)"


def test_a_session_message_before_authentication_is_an_unknown_type() -> None:
    told = refusal(Decoder(), msgspec.msgpack.encode({"t": "Ping", "seq": 1}))
    assert told.code == "unknown_type" and told.message.endswith("(before authentication)")


def test_an_invalid_or_unknown_field_names_the_field() -> None:
    decoder = Decoder()
    decoder.authenticated((1, 0))
    told = refusal(decoder, msgspec.msgpack.encode({"t": "Ping", "seq": -1}))
    assert told.code == "invalid" and "$.seq" in told.message
    told = refusal(decoder, msgspec.msgpack.encode({"t": "Ping", "seq": 1, "extra": 0}))
    assert told.code == "unknown_field" and "extra" in told.message


def test_bytes_that_are_not_messagepack_are_malformed_with_the_decoders_reason() -> None:
    told = refusal(Decoder(), b"\xc1")
    assert told.code == "malformed" and told.message and told.message != "None"


def test_a_string_that_is_not_utf8_is_malformed_and_says_so() -> None:
    # {"t": "Error", "code": "a", "message": <str holding 0xff>}
    body = b"\x83\xa1t\xa5Error\xa4code\xa1a\xa7message\xa1\xff"
    told = refusal(Decoder(), body)
    assert told.code == "malformed"
    assert "UTF-8" in told.message


def test_a_decoder_starts_unauthenticated_and_strict() -> None:
    decoder = Decoder()
    assert decoder.is_authenticated is False and decoder.limit == 8192
    decoder.authenticated((1, 0))
    assert decoder.is_authenticated is True and decoder.limit == 4194304
