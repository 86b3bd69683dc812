"""The main window: own ID and alias, invite and connect hooks, panes, status line, email."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from urllib.parse import unquote

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QColor, QContextMenuEvent, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QListView, QMenu, QPushButton
from pytestqt.qtbot import QtBot

from anydesk_invite.core import email_invite
from anydesk_invite.core.email_invite import connect_link
from anydesk_invite.core.policy import DiscoveryMode
from anydesk_invite.core.product import DISPLAY_NAME
from anydesk_invite.services.views import PeerSource
from anydesk_invite.ui.email_fallback import EmailFallbackDialog, EmailInvite
from anydesk_invite.ui.main_window import INVITE_TOOLTIP, MainWindow
from tests.helpers.fake_client import FakeClient, id_for, make_peer, make_status
from tests.helpers.popup_menus import action, close_menu, open_popup, right_click_tile

PROJECT = "https://example.org/anydesk-invite"


@pytest.fixture
def window(qtbot: QtBot, facade: FakeClient) -> MainWindow:
    w = MainWindow(facade)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_shows_own_grouped_id_and_alias_from_the_facade(
    window: MainWindow, facade: FakeClient
) -> None:
    assert window.objectName() == "mainWindow"
    assert window.id_label.text() == facade.status().device_id.grouped()
    assert window.alias_label.text() == "me@ad"
    assert window.id_label.font().pointSizeF() > window.alias_label.font().pointSizeF()


def test_status_changes_update_id_alias_and_status_line(
    window: MainWindow, facade: FakeClient
) -> None:
    facade.set_status(make_status(alias="renamed@ad", online=False, discovery=DiscoveryMode.OFF))
    assert window.alias_label.text() == "renamed@ad"
    assert "Offline" in window.status_label.text()
    assert "Discovery off" in window.status_label.text()


def test_the_window_title_names_this_device_and_the_program_and_follows_a_new_alias(
    window: MainWindow, facade: FakeClient
) -> None:
    assert window.windowTitle() == "me@ad — LAN Invite"
    facade.set_status(make_status(alias="renamed@ad"))
    assert window.windowTitle() == "renamed@ad — LAN Invite"


def test_the_program_has_one_display_name_in_titles_desktop_file_metainfo_and_email() -> None:
    """Not the module name, and the same everywhere a person reads it."""
    packaging = Path(__file__).parents[2] / "packaging"
    desktop = (packaging / "io.github.anydesk_invite.AnydeskInvite.desktop").read_text()
    metainfo = (packaging / "io.github.anydesk_invite.AnydeskInvite.metainfo.xml").read_text()
    assert f"\nName={DISPLAY_NAME}\n" in desktop
    assert f"<name>{DISPLAY_NAME}</name>" in metainfo
    assert DISPLAY_NAME in email_invite.SUBJECT
    for text in (desktop, metainfo, email_invite.SUBJECT):
        assert "anydesk_invite</name>" not in text and "Name=anydesk_invite" not in text


def test_status_line_names_interfaces_and_discovery(window: MainWindow) -> None:
    text = window.status_label.text()
    assert "Online (127.0.0.1:7070)" in text
    assert "Discovery on" in text
    assert "Interfaces: 127.0.0.1" in text
    assert not window.warning_label.isVisible()


def test_a_key_in_a_file_is_a_visible_warning_said_once(
    window: MainWindow, facade: FakeClient
) -> None:
    warning = "No keyring: the private key is stored in a file in the home folder"
    facade.set_status(make_status(key_location="file", key_warning=warning))
    assert "Key in a file" in window.status_label.text()
    assert warning not in window.status_label.text(), "the banner says it already"
    assert window.warning_label.isVisible()
    assert warning in window.warning_label.text()


def test_a_broken_policy_is_a_visible_warning(window: MainWindow, facade: FakeClient) -> None:
    facade.set_status(make_status(policy_broken="/etc/adinvite/policy.toml: bad syntax"))
    assert window.warning_label.isVisible()
    assert "bad syntax" in window.warning_label.text()
    assert "refused" in window.warning_label.text()


def test_invite_button_right_of_id_emits_an_empty_invite(qtbot: QtBot, window: MainWindow) -> None:
    assert window.invite_button.toolTip() == INVITE_TOOLTIP
    assert not window.invite_button.icon().isNull()
    id_right = window.id_label.mapTo(window, window.id_label.rect().topRight()).x()
    assert window.invite_button.mapTo(window, window.invite_button.rect().topLeft()).x() > id_right
    with qtbot.waitSignal(window.inviteRequested, timeout=3000) as sig:
        qtbot.mouseClick(window.invite_button, Qt.MouseButton.LeftButton)
    assert sig.args == [""]


def _right_click_id(qtbot: QtBot, window: MainWindow) -> QMenu:
    pos = window.id_label.rect().center()
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse,
        pos,
        window.id_label.mapToGlobal(pos),
        Qt.KeyboardModifier(0),
    )
    QApplication.sendEvent(window.id_label, event)
    return open_popup(qtbot)


def test_id_context_menu_copies_id_and_alias_and_offers_email(
    qtbot: QtBot, window: MainWindow, facade: FakeClient
) -> None:
    menu = _right_click_id(qtbot, window)
    names = [a.objectName() for a in menu.actions() if a.objectName()]
    assert names == ["copyIdAction", "copyAliasAction", "emailInviteAction"]
    assert [a.text() for a in menu.actions() if a.objectName()] == [
        "Copy ID",
        "Copy alias",
        "Invite via email…",
    ]
    action(menu, "copyIdAction").trigger()
    assert QGuiApplication.clipboard().text() == facade.status().device_id.grouped()
    action(menu, "copyAliasAction").trigger()
    assert QGuiApplication.clipboard().text() == "me@ad"
    with qtbot.waitSignal(window.emailInviteRequested, timeout=3000):
        action(menu, "emailInviteAction").trigger()
    close_menu(qtbot, menu)


@pytest.mark.parametrize(
    ("source", "seed"),
    [
        (PeerSource.FAVORITES, "anna"),
        (PeerSource.RECENT, "bob"),
        (PeerSource.DISCOVERY, "carla"),
        (PeerSource.ADDRESS_BOOK, "dieter"),
    ],
)
def test_right_click_invite_on_a_tile_in_each_pane_emits_its_id(
    qtbot: QtBot, window: MainWindow, source: PeerSource, seed: str
) -> None:
    pane = window.panes[source]
    window.tabs.setCurrentWidget(pane)
    qtbot.waitUntil(pane.view.isVisible, timeout=3000)
    menu = right_click_tile(qtbot, pane, seed)
    with qtbot.waitSignal(window.inviteRequested, timeout=3000) as sig:
        action(menu, "inviteAction").trigger()
    assert sig.args == [id_for(seed).digits]
    close_menu(qtbot, menu)


def test_panes_are_four_named_tabs(window: MainWindow) -> None:
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert tabs == ["Favorites", "Recent Sessions", "Discovery", "Address Book"]
    for name in ("favoritesView", "recentView", "discoveryView", "addressBookView"):
        view = window.findChild(QListView, name)
        assert isinstance(view, QListView)
        assert view.viewMode() == QListView.ViewMode.IconMode


def test_filter_box_in_a_pane_filters_its_tiles(qtbot: QtBot, window: MainWindow) -> None:
    pane = window.panes[PeerSource.DISCOVERY]
    window.tabs.setCurrentWidget(pane)
    qtbot.keyClicks(pane.filter_edit, id_for("eve").grouped())
    titles = [pane.proxy.index(r, 0).data() for r in range(pane.proxy.rowCount())]
    assert titles == ["eve@ad"]
    pane.filter_edit.clear()
    assert pane.proxy.rowCount() == 3


def test_peers_changed_updates_the_panes_and_the_completer(
    window: MainWindow, facade: FakeClient
) -> None:
    facade.peer_list.append(make_peer("gina", PeerSource.DISCOVERY, online=True))
    facade.changed_peers(id_for("gina"))
    assert window.panes[PeerSource.DISCOVERY].index_of(id_for("gina").digits).isValid()
    assert "gina@ad" in window.connect_row.completions()
    assert id_for("gina").grouped() in window.connect_row.completions()


def test_a_peer_announced_gone_leaves_the_panes_and_the_completer(
    window: MainWindow, facade: FakeClient
) -> None:
    carla = id_for("carla")
    assert window.panes[PeerSource.DISCOVERY].index_of(carla.digits).isValid()
    facade.peer_list = [p for p in facade.peer_list if p.device_id != carla]
    facade.changed_peers(carla)
    assert not window.panes[PeerSource.DISCOVERY].index_of(carla.digits).isValid()
    assert "carla@ad" not in window.connect_row.completions()
    assert carla.grouped() not in window.connect_row.completions()


def test_connect_field_emits_a_typed_id_as_digits(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClicks(window.connect_edit, id_for("bob").grouped())
    with qtbot.waitSignal(window.connectRequested, timeout=3000) as sig:
        qtbot.mouseClick(window.connect_button, Qt.MouseButton.LeftButton)
    assert sig.args == [id_for("bob").digits]


def test_a_connect_link_pasted_into_connect_asks_with_the_links_key(
    qtbot: QtBot, window: MainWindow
) -> None:
    from anydesk_invite.net.identity import Identity

    other = Identity.generate()
    window.connect_edit.setText(connect_link(other.device_id, other.fingerprint))
    with qtbot.waitSignal(window.connectLinkRequested, timeout=3000) as sig:
        qtbot.mouseClick(window.connect_button, Qt.MouseButton.LeftButton)
    assert sig.args == [other.device_id.digits, other.fingerprint.hex()]
    assert not window.connect_error.isVisible()
    assert window.connect_edit.text() == other.device_id.grouped()


def test_a_broken_connect_link_says_what_is_wrong_not_alias_rules(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.connect_edit.setText("adinvite://connect?id=123")
    qtbot.mouseClick(window.connect_button, Qt.MouseButton.LeftButton)
    assert window.connect_error.isVisible()
    assert "connect link" in window.connect_error.text()
    assert "alias" not in window.connect_error.text()


def test_connect_field_emits_an_alias_on_enter(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClicks(window.connect_edit, "carla")
    window.connect_edit.completer().popup().hide()
    with qtbot.waitSignal(window.connectRequested, timeout=3000) as sig:
        window.connect_edit.returnPressed.emit()
    assert sig.args == ["carla@ad"]


def test_a_mistyped_id_is_explained_and_not_sent(qtbot: QtBot, window: MainWindow) -> None:
    digits = id_for("bob").digits
    typo = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    window.connect_edit.setText(typo)
    with qtbot.assertNotEmitted(window.connectRequested):
        window.connect_button.click()
    assert window.connect_error.isVisible()
    assert "check digit" in window.connect_error.text()


def test_bell_and_side_panel_are_placed(qtbot: QtBot, window: MainWindow) -> None:
    bell = QPushButton("bell")
    panel = QLabel("outgoing")
    window.set_bell_widget(bell)
    window.add_side_panel(panel)
    qtbot.waitUntil(lambda: bell.isVisible() and panel.isVisible(), timeout=3000)
    assert bell.window() is window and panel.window() is window
    bell_x = bell.mapTo(window, bell.rect().topLeft()).x()
    assert bell_x > window.invite_button.mapTo(window, window.invite_button.rect().topLeft()).x()


def test_destroyed_window_stops_listening_to_the_facade(
    qtbot: QtBot, facade: FakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    w = MainWindow(facade)
    gone: list[bool] = []
    w.destroyed.connect(lambda: gone.append(True))
    w.deleteLater()
    qtbot.waitUntil(lambda: gone == [True], timeout=3000)
    facade.set_status(make_status(alias="after@ad"))
    facade.changed_peers()
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []
    w.detach()  # twice is harmless


def test_email_invite_opens_a_mailto_url(qtbot: QtBot, facade: FakeClient) -> None:
    opened: list[QUrl] = []

    def opener(url: QUrl) -> bool:
        opened.append(url)
        return True

    assert EmailInvite(PROJECT, opener=opener).send(facade.status())
    assert len(opened) == 1
    url = opened[0].toString(QUrl.ComponentFormattingOption.FullyEncoded)
    assert url.startswith("mailto:?subject=")
    status = facade.status()
    assert connect_link(status.device_id, status.fingerprint) in unquote(url)


def test_when_no_mail_program_opens_the_message_can_be_copied(
    qtbot: QtBot, facade: FakeClient
) -> None:
    invite = EmailInvite(PROJECT, opener=lambda _url: False)
    assert not invite.send(facade.status())
    dialog = invite.dialog
    assert isinstance(dialog, EmailFallbackDialog)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(dialog.isVisible, timeout=3000)
    assert dialog.objectName() == "emailFallbackDialog"
    status = facade.status()
    dialog.copy_message_button.click()
    copied = QGuiApplication.clipboard().text()
    assert status.device_id.grouped() in copied and PROJECT in copied and "me@ad" in copied
    dialog.copy_link_button.click()
    assert QGuiApplication.clipboard().text() == connect_link(status.device_id, status.fingerprint)


def test_renamed_peer_is_redrawn_in_place(window: MainWindow, facade: FakeClient) -> None:
    pane = window.panes[PeerSource.DISCOVERY]
    rows = pane.model.rowCount()
    facade.peer_list = [
        dataclasses.replace(p, alias="carla2@ad") if p.alias == "carla@ad" else p
        for p in facade.peer_list
    ]
    facade.changed_peers(id_for("carla"))
    assert pane.model.rowCount() == rows
    assert "carla2@ad" in window.connect_row.completions()


def _luminance(c: QColor) -> float:
    def channel(v: int) -> float:
        x = v / 255
        return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())


def test_the_this_device_caption_is_readable_against_the_window(window: MainWindow) -> None:
    caption = window.findChild(QLabel, "idCaption")
    assert caption is not None
    image = caption.grab().toImage()
    background = window.palette().color(QPalette.ColorRole.Window)
    darkest = min(
        (image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())),
        key=_luminance,
    )
    lighter, darker = sorted((_luminance(background), _luminance(darkest)), reverse=True)
    assert (lighter + 0.05) / (darker + 0.05) >= 4.5  # WCAG AA for normal text


def test_a_window_shown_before_its_client_says_starting_and_takes_no_input(
    qtbot: QtBot, facade: FakeClient
) -> None:
    """Start-up shows the main window before the client behind it is built."""
    w = MainWindow(None)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    assert w.status_label.text() == "Starting…"
    assert w.id_label.text() == ""
    assert w.windowTitle() == DISPLAY_NAME
    assert not w.centralWidget().isEnabled()
    assert not w.menuBar().isEnabled()
    assert not w.connect_button.isEnabled() and not w.invite_button.isEnabled()
    tabs = [w.tabs.tabText(i) for i in range(w.tabs.count())]
    assert tabs == ["Favorites", "Recent Sessions", "Discovery", "Address Book"]
    assert w.panes == {}, "the peer panes are built with the client"


def test_attaching_the_client_fills_the_window_as_one_built_with_it(
    qtbot: QtBot, facade: FakeClient
) -> None:
    late = MainWindow(None)
    qtbot.addWidget(late)
    late.show()
    qtbot.waitExposed(late)
    late.attach(facade)
    built = MainWindow(facade)
    qtbot.addWidget(built)
    for w in (late, built):
        assert w.id_label.text() == facade.status().device_id.grouped()
        assert w.alias_label.text() == "me@ad"
        assert w.windowTitle() == "me@ad — LAN Invite"
        assert "Online (127.0.0.1:7070)" in w.status_label.text()
        assert w.centralWidget().isEnabled() and w.menuBar().isEnabled()
    assert late.connect_row.completions() == built.connect_row.completions() != []
    assert [late.tabs.widget(i) for i in range(4)] == list(late.panes.values())
    assert late.tabs.currentWidget() is late.panes[PeerSource.FAVORITES]
    for source, pane in late.panes.items():
        assert pane.model.rowCount() == built.panes[source].model.rowCount()
        assert late.tabs.tabText(late.tabs.indexOf(pane)) == built.tabs.tabText(
            built.tabs.indexOf(built.panes[source])
        )
    facade.set_status(make_status(alias="renamed@ad"))  # and it follows the client from then on
    assert late.alias_label.text() == "renamed@ad"
    facade.peer_list.append(make_peer("gina", PeerSource.DISCOVERY, online=True))
    facade.changed_peers(id_for("gina"))
    assert late.panes[PeerSource.DISCOVERY].index_of(id_for("gina").digits).isValid()
