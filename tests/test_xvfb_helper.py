"""The one Xvfb helper of tests, benches and scripts (tests/helpers/xvfb.py)."""

from __future__ import annotations

import shutil

import pytest

from tests.helpers.xvfb import display_for_tests, xvfb

needs_xvfb = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed")


@needs_xvfb
def test_the_display_keeps_its_state_when_its_last_client_leaves() -> None:
    # Without -noreset the server resets when its last client leaves: root window properties
    # are gone, and a client that connects during the reset is refused.
    from Xlib import X, Xatom
    from Xlib import display as xdisplay

    with xvfb() as name:
        first = xdisplay.Display(name)
        atom = first.intern_atom("ADI_TEST_MARK")
        first.screen().root.change_property(atom, Xatom.STRING, 8, b"kept")
        first.sync()
        first.close()
        second = xdisplay.Display(name)
        try:
            prop = second.screen().root.get_full_property(
                second.intern_atom("ADI_TEST_MARK"), X.AnyPropertyType
            )
            assert prop is not None and bytes(prop.value) == b"kept"
        finally:
            second.close()


def test_a_display_that_cannot_start_is_a_failure_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="in CI a display is required"):
        with display_for_tests():
            pass


def test_a_display_that_cannot_start_is_a_skip_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Xvfb is not installed"):
        with display_for_tests():
            pass
