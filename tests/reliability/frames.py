"""Frames a good client would never send, made from real messages by changing their fields.

Most generated bodies stay well-formed MessagePack with a real type tag, so they pass the
decoder often enough to reach the message handlers; the rest are broken on purpose (cut,
padded, bit-flipped, random bytes, lengths over the limit). ``bodies()`` is the hypothesis
strategy for CI; ``random_frame()`` makes the same kinds of input from a seeded Random, fast
enough for the long run in scripts/fuzz.py.
"""

from __future__ import annotations

import math
import random
from typing import Any

import msgspec
from hypothesis import strategies as st

from anydesk_invite.core.permissions import Permission
from anydesk_invite.net.wire import HEADER, POST_AUTH_FRAME_LIMIT, Message, encode
from tests.net.test_wire import SAMPLES

# Every message a peer may send after authentication, as a plain map to start from.
POST_AUTH_BASES: list[dict[str, Any]] = [
    msgspec.msgpack.decode(encode(m)) for m in SAMPLES if not type(m).pre_auth
]
PERMISSION_KEYS = [p.value for p in Permission]
_EXTREME_INTS = [0, 1, -1, 2**16, 2**32 - 1, 2**32, 2**63 - 1, 2**64 - 1, -(2**63)]
_EXTREME_FLOATS = [0.0, -0.0, 1e-300, 86400.0, 86400.5, -1.0, math.inf, -math.inf, math.nan]


_MARK = "\x01mark\x01"


def not_utf8(base: dict[str, Any]) -> bytes:
    """The message with its first text field (or an added one) made of bytes that are not
    UTF-8: MessagePack str is UTF-8 by definition, so a peer that breaks it sends garbage."""
    changed = dict(base)
    name = next((k for k, v in changed.items() if k != "t" and isinstance(v, str)), "x")
    changed[name] = _MARK
    body = bytes(msgspec.msgpack.encode(changed))
    return body.replace(_MARK.encode(), b"\xc4\xaa\xff\xfe\xc0\x80", 1)


def _with_header(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


# --- hypothesis -------------------------------------------------------------------------------

_field_value = st.one_of(
    st.binary(min_size=16, max_size=16),
    st.binary(min_size=32, max_size=32),
    st.binary(max_size=80),
    st.integers(-(2**63), 2**64 - 1),
    st.sampled_from(_EXTREME_INTS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(_EXTREME_FLOATS),
    st.text(max_size=60),
    st.lists(st.sampled_from([*PERMISSION_KEYS, "root"]), max_size=6),
    st.lists(st.lists(st.integers(-2, 70000), max_size=6), max_size=4),
    st.none(),
    st.booleans(),
)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    base = dict(draw(st.sampled_from(POST_AUTH_BASES)))
    fields = [k for k in base if k != "t"]
    if fields:
        for name in draw(st.lists(st.sampled_from(fields), unique=True, max_size=len(fields))):
            if draw(st.integers(0, 9)) == 0:
                del base[name]
            else:
                base[name] = draw(_field_value)
    if draw(st.integers(0, 19)) == 0:
        base[draw(st.text(min_size=1, max_size=8))] = draw(_field_value)
    return bytes(msgspec.msgpack.encode(base))


@st.composite
def _broken(draw: st.DrawFn) -> bytes:
    body = draw(_mutated())
    how = draw(st.sampled_from(["cut", "pad", "flip", "utf8", "random"]))
    if how == "utf8":
        return not_utf8(draw(st.sampled_from(POST_AUTH_BASES)))
    if how == "cut" and body:
        return body[: draw(st.integers(0, len(body) - 1))]
    if how == "pad":
        return body + draw(st.binary(min_size=1, max_size=8))
    if how == "flip" and body:
        i = draw(st.integers(0, len(body) - 1))
        return body[:i] + bytes([body[i] ^ (1 << draw(st.integers(0, 7)))]) + body[i + 1 :]
    return draw(st.binary(max_size=200))


def bodies() -> st.SearchStrategy[bytes]:
    """Post-authentication frame bodies: mostly well-formed with changed fields, some broken."""
    return st.one_of(_mutated(), _mutated(), _mutated(), _broken())


def frames() -> st.SearchStrategy[bytes]:
    """Whole frames: a body with its header, now and then a header that lies about the length."""
    lying = st.tuples(st.integers(POST_AUTH_FRAME_LIMIT + 1, 2**32 - 1), st.binary(max_size=16))
    return st.one_of(
        bodies().map(_with_header),
        bodies().map(_with_header),
        bodies().map(_with_header),
        lying.map(lambda lb: HEADER.pack(lb[0]) + lb[1]),
    )


# --- seeded Random, for long runs --------------------------------------------------------------


def _random_value(rnd: random.Random) -> object:
    kind = rnd.randrange(12)
    if kind == 0:
        return rnd.randbytes(16)
    if kind == 1:
        return rnd.randbytes(32)
    if kind == 2:
        return rnd.randbytes(rnd.randrange(80))
    if kind == 3:
        return rnd.randrange(-(2**63), 2**64)
    if kind == 4:
        return rnd.choice(_EXTREME_INTS)
    if kind == 5:
        return rnd.uniform(-1e6, 1e6)
    if kind == 6:
        return rnd.choice(_EXTREME_FLOATS)
    if kind == 7:
        return "".join(chr(rnd.randrange(0x20, 0x2FFF)) for _ in range(rnd.randrange(60)))
    if kind == 8:
        return rnd.sample([*PERMISSION_KEYS, "root"], rnd.randrange(7))
    if kind == 9:
        return [[rnd.randrange(-2, 70000) for _ in range(6)] for _ in range(rnd.randrange(4))]
    if kind == 10:
        return None
    return rnd.random() < 0.5


def random_body(rnd: random.Random) -> bytes:
    """One post-authentication body, drawn like ``bodies()``."""
    base = dict(rnd.choice(POST_AUTH_BASES))
    for name in [k for k in base if k != "t"]:
        roll = rnd.random()
        if roll < 0.05:
            del base[name]
        elif roll < 0.6:
            base[name] = _random_value(rnd)
    if rnd.random() < 0.05:
        base[f"x{rnd.randrange(100)}"] = _random_value(rnd)
    body = bytes(msgspec.msgpack.encode(base))
    roll = rnd.random()
    if roll < 0.75:
        return body
    if roll < 0.82 and body:
        return body[: rnd.randrange(len(body))]
    if roll < 0.88:
        return body + rnd.randbytes(rnd.randrange(1, 8))
    if roll < 0.91:
        return not_utf8(rnd.choice(POST_AUTH_BASES))
    if roll < 0.95 and body:
        i = rnd.randrange(len(body))
        return body[:i] + bytes([body[i] ^ (1 << rnd.randrange(8))]) + body[i + 1 :]
    return rnd.randbytes(rnd.randrange(200))


def random_frame(rnd: random.Random) -> bytes:
    """One whole frame, drawn like ``frames()``."""
    if rnd.random() < 0.03:
        return HEADER.pack(rnd.randrange(POST_AUTH_FRAME_LIMIT + 1, 2**32)) + rnd.randbytes(8)
    return _with_header(random_body(rnd))


def is_message(body: bytes, decode: Any) -> Message | None:
    """The message ``decode`` makes of the body, or None where it refuses it."""
    try:
        msg = decode(body)
    except Exception:
        return None
    return msg if isinstance(msg, Message) else None
