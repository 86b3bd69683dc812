"""Fixtures shared by the end-to-end tests."""

from tests.helpers.xvfb import xvfb_display

__all__ = ["xvfb_display"]
