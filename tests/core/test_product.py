"""The program's name as people see it in window titles."""

from __future__ import annotations

from anydesk_invite.core.product import window_title


def test_a_window_title_shows_its_subject_first_then_the_programs_name() -> None:
    assert window_title("Session with anna@ad") == "Session with anna@ad \u2014 LAN Invite"


def test_a_window_without_a_subject_is_titled_with_the_programs_name_alone() -> None:
    assert window_title("") == "LAN Invite"
