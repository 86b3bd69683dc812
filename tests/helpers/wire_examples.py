"""A valid instance of every wire message, made from its type bounds (each value at its upper
bound, so the largest legal message of each kind is exercised)."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import inspect as mi

from anydesk_invite.net import wire


def value(t: mi.Type) -> Any:
    """A valid value of ``t``, as large as its bounds allow (kept small where they do not)."""
    if isinstance(t, mi.Metadata):
        return value(t.type)
    if isinstance(t, mi.BoolType):
        return True
    if isinstance(t, mi.IntType):
        return t.le if t.le is not None else (t.ge or 0)
    if isinstance(t, mi.FloatType):
        return float(t.le if t.le is not None else 1.5)
    if isinstance(t, mi.StrType):
        if t.pattern == r"^[0-9]{10}$":
            return "1234567890"
        if t.pattern == r"^[a-z][a-z0-9_]*$":
            return "a" + "_" * ((t.max_length or 8) - 1)
        if t.pattern == r"^[A-Za-z0-9]+$":
            return "K" * (t.max_length or 4)
        if t.pattern == r"^[a-z0-9]+$":
            return "h264" + "0" * ((t.max_length or 4) - 4)
        return "é" * min(t.max_length or 8, 300)
    if isinstance(t, mi.BytesType | mi.MemoryViewType):
        n = t.max_length if t.max_length is not None and t.max_length <= 1024 else 100
        n = max(n, t.min_length or 0)
        data = bytes(range(256)) * (n // 256 + 1)
        return data[:n] if isinstance(t, mi.BytesType) else memoryview(data[:n])
    if isinstance(t, mi.LiteralType):
        return t.values[-1]
    if isinstance(t, mi.EnumType):
        return list(t.cls)[-1]
    if isinstance(t, mi.SetType | mi.FrozenSetType):
        item = t.item_type
        if isinstance(item, mi.EnumType):
            return frozenset(item.cls)
        if isinstance(item, mi.LiteralType):
            return frozenset(item.values)
        return frozenset({value(item)})  # pragma: no cover - no such field today
    if isinstance(t, mi.ListType):
        n = min(t.max_length if t.max_length is not None else 2, 3)
        return [value(t.item_type) for _ in range(max(n, t.min_length or 0))]
    if isinstance(t, mi.TupleType):
        return tuple(value(i) for i in t.item_types)
    if isinstance(t, mi.StructType):
        return t.cls(**{f.name: value(f.type) for f in t.fields})
    raise TypeError(f"no example for {t!r}")  # pragma: no cover - a new kind of field


def example(cls: type[wire.Message]) -> wire.Message:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    msg = value(info)
    assert isinstance(msg, cls)
    return msg


def examples() -> list[wire.Message]:
    return [example(cls) for cls in wire.message_types()]


def as_json(msg: wire.Message) -> Any:
    """The JSON form of a message's map, as the shipped JSON Schema describes it."""
    return msgspec.json.decode(msgspec.json.encode(msg))
