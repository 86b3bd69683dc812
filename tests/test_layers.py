"""The layer direction of docs/ARCHITECTURE.md, checked over every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "anydesk_invite"

# Which top-level layers each layer may import.
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "net": {"net", "core"},
    "storage": {"storage", "core"},
    "desktop": {"desktop", "core"},
    "services": {"services", "core", "net", "storage"},
    "ui": {"ui", "services", "core", "net", "storage", "desktop"},
    # A front end of its own: it speaks the wire protocol to another implementation, so it
    # uses the protocol's definitions and never this client's services.
    "conformance": {"conformance", "net", "core"},
}
NO_QT = {"core", "net", "storage", "services", "conformance"}
FRONT_DOOR = {"anydesk_invite.services.facade", "anydesk_invite.services.views"}
"""All that the front ends (ui/ and the control API) may import from services/."""
CONTROL_API = {
    "anydesk_invite.services.control",
    "anydesk_invite.services.control_commands",
    "anydesk_invite.services.control_schema",
    "anydesk_invite.services.control_client",
}
"""The control API's own modules, which may use each other."""
FRONT_ENDS = [
    *sorted((PKG / "ui").rglob("*.py")),
    *(PKG / "services" / f"{m.rsplit('.', 1)[1]}.py" for m in sorted(CONTROL_API)),
]


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{a.name}" for a in node.names)
    return names


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG)
        if len(rel.parts) > 1 and rel.parts[0] in ALLOWED:
            out.append((rel.parts[0], path))
    return out


def test_every_layer_has_modules() -> None:
    layers = {layer for layer, _ in _modules()}
    assert {"core", "net", "storage", "services", "conformance"} <= layers


@pytest.mark.parametrize(("layer", "path"), _modules(), ids=lambda v: str(v)[-50:])
def test_imports_point_down_only(layer: str, path: Path) -> None:
    for name in _imports(path):
        parts = name.split(".")
        if parts[0] == "PySide6" or parts[0] == "qasync":
            assert layer not in NO_QT, f"{path}: {layer}/ must not import {name}"
            assert not (layer == "desktop" and "QtWidgets" in parts), (
                f"{path}: desktop/ may use QtGui but never QtWidgets"
            )
        if parts[0] == "anydesk_invite" and len(parts) > 1 and parts[1] in ALLOWED:
            assert parts[1] in ALLOWED[layer], f"{path}: {layer}/ must not import {name}"
        if parts[0] == "av":
            assert layer == "desktop", f"{path}: only desktop/ imports PyAV ({name})"
    if layer != "ui":
        for name in _imports(path):
            assert "QtWidgets" not in name, f"{path}: only ui/ imports QtWidgets"


@pytest.mark.parametrize("path", FRONT_ENDS, ids=lambda p: p.name)
def test_front_ends_reach_services_through_the_facade_and_views_alone(path: Path) -> None:
    for name in _imports(path):
        parts = name.split(".")
        if parts[:2] == ["anydesk_invite", "services"] and len(parts) > 2:
            module = ".".join(parts[:3])
            allowed = FRONT_DOOR | (CONTROL_API if path.parent.name == "services" else set())
            assert module in allowed, f"{path}: a front end must not import {name}"
        if path.parent.name == "ui":
            assert parts[:2] != ["anydesk_invite", "net"], f"{path}: ui/ must not import {name}"


def test_the_front_door_check_catches_a_live_session_object(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from anydesk_invite.services.sessions.guest_screen import GuestScreen\n")
    with pytest.raises(AssertionError, match="a front end must not import"):
        test_front_ends_reach_services_through_the_facade_and_views_alone(bad)


def test_checker_catches_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from anydesk_invite.ui import main_window\nimport PySide6.QtCore\n")
    names = _imports(bad)
    assert "anydesk_invite.ui" in names and "PySide6.QtCore" in names


def test_the_conformance_runner_may_not_use_the_clients_services(tmp_path: Path) -> None:
    bad = tmp_path / "conformance.py"
    bad.write_text("from anydesk_invite.services.client import Client\n")
    [name, _] = _imports(bad)
    assert name.split(".")[1] not in ALLOWED["conformance"]


def _module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _circles(root: Path) -> list[list[str]]:
    """Every group of modules under ``root`` that import each other round in a circle,
    counting imports inside functions and under TYPE_CHECKING as arrows too."""
    paths = {_module_name(root, p): p for p in sorted(root.rglob("*.py"))}
    arrows = {m: {n for n in _imports(p) if n in paths and n != m} for m, p in paths.items()}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(m: str) -> None:  # Tarjan's strongly connected components
        order[m] = low[m] = len(order)
        stack.append(m)
        for n in arrows[m]:
            if n not in order:
                visit(n)
                low[m] = min(low[m], low[n])
            elif n in stack:
                low[m] = min(low[m], order[n])
        if low[m] == order[m]:
            group = stack[stack.index(m) :]
            del stack[stack.index(m) :]
            if len(group) > 1:
                circles.append(sorted(group))

    for m in arrows:
        if m not in order:
            visit(m)
    return circles


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert _circles(PKG) == []


def test_the_circle_check_sees_a_circle_through_a_type_checking_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import B\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.c import C\n"
    )
    (pkg / "c.py").write_text("def f():\n    from pkg.a import A\n")
    (pkg / "d.py").write_text("from pkg.a import A\n")
    assert _circles(pkg) == [["pkg.a", "pkg.b", "pkg.c"]]
