"""The main window's status line: one line that a long warning never widens or cuts silently."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from anydesk_invite.ui.main_window import MainWindow
from anydesk_invite.ui.status_line import StatusLine
from tests.helpers.fake_client import FakeClient, make_status

LONG_WARNING = (
    "the key is stored in a file because no keyring is available "
    "(no keyring backend is installed or running)"
)


def test_a_long_warning_does_not_widen_the_main_window(qtbot: QtBot, facade: FakeClient) -> None:
    window = MainWindow(facade)
    qtbot.addWidget(window)
    narrow = window.minimumSizeHint().width()
    facade.set_status(make_status(key_location="file", key_warning=LONG_WARNING))
    assert window.minimumSizeHint().width() == narrow
    assert window.status_label.minimumSizeHint().width() == 0


def test_the_whole_status_stays_in_the_text_tooltip_and_description(
    qtbot: QtBot, facade: FakeClient
) -> None:
    window = MainWindow(facade)
    qtbot.addWidget(window)
    facade.set_status(make_status(key_location="file", key_warning=LONG_WARNING))
    label = window.status_label
    assert "Key in a file" in label.text()
    assert LONG_WARNING not in label.text(), "the banner above the tabs says it, once"
    assert LONG_WARNING in window.warning_label.text()
    assert label.toolTip() == label.text()
    assert label.accessibleDescription() == label.text()


def test_a_line_too_long_for_its_width_is_drawn_cut_with_an_ellipsis(qtbot: QtBot) -> None:
    text = "Online (127.0.0.1:4000) · " + LONG_WARNING
    line = StatusLine()
    line.setText(text)
    shown = line.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, 200)
    assert shown.endswith("…")
    plain = QLabel(shown)
    for label in (line, plain):
        qtbot.addWidget(label)
        label.resize(QSize(200, line.sizeHint().height()))
    assert line.grab().toImage() == plain.grab().toImage()
    assert line.text() == text
