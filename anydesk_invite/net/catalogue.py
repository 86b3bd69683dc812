"""The message catalogue of docs/PROTOCOL.md and docs/protocol.schema.json, made from wire.py.

Both documents are generated from the message classes, so neither can drift from the code:
``scripts/protocol_doc.py`` rewrites them and ``tests/docs/test_protocol_doc.py`` fails when
the shipped ones differ from what this module makes. The catalogue is one Markdown table per
section of wire.py (the ``# --- name ---`` comments), each placed in PROTOCOL.md between
``<!-- catalogue: name -->`` and ``<!-- /catalogue -->``.
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

import msgspec
from msgspec import inspect as mi

from anydesk_invite.core.permissions import BUILTIN_PROFILES, permission_keys
from anydesk_invite.net import wire

_SECTION_RE = re.compile(r"^# --- (?P<name>[a-z][a-z ()-]*?) -+$")
_CLASS_RE = re.compile(r"^class (?P<name>\w+)\(Message\):")
BLOCK_RE = re.compile(
    r"(?P<open><!-- catalogue: (?P<name>[a-z][a-z ()-]*) -->\n)(?P<body>.*?)"
    r"(?P<close><!-- /catalogue -->)",
    re.DOTALL,
)
PROFILES_RE = re.compile(
    r"(?P<open><!-- profiles -->\n)(?P<body>.*?)(?P<close><!-- /profiles -->)", re.DOTALL
)
SCHEMA_ID = "https://anydesk-invite.invalid/protocol.schema.json"


@dataclass(frozen=True, slots=True)
class Section:
    """One ``# --- name ---`` section of wire.py and the messages defined in it, in order."""

    name: str
    messages: tuple[type[wire.Message], ...]


def sections() -> list[Section]:
    """wire.py's sections that define messages, in source order."""
    by_name = {cls.__name__: cls for cls in wire.message_types()}
    found: list[tuple[str, list[type[wire.Message]]]] = []
    for line in inspect.getsource(wire).splitlines():
        if m := _SECTION_RE.match(line):
            found.append((m["name"], []))
        elif (m := _CLASS_RE.match(line)) and m["name"] in by_name:
            found[-1][1].append(by_name[m["name"]])
    return [Section(name, tuple(msgs)) for name, msgs in found if msgs]


# --- rendering types ------------------------------------------------------------------------


def _num(n: int | float) -> str:
    if isinstance(n, int) and n > 0xFFFF and (n + 1) & n == 0:
        return f"2^{(n + 1).bit_length() - 1}−1"
    if isinstance(n, float) and n.is_integer():
        return str(int(n))
    return str(n)


def _length(min_length: int | None, max_length: int | None, unit: str) -> str:
    lo = min_length or 0
    if max_length is None:
        return f"at least {lo} {unit}" if lo else ""
    if lo == max_length:
        return f"exactly {lo} {unit}"
    if lo:
        return f"{lo}–{max_length} {unit}"
    return f"≤ {max_length} {unit}"


def _range(t: mi.IntType | mi.FloatType) -> str:
    lo = t.ge if t.ge is not None else t.gt
    hi = t.le if t.le is not None else t.lt
    if lo is None and hi is None:
        return ""
    left = "[" if t.gt is None else "("
    right = "]" if t.lt is None else ")"
    low = _num(lo) if lo is not None else "−∞"
    high = _num(hi) if hi is not None else "∞"
    return f" in {left}{low}, {high}{right}"


def describe(t: mi.Type) -> str:
    """A type and its bounds as PROTOCOL.md states them."""
    if isinstance(t, mi.Metadata):
        return describe(t.type)
    if isinstance(t, mi.BoolType):
        return "`bool`"
    if isinstance(t, mi.IntType):
        return "`int`" + _range(t)
    if isinstance(t, mi.FloatType):
        return "`float`" + _range(t) + ", finite (an integer is accepted)"
    if isinstance(t, mi.StrType):
        text = "`str`"
        size = _length(t.min_length, t.max_length, "code points")
        if size:
            text += f" {size}"
        if t.pattern:
            text += f" matching `{t.pattern}`"
        return text
    if isinstance(t, mi.BytesType | mi.MemoryViewType):
        size = _length(t.min_length, t.max_length, "bytes")
        return "`bytes`" + (f" {size}" if size else "")
    if isinstance(t, mi.LiteralType):
        values = [json.dumps(v) for v in t.values]
        if len(values) == 1:
            return f"always `{values[0]}`"
        return "one of " + ", ".join(f"`{v}`" for v in values)
    if isinstance(t, mi.EnumType):
        values = [json.dumps(m.value) for m in t.cls]
        return "one of " + ", ".join(f"`{v}`" for v in values)
    if isinstance(t, mi.SetType | mi.FrozenSetType):
        item = t.item_type
        size = _length(t.min_length, t.max_length, "entries")
        if isinstance(item, mi.EnumType) and item.cls.__name__ == "Permission":
            what = "permission keys"
        elif isinstance(item, mi.LiteralType):
            what = "values from " + ", ".join(f"`{json.dumps(v)}`" for v in item.values)
        else:
            what = describe(item)
        return f"array of distinct {what}" + (f", {size}" if size else "")
    if isinstance(t, mi.ListType | mi.VarTupleType):
        size = _length(t.min_length, t.max_length, "entries")
        return (
            f"array ({size}) of {describe(t.item_type)}"
            if size
            else (f"array of {describe(t.item_type)}")
        )
    if isinstance(t, mi.TupleType):
        items = "; ".join(describe(i) for i in t.item_types)
        return f"array of exactly {len(t.item_types)}: {items}"
    if isinstance(t, mi.StructType) and t.array_like:
        parts = "; ".join(f"`{f.name}` {describe(f.type)}" for f in t.fields)
        return f"array of exactly {len(t.fields)}: {parts}"
    raise TypeError(f"no description for {t!r}")  # pragma: no cover - a new kind of field


def _default(field: mi.Field) -> str:
    if field.required:
        return "required"
    value = field.default
    if value is msgspec.NODEFAULT:
        value = field.default_factory()
    if isinstance(value, frozenset | set | list | tuple):
        return "`[]`" if not value else f"`{json.dumps(sorted(value))}`"
    if isinstance(value, Enum):
        value = value.value
    return f"`{json.dumps(value)}`"


def _meaning(field: mi.Field) -> str:
    t = field.type
    if isinstance(t, mi.Metadata) and t.extra_json_schema:
        return str(t.extra_json_schema.get("description", ""))
    return ""


def table(section: Section) -> str:
    """The Markdown table of one section's messages."""
    lines = [
        "| Type | Field | Type and bound | Default | Meaning |",
        "|---|---|---|---|---|",
    ]
    for cls in section.messages:
        info = mi.type_info(cls)
        assert isinstance(info, mi.StructType)
        if not info.fields:
            lines.append(f"| `{cls.__name__}` | — | | | |")
        for i, f in enumerate(info.fields):
            name = f"`{cls.__name__}`" if i == 0 else ""
            cells = [name, f"`{f.encode_name}`", describe(f.type), _default(f), _meaning(f)]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_document(text: str) -> str:
    """PROTOCOL.md's text with every catalogue block regenerated. KeyError: a block names a
    section wire.py does not have."""
    by_name = {s.name: s for s in sections()}

    def fill(m: re.Match[str]) -> str:
        return m["open"] + table(by_name[m["name"]]) + m["close"]

    text = BLOCK_RE.sub(fill, text)
    return PROFILES_RE.sub(lambda m: m["open"] + profiles_table() + m["close"], text)


def profiles_table() -> str:
    """The built-in profiles and the permissions each grants."""
    lines = ["| Profile | Permissions |", "|---|---|"]
    for p in BUILTIN_PROFILES:
        keys = ", ".join(f"`{k}`" for k in permission_keys(p.permissions))
        lines.append(f"| `{p.name}` | {keys or 'none (viewing only)'} |")
    return "\n".join(lines) + "\n"


def document_sections(text: str) -> list[str]:
    """The section names of the catalogue blocks in PROTOCOL.md, in order."""
    return [m["name"] for m in BLOCK_RE.finditer(text)]


# --- JSON Schema ----------------------------------------------------------------------------


def schema() -> dict[str, Any]:
    """A JSON Schema (2020-12) of every message, in the JSON form of its MessagePack map:
    ``bytes`` appear as base64 strings."""
    union: Any = wire.message_types()[0]
    for cls in wire.message_types()[1:]:
        union = union | cls
    body = msgspec.json.schema(union)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "anydesk_invite wire messages",
        "description": (
            "Every message of docs/PROTOCOL.md as the JSON form of its MessagePack map "
            f"(protocol version {wire.PROTOCOL_VERSION[0]}.{wire.PROTOCOL_VERSION[1]}); bytes "
            "fields are base64 strings here and MessagePack bin on the wire. Generated from "
            "anydesk_invite/net/wire.py by scripts/protocol_doc.py."
        ),
        **body,
    }


def schema_text() -> str:
    """The schema as shipped in docs/protocol.schema.json."""
    return json.dumps(schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
