"""Mutation score where the behaviour lives: mutates each module group with mutmut and runs the
tests that judge it, then prints killed / counted per module.

    .venv/bin/python scripts/mutants.py                # every group (long: an hour or more)
    .venv/bin/python scripts/mutants.py core policy    # some groups
    .venv/bin/python scripts/mutants.py --jobs 1 wire  # one mutant at a time (a shared machine)

Each group runs in its own copy of the tree under .mutants/<group>/ (kept between runs, so a
second run only retries what changed). A mutant listed in tests/mutation_equivalents.toml
changes nothing a caller can observe; it is shown apart and not counted. The score is
(killed + timeout) / (killed + timeout + survived + no tests) over the rest: a mutant that makes
the tests hang is caught, as in other mutation tools. mutmut mutates function bodies only, so
module-level constants are pinned by tests against docs/PROTOCOL.md instead.

mutmut switches a mutant on only after the module was imported, so the mutants of a function
that runs only while its module loads (net/wire.py builds its decoders then) can never be
killed by any test. Such functions are listed under [import_time] in the same file, with what
pins their behaviour instead; their mutants are shown in a column of their own ("at import"),
neither caught nor counted.

A timeout counts as caught, but on a loaded machine a run can pass its time limit without
hanging: the last two columns show how many were caught that way and the score without them.

A run stopped early leaves mutants without a verdict: they are shown as "not run", never
counted, so a partial run's score is over the mutants it measured. --retry runs again only the
mutants that survived, against the tests as they are now.
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
    test_timeout: int = 30
    """Seconds one test may take before it counts as hanging (property tests need more: mutmut
    slows every call down while it records which tests reach which function)."""


GROUPS = {
    "core": Group(
        ("anydesk_invite/core/*",),
        # core's own tests, and the unit tests of what reads its values from outside: the
        # DNS discovery settings and records, the email invitation text, the screen geometry.
        (
            "tests/core",
            "tests/storage/test_wide_area_settings.py",
            "tests/net/test_wide_area_records.py",
            "tests/test_cli.py",
            "tests/services/test_screen_stream.py",
        ),
        0.95,
    ),
    "policy": Group(
        ("anydesk_invite/storage/policy_files.py", "anydesk_invite/storage/policy_watch.py"),
        (
            "tests/storage/test_policy_files.py",
            "tests/storage/test_policy_file_messages.py",
            "tests/storage/test_wide_area_settings.py",
            "tests/security/test_local.py",
        ),
        0.95,
    ),
    "wire": Group(
        ("anydesk_invite/net/wire.py", "anydesk_invite/net/frames.py"),
        ("tests/net/test_wire.py", "tests/net/test_frames.py", "tests/net/test_wire_bounds.py"),
        0.85,
        test_timeout=300,
    ),
    "invitations": Group(
        (
            "anydesk_invite/services/invitations.py",
            "anydesk_invite/services/invitation_book.py",
            "anydesk_invite/services/invitation_texts.py",
            "anydesk_invite/services/inviting.py",
            "anydesk_invite/services/invited.py",
        ),
        (
            "tests/services/test_invitations.py",
            "tests/services/test_requests.py",
            "tests/services/test_invitation_targets.py",
            "tests/services/test_invitation_limits.py",
            "tests/services/test_invitation_reports.py",
            "tests/security/test_invitations.py",
        ),
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
        (
            "tests/services/test_file_transfer.py",
            "tests/services/test_file_transfer_limits.py",
            "tests/services/test_file_transfer_reports.py",
            "tests/services/test_file_io.py",
            "tests/services/test_session_dispatch.py",
        ),
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
            # A mutant that makes a test hang is caught by the test's own timeout in seconds
            # rather than by the suite's 120 s one, and a whole run at ten times its usual
            # time (mutmut's default fifteen makes each hanging mutant cost minutes; five
            # passed for hangs on a machine under heavy load). A change here makes the next
            # run judge only the timeouts again.
            "pytest_add_cli_args = "
            f'["-q", "-p", "no:cacheprovider", "--timeout={group.test_timeout}"]',
            "timeout_multiplier = 10.0",
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


def run_group(name: str, where: Path, jobs: list[str], mutants: list[str]) -> bool:
    """mutmut run in the group's copy: every mutant without a verdict, or these again."""
    run = mutmut(where, "run", *jobs, *mutants)
    if run.returncode not in (0, 1) or "failed to collect stats" in run.stdout:
        print(f"{name}: mutmut failed\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
        return False
    return True


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


def load_equivalents() -> tuple[dict[str, str], dict[str, str]]:
    """(equivalent mutants, functions that run only at import), each name with its reason."""
    if not EQUIVALENTS.exists():
        return {}, {}
    with EQUIVALENTS.open("rb") as f:
        data = tomllib.load(f)
    return (
        {k: str(v) for k, v in data.get("equivalent", {}).items()},
        {k: str(v) for k, v in data.get("import_time", {}).items()},
    )


def function_of(mutant: str) -> str:
    return mutant.rsplit("__mutmut_", 1)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", help=f"some of: {', '.join(GROUPS)} (default: all)")
    parser.add_argument(
        "--report-only", action="store_true", help="print the last run's results, run nothing"
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="mutants run at once (default: one per core)"
    )
    parser.add_argument(
        "--changed",
        action="store_true",
        help="run only the mutants of functions changed since their last run (mutmut drops "
        "those verdicts when a run or --retry regenerates the mutants), so a partial run stays "
        "comparable after a fix",
    )
    parser.add_argument(
        "--retry",
        action="store_true",
        help="run only the mutants that survived last time again, against the current tests "
        "(mutmut keeps a verdict until its function changes, even when tests were added); "
        "mutants never run stay so and are shown as not run",
    )
    args = parser.parse_args()
    chosen = args.groups or list(GROUPS)
    unknown = [g for g in chosen if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group {unknown[0]!r}; the groups are {', '.join(GROUPS)}")
    equivalents, import_time = load_equivalents()
    failed_goal = False
    print(
        f"{'module':48} {'caught':>7} {'counted':>8} {'score':>7} {'goal':>5}"
        "  equivalent  at import  not run  timeouts  without them"
    )
    for name in chosen:
        group = GROUPS[name]
        where = WORK / name if args.report_only else prepare(name, group)
        if not args.report_only:
            jobs = ["--max-children", str(args.jobs)] if args.jobs else []
            if not (args.retry or args.changed) and not run_group(name, where, jobs, []):
                return 2
            if args.changed:
                found = results(where)
                measured = {function_of(m) for m, s in found.items() if s != "not checked"}
                again = sorted(
                    m for m, s in found.items() if s == "not checked" and function_of(m) in measured
                )
                if again and not run_group(name, where, jobs, again):
                    return 2
            if args.retry:
                again = sorted(
                    m for m, s in results(where).items() if s in ("survived", "no tests")
                )
                if again and not run_group(name, where, jobs, again):
                    return 2
        per_module: dict[str, Counter[str]] = defaultdict(Counter)
        found = results(where)
        at_import: dict[str, list[str]] = defaultdict(list)
        for mutant, status in found.items():
            module = module_of(mutant)
            if mutant in equivalents:
                per_module[module]["equivalent"] += 1
            elif function_of(mutant) in import_time:
                per_module[module]["at import"] += 1
                if status not in CAUGHT:
                    at_import[function_of(mutant)].append(mutant)
            elif status in COUNTED:
                per_module[module][status] += 1
            elif status == "not checked":
                per_module[module]["not run"] += 1
        for module, counts in sorted(per_module.items()):
            counted = sum(counts[s] for s in COUNTED)
            caught = sum(counts[s] for s in CAUGHT)
            score = caught / counted if counted else 1.0
            failed_goal |= score < group.goal
            killed_only = (caught - counts["timeout"]) / counted if counted else 1.0
            print(
                f"{module:48} {caught:7}  {counted:8} {score:7.1%} {group.goal:5.0%}"
                f"  {counts['equivalent']:10}  {counts['at import']:9}  {counts['not run']:7}"
                f"  {counts['timeout']:8} {killed_only:12.1%}"
            )
        for function, mutants in sorted(at_import.items()):
            print(
                f"  at import, never switched on in a test ({len(mutants)} mutants): "
                f"{function}: {import_time[function]}"
            )
        survivors = [
            m
            for m, s in found.items()
            if s not in CAUGHT
            and s in COUNTED
            and m not in equivalents
            and function_of(m) not in import_time
        ]
        if survivors:
            print(f"  {name}: {len(survivors)} not killed (mutmut show NAME in {where}):")
            for m in sorted(survivors):
                print(f"    {m}")
    return 1 if failed_goal else 0


if __name__ == "__main__":
    sys.exit(main())
