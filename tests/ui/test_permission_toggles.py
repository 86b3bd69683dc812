"""Profile picker and permission checkboxes, with what the admin policy locks."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel

from anydesk_invite.core.permissions import (
    BUILTIN_PROFILES,
    DEFAULT,
    FULL_ACCESS,
    SCREEN_SHARING,
    Permission,
    PermissionProfile,
)
from anydesk_invite.core.policy import Override, Policy
from anydesk_invite.ui.permission_toggles import CUSTOM, PermissionToggles

TEAM = PermissionProfile("Team", frozenset({Permission.CONTROL, Permission.DRAW}))
PROFILES = [*BUILTIN_PROFILES, TEAM]


def _box(w: PermissionToggles, perm: Permission) -> QCheckBox:
    box = w.findChild(QCheckBox, f"perm_{perm.value}")
    assert box is not None
    return box


def _combo(w: PermissionToggles) -> QComboBox:
    combo = w.findChild(QComboBox, "profileCombo")
    assert combo is not None
    return combo


def _shown(w: PermissionToggles) -> frozenset[Permission]:
    return frozenset(p for p in Permission if _box(w, p).isChecked())


def test_picking_a_profile_shows_what_it_grants(qtbot) -> None:
    w = PermissionToggles(PROFILES, Policy())
    qtbot.addWidget(w)
    combo = _combo(w)
    assert [combo.itemText(i) for i in range(combo.count())][:4] == [
        FULL_ACCESS,
        DEFAULT,
        SCREEN_SHARING,
        "Team",
    ]
    combo.setCurrentText("Team")
    combo.activated.emit(combo.currentIndex())
    assert _shown(w) == TEAM.permissions
    assert w.profile_name() == "Team"
    assert w.effective() == TEAM.permissions


def test_flipping_a_permission_away_from_every_profile_shows_custom(qtbot) -> None:
    w = PermissionToggles(PROFILES, Policy(), frozenset(), SCREEN_SHARING)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.changed):
        qtbot.mouseClick(_box(w, Permission.CLIPBOARD), Qt.MouseButton.LeftButton)
    assert w.selected() == {Permission.CLIPBOARD}
    assert _combo(w).currentText() == CUSTOM
    assert w.profile_name() == ""


def test_flipping_into_a_profile_names_that_profile(qtbot) -> None:
    w = PermissionToggles(PROFILES, Policy(), frozenset({Permission.CONTROL}))
    qtbot.addWidget(w)
    assert _combo(w).currentText() == CUSTOM
    qtbot.mouseClick(_box(w, Permission.DRAW), Qt.MouseButton.LeftButton)
    assert _combo(w).currentText() == "Team"
    assert _combo(w).findText(CUSTOM) == -1


def test_view_screen_is_always_on_and_cannot_be_switched_off(qtbot) -> None:
    w = PermissionToggles(PROFILES, Policy(), frozenset(), SCREEN_SHARING)
    qtbot.addWidget(w)
    view = w.findChild(QCheckBox, "perm_view_screen")
    assert view.isChecked()
    assert not view.isEnabled()


def test_a_permission_forced_off_by_policy_is_locked_with_its_reason(qtbot) -> None:
    policy = Policy({Permission.FILE_TRANSFER: Override.FORCE_OFF})
    w = PermissionToggles(PROFILES, policy, BUILTIN_PROFILES[0].permissions, FULL_ACCESS)
    qtbot.addWidget(w)
    w.show()
    box = _box(w, Permission.FILE_TRANSFER)
    reason = policy.lock_reason(Permission.FILE_TRANSFER)
    assert not box.isChecked()
    assert not box.isEnabled()
    assert box.toolTip() == reason
    assert w.findChild(QLabel, "lock_file_transfer").isVisible()
    text = w.findChild(QLabel, "lockReason_file_transfer")
    assert text.isVisible()
    assert text.text() == reason
    assert Permission.FILE_TRANSFER not in w.effective()
    # The others stay free.
    assert _box(w, Permission.CONTROL).isEnabled()
    assert not w.findChild(QLabel, "lock_control").isVisible()


def test_a_permission_forced_on_is_granted_whatever_the_profile(qtbot) -> None:
    policy = Policy({Permission.CLIPBOARD: Override.FORCE_ON})
    w = PermissionToggles(PROFILES, policy, frozenset(), SCREEN_SHARING)
    qtbot.addWidget(w)
    assert _box(w, Permission.CLIPBOARD).isChecked()
    assert not _box(w, Permission.CLIPBOARD).isEnabled()
    assert w.effective() == {Permission.CLIPBOARD}


def test_a_new_policy_locks_toggles_while_shown(qtbot) -> None:
    w = PermissionToggles(PROFILES, Policy(), frozenset({Permission.CONTROL}))
    qtbot.addWidget(w)
    assert _box(w, Permission.CONTROL).isEnabled()
    w.set_policy(Policy({Permission.CONTROL: Override.FORCE_OFF}))
    assert not _box(w, Permission.CONTROL).isEnabled()
    assert w.effective() == frozenset()
