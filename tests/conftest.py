"""Test set-up: Qt offscreen, loopback-only network guard, an in-memory keyring."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from collections.abc import Iterator

import keyring
import pytest

from tests.helpers import netguard
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.xvfb import xvfb_display, xvfb_module_display

netguard.install()

pytest_plugins = ["tests.helpers.ci_skips"]  # in CI a skipped test fails the run

__all__ = ["xvfb_display", "xvfb_module_display"]  # fixtures for tests that need an X server


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every test gets a fresh in-memory keyring unless it installs another backend."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
