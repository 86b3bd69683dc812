"""The settings' permission profiles: the list, and the chosen profile's name and permissions.

Built-in profiles are shown read-only. Creating, renaming and deleting apply at once; the
settings dialog follows through the signals (its default-profile choice).
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from anydesk_invite.core.permissions import Permission, PermissionProfile
from anydesk_invite.services.facade import ActionRefused, ClientFacade
from anydesk_invite.ui.i18n import permission_label, profile_label, view_screen_label
from anydesk_invite.ui.qt_loop import asyncSlot
from anydesk_invite.ui.settings_parts import error_label

NEW_PROFILE_NAME = QT_TRANSLATE_NOOP("ProfileEditor", "New profile")


class ProfileEditor(QGroupBox):
    """The permission profiles of the settings dialog."""

    saved = Signal(str, str)
    """A profile was saved: the name it had before ("" unless renamed) and its name now."""
    deleted = Signal(str)
    """A profile was deleted: its name."""

    def __init__(self, facade: ClientFacade, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Permission profiles"))
        self.setObjectName("profilesGroup")
        self._facade = facade
        group = self
        self.profile_list = QListWidget(group)
        self.profile_list.setObjectName("profileList")
        self.profile_list.setAccessibleName(self.tr("Permission profiles"))
        self.profile_list.currentItemChanged.connect(self._show_profile)

        self.profile_name_edit = QLineEdit(group)
        self.profile_name_edit.setObjectName("profileNameEdit")
        self.profile_name_edit.setAccessibleName(self.tr("Profile name"))
        self.builtin_note = QLabel(self.tr("Built-in profiles cannot be changed."), group)
        self.builtin_note.setObjectName("builtinProfileNote")
        self.builtin_note.setAccessibleName(self.tr("Built-in profile"))
        self.builtin_note.setStyleSheet("color: #555555;")
        self.profile_boxes: dict[Permission, QCheckBox] = {}
        editor = QVBoxLayout()
        name_row = QFormLayout()
        name_row.addRow(self.tr("&Name:"), self.profile_name_edit)
        editor.addLayout(name_row)
        editor.addWidget(self.builtin_note)
        view = QCheckBox(view_screen_label(), group)
        view.setObjectName("profilePerm_view_screen")
        view.setAccessibleName(view_screen_label())
        view.setChecked(True)
        view.setEnabled(False)
        view.setToolTip(self.tr("Viewing the screen is part of every session"))
        editor.addWidget(view)
        for perm in Permission:
            box = QCheckBox(permission_label(perm), group)
            box.setObjectName(f"profilePerm_{perm.value}")
            box.setAccessibleName(permission_label(perm))
            self.profile_boxes[perm] = box
            editor.addWidget(box)
        self.profile_error = error_label(group, "profileErrorLabel")
        editor.addWidget(self.profile_error)
        editor.addStretch(1)

        def button(text: str, name: str, accessible: str) -> QPushButton:
            b = QPushButton(text, group)
            b.setObjectName(name)
            b.setAccessibleName(accessible)
            return b

        self.new_profile_button = button(
            self.tr("&New"), "newProfileButton", self.tr("New profile")
        )
        self.save_profile_button = button(
            self.tr("Save p&rofile"), "saveProfileButton", self.tr("Save profile")
        )
        self.delete_profile_button = button(
            self.tr("De&lete"), "deleteProfileButton", self.tr("Delete profile")
        )
        self.new_profile_button.clicked.connect(self._new_profile)
        self.save_profile_button.clicked.connect(self._save_profile)
        self.delete_profile_button.clicked.connect(self._delete_profile)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_profile_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_profile_button)
        buttons.addWidget(self.save_profile_button)
        editor.addLayout(buttons)

        row = QHBoxLayout(group)
        row.addWidget(self.profile_list, 2)
        row.addLayout(editor, 3)

    def reload(self, select: str | None) -> None:
        """Show the saved profiles again, ``select`` chosen (else the first)."""
        profiles = self._facade.profiles()
        self.profile_list.blockSignals(True)
        self.profile_list.clear()
        for p in profiles:
            item = QListWidgetItem(
                self.tr("{name} (built-in)").format(name=profile_label(p.name))
                if p.builtin
                else p.name
            )
            item.setData(Qt.ItemDataRole.UserRole, p)
            self.profile_list.addItem(item)
        self.profile_list.blockSignals(False)
        names = [p.name for p in profiles]
        row = names.index(select) if select in names else 0
        self.profile_list.setCurrentRow(row)
        self._show_profile(self.profile_list.currentItem(), None)

    def selected_profile(self) -> PermissionProfile | None:
        """The saved profile chosen in the list; None while a new one is being made."""
        item = self.profile_list.currentItem()
        if item is None:
            return None
        p = item.data(Qt.ItemDataRole.UserRole)
        return p if isinstance(p, PermissionProfile) else None

    def _show_profile(self, item: QListWidgetItem | None, _previous: object) -> None:
        p = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if not isinstance(p, PermissionProfile):
            return
        self.profile_error.hide()
        self.profile_name_edit.setText(p.name)
        for perm, box in self.profile_boxes.items():
            box.setChecked(perm in p.permissions)
        self._set_profile_editable(not p.builtin, existing=True)

    def _set_profile_editable(self, editable: bool, existing: bool) -> None:
        self.profile_name_edit.setReadOnly(not editable)
        for box in self.profile_boxes.values():
            box.setEnabled(editable)
        self.builtin_note.setVisible(not editable)
        self.save_profile_button.setEnabled(editable)
        self.delete_profile_button.setEnabled(editable and existing)

    def _new_profile(self) -> None:
        self.profile_list.blockSignals(True)
        self.profile_list.setCurrentRow(-1)
        self.profile_list.clearSelection()
        self.profile_list.blockSignals(False)
        self.profile_error.hide()
        self.profile_name_edit.setText(
            QCoreApplication.translate("ProfileEditor", NEW_PROFILE_NAME)
        )
        self.profile_name_edit.selectAll()
        self.profile_name_edit.setFocus()
        for box in self.profile_boxes.values():
            box.setChecked(False)
        self._set_profile_editable(True, existing=False)

    def _checked_permissions(self) -> frozenset[Permission]:
        return frozenset(p for p, box in self.profile_boxes.items() if box.isChecked())

    @asyncSlot()
    async def _save_profile(self) -> None:
        old = self.selected_profile()
        name = self.profile_name_edit.text().strip()
        perms = self._checked_permissions()
        try:
            if old is not None and old.builtin:
                raise ActionRefused(
                    self.tr("the built-in profile {name} cannot be changed").format(
                        name=f"“{old.name}”"
                    )
                )
            renamed = old is not None and name.casefold() != old.name.casefold()
            if renamed and any(p.name.casefold() == name.casefold() for p in self._profiles()):
                raise ActionRefused(
                    self.tr("a profile named {name} exists already").format(name=f"“{name}”")
                )
            await self._facade.save_profile(name, perms)
            if old is not None and renamed:
                await self._facade.delete_profile(old.name)
        except ActionRefused as exc:
            self._show_profile_error(str(exc))
            return
        key = name.casefold()
        stored = next((p.name for p in self._profiles() if p.name.casefold() == key), "")
        self.saved.emit(old.name if old is not None and renamed else "", stored)

    @asyncSlot()
    async def _delete_profile(self) -> None:
        p = self.selected_profile()
        if p is None or p.builtin:
            return
        try:
            await self._facade.delete_profile(p.name)
        except ActionRefused as exc:
            self._show_profile_error(str(exc))
            return
        self.deleted.emit(p.name)

    def _profiles(self) -> list[PermissionProfile]:
        return self._facade.profiles()

    def _show_profile_error(self, message: str) -> None:
        self.profile_error.setText(message[:1].upper() + message[1:])
        self.profile_error.show()
