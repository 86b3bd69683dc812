"""A pytest plugin: in CI (``CI=true``) a skipped test fails the run.

Every tool a test needs (Xvfb, openbox, xdotool, GNOME's session, dbus, namespaces as root) is
installed by scripts/bootstrap.sh, so in CI a skip means a broken set-up that would otherwise
pass unseen. The run ends non-zero and names each skipped test with its reason.
"""

from __future__ import annotations

import pytest

from tests.helpers.xvfb import in_ci


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not in_ci():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if not skipped:
        return
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_sep("=", f"{len(skipped)} skipped in CI, where nothing may be", red=True)
        for report in skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
            reason = str(reason).removeprefix("Skipped: ")
            reporter.write_line(f"{report.nodeid}: {reason}", red=True)
    if exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
