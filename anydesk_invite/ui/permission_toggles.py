"""A profile picker with one checkbox per permission, showing the admin policy's locks."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from anydesk_invite.core.permissions import Permission, PermissionProfile
from anydesk_invite.core.policy import Policy
from anydesk_invite.ui.i18n import permission_label, profile_label, view_screen_label
from anydesk_invite.ui.icons import icon

CUSTOM = QT_TRANSLATE_NOOP("PermissionToggles", "Custom")
"""The combo entry shown when the toggles match no saved profile (in English)."""

VIEW_SCREEN_TIP = QT_TRANSLATE_NOOP(
    "PermissionToggles", "Viewing the screen is part of every session"
)


class PermissionToggles(QWidget):
    """Pick a profile or single permissions; what the admin policy forces is locked.

    The checkboxes show what would be granted (the policy applied to the selection); a
    locked one is disabled and says why, beside a padlock.

    Signals: changed() after the user picked a profile or flipped a permission (not after
    set_permissions / set_profile / set_policy).
    """

    changed = Signal()

    def __init__(
        self,
        profiles: Iterable[PermissionProfile],
        policy: Policy,
        permissions: frozenset[Permission] = frozenset(),
        profile: str = "",
        extra_locked: frozenset[Permission] = frozenset(),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("permissionToggles")
        self._profiles = list(profiles)
        self._policy = policy
        self._extra_locked = extra_locked
        self._selected: frozenset[Permission] = frozenset(permissions)
        self._profile = ""
        self._updating = False
        self._custom = QCoreApplication.translate("PermissionToggles", CUSTOM)

        self._combo = QComboBox(self)
        self._combo.setObjectName("profileCombo")
        self._combo.setAccessibleName(self.tr("Permission profile"))
        self._combo.activated.connect(self._on_profile_picked)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.tr("&Profile:"), self._combo)

        self._view = QCheckBox(view_screen_label(), self)
        self._view.setObjectName("perm_view_screen")
        self._view.setChecked(True)
        self._view.setEnabled(False)
        self._view.setToolTip(QCoreApplication.translate("PermissionToggles", VIEW_SCREEN_TIP))

        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(form)
        box.addWidget(self._view)

        self._boxes: dict[Permission, QCheckBox] = {}
        self._locks: dict[Permission, QLabel] = {}
        self._reasons: dict[Permission, QLabel] = {}
        lock = icon("lock").pixmap(14, 14)
        for perm in Permission:
            check = QCheckBox(permission_label(perm), self)
            check.setObjectName(f"perm_{perm.value}")
            check.toggled.connect(lambda on, p=perm: self._on_toggled(p, on))
            padlock = QLabel(self)
            padlock.setObjectName(f"lock_{perm.value}")
            padlock.setPixmap(lock)
            padlock.setAccessibleName(self.tr("Locked"))
            row = QHBoxLayout()
            row.addWidget(check)
            row.addWidget(padlock)
            row.addStretch(1)
            reason = QLabel(self)
            reason.setObjectName(f"lockReason_{perm.value}")
            reason.setWordWrap(True)
            reason.setIndent(24)
            reason.setStyleSheet("color: #7a5c00; font-size: 11px;")
            box.addLayout(row)
            box.addWidget(reason)
            self._boxes[perm] = check
            self._locks[perm] = padlock
            self._reasons[perm] = reason

        if profile:
            self._profile = self._profile_named(profile) or ""
        self._show()

    # -- what the dialogs read --------------------------------------------------------

    def selected(self) -> frozenset[Permission]:
        """What the user picked, before the policy."""
        return self._selected

    def effective(self) -> frozenset[Permission]:
        """What would be granted: the policy applied to the selection."""
        return self._policy.apply(self._selected)

    def profile_name(self) -> str:
        """The picked profile, or "" when the toggles match none (Custom)."""
        return self._profile

    def is_locked(self, perm: Permission) -> bool:
        return self._policy.is_locked(perm) or perm in self._extra_locked

    # -- programmatic changes (no changed signal) ---------------------------------------

    def set_profile(self, name: str) -> None:
        found = self._profile_named(name)
        if found is None:
            return
        self._profile = found
        self._selected = next(p.permissions for p in self._profiles if p.name == found)
        self._show()

    def set_permissions(self, permissions: frozenset[Permission], profile: str = "") -> None:
        self._selected = frozenset(permissions)
        self._profile = self._profile_named(profile) or "" if profile else ""
        self._show()

    def set_policy(self, policy: Policy, extra_locked: frozenset[Permission] | None = None) -> None:
        self._policy = policy
        if extra_locked is not None:
            self._extra_locked = extra_locked
        self._show()

    def set_profiles(self, profiles: Iterable[PermissionProfile]) -> None:
        self._profiles = list(profiles)
        self._show()

    # -- internals ----------------------------------------------------------------------

    def _profile_named(self, name: str) -> str | None:
        key = name.strip().casefold()
        return next((p.name for p in self._profiles if p.name.casefold() == key), None)

    def _matching_profile(self) -> str:
        """Keep the named profile while it still fits, else the first that does, else ""."""
        fits = [p.name for p in self._profiles if p.permissions == self._selected]
        if self._profile in fits:
            return self._profile
        return fits[0] if fits else ""

    def _show(self) -> None:
        self._updating = True
        try:
            self._profile = self._matching_profile()
            self._combo.clear()
            for p in self._profiles:
                self._combo.addItem(profile_label(p.name), p.name)
            if self._profile:
                self._combo.setCurrentIndex(max(self._combo.findData(self._profile), 0))
            else:
                self._combo.addItem(self._custom, None)
                self._combo.setCurrentIndex(self._combo.count() - 1)
            shown = self.effective()
            for perm, check in self._boxes.items():
                locked = self.is_locked(perm)
                reason = self._policy.lock_reason(perm) if self._policy.is_locked(perm) else None
                if locked and reason is None:
                    reason = self.tr("Fixed for this session")
                check.setChecked(perm in shown)
                check.setEnabled(not locked)
                check.setToolTip(reason or "")
                self._locks[perm].setVisible(locked)
                self._locks[perm].setToolTip(reason or "")
                self._reasons[perm].setText(reason or "")
                self._reasons[perm].setVisible(locked)
        finally:
            self._updating = False

    def _on_profile_picked(self, index: int) -> None:
        name = self._combo.itemData(index)
        if not isinstance(name, str):
            return  # "Custom": not a profile
        self.set_profile(name)
        self.changed.emit()

    def _on_toggled(self, perm: Permission, on: bool) -> None:
        if self._updating or self.is_locked(perm):
            return
        self._selected = self._selected | {perm} if on else self._selected - {perm}
        self._profile = ""
        self._show()
        self.changed.emit()
