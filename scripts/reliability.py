"""Runs the fault and load suite (tests/reliability, heavier with --scale) and the SQLite
kill test, and prints one table: case, result, figure.

    .venv/bin/python scripts/reliability.py [--scale 3]

--scale multiplies the floods (10,000 x N), the slow-loris rounds and the link outage. The
figures (event-loop stall, memory kept, recovery time, ...) are those the tests measure;
they are reported, not asserted. Everything runs on 127.0.0.1 or in namespaces it makes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SQLITE_KILL = "tests/storage/test_db.py::test_committed_rows_survive_sigkill_of_the_writer"


def _results(junit: Path) -> list[tuple[str, str, str]]:
    """(test id, result, message) per test case in a JUnit XML report."""
    rows = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname', '').split('.')[-1]}::{case.get('name')}"
        result, why = "pass", ""
        for tag, label in (("failure", "FAIL"), ("error", "ERROR"), ("skipped", "skip")):
            node = case.find(tag)
            if node is not None:
                result, why = label, (node.get("message") or "")[:60]
        rows.append((name, result, why))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=3)
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="adi-rel-") as tmp:
        report, junit = Path(tmp) / "figures.jsonl", Path(tmp) / "junit.xml"
        env = dict(os.environ)
        env.update(
            ADI_RELIABILITY_REPORT=str(report),
            ADI_RELIABILITY_SCALE=str(ns.scale),
            QT_QPA_PLATFORM="offscreen",
        )
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-o", "timeout=600",
                f"--junitxml={junit}", "tests/reliability", SQLITE_KILL]  # fmt: skip
        print(f"running the fault and load suite at scale {ns.scale} ...", flush=True)
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        if not junit.exists():
            print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
            return 1
        figures: dict[str, list[str]] = {}
        if report.exists():
            for line in report.read_text().splitlines():
                f = json.loads(line)
                figures.setdefault(f["case"], []).append(
                    f"{f['name']} {f['value']:.1f} {f['unit']}"
                )
        rows = _results(junit)
    print()
    print(f"{'case':<86} {'result':<7} figure")
    for name, result, why in rows:
        key = next((c for c in figures if _belongs(c, name)), None)
        figure = "; ".join(figures.pop(key, [])) if key else why
        if name.endswith("test_committed_rows_survive_sigkill_of_the_writer"):
            figure = figure or "SQLite killed mid-write: committed rows intact, file readable"
        print(f"{name:<86} {result:<7} {figure}")
    for case, values in figures.items():
        print(f"{case:<86} {'':<7} {'; '.join(values)}")
    return done.returncode


def _belongs(case: str, test: str) -> bool:
    """Whether a figure's case name was recorded by this test (names share their words)."""
    words = {
        "fuzz-channel": "after_authentication_cost",
        "fuzz-session-host": "into-host",
        "fuzz-session-guest": "into-guest",
        "flood-invitations": "ten_thousand_invitations",
        "flood-requests": "ten_thousand_connection_requests",
        "flood-connections": "burst_of_connection_attempts",
        "slow-loris": "slow_loris",
        "fd-exhaustion": "out_of_file_descriptors",
        "killed-inviter-mid-invitation": "mid_invitation_leaves_the_survivor_expiring_it[inviter]",
        "killed-invitee-mid-invitation": "mid_invitation_leaves_the_survivor_expiring_it[invitee]",
        "killed-host-mid-session": "mid_session_leaves_no_session_on_the_survivor[host]",
        "killed-guest-mid-session": "mid_session_leaves_no_session_on_the_survivor[guest]",
        "link-down-up": "short_link_outage",
    }
    return words.get(case, "\0") in test


if __name__ == "__main__":
    sys.exit(main())
