"""docs/PROTOCOL.md's message catalogue and docs/protocol.schema.json cannot drift from wire.py.

Both directions: every message, field, type, bound and default of the code is in the document
(regenerating changes nothing), and every table row of the document is a field of the code.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import msgspec
import pytest

from anydesk_invite.net import catalogue, wire
from tests.helpers.wire_examples import as_json, example, examples

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "PROTOCOL.md"
SCHEMA = ROOT / "docs" / "protocol.schema.json"
_ROW = re.compile(r"^\| (?:`(?P<type>\w+)`)? *\| (?:`(?P<field>\w+)`|—) \|")


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _documented_fields(text: str) -> set[tuple[str, str]]:
    """(type, field) for every row of the catalogue tables; field "" for a message without."""
    rows: set[tuple[str, str]] = set()
    for block in catalogue.BLOCK_RE.finditer(text):
        current = ""
        for line in block["body"].splitlines():
            m = _ROW.match(line)
            if m is None or line.startswith("| Type |"):
                continue
            current = m["type"] or current
            rows.add((current, m["field"] or ""))
    return rows


def _code_fields() -> set[tuple[str, str]]:
    rows: set[tuple[str, str]] = set()
    for cls in wire.message_types():
        fields = cls.__struct_encode_fields__
        rows |= {(cls.__name__, f) for f in fields} or {(cls.__name__, "")}
    return rows


def test_regenerating_the_catalogue_changes_nothing_in_protocol_md() -> None:
    text = _doc()
    assert catalogue.render_document(text) == text, (
        "docs/PROTOCOL.md differs from net/wire.py: run python scripts/protocol_doc.py"
    )


def test_every_wire_section_has_exactly_one_catalogue_block_and_no_block_is_unknown() -> None:
    in_doc = catalogue.document_sections(_doc())
    in_code = [s.name for s in catalogue.sections()]
    assert in_doc == in_code


def test_every_message_of_the_code_is_in_one_catalogue_section() -> None:
    listed = [cls for s in catalogue.sections() for cls in s.messages]
    assert sorted(c.__name__ for c in listed) == sorted(c.__name__ for c in wire.message_types())


def test_every_documented_field_is_a_field_of_the_code_and_back() -> None:
    assert _documented_fields(_doc()) == _code_fields()


def test_a_hand_edited_bound_in_the_document_is_caught() -> None:
    text = _doc()
    edited = text.replace("| `Chat` | `text` | `str` ≤ 4000", "| `Chat` | `text` | `str` ≤ 5000")
    assert edited != text
    assert catalogue.render_document(edited) != edited


def test_a_documented_field_the_code_lacks_is_caught() -> None:
    text = _doc()
    edited = text.replace(
        "| `InviteShown` | `invitation_id` |",
        '| `InviteShown` | `reason` | always `"declined"` | required | |\n|  | `invitation_id` |',
    )
    assert ("InviteShown", "reason") in _documented_fields(edited)
    assert _documented_fields(edited) != _code_fields()


def test_invite_declined_carries_the_reason_and_invite_shown_only_the_id() -> None:
    # The interoperability bug of issue 14: the document had the reason under InviteShown.
    text = _doc()
    assert ("InviteDeclined", "reason") in _documented_fields(text)
    assert ("InviteShown", "reason") not in _documented_fields(text)


def test_the_shipped_json_schema_is_the_one_the_code_makes() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == catalogue.schema_text(), (
        "docs/protocol.schema.json is stale: run python scripts/protocol_doc.py"
    )


def test_a_hand_edited_bound_in_the_schema_is_caught() -> None:
    shipped = json.loads(SCHEMA.read_text(encoding="utf-8"))
    shipped["$defs"]["Chat"]["properties"]["text"]["maxLength"] = 5000
    assert json.dumps(shipped, indent=2, sort_keys=True, ensure_ascii=False) + "\n" != (
        catalogue.schema_text()
    )


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.mark.parametrize("cls", wire.message_types(), ids=lambda c: c.__name__)
def test_every_encoded_message_validates_against_the_shipped_schema(
    cls: type[wire.Message], validator: jsonschema.protocols.Validator
) -> None:
    msg = example(cls)
    # The same message survives the real wire format too.
    decoder = wire.Decoder()
    if not cls.pre_auth:
        decoder.authenticated(wire.PROTOCOL_VERSION)
    assert decoder.decode(wire.encode(msg)) == msg
    validator.validate(as_json(msg))


def test_the_schema_and_the_decoder_refuse_the_same_out_of_bounds_message(
    validator: jsonschema.protocols.Validator,
) -> None:
    bad = as_json(wire.Chat(text="x"))
    bad["text"] = "x" * 4001
    assert not validator.is_valid(bad)
    decoder = wire.Decoder()
    decoder.authenticated(wire.PROTOCOL_VERSION)
    with pytest.raises(wire.WireError) as err:
        decoder.decode(msgspec.msgpack.encode(bad))
    assert err.value.code == "invalid"


def test_invite_shown_with_a_reason_is_refused_by_schema_and_decoder(
    validator: jsonschema.protocols.Validator,
) -> None:
    shown = as_json(wire.InviteShown(invitation_id=bytes(16)))
    shown["reason"] = "declined"
    assert not validator.is_valid(shown)
    decoder = wire.Decoder()
    decoder.authenticated(wire.PROTOCOL_VERSION)
    with pytest.raises(wire.WireError) as err:
        decoder.decode(
            msgspec.msgpack.encode({"t": "InviteShown", "invitation_id": bytes(16), "reason": "x"})
        )
    assert err.value.code == "unknown_field"


def test_examples_cover_every_message() -> None:
    assert {type(m) for m in examples()} == set(wire.message_types())


def test_the_built_in_profiles_table_is_the_one_the_code_has() -> None:
    text = _doc()
    edited = text.replace(
        "| `Screen Sharing` | none (viewing only) |", "| `Screen Sharing` | `draw` |"
    )
    assert edited != text
    assert catalogue.render_document(edited) == text


def test_the_regeneration_script_finds_nothing_stale() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "protocol_doc.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
