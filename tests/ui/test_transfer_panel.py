"""The transfer panel: one progress bar per transfer of its session, Send/Offer, Cancel, Fetch."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QApplication,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from anydesk_invite.core.permissions import Permission
from anydesk_invite.core.signal import Signal
from anydesk_invite.services.facade import ActionRefused
from anydesk_invite.services.views import (
    Role,
    SessionView,
    TransferDirection,
    TransferState,
    TransferView,
)
from anydesk_invite.ui.accept_window import AcceptWindow
from anydesk_invite.ui.session_window import SessionWindow
from anydesk_invite.ui.transfer_panel import STEPS, TransferPanel, time_left_text
from tests.helpers.fake_client import FakeClient, session

SESSION = "ab" * 16


def view(tid: str, **kw: object) -> TransferView:
    base: dict[str, object] = {
        "transfer_id": tid,
        "session_id": SESSION,
        "direction": TransferDirection.SEND,
        "name": "report.pdf",
        "size": 1000,
        "done": 0,
        "state": TransferState.RUNNING,
    }
    base.update(kw)
    return TransferView(**base)  # type: ignore[arg-type]


class FakeTransfers:
    """The client's transfer calls, recorded; changes are emitted by the test."""

    def __init__(self, existing: list[TransferView] | None = None) -> None:
        self.transfer_changed: Signal[TransferView] = Signal("transfer_changed")
        self.calls: list[tuple[str, ...]] = []
        self.refuse: str | None = None
        self._existing = existing or []

    def transfers(self, session_id: str | None = None) -> list[TransferView]:
        return list(self._existing)

    async def send_file(self, session_id: str, path: str) -> TransferView:
        self.calls.append(("send", session_id, path))
        if self.refuse:
            raise ActionRefused(self.refuse)
        return view("01" * 16)

    async def fetch_file(self, session_id: str, transfer_id: str) -> TransferView:
        self.calls.append(("fetch", session_id, transfer_id))
        return view(transfer_id)

    async def cancel_transfer(self, transfer_id: str, reason: str = "cancelled") -> TransferView:
        self.calls.append(("cancel", transfer_id))
        return view(transfer_id, state=TransferState.CANCELLED)


def test_progress_bars_follow_the_sessions_transfers_only(qtbot: QtBot) -> None:
    fake = FakeTransfers([view("aa" * 16, done=250)])
    panel = TransferPanel(fake, SESSION, Role.HOST)
    qtbot.addWidget(panel)
    bar = panel.findChild(QProgressBar, f"transferProgress_{'aa' * 16}")
    assert bar is not None and bar.value() == STEPS // 4
    fake.transfer_changed.emit(view("aa" * 16, done=1000, state=TransferState.DONE))
    assert bar.value() == STEPS
    cancel = panel.findChild(QPushButton, f"transferCancel_{'aa' * 16}")
    assert cancel is not None and cancel.isHidden()
    fake.transfer_changed.emit(view("cc" * 16, session_id="other"))
    assert panel.findChild(QProgressBar, f"transferProgress_{'cc' * 16}") is None
    assert panel.send_button.text() == "Offer file…"
    panel.detach()


def test_send_file_is_off_while_file_transfer_is_not_granted(qtbot: QtBot) -> None:
    panel = TransferPanel(FakeTransfers(), SESSION, Role.GUEST)
    qtbot.addWidget(panel)
    panel.set_permissions(frozenset())
    assert not panel.send_button.isEnabled()
    panel.set_permissions(frozenset({Permission.FILE_TRANSFER}))
    assert panel.send_button.isEnabled() and panel.send_button.text() == "Send file…"
    panel.detach()


def test_send_cancel_and_fetch_reach_the_client(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    fake = FakeTransfers()
    panel = TransferPanel(fake, SESSION, Role.GUEST, choose_file=lambda _: "/tmp/a.txt")
    qtbot.addWidget(panel)
    qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ("send", SESSION, "/tmp/a.txt") in fake.calls)

    offer = "dd" * 16
    fake.transfer_changed.emit(
        view(offer, direction=TransferDirection.RECEIVE, state=TransferState.OFFERED)
    )
    fetch = panel.findChild(QPushButton, f"transferFetch_{offer}")
    assert fetch is not None and not fetch.isHidden()
    qtbot.mouseClick(fetch, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ("fetch", SESSION, offer) in fake.calls)
    cancel = panel.findChild(QPushButton, f"transferCancel_{offer}")
    assert cancel is not None
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ("cancel", offer) in fake.calls)
    panel.detach()


def test_a_refused_send_is_shown(qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop) -> None:
    fake = FakeTransfers()
    fake.refuse = "not permitted: file transfer"
    panel = TransferPanel(fake, SESSION, Role.GUEST, choose_file=lambda _: "/tmp/a.txt")
    qtbot.addWidget(panel)
    qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.error_label.text() == "not permitted: file transfer")
    panel.detach()


def guest_window(
    qtbot: QtBot, facade: FakeClient, fake: FakeTransfers
) -> tuple[SessionWindow, SessionView]:
    """A guest's session window with file transfer granted, and its session."""
    granted = dataclasses.replace(
        session(SESSION, frozenset({Permission.FILE_TRANSFER})), role=Role.GUEST
    )
    window = SessionWindow(facade, granted, transfers=fake)
    qtbot.addWidget(window)
    return window, granted


def test_the_guests_session_window_carries_the_panel_following_the_permissions(
    qtbot: QtBot, facade: FakeClient
) -> None:
    fake = FakeTransfers()
    window, granted = guest_window(qtbot, facade, fake)
    button = window.findChild(QPushButton, "sendFileButton")
    assert button is not None and button.isEnabled() and button.text() == "Send file…"
    window.show_session(dataclasses.replace(granted, permissions=frozenset()))
    assert not button.isEnabled()
    window.close()
    assert fake.transfer_changed._slots == []  # the closed window stopped following


def host_window(qtbot: QtBot, fake: FakeTransfers) -> AcceptWindow:
    """The host's Accept Window of a session with file transfer granted."""
    facade = FakeClient()
    hosted = session(SESSION, frozenset({Permission.FILE_TRANSFER}))
    facade.session_views[SESSION] = hosted
    window = AcceptWindow(facade, session=hosted, transfers=fake)
    qtbot.addWidget(window)
    return window


def test_the_hosts_accept_window_offers_files_while_file_transfer_is_granted(
    qtbot: QtBot,
) -> None:
    fake = FakeTransfers()
    window = host_window(qtbot, fake)
    button = window.findChild(QPushButton, "sendFileButton")
    assert button is not None and button.isEnabled() and button.text() == "Offer file…"
    window.close()
    assert fake.transfer_changed._slots == []


def test_a_running_transfer_shows_sizes_people_read_its_speed_and_the_time_left(
    qtbot: QtBot,
) -> None:
    now = [100.0]
    client = FakeTransfers()
    panel = TransferPanel(client, SESSION, Role.GUEST, clock=lambda: now[0])
    qtbot.addWidget(panel)
    tid = "0a" * 16

    def line() -> str:
        return panel.findChild(QLabel, f"transferLabel_{tid}").text()  # type: ignore[union-attr]

    client.transfer_changed.emit(view(tid, size=200_000_000, done=0))
    assert line() == "↑ report.pdf: 0 bytes of 200.0 MB"
    now[0] += 0.5  # too soon for a steady speed
    client.transfer_changed.emit(view(tid, size=200_000_000, done=20_000_000))
    assert line() == "↑ report.pdf: 20.0 MB of 200.0 MB"
    now[0] += 1.5  # two seconds, 100 MB: 50 MB/s, and 100 MB to go
    client.transfer_changed.emit(view(tid, size=200_000_000, done=100_000_000))
    assert line() == "↑ report.pdf: 100.0 MB of 200.0 MB — 50.0 MB/s, 2 s left"
    client.transfer_changed.emit(
        view(tid, size=200_000_000, done=200_000_000, state=TransferState.DONE)
    )
    assert line() == "↑ report.pdf: done (200.0 MB)"


def test_time_left_reads_in_seconds_minutes_or_hours() -> None:
    assert time_left_text(0.2) == "1 s left"
    assert time_left_text(59) == "59 s left"
    assert time_left_text(150) == "2 min left"  # rounded to the nearest minute
    assert time_left_text(2 * 3600 + 5 * 60 + 30) == "2 h 5 min left"


def dropped(paths: list[Path]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drop_on(widget: QWidget, mime: QMimeData) -> tuple[bool, bool]:
    """(accepted on entering, accepted on dropping), as Qt delivers a drag from outside."""
    at = QPointF(widget.rect().center())
    enter = QDragEnterEvent(
        at.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(
        at, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(widget, drop)
    return enter.isAccepted(), drop.isAccepted()


def test_files_dropped_on_the_session_window_go_to_the_host(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, facade: FakeClient, tmp_path: Path
) -> None:
    fake = FakeTransfers()
    window, granted = guest_window(qtbot, facade, fake)
    notes, photo = tmp_path / "notes.txt", tmp_path / "photo.jpg"
    notes.write_text("n")
    photo.write_bytes(b"p")
    mime = dropped([notes, tmp_path, photo, tmp_path / "gone.bin"])  # a folder, a missing file
    assert drop_on(window, mime) == (True, True)
    qtbot.waitUntil(lambda: len(fake.calls) == 2)
    assert sorted(fake.calls) == [("send", SESSION, str(notes)), ("send", SESSION, str(photo))]

    window.show_session(dataclasses.replace(granted, permissions=frozenset()))
    assert drop_on(window, mime) == (False, False)  # not granted: the drop is refused
    assert drop_on(window, dropped([tmp_path])) == (False, False)
    window.close()
    assert len(fake.calls) == 2


def test_files_dropped_on_the_hosts_accept_window_are_offered(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    fake = FakeTransfers()
    window = host_window(qtbot, fake)
    offer = tmp_path / "manual.pdf"
    offer.write_bytes(b"m")
    assert drop_on(window, dropped([offer])) == (True, True)
    qtbot.waitUntil(lambda: fake.calls == [("send", SESSION, str(offer))])
    window.close()


def test_a_received_file_can_be_shown_in_its_folder(qtbot: QtBot, tmp_path: Path) -> None:
    saved = tmp_path / "Downloads" / "report.pdf"
    opened: list[QUrl] = []
    tid = "ee" * 16
    received = view(
        tid, direction=TransferDirection.RECEIVE, done=1000, state=TransferState.DONE,
        path=str(saved),
    )  # fmt: skip
    fake = FakeTransfers([view(tid, direction=TransferDirection.RECEIVE, done=10)])
    panel = TransferPanel(fake, SESSION, Role.HOST, open_url=opened.append)
    qtbot.addWidget(panel)
    button = panel.findChild(QPushButton, f"transferShowFolder_{tid}")
    assert button is not None and button.isHidden()  # not while it is still coming
    fake._existing = [received]
    fake.transfer_changed.emit(received)
    assert not button.isHidden() and button.text() == "Show in folder"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert opened == [QUrl.fromLocalFile(str(saved.parent))]
    sent = "ff" * 16
    fake.transfer_changed.emit(view(sent, done=1000, state=TransferState.DONE))
    assert panel.findChild(QPushButton, f"transferShowFolder_{sent}") is None  # sent files
    panel.detach()


def _short_of_room(window: QWidget) -> list[str]:
    """Visible widgets drawn lower than they need: wrapped labels shorter than their text,
    anything else but lists (they scroll) shorter than its minimum size hint."""
    short = []
    for w in window.findChildren(QWidget):
        if not w.isVisible() or not w.objectName() or isinstance(w, QAbstractScrollArea):
            continue
        wraps = isinstance(w, QLabel) and w.wordWrap()
        need = w.heightForWidth(w.width()) if wraps else w.minimumSizeHint().height()
        if w.height() < need:
            short.append(w.objectName())
    return short


@pytest.mark.parametrize("side", ["guest", "host"])
def test_transfer_rows_and_a_refusal_make_the_window_taller_not_squeezed(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, side: str
) -> None:
    """The guest's session window and the host's Accept Window, each at its least height: four
    transfers arrive and a send is refused with a message that wraps."""
    fake = FakeTransfers()
    fake.refuse = "The other side is not taking files now. " * 4
    window: SessionWindow | AcceptWindow
    if side == "guest":
        everything = session(SESSION, frozenset(Permission), role=Role.GUEST)
        window = SessionWindow(FakeClient(), everything, transfers=fake)
        qtbot.addWidget(window)
    else:
        window = host_window(qtbot, fake)
    panel = window.transfer_panel
    assert panel is not None
    panel._choose_file = lambda _: "/tmp/a.txt"
    window.show()
    qtbot.waitExposed(window)
    window.resize(window.width(), window.minimumHeight())
    qtbot.waitUntil(lambda: not _short_of_room(window))
    before = window.height()
    for n in range(4):
        fake.transfer_changed.emit(view(f"{n:02x}" * 16, name=f"holiday photos {n}.zip"))
    qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.error_label.text() != "")
    qtbot.waitUntil(lambda: window.height() > before)
    qtbot.waitUntil(lambda: not _short_of_room(window))
    window.close()
