"""scripts/security_mutants.py stays applicable: each mutant's text occurs once in its module,
so moving or rewording a protection cannot quietly turn its mutant into NOT APPLIED."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "security_mutants", ROOT / "scripts" / "security_mutants.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


MUTANTS = _script().MUTANTS


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.protection)
def test_each_security_mutant_finds_its_text_once(mutant: object) -> None:
    path = ROOT / mutant.path  # type: ignore[attr-defined]
    assert path.is_file(), f"{mutant.path} does not exist"  # type: ignore[attr-defined]
    assert path.read_text(encoding="utf-8").count(mutant.old) == 1  # type: ignore[attr-defined]
