"""The invite dialog: target validation, Send, refusals, and editing a pending invitation."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDialog

from anydesk_invite.core.ids import ID_LENGTH
from anydesk_invite.core.invitation import State
from anydesk_invite.core.permissions import DEFAULT, SCREEN_SHARING, Permission
from anydesk_invite.core.policy import Override, Policy
from anydesk_invite.services.views import Direction
from anydesk_invite.ui.invite_dialog import InviteDialog, pending_invitation_to
from tests.helpers.fake_client import ALICE, ALICE_ID, BOB, BOB_ID, FakeClient, invitation

DEFAULT_PERMS = frozenset(Permission) - {Permission.FILE_TRANSFER}


def _dialog(qtbot, facade: FakeClient, target: str = "") -> InviteDialog:
    dialog = InviteDialog(facade, target)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_send_is_off_until_the_target_is_a_valid_id_or_alias(qtbot) -> None:
    d = _dialog(qtbot, FakeClient(peers=[ALICE, BOB]))
    assert d.objectName() == "inviteDialog"
    assert not d.send_button.isEnabled()
    assert not d.error_label.isVisible()  # an empty field is not yet an error
    qtbot.keyClicks(d.target_edit, ALICE_ID.grouped())
    assert d.send_button.isEnabled()
    assert not d.error_label.isVisible()


def test_a_short_id_is_explained_as_you_type(qtbot) -> None:
    d = _dialog(qtbot, FakeClient(peers=[ALICE, BOB]))
    qtbot.keyClicks(d.target_edit, "123 456")
    assert not d.send_button.isEnabled()
    assert d.error_label.isVisible()
    assert f"{ID_LENGTH} digits" in d.error_label.text()


def test_a_mistyped_id_digit_is_caught_by_the_check_digit(qtbot) -> None:
    digits = ALICE_ID.digits
    wrong = digits[:3] + str((int(digits[3]) + 1) % 10) + digits[4:]
    d = _dialog(qtbot, FakeClient(peers=[ALICE, BOB]), wrong)
    assert not d.send_button.isEnabled()
    assert "check digit" in d.error_label.text()


def test_a_bad_alias_is_explained(qtbot) -> None:
    d = _dialog(qtbot, FakeClient(peers=[ALICE, BOB]), "bob@example.com")
    assert not d.send_button.isEnabled()
    assert "@ad" in d.error_label.text()


def test_the_completer_offers_aliases_and_grouped_ids_of_known_peers(qtbot) -> None:
    d = _dialog(qtbot, FakeClient(peers=[ALICE, BOB]))
    model = d.target_edit.completer().model()
    offered = {model.index(i, 0).data() for i in range(model.rowCount())}
    assert {"alice@ad", "bob@ad", ALICE_ID.grouped(), BOB_ID.grouped()} <= offered


def test_send_invites_with_the_chosen_permissions_and_closes(qtbot, qasync_loop) -> None:
    facade = FakeClient(peers=[ALICE, BOB])
    d = _dialog(qtbot, facade, "alice")
    with qtbot.waitSignal(d.finished):
        qtbot.mouseClick(d.send_button, Qt.MouseButton.LeftButton)
    assert facade.calls == [("invite", "alice@ad", DEFAULT_PERMS, DEFAULT, None)]
    assert d.result() == QDialog.DialogCode.Accepted


def test_send_passes_an_id_as_plain_digits(qtbot, qasync_loop) -> None:
    facade = FakeClient(peers=[ALICE, BOB])
    facade.default_profile = SCREEN_SHARING
    d = _dialog(qtbot, facade, ALICE_ID.grouped())
    with qtbot.waitSignal(d.finished):
        qtbot.mouseClick(d.send_button, Qt.MouseButton.LeftButton)
    assert facade.calls == [("invite", ALICE_ID.digits, frozenset(), SCREEN_SHARING, None)]


def test_a_refusal_shows_in_the_dialog_which_stays_open(qtbot, qasync_loop) -> None:
    facade = FakeClient(peers=[ALICE, BOB])
    facade.refuse["invite"] = "alice@ad is offline"
    d = _dialog(qtbot, facade, "alice@ad")
    qtbot.mouseClick(d.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: d.error_label.isVisible())
    assert d.error_label.text() == "alice@ad is offline"
    assert d.isVisible()
    assert d.send_button.isEnabled()
    assert not d.edit_pending_button.isVisible()


def test_inviting_a_peer_with_a_pending_invitation_offers_to_edit_it(qtbot, qasync_loop) -> None:
    facade = FakeClient(peers=[ALICE, BOB])
    pending = facade.put(
        invitation("p1", direction=Direction.OUTGOING, permissions=frozenset(), profile="")
    )
    facade.refuse["invite"] = "an invitation to alice@ad is pending"
    d = _dialog(qtbot, facade, "Alice@ad")
    qtbot.mouseClick(d.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: d.edit_pending_button.isVisible())
    qtbot.mouseClick(d.edit_pending_button, Qt.MouseButton.LeftButton)
    assert d.editing() == pending
    assert d.target_edit.isReadOnly()
    assert d.send_button.text().replace("&", "") == "Save changes"


def test_a_policy_lock_shows_in_the_dialog_and_limits_what_is_sent(qtbot, qasync_loop) -> None:
    facade = FakeClient(peers=[ALICE, BOB], policy=Policy({Permission.CONTROL: Override.FORCE_OFF}))
    d = _dialog(qtbot, facade, "bob@ad")
    control = d.findChild(QCheckBox, "perm_control")
    assert not control.isEnabled()
    assert not control.isChecked()
    with qtbot.waitSignal(d.finished):
        qtbot.mouseClick(d.send_button, Qt.MouseButton.LeftButton)
    assert facade.calls[0][2] == DEFAULT_PERMS - {Permission.CONTROL}


def test_a_policy_default_presets_the_toggles(qtbot) -> None:
    facade = FakeClient(
        peers=[ALICE, BOB], policy=Policy({Permission.FILE_TRANSFER: Override.DEFAULT_ON})
    )
    d = _dialog(qtbot, facade)
    assert d.toggles.selected() == frozenset(Permission)
    assert d.findChild(QCheckBox, "perm_file_transfer").isEnabled()


def test_edit_mode_keeps_the_invitee_and_saves_new_permissions(qtbot, qasync_loop) -> None:
    facade = FakeClient(peers=[ALICE, BOB])
    view = facade.put(
        invitation(
            "p1",
            direction=Direction.OUTGOING,
            permissions=frozenset(),
            profile=SCREEN_SHARING,
        )
    )
    d = InviteDialog.for_edit(facade, view)
    qtbot.addWidget(d)
    d.show()
    assert d.target_edit.isReadOnly()
    assert "alice@ad" in d.target_edit.text()
    assert d.toggles.profile_name() == SCREEN_SHARING
    assert d.send_button.isEnabled()
    qtbot.mouseClick(d.findChild(QCheckBox, "perm_clipboard"), Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(d.finished):
        qtbot.mouseClick(d.send_button, Qt.MouseButton.LeftButton)
    assert facade.calls == [("edit_invitation", "p1", frozenset({Permission.CLIPBOARD}), "")]
    assert facade.views["p1"].revision == 2


def test_the_tile_invite_action_prefills_the_target(qtbot) -> None:
    d = _dialog(qtbot, FakeClient(peers=[ALICE, BOB]), "bob@ad")
    assert d.target_edit.text() == "bob@ad"
    assert d.send_button.isEnabled()


def test_only_pending_outgoing_invitations_count_as_pending() -> None:
    views = [
        invitation("a", direction=Direction.INCOMING),
        invitation("b", direction=Direction.OUTGOING, state=State.EXPIRED),
        invitation("c", direction=Direction.OUTGOING, peer_id=BOB_ID, alias="bob@ad"),
    ]
    assert pending_invitation_to(views, "alice@ad") is None
    assert pending_invitation_to(views, BOB_ID.grouped()) == views[2]
    assert pending_invitation_to(views, "BOB") == views[2]


def test_a_pasted_connect_link_becomes_the_id_it_names(qtbot) -> None:
    from anydesk_invite.core.email_invite import connect_link
    from anydesk_invite.net.identity import Identity

    other = Identity.generate()
    d = _dialog(qtbot, FakeClient(peers=[ALICE, BOB]))
    d.target_edit.setText(connect_link(other.device_id, other.fingerprint))
    assert d.target_edit.text() == other.device_id.grouped()
    assert d.send_button.isEnabled() and not d.error_label.isVisible()


def test_a_tile_prefills_the_id_grouped(qtbot) -> None:
    d = _dialog(qtbot, FakeClient(peers=[ALICE, BOB]), ALICE_ID.digits)
    assert d.target_edit.text() == ALICE_ID.grouped()
