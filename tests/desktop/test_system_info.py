"""The system information a host shares: SysInfo.screens entries are `name WIDTHxHEIGHT`."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QApplication

from anydesk_invite.desktop.system_info import DesktopSystemInfo


def test_every_screen_entry_is_a_name_and_a_size_with_no_stray_space(qapp: QApplication) -> None:
    screens = DesktopSystemInfo().system_information().screens
    assert screens
    for entry in screens:
        assert entry == entry.strip()
        assert re.fullmatch(r"\S(.*\S)? \d+x\d+", entry), entry
