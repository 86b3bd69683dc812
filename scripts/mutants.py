"""Mutation score where the behaviour lives: mutates each module group with mutmut and runs the
tests that judge it, then prints killed / counted per module.

    .venv/bin/python scripts/mutants.py                # every group (long: an hour or more)
    .venv/bin/python scripts/mutants.py core policy    # some groups

Each group runs in its own copy of the tree under .mutants/<group>/ (kept between runs, so a
second run only retries what changed). A mutant listed in tests/mutation_equivalents.toml
changes nothing a caller can observe; it is shown apart and not counted. The score is
(killed + timeout) / (killed + timeout + survived + no tests) over the rest: a mutant that makes
the tests hang is caught, as in other mutation tools. mutmut mutates function bodies only, so
module-level constants are pinned by tests against docs/PROTOCOL.md instead.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutants"
EQUIVALENTS = ROOT / "tests" / "mutation_equivalents.toml"


@dataclass(frozen=True)
class Group:
    modules: tuple[str, ...]
    tests: tuple[str, ...]
    goal: float


GROUPS = {
    "core": Group(("anydesk_invite/core/*",), ("tests/core",), 0.95),
    "policy": Group(
        ("anydesk_invite/storage/policy_files.py",),
        ("tests/storage/test_policy_files.py", "tests/security/test_local.py"),
        0.95,
    ),
    "wire": Group(
        ("anydesk_invite/net/wire.py", "anydesk_invite/net/frames.py"),
        ("tests/net/test_wire.py", "tests/net/test_frames.py", "tests/net/test_wire_bounds.py"),
        0.85,
    ),
    "invitations": Group(
        (
            "anydesk_invite/services/invitations.py",
            "anydesk_invite/services/invitation_book.py",
            "anydesk_invite/services/inviting.py",
            "anydesk_invite/services/invited.py",
        ),
        ("tests/services/test_invitations.py", "tests/services/test_requests.py"),
        0.85,
    ),
    "file_transfer": Group(
        (
            "anydesk_invite/services/sessions/files.py",
            "anydesk_invite/services/sessions/transfer_book.py",
            "anydesk_invite/services/sessions/file_sending.py",
            "anydesk_invite/services/sessions/file_receiving.py",
            "anydesk_invite/services/sessions/file_io.py",
            "anydesk_invite/services/sessions/filenames.py",
        ),
        ("tests/services/test_file_transfer.py",),
        0.85,
    ),
}

_RESULT = re.compile(r"^\s*(?P<name>\S+): (?P<status>.+)$")
CAUGHT = ("killed", "timeout", "segfault")
COUNTED = (*CAUGHT, "survived", "no tests", "suspicious")


def prepare(name: str, group: Group) -> Path:
    """A copy of the tree with the group's mutmut settings; mutmut's cache in it survives."""
    where = WORK / name
    where.mkdir(parents=True, exist_ok=True)
    for folder in ("anydesk_invite", "tests", "resources"):
        shutil.rmtree(where / folder, ignore_errors=True)
        shutil.copytree(
            ROOT / folder,
            where / folder,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    settings = "\n".join(
        [
            "",
            "[tool.mutmut]",
            'source_paths = ["anydesk_invite/"]',
            f"only_mutate = {list(group.modules)!r}".replace("'", '"'),
            f"pytest_add_cli_args_test_selection = {list(group.tests)!r}".replace("'", '"'),
            'pytest_add_cli_args = ["-q", "-p", "no:cacheprovider"]',
            'also_copy = ["resources/"]',
            "",
        ]
    )
    (where / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + settings)
    return where


def mutmut(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mutmut", *args],
        cwd=where,
        capture_output=True,
        text=True,
        check=False,
    )


def module_of(mutant: str) -> str:
    # anydesk_invite.core.ids.x_parse_id__mutmut_9 / ...xǁDeviceIdǁgrouped__mutmut_8
    head = mutant.split(".x", 1)[0] if ".x" in mutant else mutant.rsplit(".", 1)[0]
    return head


def results(where: Path) -> dict[str, str]:
    out = mutmut(where, "results", "--all", "true").stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        m = _RESULT.match(line)
        if m and "__mutmut_" in m["name"]:
            found[m["name"]] = m["status"].strip()
    return found


def load_equivalents() -> dict[str, str]:
    if not EQUIVALENTS.exists():
        return {}
    with EQUIVALENTS.open("rb") as f:
        return {k: str(v) for k, v in tomllib.load(f).get("equivalent", {}).items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", help=f"some of: {', '.join(GROUPS)} (default: all)")
    parser.add_argument(
        "--report-only", action="store_true", help="print the last run's results, run nothing"
    )
    args = parser.parse_args()
    chosen = args.groups or list(GROUPS)
    unknown = [g for g in chosen if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group {unknown[0]!r}; the groups are {', '.join(GROUPS)}")
    equivalents = load_equivalents()
    failed_goal = False
    print(f"{'module':48} {'caught':>7} {'counted':>8} {'score':>7} {'goal':>5}  equivalent")
    for name in chosen:
        group = GROUPS[name]
        where = WORK / name if args.report_only else prepare(name, group)
        if not args.report_only:
            run = mutmut(where, "run")
            if run.returncode not in (0, 1):
                print(f"{name}: mutmut failed\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
                return 2
        per_module: dict[str, Counter[str]] = defaultdict(Counter)
        for mutant, status in results(where).items():
            module = module_of(mutant)
            if mutant in equivalents:
                per_module[module]["equivalent"] += 1
            elif status in COUNTED:
                per_module[module][status] += 1
        for module, counts in sorted(per_module.items()):
            counted = sum(counts[s] for s in COUNTED)
            caught = sum(counts[s] for s in CAUGHT)
            score = caught / counted if counted else 1.0
            failed_goal |= score < group.goal
            print(
                f"{module:48} {caught:7}  {counted:8} {score:7.1%} {group.goal:5.0%}"
                f"  {counts['equivalent']}"
            )
        survivors = [
            m
            for m, s in results(where).items()
            if s not in CAUGHT and s in COUNTED and m not in equivalents
        ]
        if survivors:
            print(f"  {name}: {len(survivors)} not killed (mutmut show NAME in {where}):")
            for m in sorted(survivors):
                print(f"    {m}")
    return 1 if failed_goal else 0


if __name__ == "__main__":
    sys.exit(main())
