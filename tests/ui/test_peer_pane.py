"""A peer pane: tiles per source, the filter box, the tile menu and the address-book dialog."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from pytestqt.qtbot import QtBot

from anydesk_invite.services.views import PeerSource
from anydesk_invite.ui.address_book_dialog import (
    AddressBookDialog,
    EntryError,
    parse_host_port,
    parse_tags,
)
from anydesk_invite.ui.peer_pane import PeerPane
from anydesk_invite.ui.tile_delegate import TILE_SIZE, PeerTileDelegate, avatar_color, initials
from tests.helpers.fake_client import FakeClient, id_for, make_peer
from tests.helpers.popup_menus import action, close_menu, right_click_tile
from tests.ui.conftest import sample_peers


def make_pane(qtbot: QtBot, facade: FakeClient, source: PeerSource) -> PeerPane:
    pane = PeerPane(source, facade)
    qtbot.addWidget(pane)
    pane.resize(700, 400)
    pane.set_peers(facade.peers())
    pane.show()
    qtbot.waitExposed(pane)
    return pane


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (PeerSource.FAVORITES, ["anna@ad"]),
        (PeerSource.RECENT, ["bob@ad", "anna@ad"]),
        (PeerSource.DISCOVERY, ["bob@ad", "carla@ad", "eve@ad"]),
        (PeerSource.ADDRESS_BOOK, ["anna@ad", "dieter@ad"]),
    ],
)
def test_each_pane_shows_the_peers_of_its_source(
    qtbot: QtBot, facade: FakeClient, source: PeerSource, expected: list[str]
) -> None:
    pane = make_pane(qtbot, facade, source)
    shown = [pane.proxy.index(r, 0).data() for r in range(pane.proxy.rowCount())]
    assert shown == expected
    assert not pane.empty_label.isVisible()


def test_an_empty_pane_says_so(qtbot: QtBot) -> None:
    pane = make_pane(qtbot, FakeClient(), PeerSource.FAVORITES)
    assert pane.empty_label.isVisible()
    assert "favorites" in pane.empty_label.text().lower()


def test_typing_in_the_filter_box_narrows_the_tiles(qtbot: QtBot, facade: FakeClient) -> None:
    pane = make_pane(qtbot, facade, PeerSource.DISCOVERY)
    qtbot.keyClicks(pane.filter_edit, "car")
    assert pane.proxy.rowCount() == 1
    assert pane.proxy.index(0, 0).data() == "carla@ad"


def test_right_click_invite_emits_the_tiles_id(qtbot: QtBot, facade: FakeClient) -> None:
    pane = make_pane(qtbot, facade, PeerSource.DISCOVERY)
    menu = right_click_tile(qtbot, pane, "carla")
    with qtbot.waitSignal(pane.inviteRequested, timeout=3000) as sig:
        action(menu, "inviteAction").trigger()
    assert sig.args == [id_for("carla").digits]
    close_menu(qtbot, menu)


def test_menu_offers_what_fits_the_peer(qtbot: QtBot, facade: FakeClient) -> None:
    pane = make_pane(qtbot, facade, PeerSource.ADDRESS_BOOK)
    anna = pane.menu_for(sample_peers()[0])  # favorite and in the address book
    names = [a.objectName() for a in anna.actions() if a.objectName()]
    assert names == [
        "inviteAction",
        "connectAction",
        "unfavoriteAction",
        "editAction",
        "copyIdAction",
        "removeAction",
    ]
    discovery = make_pane(qtbot, facade, PeerSource.DISCOVERY)
    carla = discovery.menu_for(sample_peers()[2])
    names = [a.objectName() for a in carla.actions() if a.objectName()]
    assert names == [
        "inviteAction",
        "connectAction",
        "favoriteAction",
        "addToAddressBookAction",
        "copyIdAction",
    ]


def test_connect_in_the_tile_menu_asks_that_device_to_let_you_in(
    qtbot: QtBot, facade: FakeClient
) -> None:
    pane = make_pane(qtbot, facade, PeerSource.DISCOVERY)
    menu = right_click_tile(qtbot, pane, "bob")
    with qtbot.waitSignal(pane.connectRequested, timeout=3000) as sig:
        action(menu, "connectAction").trigger()
    assert sig.args == [id_for("bob").digits]
    close_menu(qtbot, menu)


def test_copy_id_puts_the_grouped_id_on_the_clipboard(qtbot: QtBot, facade: FakeClient) -> None:
    pane = make_pane(qtbot, facade, PeerSource.DISCOVERY)
    menu = right_click_tile(qtbot, pane, "bob")
    action(menu, "copyIdAction").trigger()
    assert QGuiApplication.clipboard().text() == id_for("bob").grouped()
    close_menu(qtbot, menu)


@pytest.mark.usefixtures("qasync_loop")
def test_add_to_favorites_calls_the_facade(qtbot: QtBot, facade: FakeClient) -> None:
    pane = make_pane(qtbot, facade, PeerSource.DISCOVERY)
    menu = right_click_tile(qtbot, pane, "carla")
    action(menu, "favoriteAction").trigger()
    qtbot.waitUntil(lambda: facade.calls_of("set_favorite") != [], timeout=3000)
    assert facade.calls_of("set_favorite") == [(id_for("carla"), True)]
    close_menu(qtbot, menu)


@pytest.mark.usefixtures("qasync_loop")
def test_remove_from_address_book_calls_the_facade(qtbot: QtBot, facade: FakeClient) -> None:
    pane = make_pane(qtbot, facade, PeerSource.ADDRESS_BOOK)
    menu = right_click_tile(qtbot, pane, "dieter")
    action(menu, "removeAction").trigger()
    qtbot.waitUntil(lambda: facade.calls_of("remove_from_address_book") != [], timeout=3000)
    assert facade.calls_of("remove_from_address_book") == [(id_for("dieter"),)]
    close_menu(qtbot, menu)


@pytest.mark.usefixtures("qasync_loop")
def test_a_refusal_is_shown_in_the_pane(qtbot: QtBot, facade: FakeClient) -> None:
    facade.refuse["set_favorite"] = "the database is read-only"
    pane = make_pane(qtbot, facade, PeerSource.FAVORITES)
    pane._track(pane.set_favorite(id_for("anna").digits, False))
    qtbot.waitUntil(lambda: pane.message_label.isVisible(), timeout=3000)
    assert pane.message_label.text() == "the database is read-only"
    qtbot.waitUntil(lambda: pane.pending_tasks() == 0, timeout=3000)


def test_cancel_tasks_cancels_what_the_pane_started(
    qtbot: QtBot, facade: FakeClient, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    pane = make_pane(qtbot, facade, PeerSource.FAVORITES)
    blocker = asyncio.Event()

    async def never() -> None:
        await blocker.wait()

    task = qasync_loop.create_task(never())
    pane._track(task)
    pane.cancel_tasks()
    qtbot.waitUntil(task.done, timeout=3000)
    assert task.cancelled()


def test_address_book_dialog_checks_each_field_as_typed(qtbot: QtBot) -> None:
    dialog = AddressBookDialog()
    qtbot.addWidget(dialog)
    assert not dialog.save_button.isEnabled()
    assert dialog.error_text(dialog.id_edit) == ""  # nothing typed yet: no scolding
    good = id_for("frank")
    qtbot.keyClicks(dialog.id_edit, good.digits[:-1])
    assert "10 digits" in dialog.error_text(dialog.id_edit)
    dialog.id_edit.setText(good.grouped())
    assert dialog.error_text(dialog.id_edit) == ""
    assert dialog.save_button.isEnabled()
    dialog.alias_edit.setText("frank smith@ad")
    assert "letters, digits" in dialog.error_text(dialog.alias_edit)
    assert not dialog.save_button.isEnabled()
    dialog.alias_edit.setText("frank@ad")
    dialog.address_edit.setText("127.0.0.9:99999")
    assert "port" in dialog.error_text(dialog.address_edit)
    dialog.address_edit.setText("127.0.0.9:7070")
    dialog.tags_edit.setText("home, Home, lab , ")
    dialog.name_edit.setText("Frank\u202e's PC")
    entry = dialog.entry()
    assert entry is not None
    assert (entry.device_id, entry.alias, entry.manual_address) == (
        good,
        "frank@ad",
        "127.0.0.9:7070",
    )
    assert entry.tags == ("home", "lab")
    assert entry.display_name == "Frank's PC"


@pytest.mark.usefixtures("qasync_loop")
def test_saving_the_edit_dialog_sends_the_entry_to_the_facade(
    qtbot: QtBot, facade: FakeClient
) -> None:
    pane = make_pane(qtbot, facade, PeerSource.ADDRESS_BOOK)
    menu = right_click_tile(qtbot, pane, "dieter")
    action(menu, "editAction").trigger()
    close_menu(qtbot, menu)
    dialog = pane.findChild(AddressBookDialog)
    assert isinstance(dialog, AddressBookDialog)
    assert dialog.id_edit.isReadOnly()
    assert dialog.tags_edit.text() == "office, printer"
    dialog.tags_edit.setText("office")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: facade.calls_of("add_to_address_book") != [], timeout=3000)
    assert facade.calls_of("add_to_address_book") == [
        (id_for("dieter"), "dieter@ad", "", ("office",), "127.0.0.5:7070")
    ]


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("192.168.1.20:7070", "192.168.1.20:7070"),
        (" host.lan:80 ", "host.lan:80"),
        ("[fe80::1]:7070", "[fe80::1]:7070"),
        ("pc:007", "pc:7"),
    ],
)
def test_host_port_accepts_hosts_and_ports(text: str, normal: str) -> None:
    assert parse_host_port(text) == normal


@pytest.mark.parametrize(
    "text", ["host", ":7070", "host:0", "host:65536", "host:x", "[::1:7070", "bad host:1", "[zz]:1"]
)
def test_host_port_refuses_malformed_addresses(text: str) -> None:
    with pytest.raises(EntryError):
        parse_host_port(text)


def test_tags_refuse_control_characters_and_overlong_tags() -> None:
    with pytest.raises(EntryError):
        parse_tags("ok, bad\x07")
    with pytest.raises(EntryError):
        parse_tags("x" * 33)


def test_every_control_has_an_accessible_name(qtbot: QtBot, facade: FakeClient) -> None:
    pane = make_pane(qtbot, facade, PeerSource.RECENT)
    dialog = AddressBookDialog()
    qtbot.addWidget(dialog)
    for widget in [pane.filter_edit, pane.view, dialog.id_edit, dialog.save_button]:
        assert widget.accessibleName()
        assert widget.objectName()


@pytest.mark.parametrize(
    ("alias", "display_name", "expected"),
    [
        ("anna@ad", "", "AN"),
        ("carla.b@ad", "", "CB"),
        ("x@ad", "Bob's laptop", "BL"),
        ("x@ad", "Gina – Reception", "GR"),
        ("", "", None),
    ],
)
def test_avatar_initials_come_from_name_or_alias(
    alias: str, display_name: str, expected: str | None
) -> None:
    peer = make_peer("p", PeerSource.DISCOVERY, display_name=display_name)
    peer = dataclasses.replace(peer, alias=alias)
    assert initials(peer) == (expected or peer.device_id.digits[0])


def test_avatar_colour_is_stable_per_id_and_differs_between_ids() -> None:
    a, b = id_for("anna").digits, id_for("bob").digits
    assert avatar_color(a) == avatar_color(a)
    assert avatar_color(a) != avatar_color(b)


def test_tile_detail_line_fits_the_pane() -> None:
    anna, _bob, _carla, dieter, eve = sample_peers()
    assert "2023" in PeerTileDelegate(PeerSource.RECENT).detail_text(anna)
    assert PeerTileDelegate(PeerSource.ADDRESS_BOOK).detail_text(dieter) == "office, printer"
    assert PeerTileDelegate(PeerSource.DISCOVERY).detail_text(dieter) == "offline"
    assert "conflict" in PeerTileDelegate(PeerSource.DISCOVERY).detail_text(eve)


def test_tiles_follow_a_dark_palette(qtbot: QtBot, facade: FakeClient) -> None:
    pane = make_pane(qtbot, facade, PeerSource.DISCOVERY)
    dark = QPalette(pane.palette())
    dark.setColor(QPalette.ColorRole.Base, QColor("#202124"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e8eaed"))
    pane.view.setPalette(dark)
    pane.view.viewport().setPalette(dark)
    rect = pane.view.visualRect(pane.index_of(id_for("carla").digits))
    image = pane.view.viewport().grab(rect).toImage()
    inside = image.pixelColor(image.width() - 12, image.height() // 2 + 20)
    assert inside.lightness() < 80  # the card is drawn in the dark Base colour
    lightest = max(
        image.pixelColor(x, y).lightness()
        for x in range(60, image.width() - 10, 2)
        for y in range(10, image.height() - 10, 2)
    )
    assert lightest > 180  # and its text in the light Text colour


def test_recent_sessions_tiles_say_today_then_the_weekday_then_the_date(qtbot) -> None:
    anna = dataclasses.replace(
        sample_peers()[0], last_session=datetime(2026, 12, 3, 9, 14).timestamp()
    )
    now = [datetime(2026, 12, 3, 17, 0).timestamp()]
    delegate = PeerTileDelegate(PeerSource.RECENT, wall_clock=lambda: now[0])
    assert delegate.detail_text(anna) == "Last session today 09:14"
    now[0] = datetime(2026, 12, 5, 8, 0).timestamp()
    assert delegate.detail_text(anna) == "Last session Thu 09:14"
    now[0] = datetime(2027, 1, 20, 8, 0).timestamp()
    dated = delegate.detail_text(anna)
    assert "12" in dated and "09:14" not in dated
    pane = PeerPane(PeerSource.RECENT, FakeClient())
    qtbot.addWidget(pane)
    room = TILE_SIZE.width() - 44 - 3 * 10  # avatar and paddings
    assert pane.fontMetrics().horizontalAdvance("Last session today 09:14") <= room


def _contrast(a: QColor, b: QColor) -> float:
    def lum(c: QColor) -> float:
        def channel(v: int) -> float:
            x = v / 255
            return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())

    lighter, darker = sorted((lum(a), lum(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize("highlight", ["#308cc6", "#3daee9", "#1e66d0"])
def test_a_selected_tiles_secondary_lines_are_readable_on_the_selection(
    qtbot: QtBot, facade: FakeClient, highlight: str
) -> None:
    pane = make_pane(qtbot, facade, PeerSource.ADDRESS_BOOK)
    palette = QPalette(pane.view.palette())
    palette.setColor(QPalette.ColorRole.Highlight, QColor(highlight))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("white"))
    pane.view.setPalette(palette)
    index = pane.index_of(id_for("dieter").digits)
    pane.view.setCurrentIndex(index)
    assert pane.view.selectionModel().isSelected(index)
    rect = pane.view.visualRect(index)
    image = pane.view.viewport().grab(rect).toImage()
    fill = image.pixelColor(image.width() - 12, image.height() - 10)
    assert fill != QColor("white")  # the selection is drawn
    line = pane.view.fontMetrics().height()
    top = image.height() // 2 - int(line * 1.5)
    text_left = 3 + 10 + 44 + 10
    for first, last in ((top + line, top + 2 * line), (top + 2 * line, top + 3 * line)):
        strongest = max(
            (
                image.pixelColor(x, y)
                for x in range(text_left, image.width() - 14)
                for y in range(first + 1, last - 1)
            ),
            key=lambda c: _contrast(c, fill),
        )
        assert _contrast(strongest, fill) >= 4.5  # WCAG AA, like "This device"


def test_an_empty_panes_hint_is_readable_against_the_window(qtbot: QtBot) -> None:
    pane = make_pane(qtbot, FakeClient(), PeerSource.FAVORITES)
    image = pane.empty_label.grab().toImage()
    background = pane.palette().color(QPalette.ColorRole.Window)
    strongest = max(
        (image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())),
        key=lambda c: _contrast(c, background),
    )
    assert _contrast(strongest, background) >= 4.5  # WCAG AA, like "This device"
