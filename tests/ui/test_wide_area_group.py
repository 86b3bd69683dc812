"""The Settings dialog's DNS discovery part: saved as typed, the secret kept out of the
database, locked with the reason when the administrator's policy decides."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from anydesk_invite.core.policy import Policy
from anydesk_invite.core.wide_area import WideAreaSettings
from anydesk_invite.storage.tsig_secret import SERVICE
from anydesk_invite.ui.settings_dialog import SettingsDialog
from tests.helpers.fake_client import FakeClient, make_status
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.nodes import Node, Nodes
from tests.helpers.qt_async import finish

SECRET = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"


@pytest.fixture
def nodes(qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Nodes]:
    made = Nodes(tmp_path)
    yield made
    finish(qtbot, made.close())


@pytest.fixture
def node(qtbot: QtBot, nodes: Nodes) -> Node:
    return finish(qtbot, nodes.make("maria"))


def open_dialog(qtbot: QtBot, facade: object) -> SettingsDialog:
    dialog = SettingsDialog(facade)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_server_domain_key_are_saved_and_the_secret_goes_to_the_keyring_not_the_database(
    qtbot: QtBot, node: Node, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, node.client)
    group = dialog.wide_area_group
    qtbot.keyClicks(group.server_edit, "10.0.0.53")
    qtbot.keyClicks(group.domain_edit, "clients.example.org")
    qtbot.keyClicks(group.key_edit, "fleet-key")
    group.algorithm_combo.setCurrentText("hmac-sha512")
    qtbot.keyClicks(group.secret_edit, SECRET)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert node.client.settings().wide_area == WideAreaSettings(
        domain="clients.example.org",
        server="10.0.0.53:53",
        key_name="fleet-key",
        algorithm="hmac-sha512",
    )
    assert memory_keyring.store[(SERVICE, "fleet-key")] == SECRET
    assert not any(SECRET.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_a_bad_server_is_refused_with_the_reason_and_the_dialog_stays_open(
    qtbot: QtBot, node: Node
) -> None:
    dialog = open_dialog(qtbot, node.client)
    qtbot.keyClicks(dialog.wide_area_group.server_edit, "dns.example.org")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.error_label.isVisible, timeout=5000)
    assert "must be an IP address" in dialog.error_label.text()
    assert dialog.isVisible()
    assert node.client.settings().wide_area == WideAreaSettings()


def test_the_administrators_settings_are_shown_locked_and_the_users_kept_beneath(
    qtbot: QtBot,
) -> None:
    admin = WideAreaSettings(domain="fleet.example.org", server="10.0.0.53:53", key_name="k")
    mine = WideAreaSettings(domain="mine.example.org", server="10.9.9.9:53")
    client = FakeClient(status=make_status(wide_area="fleet.example.org via 10.0.0.53:53: "
                                           "published, 4 peer(s)"),
                        policy=Policy(wide_area=admin))  # fmt: skip
    client.current_settings = dataclasses.replace(client.current_settings, wide_area=mine)
    dialog = open_dialog(qtbot, client)
    group = dialog.wide_area_group
    assert group.server_edit.text() == "10.0.0.53:53" and not group.server_edit.isEnabled()
    assert not group.secret_edit.isEnabled()
    assert "administrator" in group.lock_reason.text() and group.lock_reason.isVisible()
    assert "published, 4 peer(s)" in group.status_label.text()
    assert dialog.chosen().wide_area == mine


def test_a_tile_found_through_dns_says_so_in_its_tooltip(qtbot: QtBot) -> None:
    from anydesk_invite.core.ids import DeviceId
    from anydesk_invite.services.views import PeerSource, PeerView
    from anydesk_invite.ui.peer_model import PeerListModel

    model = PeerListModel()
    far = PeerView(
        DeviceId.from_fingerprint(bytes(32)),
        alias="far@ad",
        online=True,
        sources=frozenset({PeerSource.DISCOVERY}),
        found_via=frozenset({"dns"}),
    )
    near = dataclasses.replace(far, alias="near@ad", found_via=frozenset({"dns", "lan"}))
    model.set_peers([far, near])
    tips = [str(model.index(i).data(Qt.ItemDataRole.ToolTipRole)) for i in range(2)]
    assert "organisation's DNS" in tips[0]
    assert "organisation's DNS" not in tips[1]
