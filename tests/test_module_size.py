"""No module of the package is longer than LIMIT lines, so each stays about one thing.

Only declarative schemas may be longer, each listed with its reason: there the length is a
catalogue, not a mix of concerns. A listed module that has come under the limit fails too, so
the list does not outlive its reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "anydesk_invite"
LIMIT = 400

DECLARATIVE = {
    "net/wire.py": "the wire protocol's message catalogue: one msgspec Struct per message with "
    "its bounds, from which docs/PROTOCOL.md and docs/protocol.schema.json are generated",
}
"""Schemas: long because the protocol has that many messages, not because they mix concerns."""


def _length(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _modules() -> list[str]:
    return sorted(str(p.relative_to(PKG)) for p in PKG.rglob("*.py"))


@pytest.mark.parametrize("module", _modules())
def test_no_module_is_longer_than_the_limit_unless_listed_with_its_reason(module: str) -> None:
    if module in DECLARATIVE:
        return
    lines = _length(PKG / module)
    assert lines <= LIMIT, (
        f"anydesk_invite/{module} has {lines} lines, more than {LIMIT}: split it by concern"
    )


@pytest.mark.parametrize("module", sorted(DECLARATIVE))
def test_a_listed_module_still_needs_its_place_on_the_list(module: str) -> None:
    path = PKG / module
    assert path.is_file(), f"anydesk_invite/{module} is gone: take it off the list"
    assert _length(path) > LIMIT, f"anydesk_invite/{module} is within {LIMIT} lines now"


def test_the_checker_sees_a_long_module(tmp_path: Path) -> None:
    long = tmp_path / "long.py"
    long.write_text("x = 1\n" * (LIMIT + 1))
    assert _length(long) > LIMIT
